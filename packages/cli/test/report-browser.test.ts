/**
 * The `voxpipe eval` report in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. A run of the scripted Flux engine on a tone dataset (three files, eot
 * 0.5 and 0.9, eager 0.4) writes the report; the page must show the latency curves, the
 * trade-off points, the table and the timelines as SVG with data, draw a closed timeline
 * when it is opened, log no console error, and leave a screenshot in `.artifacts/`.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { launchChromium } from "../../../test/chromium.js";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { captureIO } from "./capture-io.js";
import { writeToneDataset } from "./tone-dataset.js";

/** Where the screenshot is kept (git-ignored), for a person or CI to look at. */
const ARTIFACTS = fileURLToPath(new URL("../../../.artifacts/", import.meta.url));

let dir = "";
let browser: Browser;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-report-"));
  await writeToneDataset(join(dir, "calls"), 3);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

it("renders the charts, the table and the timelines with data, without console errors", async () => {
  const io = captureIO();
  const out = join(dir, "report");
  const code = await runCli(
    [
      ...["node", "voxpipe", "eval", join(dir, "calls"), "--target", "local"],
      ...["--local-engine", "scripted", "--fast", "--eot-threshold", "0.5,0.9"],
      ...["--eager-eot-threshold", "0.4", "--out", out],
    ],
    io,
  );
  expect(io.err()).not.toContain("error");
  expect(code).toBe(0);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  // The report needs no network: block every request that is not the file itself.
  await page.route(/^(?!file:)/, (route) => route.abort());
  await page.goto(pathToFileURL(join(out, "report.html")).href);

  // Latency curves: one line per setting, each a path with many points.
  const lines = page.locator("#latency svg path[aria-roledescription='line mark']");
  const curves: number[] = [];
  for (let i = 0; i < (await lines.count()); i++) {
    curves.push(((await lines.nth(i).getAttribute("d")) ?? "").split(/[LHV]/).length);
  }
  expect(curves).toHaveLength(2);
  for (const points of curves) expect(points).toBeGreaterThan(5);
  // Trade-off plots: one point per setting on each panel.
  expect(await page.locator("#tradeoff svg path[aria-roledescription='point']").count()).toBe(4);
  // The table: a row per setting, ∞ where eot 0.5 cut the paused turn.
  const row = await page.locator("table.figures").first().locator("tbody tr").first().innerText();
  expect(row).toContain("eot 0.5");
  expect(row).toContain("∞");
  // The first timeline is drawn: waveform area, EndOfTurn rules, event symbols, transcripts.
  const first = page.locator("details.timeline").first();
  expect(await first.locator("svg path[aria-roledescription='area mark']").count()).toBeGreaterThan(
    0,
  );
  // EndOfTurn rules: green where one ended a turn, red where eot 0.5 cut the paused turn.
  const rules = (colour: string) =>
    first.locator(`svg line[aria-roledescription='rule mark'][stroke='${colour}']`).count();
  expect(await rules("#2ca02c")).toBeGreaterThanOrEqual(4);
  expect(await rules("#d62728")).toBeGreaterThanOrEqual(1);
  expect(await first.locator("svg path[aria-roledescription='point']").count()).toBeGreaterThan(8);
  // A closed timeline is drawn when opened.
  const third = page.locator("details.timeline").nth(2);
  expect(await third.locator("svg").count()).toBe(0);
  await third.locator("summary").click();
  await expect
    .poll(() => third.locator("svg path[aria-roledescription='area mark']").count())
    .toBeGreaterThan(0);

  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "eval-report.png"), fullPage: true });
  expect(problems).toEqual([]);
  await page.close();
}, 60_000);
