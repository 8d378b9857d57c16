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

/** `a`'s CPU and RSS per session divided by `b`'s. */
export function perSessionRatio(a: ClientResult, b: ClientResult): PerSession {
  const [pa, pb] = [perSession(a), perSession(b)];
  return { cpuPercent: pa.cpuPercent / pb.cpuPercent, rssMiB: pa.rssMiB / pb.rssMiB };
}

/**
 * `a ÷ b`: CPU and RSS per session, and message-to-frame p50/p99 where both clients measured it
 * (not on the SageMaker carrier's HTTP/2 stream).
 */
function ratioRow(label: string, a: ClientResult, b: ClientResult): string[] {
  const ratio = perSessionRatio(a, b);
  const latency = (pick: (l: ClientResult["messageToFrameMs"]) => number): string =>
    a.messageToFrameMs.count > 0 && b.messageToFrameMs.count > 0
      ? `${f(pick(a.messageToFrameMs) / pick(b.messageToFrameMs), 2)}×`
      : "";
  const cpu = `${f(ratio.cpuPercent, 2)}×`;
  const rss = `${f(ratio.rssMiB, 2)}×`;
  return [
    "",
    label,
    "",
    "",
    "",
    "",
    "",
    cpu,
    rss,
    latency((l) => l.p50),
    latency((l) => l.p99),
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
    if (v && l) rows.push(ratioRow("LiveKit ÷ voxpipe", l, v));
  }
  const carriers = levels.flatMap((level) => {
    const [v, sm] = [level.results.voxpipe, level.results.sagemaker];
    if (!v || !sm) return [];
    const ratio = perSessionRatio(sm, v);
    return [
      `  ${level.sessions} sessions: CPU per session ${f(ratio.cpuPercent, 2)}×, RSS per session ${f(ratio.rssMiB, 2)}× the WebSocket carrier's`,
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
    const ratio = l ? perSessionRatio(l, v).cpuPercent : Number.NaN;
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
