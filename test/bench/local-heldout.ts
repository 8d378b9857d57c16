/**
 * `pnpm eval:local-heldout` — the local engine on the held-out split (test/fixtures/make-heldout.ts:
 * `tune` and `test` halves split by recording, with noisy and 8 kHz μ-law telephone copies),
 * scored by `voxpipe eval` (`runEval` of `@voxpipe/cli/eval`: Flux's method, false or missed
 * ends of turn count as ∞ latency) at `eot_threshold` 0.7 / `eager_eot_threshold` 0.4, plus
 * what `voxpipe eval` does not score: the area under the ROC curve of "word right" against
 * the EndOfTurn word confidence (and of "turn without error" against the turn's mean word
 * confidence). On `tune` it also fits the word-confidence model on the EndOfTurn words (their
 * evidence comes from the local engine's debug log, matched by time and confidence) and
 * prints it, ready to paste into `DEFAULT_CONFIDENCE_CALIBRATION`.
 *
 *   pnpm eval:local-heldout [--split test|tune] [--url ws://host:port/v2/listen]
 *                           [--save run.json] [--compare before.json]
 *                           [--engine-options '{"turnEnd":{"tauMs":200}}'] [--concurrency 2]
 *                           [--only <regular expression on file names>] [--show]
 *
 * `--show` prints, per file, each labelled turn (reference, end time) and the turn events
 * (audio time, event, confidence, transcript), to see where words or turn ends go wrong.
 *
 * `--url` evaluates an already running server (e.g. the previous version, for the before /
 * after table: run it with `--save`, then this version with `--compare`). Audio goes out as
 * voxpipe eval sends it, as fast as the server answers (audio-time figures): 16 kHz linear16,
 * except the telephone copies, sent as a phone line delivers them — 8 kHz G.711 μ-law,
 * `encoding=mulaw&sample_rate=8000` (`runEval`'s `telephoneAsMulaw`), so the server resamples
 * them and knows it hears telephone audio. Earlier versions of this script (and the `--compare`
 * files they saved) sent them as 16 kHz linear16 read back from the μ-law files: the same
 * band-limited audio, but the server could not tell it was telephone audio.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDataset, runEval } from "@voxpipe/cli/eval";
import { loggerFromSink } from "@voxpipe/core";
import type { EvalMetrics, FileResult } from "@voxpipe/cli/eval";
import { startFluxServer } from "@voxpipe/flux-server";
import { confidenceAuc, fitConfidenceCalibration } from "@voxpipe/speech-local";
import type { ConfidenceFeatures } from "@voxpipe/speech-local";
import { parseEngineOptions } from "../../packages/cli/src/options/engine.js";
import { alignWords, normalizeWords } from "../fixtures/align.js";
import { HELDOUT_DIR, loadHeldout } from "../fixtures/make-heldout.js";

const { values: args } = parseArgs({
  options: {
    split: { type: "string", default: "test" },
    url: { type: "string" },
    save: { type: "string" },
    compare: { type: "string" },
    "engine-options": { type: "string", default: "{}" },
    concurrency: { type: "string", default: "2" },
    only: { type: "string" },
    show: { type: "boolean", default: false },
  },
});
if (args.split !== "tune" && args.split !== "test")
  throw new RangeError(`--split must be tune or test, got ${args.split}`);
const concurrency = Number(args.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1)
  throw new RangeError(`--concurrency must be a positive integer, got ${args.concurrency}`);

/** One column of the table (also what --save writes). */
interface Column {
  label: string;
  turns: number;
  wer: Record<string, number>;
  falseEots: number;
  missed: number;
  medianMs: number;
  p90Ms: number;
  eagerLeadMs: number;
  eagerFinalDiffers: number;
  turnResumedRate: number;
  wordAuc: number;
  turnAuc: number;
  /** Absent from runs saved before it was added. */
  turnLowestAuc?: number;
  violations: number;
}

