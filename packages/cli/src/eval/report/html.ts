import { basename } from "node:path";
import { LATENCY_PERCENTILES } from "../metrics.js";
import type { EvalMetrics } from "../metrics.js";
import type { EvalResults, FileResult } from "../run.js";
import { formatMs, formatPercent } from "../text-report.js";
import { latencyCurveSpec, renderSvg, timelineSpec, tradeoffSpec } from "./charts.js";

/** The charts of a report as SVG strings (also what `--png` rasterises). */
export interface ReportCharts {
  readonly latency: string;
  readonly tradeoff: string;
  /** One per file, in the results' order. */
  readonly timelines: ReadonlyArray<{ name: string; svg: string }>;
}

/** Renders every chart of `results` to SVG (Vega, server side). */
export async function renderCharts(results: EvalResults): Promise<ReportCharts> {
  const timelines = [];
  for (const file of results.files) {
    timelines.push({
      name: file.name,
      svg: await renderSvg(timelineSpec(file, { settings: results.settings })),
    });
  }
  return {
    latency: await renderSvg(latencyCurveSpec(results.settings)),
    tradeoff: await renderSvg(tradeoffSpec(results.settings)),
    timelines,
  };
}

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const escape = escapeHtml;

/** Every figure of a set of rows as an HTML table. */
function metricsTable(rows: ReadonlyArray<[string, EvalMetrics]>): string {
  const head = [
    "setting",
    ...LATENCY_PERCENTILES.map((p) => `p${p}`),
    "precision",
    "recall",
    "F1",
    "turns",
    "detected",
    "split",
    "missed",
    "false EOT",
    "extra EOT",
    "WER",
    "eager",
    "eager lead p50/p90",
    "resumed",
    "eager≠final",
    "EOT delay p50/p90",
    "failed",
  ];
  const body = rows.map(([label, m]) => [
    label,
    ...LATENCY_PERCENTILES.map((p) => formatMs(m.latencyMs[`p${p}`])),
    formatPercent(m.precision),
    formatPercent(m.recall),
    formatPercent(m.f1),
    `${m.turns}`,
    `${m.detected}`,
    `${m.splitTurns}`,
    `${m.missed}`,
    `${m.falseEots}`,
    `${m.extraEots}`,
    formatPercent(m.wer),
    `${m.eager.events}`,
    `${formatMs(m.eager.leadMs.p50)} / ${formatMs(m.eager.leadMs.p90)}`,
    formatPercent(m.eager.turnResumedRate),
    formatPercent(m.eager.finalDiffersRate),
    `${formatMs(m.endOfTurnDelayMs.p50)} / ${formatMs(m.endOfTurnDelayMs.p90)}`,
    `${m.failedSessions}`,
  ]);
  return `<table class="figures"><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join("")}</tr></thead><tbody>${body
    .map(
      (r) =>
        `<tr>${r.map((c, i) => (i === 0 ? `<th>${escape(c)}</th>` : `<td>${escape(c)}</td>`)).join("")}</tr>`,
    )
    .join("")}</tbody></table>`;
}

/** A one-line verdict of a file across settings, for its timeline's summary line. */
function fileSummary(file: FileResult): string {
  return file.runs
    .map((r) => {
      if (r.error !== undefined) return `${r.setting}: failed`;
      const s = r.score;
      if (s === undefined) return `${r.setting}: –`;
      const bad = [
        s.splitTurns > 0 ? `${s.splitTurns} cut` : "",
        s.missed > 0 ? `${s.missed} missed` : "",
        s.extraEots > 0 ? `${s.extraEots} extra` : "",
      ].filter(Boolean);
      return `${r.setting}: ${bad.length ? bad.join(", ") : "ok"}`;
    })
    .join(" · ");
}

