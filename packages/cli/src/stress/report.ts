import pc from "picocolors";
import type { LatencySummary } from "./latency.js";
import type { ResourceSummary } from "./resources.js";
import type { StreamSummary } from "./stats.js";

/** The summary of a `voxpipe stress` run; `--json` prints exactly this object. */
export interface StressReport {
  /** `file` or `microphone`. */
  mode: "file" | "microphone";
  /** The endpoint without query string or credentials (`local` runs show the local server's URL). */
  endpoint: string;
  /** Connection settings the run used, with Flux's wire names. */
  settings: {
    model: string;
    sample_rate: number;
    eot_threshold?: number;
    eager_eot_threshold?: number;
    eot_timeout_ms?: number;
    /** Number of keyterms (the terms themselves are not reported). */
    keyterms: number;
  };
  /** Connections requested. */
  connections: number;
  /** Wall-clock length of the run, seconds. */
  durationSeconds: number;
  /** Figures of each connection, in connection order (1-based `connection`). */
  perConnection: (StreamSummary & { connection: number })[];
  /** All connections together. */
  aggregate: StreamSummary;
  /** CPU and memory of the client process, with per-connection shares. */
  client: ResourceSummary & {
    /** CPU ms per connection over the run. */
    cpuMsPerConnection: number;
    /** RSS above baseline per connection, MiB. */
    rssPerConnectionMiB: number;
  };
}

/** Options of {@link formatReport}. */
export interface FormatOptions {
  color?: boolean;
}

const LATENCY_ROWS: [label: string, pick: (s: StreamSummary) => LatencySummary][] = [
  ["end of turn, audio time from speech end", (s) => s.eotLatencyAudioMs],
  ["end of turn, wall clock from last word's audio sent", (s) => s.eotLatencyWallMs],
  ["end of turn, processing delay (its audio sent → received)", (s) => s.eotProcessingDelayMs],
  ["eager lead (EagerEndOfTurn → EndOfTurn)", (s) => s.eagerLeadMs],
  ["Configure round trip", (s) => s.configure.roundTripMs],
  ["connect (open → Connected)", (s) => s.connectMs],
  ["message → frame", (s) => s.messageToFrameMs],
];

/** Renders a report as the plain-text summary printed at the end of a run. */
export function formatReport(report: StressReport, options: FormatOptions = {}): string {
  const c = pc.createColors(options.color ?? pc.isColorSupported);
  const out: string[] = [];
  out.push(
    c.bold(
      `Summary: ${report.connections} connection${report.connections === 1 ? "" : "s"}, ${report.durationSeconds.toFixed(1)} s, ${report.mode} → ${report.endpoint}`,
    ),
  );

  const head = [
    "",
    "turns",
    "Update",
    "Start",
    "Eager",
    "Resumed",
    "EndOfTurn",
    "reconn",
    "errors",
    "audio s",
    "EOT p50 ms",
    "wall p50 ms",
  ];
  const row = (label: string, s: StreamSummary): string[] => [
    label,
    String(s.turns),
    String(s.events.Update),
    String(s.events.StartOfTurn),
    String(s.events.EagerEndOfTurn),
    String(s.events.TurnResumed),
    String(s.events.EndOfTurn),
    String(s.reconnects),
    String(Object.values(s.errors).reduce((a, b) => a + b, 0)),
    s.audioSeconds.toFixed(1),
    s.eotLatencyAudioMs.count ? s.eotLatencyAudioMs.p50.toFixed(0) : "-",
    s.eotLatencyWallMs.count ? s.eotLatencyWallMs.p50.toFixed(0) : "-",
  ];
  const rows = report.perConnection.map((s) => row(`Conn ${s.connection}`, s));
  rows.push(row("All", report.aggregate));
  out.push(table([head, ...rows]));

  out.push("");
  out.push(c.bold("Latency (ms)"));
  const latencyHead = ["", "n", "mean", "p50", "p90", "p95", "p99", "max"];
  const latencyRows = LATENCY_ROWS.filter(([, pick]) => pick(report.aggregate).count > 0).map(
    ([label, pick]) => {
      const l = pick(report.aggregate);
      return [
        label,
        String(l.count),
        ...[l.mean, l.p50, l.p90, l.p95, l.p99, l.max].map((v) => v.toFixed(1)),
      ];
    },
  );
  out.push(latencyRows.length ? table([latencyHead, ...latencyRows]) : c.dim("  no samples"));

  const cfg = report.aggregate.configure;
  if (cfg.sent > 0)
    out.push(`Configure: ${cfg.sent} sent, ${cfg.succeeded} succeeded, ${cfg.failed} failed`);
  const warnings = Object.entries(report.aggregate.warnings);
  if (warnings.length > 0) {
    out.push(c.yellow(`Warnings: ${warnings.map(([code, n]) => `${code} ×${n}`).join(", ")}`));
  }
  const errors = Object.entries(report.aggregate.errors);
  if (errors.length > 0) {
    out.push(c.red(`Errors: ${errors.map(([code, n]) => `${code} ×${n}`).join(", ")}`));
  }

  const k = report.client;
  out.push("");
  out.push(
    `${c.bold("Client")}: CPU ${(k.cores * 100).toFixed(1)}% of one core (user ${(k.cpuUserMs / 1000).toFixed(2)} s, system ${(k.cpuSystemMs / 1000).toFixed(2)} s; ${k.cpuMsPerConnection.toFixed(0)} ms per connection)`,
  );
  out.push(
    `        RSS peak ${k.rssPeakMiB.toFixed(1)} MiB, ${k.rssAboveBaselineMiB.toFixed(1)} MiB above baseline (${k.rssPerConnectionMiB.toFixed(2)} MiB per connection)`,
  );
  return `${out.join("\n")}\n`;
}

/** Left-aligns the first column, right-aligns the rest. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map(
      (r) =>
        `  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")}`,
    )
    .join("\n");
}