await loadHeldout(args.split); // builds the split when missing
const full = await loadDataset(join(HELDOUT_DIR, args.split));
// --only <regular expression>: a subset of the files (e.g. one voice), for a quick look.
const dataset = args.only
  ? { ...full, files: full.files.filter((f) => new RegExp(args.only!).test(f.name)) }
  : full;
/** Evidence of a word of an ended turn, from the local engine's debug log. */
interface WordEvidence extends Partial<ConfidenceFeatures> {
  confidence: number;
}
/** Per session (request id), its ended turns' word evidence in order. */
const evidence = new Map<string, WordEvidence[][]>();
const ignore = (): void => undefined;
const server = args.url
  ? undefined
  : await startFluxServer({
      port: 0,
      engine: "local",
      engineOptions: parseEngineOptions("--engine-options")(args["engine-options"]),
      ...(args.split === "tune" && {
        logger: loggerFromSink(
          {
            error: (message, fields) => console.error(message, fields),
            warn: ignore,
            info: ignore,
            debug: (_message, fields) => {
              if (!Array.isArray(fields.wordEvidence)) return;
              const id = String(fields.requestId);
              evidence.set(id, [
                ...(evidence.get(id) ?? []),
                fields.wordEvidence as WordEvidence[],
              ]);
            },
          },
          "debug",
        ),
      }),
    });
const url = args.url ?? `${server!.url}/v2/listen`;
console.log(
  `local engine on the ${args.split} half: ${dataset.files.length} files, ${dataset.files.reduce((n, f) => n + f.turns.length, 0)} turns; eot 0.7 / eager 0.4; ${args.url ?? "in-process server (engine local)"}`,
);
let results;
try {
  results = await runEval({
    dataset,
    settings: [{ eotThreshold: 0.7, eagerEotThreshold: 0.4 }],
    target: { url, kind: "url", shown: url },
    model: "flux-general-en",
    fast: true,
    concurrency,
    telephoneAsMulaw: true,
  });
} finally {
  await server?.close();
}
const setting = results.settings[0];

if (args.show) {
  for (const f of results.files) {
    const run = f.runs[0];
    console.log(
      `\n${f.name}  WER ${run?.score ? `${run.score.wordErrors}/${run.score.referenceWords}` : "—"}${run?.error ? `  (session failed: ${run.error})` : ""}`,
    );
    for (const t of f.turns)
      console.log(`  ref ${t.start.toFixed(2)}–${t.end.toFixed(2)}  ${t.transcript}`);
    for (const e of run?.events ?? []) {
      if (e.event === "Update" || e.event === "StartOfTurn") continue;
      const c = e.endOfTurnConfidence === undefined ? "" : e.endOfTurnConfidence.toFixed(2);
      console.log(
        `  ${e.time.toFixed(2).padStart(6)} ${e.event.padEnd(15)} ${c.padEnd(5)} ${e.transcript}`,
      );
    }
  }
}

/** EndOfTurn words of a file, each marked right or wrong against the file's reference. */
function markedWords(
  file: FileResult,
): Array<{ confidence: number; correct: boolean; turn: number; index: number }> {
  const events = file.runs[0]?.events ?? [];
  const words = events
    .filter((e) => e.event === "EndOfTurn")
    .flatMap((e, turn) => (e.words ?? []).map((w, index) => ({ ...w, turn, index })))
    .filter((w) => normalizeWords(w.word).length > 0);
  const ref = normalizeWords(file.turns.map((t) => t.transcript).join(" "));
  const right = alignWords(
    ref,
    words.map((w) => normalizeWords(w.word).join(" ")),
  );
  return words.map((w, i) => ({
    confidence: w.confidence,
    correct: right[i],
    turn: w.turn,
    index: w.index,
  }));
}

/**
 * Per labelled turn with an EndOfTurn: a turn confidence vs "the turn has no word error". The
 * turn confidence is the mean word confidence (what `@voxpipe/deepgram` reports) or the lowest
 * (a turn is right only if every word is).
 */
