import { LATENCY_PERCENTILES } from "./metrics.js";
import type { EvalMetrics } from "./metrics.js";
import type { EvalResults } from "./run.js";

/** Milliseconds for a table: rounded, `∞` for infinite, `–` for nothing measured. */
export function formatMs(x: number): string {
  // `null` is how results.json stores "nothing measured" (NaN).
  if (x === null || Number.isNaN(x)) return "–";
  return Number.isFinite(x) ? `${Math.round(x)}` : "∞";
}

/** A 0–1 share as a percentage with one decimal, `–` when undefined. */
export function formatPercent(x: number): string {
  return x === null || Number.isNaN(x) ? "–" : `${(100 * x).toFixed(1)}%`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** The two tables of a metrics set per row label: turn-taking, then words/eager/delay. */
export function metricsTables(rows: ReadonlyArray<[string, EvalMetrics]>): string {
  const latency = table(
    [
      "setting",
      ...LATENCY_PERCENTILES.map((p) => `p${p}`),
      "prec",
      "recall",
      "F1",
      "split",
      "missed",
      "extra",
    ],
    rows.map(([label, m]) => [
      label,
      ...LATENCY_PERCENTILES.map((p) => formatMs(m.latencyMs[`p${p}`])),
      formatPercent(m.precision),
      formatPercent(m.recall),
      formatPercent(m.f1),
      `${m.splitTurns}`,
      `${m.missed}`,
      `${m.extraEots}`,
    ]),
  );
  const words = table(
    [
      "setting",
      "WER",
      "eager",
      "lead p50",
      "resumed",
      "eager≠final",
      "EOT delay p50",
      "p90",
      "failed",
    ],
    rows.map(([label, m]) => [
      label,
      formatPercent(m.wer),
      `${m.eager.events}`,
      formatMs(m.eager.leadMs.p50),
      formatPercent(m.eager.turnResumedRate),
      formatPercent(m.eager.finalDiffersRate),
      formatMs(m.endOfTurnDelayMs.p50),
      formatMs(m.endOfTurnDelayMs.p90),
      `${m.failedSessions}`,
    ]),
  );
  return `${latency}\n\n${words}`;
}

/**
 * The terminal summary of a run: what was measured, the end-of-turn latency percentiles
 * (audio ms; ∞ = that share of turns was cut or missed) with precision/recall/F1, then WER,
 * eager figures and the wall-clock EndOfTurn delay, per setting and per tag.
 */
export function formatResults(results: EvalResults): string {
  const d = results.dataset;
  const out = [
    `voxpipe eval: ${d.files} files, ${d.turns} turns, ${d.audioSeconds.toFixed(1)} s of audio; ${results.target.shown}; ${results.pace} pace, ${results.concurrency} at a time; ${results.wallSeconds.toFixed(1)} s wall`,
    "",
    "end-of-turn latency (audio ms from the end of the last word to EndOfTurn; ∞ = turn cut or missed)",
    metricsTables(results.settings.map((s) => [s.label, s.metrics])),
  ];
  const tags = Object.keys(results.settings[0]?.byTag ?? {});
  for (const tag of tags) {
    out.push(
      "",
      `tag "${tag}"`,
      metricsTables(results.settings.map((s) => [s.label, s.byTag[tag]])),
    );
  }
  const failed = results.files.flatMap((f) =>
    f.runs
      .filter((r) => r.error !== undefined)
      .map((r) => `  ${f.name} (${r.setting}): ${r.error}`),
  );
  if (failed.length > 0) out.push("", "failed sessions:", ...failed);
  return `${out.join("\n")}\n`;
}
