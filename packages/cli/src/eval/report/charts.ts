/**
 * The report's charts as Vega-Lite specifications, rendered to SVG on the server by Vega
 * (`View.toSVG()`, no browser and no canvas needed), so the HTML report is self-contained
 * and opens without network access. Why Vega-Lite: a declarative grammar with layered,
 * faceted and concatenated views — the latency curves, the trade-off plots and the
 * per-file timelines are each one spec, not drawing code.
 */
import * as vega from "vega";
import { compile } from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import type { FileResult, SettingResult } from "../run.js";

/** Colours of the settings, in order (Vega's `tableau10`). */
export const SETTING_COLORS = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
];

/** Colour and shape of each Flux event in timelines. */
const EVENT_STYLE = {
  domain: ["StartOfTurn", "EagerEndOfTurn", "TurnResumed", "EndOfTurn"],
  colors: ["#54a24b", "#f58518", "#b279a2", "#e45756"],
  shapes: ["triangle-right", "diamond", "circle", "square"],
};

const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const CONFIG = {
  font: FONT,
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "normal" as const },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 320 },
  title: { fontSize: 13, anchor: "start" as const },
};

/** Renders a Vega-Lite spec to an SVG string (server side). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A setting's colour scale entry, shared by every chart of a report. */
function colorScale(settings: readonly SettingResult[]) {
  return {
    domain: settings.map((s) => s.label),
    range: settings.map((_, i) => SETTING_COLORS[i % SETTING_COLORS.length]),
  };
}

/**
 * EOT latency against percentile, one curve per setting — the shape of Flux's own plot.
 * A curve stops where latency becomes infinite (the share of turns cut or missed).
 */
export function latencyCurveSpec(settings: readonly SettingResult[]): TopLevelSpec {
  const values = settings.flatMap((s) =>
    s.metrics.latencyCurveMs.flatMap((ms, i) =>
      Number.isFinite(ms) ? [{ setting: s.label, percentile: i + 1, latency: Math.round(ms) }] : [],
    ),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "End-of-turn latency by percentile",
      subtitle:
        "audio ms from the end of the last word to EndOfTurn; a curve ends where turns were cut or missed (∞)",
    },
    width: 560,
    height: 300,
    config: CONFIG,
    data: { values },
    mark: { type: "line", interpolate: "step-after", strokeWidth: 2 },
    encoding: {
      x: {
        field: "percentile",
        type: "quantitative",
        scale: { domain: [0, 100] },
        title: "percentile of turns",
      },
      y: { field: "latency", type: "quantitative", title: "EOT latency (ms)" },
      color: { field: "setting", type: "nominal", scale: colorScale(settings), title: "setting" },
    },
  };
}