function turnSamples(
  file: FileResult,
  turnConfidence: "mean" | "lowest",
): Array<{ confidence: number; correct: boolean }> {
  const ends = (file.runs[0]?.events ?? []).filter((e) => e.event === "EndOfTurn");
  return file.turns.flatMap((t, i) => {
    const next = file.turns[i + 1]?.start ?? Infinity;
    const e = ends.find((x) => x.time >= t.end && x.time < next);
    if (!e?.words?.length) return [];
    const ref = normalizeWords(t.transcript);
    const hyp = normalizeWords(e.transcript);
    const right = alignWords(ref, hyp);
    return [
      {
        confidence:
          turnConfidence === "mean"
            ? e.words.reduce((s, w) => s + w.confidence, 0) / e.words.length
            : Math.min(...e.words.map((w) => w.confidence)),
        correct: ref.length === hyp.length && right.every(Boolean),
      },
    ];
  });
}

const m: EvalMetrics = setting.metrics;
const tagWer = (pick: (tags: readonly string[]) => boolean): number => {
  const files = results.files.filter((f) => pick(f.tags));
  let refs = 0;
  let errors = 0;
  for (const f of files) {
    refs += f.runs[0]?.score?.referenceWords ?? 0;
    errors += f.runs[0]?.score?.wordErrors ?? 0;
  }
  return refs ? errors / refs : NaN;
};
const has = (tags: readonly string[], t: string): boolean => tags.includes(t);
const clean = (tags: readonly string[]): boolean => !has(tags, "noisy") && !has(tags, "phone");
const column: Column = {
  label: args.url ? "server at --url" : "this version",
  turns: m.turns,
  wer: {
    flite: tagWer((t) => has(t, "flite") && clean(t)),
    fliteTel: tagWer((t) => has(t, "flite") && has(t, "phone")),
    espeak: tagWer((t) => has(t, "espeak") && clean(t)),
    librivox: tagWer((t) => has(t, "librivox") && clean(t)),
    librivoxTel: tagWer((t) => has(t, "librivox") && has(t, "phone")),
    noisy: tagWer((t) => has(t, "noisy")),
    all16k: tagWer((t) => !has(t, "phone")),
    allTel: tagWer((t) => has(t, "phone")),
  },
  falseEots: m.falseEots,
  missed: m.missed,
  medianMs: m.medianLatencyMs,
  p90Ms: m.latencyMs.p90,
  eagerLeadMs: m.eager.leadMs.p50,
  eagerFinalDiffers: m.eager.finalDiffersRate,
  turnResumedRate: m.eager.turnResumedRate,
  wordAuc: confidenceAuc(results.files.flatMap(markedWords)),
  turnAuc: confidenceAuc(results.files.flatMap((f) => turnSamples(f, "mean"))),
  turnLowestAuc: confidenceAuc(results.files.flatMap((f) => turnSamples(f, "lowest"))),
  violations: m.violations,
};