const STYLE = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#555;font-size:13px}.note{color:#555;font-size:12px;max-width:900px}
.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
table.figures{border-collapse:collapse;font-size:12px;margin:8px 0}
table.figures th,table.figures td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
table.figures thead th{background:#f4f4f4}table.figures tbody th{text-align:left}
details.timeline{margin:6px 0;border:1px solid #eee;border-radius:4px;padding:4px 8px}
details.timeline summary{cursor:pointer;font-size:13px}details.timeline summary span{color:#666}
.failed{color:#b00}`;

/**
 * The report as one self-contained HTML page (inline SVG, inline script, no network): the
 * latency-percentile curves of every setting on one chart, precision and WER against median
 * latency, a table of every figure (overall and per tag), and one turn timeline per file.
 * Timelines after the first are kept in `<template>`s and drawn when opened, so a report of
 * hundreds of files opens quickly.
 */
export function renderHtml(results: EvalResults, charts: ReportCharts): string {
  const d = results.dataset;
  const rows = results.settings.map((s): [string, EvalMetrics] => [s.label, s.metrics]);
  const tags = Object.keys(results.settings[0]?.byTag ?? {});
  const failed = results.files.flatMap((f) =>
    f.runs.filter((r) => r.error !== undefined).map((r) => `${f.name} (${r.setting}): ${r.error}`),
  );
  const timelines = results.files
    .map((file, i) => {
      const svg = charts.timelines[i]?.svg ?? "";
      const summary = `<summary><b>${escape(file.name)}</b> <span>${escape(fileSummary(file))}</span></summary>`;
      return i === 0
        ? `<details class="timeline" open data-file="${escape(file.name)}">${summary}<div class="chart">${svg}</div></details>`
        : `<details class="timeline" data-file="${escape(file.name)}">${summary}<template>${svg}</template><div class="chart"></div></details>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>voxpipe eval — ${escape(basename(d.dir))}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>voxpipe eval — ${escape(basename(d.dir))}</h1>
<div class="meta">${d.files} files · ${d.turns} turns · ${d.audioSeconds.toFixed(1)} s of audio · ${escape(results.target.shown)} · model ${escape(results.model)} · ${results.pace} pace, ${results.concurrency} at a time · ${results.wallSeconds.toFixed(1)} s wall · ${escape(results.createdAt)}</div>
<p class="note">Deepgram's method for Flux: end-of-turn latency is audio time from the end of a turn's last word to the EndOfTurn that ends it; a turn cut by an EndOfTurn inside it, or never ended, has infinite latency (∞), so a percentile can be ∞. Precision: EndOfTurns that ended a turn / every EndOfTurn Flux decided; recall: turns ended / labelled turns. WER: final transcripts, jiwer-style normalisation.</p>
<div class="charts"><figure class="chart" id="latency">${charts.latency}</figure><figure class="chart" id="tradeoff">${charts.tradeoff}</figure></div>
<h2>Every figure</h2>
${metricsTable(rows)}
${tags.map((tag) => `<h2>Tag “${escape(tag)}”</h2>${metricsTable(results.settings.map((s) => [s.label, s.byTag[tag]]))}`).join("\n")}
${failed.length ? `<h2 class="failed">Failed sessions</h2><ul class="failed">${failed.map((f) => `<li>${escape(f)}</li>`).join("")}</ul>` : ""}
<h2>Turn timelines</h2>
<p class="note">Per file: the waveform with the labelled turns (green bands), then one row per setting: Flux's end_of_turn_confidence over audio time, the thresholds (dashed), and every event as it arrived — ▶ StartOfTurn, ◆ EagerEndOfTurn, ● TurnResumed, ■ EndOfTurn with its transcript (green rule: ends a turn; red: cuts one; orange: ends nothing). Labelled turns are tinted by outcome: green detected, red cut, grey missed.</p>
${timelines}
<script>
for (const d of document.querySelectorAll("details.timeline")) {
  d.addEventListener("toggle", () => {
    const t = d.querySelector("template");
    if (d.open && t) { d.querySelector(".chart").appendChild(t.content.cloneNode(true)); t.remove(); }
  });
}
</script>
</body></html>
`;
}