/** Median latency against precision and against WER, one point per setting. */
export function tradeoffSpec(settings: readonly SettingResult[]): TopLevelSpec {
  const values = settings.flatMap((s) =>
    Number.isFinite(s.metrics.medianLatencyMs)
      ? [
          {
            setting: s.label,
            median: Math.round(s.metrics.medianLatencyMs),
            precision: finiteOrNull(s.metrics.precision),
            wer: finiteOrNull(s.metrics.wer),
          },
        ]
      : [],
  );
  const panel = (field: "precision" | "wer", title: string) => ({
    width: 260,
    height: 220,
    title,
    layer: [
      { mark: { type: "line" as const, color: "#bbb" } },
      { mark: { type: "point" as const, filled: true, size: 90 } },
      {
        mark: { type: "text" as const, dx: 6, dy: -8, align: "left" as const, fontSize: 10 },
        encoding: { text: { field: "setting", type: "nominal" as const } },
      },
    ],
    encoding: {
      x: {
        field: "median",
        type: "quantitative" as const,
        title: "median EOT latency (ms)",
        scale: { zero: false },
      },
      y: {
        field,
        type: "quantitative" as const,
        title: field === "precision" ? "precision" : "WER",
        axis: { format: ".0%" },
      },
      color: {
        field: "setting",
        type: "nominal" as const,
        scale: colorScale(settings),
        legend: null,
      },
      order: { field: "median", type: "quantitative" as const },
    },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    data: { values },
    hconcat: [
      panel("precision", "Precision of EndOfTurn vs median latency"),
      panel("wer", "WER vs median latency"),
    ],
  };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Options of {@link timelineSpec}. */
export interface TimelineOptions {
  /** Settings whose runs are drawn (by label), with their thresholds. */
  readonly settings: ReadonlyArray<Pick<SettingResult, "label" | "setting">>;
  /** Pixels per second of audio (bounded to a readable width). Default: fit 900 px. */
  readonly width?: number;
}

/**
 * A file's turn timeline: the waveform with the labelled turns on top, then one row per
 * setting with Flux's `end_of_turn_confidence` over audio time (from every TurnInfo), the
 * thresholds as dashed lines, and every event as it arrived — StartOfTurn, EagerEndOfTurn,
 * TurnResumed, EndOfTurn (a red rule where it cut a turn, green where it ended one, with its
 * transcript) — so a person sees where a turn was cut or late.
 */
export function timelineSpec(file: FileResult, options: TimelineOptions): TopLevelSpec {
  const wave = file.waveform ?? [];
  const points = wave.length / 2;
  const runs = options.settings.map((s) => ({
    label: s.label,
    setting: s.setting,
    run: file.runs.find((r) => r.setting === s.label),
  }));
  const lastEvent = Math.max(0, ...runs.flatMap((r) => (r.run?.events ?? []).map((e) => e.time)));
  const end = Math.max(file.duration, lastEvent) + 0.1;
  const width = options.width ?? 900;
  const waveform = Array.from({ length: points }, (_, i) => ({
    t: ((i + 0.5) * file.duration) / points,
    lo: wave[2 * i],
    hi: wave[2 * i + 1],
  }));
  const turns = file.turns.map((t, i) => ({
    start: t.start,
    end: t.end,
    label: `turn ${i}${t.transcript ? `: ${truncate(t.transcript, 60)}` : ""}`,
  }));
  const rows = runs.flatMap(({ label, setting, run }) => {
    const events = run?.events ?? [];
    const outcomes = run?.score?.outcomes ?? [];
    const rowTurns = file.turns.map((t, i) => ({
      row: label,
      kind: "turn",
      start: t.start,
      end: t.end,
      outcome: outcomes[i]?.outcome ?? "missed",
    }));
    const thresholds = [
      { row: label, kind: "threshold", y: setting.eotThreshold, which: "eot_threshold" },
      ...(setting.eagerEotThreshold !== undefined
        ? [
            {
              row: label,
              kind: "threshold",
              y: setting.eagerEotThreshold,
              which: "eager_eot_threshold",
            },
          ]
        : []),
    ];
    const confidence = events
      .filter((e) => e.endOfTurnConfidence !== undefined)
      .map((e) => ({ row: label, kind: "conf", t: e.time, conf: e.endOfTurnConfidence }));
    const finals = events.filter((e) => e.event === "EndOfTurn");
    const judgement = verdicts(finals, file);
    const judged = new Map(finals.map((e, i) => [e, judgement[i]]));
    const marks = events
      .filter((e) => e.event !== "Update")
      .map((e) => ({
        row: label,
        kind: e.event === "EndOfTurn" ? "eot" : "event",
        t: e.time,
        event: e.event,
        verdict: judged.get(e) ?? "",
        text: e.event === "EndOfTurn" ? truncate(e.transcript, 40) : "",
      }));
    const failed = run?.error
      ? [{ row: label, kind: "error", t: 0, text: `session failed: ${truncate(run.error, 80)}` }]
      : [];
    return [...rowTurns, ...thresholds, ...confidence, ...marks, ...failed];
  });
  const x = {
    type: "quantitative" as const,
    scale: { domain: [0, end], nice: false },
    title: "audio time (s)",
  };
  const only = (kind: string) => [{ filter: { field: "kind", equal: kind } }];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    title: {
      text: file.name,
      subtitle: `${file.duration.toFixed(2)} s · ${file.turns.length} labelled turn${file.turns.length === 1 ? "" : "s"}${file.tags.length ? ` · ${file.tags.join(", ")}` : ""}`,
    },
    vconcat: [
      {
        width,
        height: 70,
        layer: [
          {
            data: { values: turns },
            mark: { type: "rect", color: "#54a24b", opacity: 0.15 },
            encoding: { x: { field: "start", ...x }, x2: { field: "end" } },
          },
          {
            data: { values: waveform },
            mark: { type: "area", color: "#777", opacity: 0.8 },
            encoding: {
              x: { field: "t", ...x, axis: null },
              y: { field: "lo", type: "quantitative", scale: { domain: [-1, 1] }, axis: null },
              y2: { field: "hi" },
            },
          },
          {
            data: { values: turns },
            mark: { type: "text", align: "left", baseline: "top", dx: 2, y: 2, fontSize: 10 },
            encoding: { x: { field: "start", ...x }, text: { field: "label" } },
          },
        ],
      },
      {
        data: { values: rows },
        facet: {
          row: { field: "row", type: "nominal", title: null, sort: runs.map((r) => r.label) },
        },
        spec: {
          width,
          height: 70,
          layer: [
            {
              transform: only("turn"),
              mark: { type: "rect", opacity: 0.12 },
              encoding: {
                x: { field: "start", ...x },
                x2: { field: "end" },
                fill: {
                  field: "outcome",
                  type: "nominal",
                  scale: {
                    domain: ["detected", "split", "missed"],
                    range: ["#54a24b", "#e45756", "#bab0ac"],
                  },
                  title: "labelled turn",
                },
              },
            },
            {
              transform: only("threshold"),
              mark: { type: "rule", strokeDash: [4, 3], color: "#888" },
              encoding: { y: { field: "y", type: "quantitative", scale: { domain: [0, 1] } } },
            },
            {
              transform: only("conf"),
              mark: { type: "line", interpolate: "step-after", color: "#4c78a8", strokeWidth: 1.5 },
              encoding: {
                x: { field: "t", ...x },
                y: {
                  field: "conf",
                  type: "quantitative",
                  scale: { domain: [0, 1] },
                  title: "EOT confidence",
                },
              },
            },
            {
              transform: only("eot"),
              mark: { type: "rule", strokeWidth: 2 },
              encoding: {
                x: { field: "t", ...x },
                stroke: {
                  field: "verdict",
                  type: "nominal",
                  scale: {
                    domain: [
                      "ends a turn",
                      "cuts a turn",
                      "ends nothing",
                      "forced at close",
                      "no labels",
                    ],
                    range: ["#2ca02c", "#d62728", "#ff7f0e", "#999", "#4c78a8"],
                  },
                  title: "EndOfTurn",
                },
              },
            },
            {
              transform: only("eot"),
              mark: {
                type: "text",
                angle: 0,
                align: "left",
                baseline: "bottom",
                dx: 3,
                y: 14,
                fontSize: 9,
              },
              encoding: { x: { field: "t", ...x }, text: { field: "text" } },
            },
            {
              transform: [{ filter: "datum.kind === 'event' || datum.kind === 'eot'" }],
              mark: { type: "point", filled: true, size: 55, y: 6 },
              encoding: {
                x: { field: "t", ...x },
                shape: {
                  field: "event",
                  type: "nominal",
                  scale: { domain: EVENT_STYLE.domain, range: EVENT_STYLE.shapes },
                  title: "Flux event",
                },
                color: {
                  field: "event",
                  type: "nominal",
                  scale: { domain: EVENT_STYLE.domain, range: EVENT_STYLE.colors },
                  title: "Flux event",
                },
              },
            },
            {
              transform: only("error"),
              mark: { type: "text", align: "left", color: "#d62728", fontSize: 11, y: 35 },
              encoding: { x: { field: "t", ...x }, text: { field: "text" } },
            },
          ],
        },
      },
    ],
    resolve: {
      scale: {
        color: "independent",
        shape: "independent",
        fill: "independent",
        stroke: "independent",
      },
    },
  };
}

/**
 * How each EndOfTurn stands against the labels, by the scoring's rules: inside a turn it
 * cuts it; the first in `[end, next start)` ends that turn; any other ends nothing; one
 * voxpipe forced at close is not Flux's.
 */
function verdicts(
  times: ReadonlyArray<{ time: number; trigger?: string | undefined }>,
  file: FileResult,
): string[] {
  const ended = new Set<number>();
  return times.map(({ time, trigger }) => {
    if (trigger === "manual" || trigger === "closed" || trigger === "connection-lost")
      return "forced at close";
    if (file.turns.length === 0) return "no labels";
    if (file.turns.some((t) => time > t.start && time < t.end)) return "cuts a turn";
    const i = file.turns.findIndex(
      (t, k) => time >= t.end && time < (file.turns[k + 1]?.start ?? Infinity),
    );
    if (i < 0 || ended.has(i)) return "ends nothing";
    ended.add(i);
    return "ends a turn";
  });
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