const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)} ms` : "∞");
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : "—");
const num = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "—");
const rows: Array<[string, (c: Column) => string, string]> = [
  ["WER flite, 16 kHz", (c) => pct(c.wer.flite), "≤ 5 %"],
  ["WER flite, telephone 8 kHz μ-law", (c) => pct(c.wer.fliteTel), ""],
  ["WER LibriVox, 16 kHz", (c) => pct(c.wer.librivox), "≤ 30 %"],
  ["WER LibriVox, telephone", (c) => pct(c.wer.librivoxTel), ""],
  ["WER espeak-ng, 16 kHz", (c) => pct(c.wer.espeak), ""],
  ["WER noisy copies", (c) => pct(c.wer.noisy), ""],
  ["WER all 16 kHz / all telephone", (c) => `${pct(c.wer.all16k)} / ${pct(c.wer.allTel)}`, ""],
  [
    "false EOT per turn end",
    (c) => `${c.falseEots}/${c.turns} (${num(c.falseEots / c.turns)})`,
    "",
  ],
  ["missed turn ends", (c) => `${c.missed}`, "0"],
  ["EOT latency median / p90", (c) => `${ms(c.medianMs)} / ${ms(c.p90Ms)}`, "median ≤ 500 ms"],
  ["eager lead, median", (c) => ms(c.eagerLeadMs), "≥ 250 ms"],
  ["eager transcript = final", (c) => pct(1 - c.eagerFinalDiffers), "≥ 95 %"],
  ["TurnResumed per EagerEndOfTurn", (c) => pct(c.turnResumedRate), ""],
  ["word confidence AUC", (c) => num(c.wordAuc), "≥ 0.75"],
  ["turn confidence AUC, mean word", (c) => num(c.turnAuc), ""],
  ["turn confidence AUC, lowest word", (c) => num(c.turnLowestAuc ?? NaN), ""],
  ["protocol violations", (c) => `${c.violations}`, "0"],
];
const columns: Column[] = [];
if (args.compare) {
  const before = JSON.parse(await readFile(args.compare, "utf8")) as Column;
  columns.push({ ...before, label: "before" });
}
columns.push(column);
console.log(`\n${"metric".padEnd(34)}${columns.map((c) => c.label.padEnd(22)).join("")}target`);
for (const [name, f, target] of rows) {
  console.log(`${name.padEnd(34)}${columns.map((c) => f(c).padEnd(22)).join("")}${target}`);
}
console.log(`(${results.wallSeconds.toFixed(0)} s wall, ${concurrency} sessions at once)`);
if (args.save) await writeFile(args.save, `${JSON.stringify(column, null, 2)}\n`);

if (args.split === "tune" && !args.url) {
  // Each file's EndOfTurn words get the evidence of the session whose logged turns carry the
  // same confidences in the same order (the eval client does not see request ids; the wire
  // carries confidences as 32-bit floats).
  const same = (a: readonly { confidence: number }[], b: readonly { confidence: number }[]) =>
    a.length === b.length &&
    a.every((w, i) => Math.fround(w.confidence) === Math.fround(b[i].confidence));
  const unclaimed = new Set(evidence.keys());
  const scored: Array<{ features: ConfidenceFeatures; correct: boolean }> = [];
  const unscored: Array<{ correct: boolean }> = [];
  let unmatched = 0;
  for (const file of results.files) {
    const ends = (file.runs[0]?.events ?? []).filter((e) => e.event === "EndOfTurn");
    // The logged turns of a session, aligned in order with this file's EndOfTurn events.
    const align = (turns: WordEvidence[][]): WordEvidence[][] | undefined => {
      const out: WordEvidence[][] = [];
      let t = 0;
      for (const e of ends) {
        while (t < turns.length && !same(turns[t], e.words ?? [])) t++;
        if (t === turns.length) return undefined;
        out.push(turns[t++]);
      }
      return out;
    };
    let aligned: WordEvidence[][] | undefined;
    for (const id of unclaimed) {
      aligned = align(evidence.get(id)!);
      if (aligned) {
        unclaimed.delete(id);
        break;
      }
    }
    for (const w of markedWords(file)) {
      const e = aligned?.[w.turn][w.index];
      if (e === undefined) unmatched++;
      else if (e.logitPosterior === undefined) unscored.push({ correct: w.correct });
      else scored.push({ features: e as WordEvidence & ConfidenceFeatures, correct: w.correct });
    }
  }
  const fit = fitConfidenceCalibration(scored, unscored);
  const r = (x: number | undefined): number => Number((x ?? 0).toFixed(3));
  console.log(
    `word-confidence model fitted on tune (${scored.length} scored EndOfTurn words, ${unscored.length} unscored, ${unmatched} without logged evidence):\n` +
      JSON.stringify({
        slope: r(fit.slope),
        neighbours: r(fit.neighbours),
        secondsPerPhone: r(fit.secondsPerPhone),
        turnAcousticScore: r(fit.turnAcousticScore),
        intercept: r(fit.intercept),
        unscored: r(fit.unscored),
      }),
  );
}
