import type { ClientArgs, ClientResult } from "./client.js";

/** The Flux server process's own figures over one level (both clients' runs). */
export interface ServerFigures {
  sessions: number;
  /** Average cores the server used over its life. */
  cores: number;
  /** Event-loop delay p99, ms. */
  loopDelayP99Ms: number;
}

/** Every client's results at one load level. */
export interface LevelResult {
  sessions: number;
  seconds: number;
  results: Partial<Record<ClientArgs["client"], ClientResult>>;
  /** Clients whose process failed at this level, with why. */
  failures: Partial<Record<ClientArgs["client"], string>>;
  server: ServerFigures | undefined;
}

/** Figures derived per session from a client's result. */
export interface PerSession {
  /** Percent of one core per session, steady state. */
  cpuPercent: number;
  /** RSS above baseline per session, MiB. */
  rssMiB: number;
}

/** CPU and memory per session. */
export function perSession(r: ClientResult): PerSession {
  return {
    cpuPercent: (r.steadyCores / r.sessions) * 100,
    rssMiB: r.resources.rssAboveBaselineMiB / r.sessions,
  };
}

/** Issue #7 targets for voxpipe at 500 sessions (2-core machine). */
export const TARGETS = {
  /** At most one core in total. */
  cores: 1,
  /** At most 2 MB RSS per session. */
  rssMiBPerSession: 2,
  /** Message-to-frame p99 at most 5 ms. */
  messageToFrameP99Ms: 5,
  /** At least 2× less CPU per session than the peer. */
  cpuRatioVsPeer: 2,
} as const;

/** How each client is named in the table. */
const CLIENT_LABELS: Record<ClientArgs["client"], string> = {
  voxpipe: "voxpipe (WebSocket)",
  sagemaker: "voxpipe (SageMaker)",
  livekit: "LiveKit STTv2",
};

/** `a ÷ b` per session: CPU and RSS (message-to-frame is not measured on the SageMaker path). */
function ratioRow(label: string, a: ClientResult, b: ClientResult): string[] {
  const [pa, pb] = [perSession(a), perSession(b)];
  return [
    "",
    label,
    "",
    "",
    "",
    "",
    "",
    `${f(pa.cpuPercent / pb.cpuPercent, 2)}×`,
    `${f(pa.rssMiB / pb.rssMiB, 2)}×`,
    "",
    "",
    "",
  ];
}

const f = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : "-");

/** The printed table: one row per level and client, a ratio row, then the targets. */
export function renderTable(levels: readonly LevelResult[]): string {
  const head = [
    "sessions",
    "client",
    "up",
    "reconn",
    "ramp-up s",
    "turns",
    "cores",
    "CPU %/session",
    "RSS MiB/session",
    "m2f p50 ms",
    "m2f p99 ms",
    "late ticks",
  ];
  const rows: string[][] = [];
  const failed: string[] = [];
  for (const level of levels) {
    for (const client of ["voxpipe", "sagemaker", "livekit"] as const) {
      const r = level.results[client];
      const failure = level.failures[client];
      if (!r) {
        if (failure) failed.push(`${level.sessions} sessions, ${client}: ${failure}`);
        continue;
      }
      const p = perSession(r);
      rows.push([
        String(level.sessions),
        CLIENT_LABELS[client],
        `${Math.min(r.connectedAfterRamp, r.sessions)}/${r.sessions}`,
        String(Math.max(0, r.connected - r.sessions)),
        f(r.connectAllMs / 1000, 1),
        String(r.turns),
        f(r.steadyCores, 3),
        f(p.cpuPercent, 3),
        f(p.rssMiB, 3),
        // Not measured where nothing was instrumented (the SageMaker carrier's HTTP/2 stream).
        r.messageToFrameMs.count > 0 ? f(r.messageToFrameMs.p50, 3) : "n/a",
        r.messageToFrameMs.count > 0 ? f(r.messageToFrameMs.p99, 3) : "n/a",
        String(r.lateTicks),
      ]);
    }
    const v = level.results.voxpipe;
    const sm = level.results.sagemaker;
    if (v && sm) rows.push(ratioRow("SageMaker ÷ WebSocket", sm, v));
    const l = level.results.livekit;
    if (v && l) {
      const pv = perSession(v);
      const pl = perSession(l);
      rows.push([
        "",
        "LiveKit ÷ voxpipe",
        "",
        "",
        "",
        "",
        "",
        `${f(pl.cpuPercent / pv.cpuPercent, 2)}×`,
        `${f(pl.rssMiB / pv.rssMiB, 2)}×`,
        `${f(l.messageToFrameMs.p50 / v.messageToFrameMs.p50, 2)}×`,
        `${f(l.messageToFrameMs.p99 / v.messageToFrameMs.p99, 2)}×`,
        "",
      ]);
    }
  }
  const carriers = levels.flatMap((level) => {
    const [v, sm] = [level.results.voxpipe, level.results.sagemaker];
    if (!v || !sm) return [];
    const [pv, ps] = [perSession(v), perSession(sm)];
    return [
      `  ${level.sessions} sessions: CPU per session ${f(ps.cpuPercent / pv.cpuPercent, 2)}×, RSS per session ${f(ps.rssMiB / pv.rssMiB, 2)}× the WebSocket carrier's`,
    ];
  });
  const widths = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const out = [
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
  ];

  if (failed.length > 0) out.push("", "Failed runs:", ...failed.map((f) => `  ${f}`));
  if (carriers.length > 0)
    out.push(
      "",
      "voxpipe through Amazon SageMaker (sagemakerCarrier → local SageMaker endpoint, h2c) vs the WebSocket carrier:",
      ...carriers,
    );
  out.push("");
  for (const level of levels) {
    const s = level.server;
    if (s) {
      out.push(
        `Server at ${level.sessions}: ${s.sessions} sessions accepted over both runs, ${f(s.cores, 2)} cores on average, event-loop delay p99 ${f(s.loopDelayP99Ms, 1)} ms`,
      );
    }
  }

  const top = [...levels].sort((a, b) => b.sessions - a.sessions)[0];
  const v = top?.results.voxpipe;
  if (top && v) {
    const p = perSession(v);
    const l = top.results.livekit;
    const ratio = l ? perSession(l).cpuPercent / p.cpuPercent : Number.NaN;
    const check = (ok: boolean): string => (ok ? "met" : "NOT met");
    out.push("");
    out.push(`Targets at ${top.sessions} sessions (voxpipe):`);
    out.push(
      `  client CPU ${f(v.steadyCores, 3)} cores (≤ ${TARGETS.cores}): ${check(v.steadyCores <= TARGETS.cores)}`,
    );
    out.push(
      `  RSS ${f(p.rssMiB, 3)} MiB/session (≤ ${TARGETS.rssMiBPerSession}): ${check(p.rssMiB <= TARGETS.rssMiBPerSession)}`,
    );
    out.push(
      `  message-to-frame p99 ${f(v.messageToFrameMs.p99, 3)} ms (≤ ${TARGETS.messageToFrameP99Ms}): ${check(v.messageToFrameMs.p99 <= TARGETS.messageToFrameP99Ms)}`,
    );
    if (l)
      out.push(
        `  CPU per session vs LiveKit ${f(ratio, 2)}× less (≥ ${TARGETS.cpuRatioVsPeer}×): ${check(ratio >= TARGETS.cpuRatioVsPeer)}`,
      );
  }
  return `${out.join("\n")}\n`;
}
