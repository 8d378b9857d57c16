/**
 * `voxpipe eval` performance (issue 14, item 7), on copies of the labelled set
 * (test/fixtures/generated, scripts/make-fixtures.sh):
 *
 * 1. The report of a 100-file run opens in Chromium in under 2 s: 100 files × 3 settings
 *    through the scripted engine (fast), `report.html` written, then opened in headless
 *    Debian Chromium (playwright-core); printed: the page's load time (navigation start →
 *    load event) and its size.
 * 2. Evaluating 10 minutes of audio at 3 thresholds against the local server (local engine)
 *    with `--concurrency 4` at real-time pace completes within real time × 3 / 4 plus
 *    overhead: printed, the wall time against that budget, with the EndOfTurn wall delay
 *    (what the server adds while it keeps up).
 *
 * Run: `pnpm bench:eval` [--only report|realtime]. Takes about 9 minutes. The machine may be
 * shared: the figures say what else was running (load average).
 */
import { link, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { formatMs, loadDataset, openTarget, runEval, writeOutputs } from "@voxpipe/cli/eval";
import type { Dataset, EvalSetting } from "@voxpipe/cli/eval";
import { launchChromium } from "../chromium.js";
import { GENERATED_DIR, ensureFixtures } from "../fixtures/make-fixtures.js";

const { values: args } = parseArgs({ options: { only: { type: "string" } } });
const SETTINGS: EvalSetting[] = [
  { eotThreshold: 0.5 },
  { eotThreshold: 0.7 },
  { eotThreshold: 0.9 },
];

await ensureFixtures();
const work = await mkdtemp(join(tmpdir(), "voxpipe-bench-eval-"));
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** A dataset of `count` files (or up to `seconds` of audio): hard links to the labelled set, cycling. */
async function copies(name: string, limit: { files?: number; seconds?: number }): Promise<Dataset> {
  const source = await loadDataset(GENERATED_DIR);
  const dir = join(work, name);
  await mkdir(dir);
  let n = 0;
  let seconds = 0;
  while (
    (limit.files !== undefined && n < limit.files) ||
    (limit.seconds !== undefined && seconds < limit.seconds)
  ) {
    const file = source.files[n % source.files.length];
    const copy = `${String(n).padStart(3, "0")}-${file.name}`;
    await link(file.wavPath, join(dir, `${copy}.wav`));
    await link(file.sidecarPath, join(dir, `${copy}.json`));
    seconds += file.duration;
    n += 1;
  }
  return loadDataset(dir);
}

try {
  if (args.only !== "realtime") {
    const dataset = await copies("report-100", { files: 100 });
    const target = await openTarget("local", {
      env: {},
      localEngine: "scripted",
      notify: () => {},
    });
    const results = await runEval({
      dataset,
      settings: SETTINGS,
      target,
      model: "flux-general-en",
      fast: true,
      concurrency: 4,
    }).finally(() => target.close());
    const t0 = performance.now();
    await writeOutputs(results, join(work, "report-100-out"));
    const writeSeconds = (performance.now() - t0) / 1000;
    const file = join(work, "report-100-out", "report.html");
    const size = (await stat(file)).size;
    const browser = await launchChromium();
    const times: number[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
        times.push(
          await page.evaluate<number>("performance.getEntriesByType('navigation')[0].loadEventEnd"),
        );
        await page.close();
      }
    } finally {
      await browser.close();
    }
    console.log(
      `1. report of ${dataset.files.length} files × ${SETTINGS.length} settings: ${(size / 1e6).toFixed(1)} MB, written in ${writeSeconds.toFixed(1)} s; opens in Chromium in ${times.map((t) => `${Math.round(t)} ms`).join(", ")} (navigation start → load event; target < 2000 ms: ${Math.max(...times) < 2000 ? "PASS" : "FAIL"}) [load average ${load()}]`,
    );
  }
  if (args.only !== "report") {
    const dataset = await copies("realtime-10min", { seconds: 600 });
    const audio = dataset.files.reduce((t, f) => t + f.duration, 0);
    const budget = (audio * SETTINGS.length) / 4;
    console.log(
      `2. ${dataset.files.length} files, ${audio.toFixed(0)} s of audio × ${SETTINGS.length} thresholds, local engine, --concurrency 4, real-time pace (ideal ${budget.toFixed(0)} s) [load average before ${load()}]`,
    );
    const target = await openTarget("local", { env: {}, notify: () => {} });
    const t0 = performance.now();
    const results = await runEval({
      dataset,
      settings: SETTINGS,
      target,
      model: "flux-general-en",
      fast: false,
      concurrency: 4,
    }).finally(() => target.close());
    const wall = (performance.now() - t0) / 1000;
    const failed = results.settings.reduce((t, s) => t + s.metrics.failedSessions, 0);
    console.log(
      `   wall ${wall.toFixed(1)} s = ideal × ${(wall / budget).toFixed(3)} (overhead ${(wall - budget).toFixed(1)} s: connecting, waiting for each file's last turn); ${failed} failed sessions [load average after ${load()}]`,
    );
    for (const s of results.settings) {
      const m = s.metrics;
      console.log(
        `   ${s.label}: median EOT latency ${formatMs(m.medianLatencyMs)} ms, p90 ${formatMs(m.latencyMs.p90)} ms, EndOfTurn wall delay p50 ${formatMs(m.endOfTurnDelayMs.p50)} ms / p90 ${formatMs(m.endOfTurnDelayMs.p90)} ms`,
      );
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
