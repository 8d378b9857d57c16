/**
 * The load benchmark's server, in its own process (forked with an IPC channel by
 * `../flux-server-load.ts`): `@voxpipe/flux-server` with the scripted engine in energy
 * mode. Answers `{ type: "stats" }` with its CPU time, memory and counters, and exits on
 * `{ type: "stop" }`.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startFluxServer } from "@voxpipe/flux-server";
import { BENCH_SCRIPTED_ENGINE } from "../bench-engine.js";

/** A reply to a stats request. */
export interface ServerStats {
  /** Microseconds of CPU (user + system) since the process started. */
  cpuMicros: number;
  /** Wall-clock ms when sampled (performance.timeOrigin-based). */
  wallMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  liveSessions: number;
  /** Sessions ended so far, by reason (`close-stream`, `idle-timeout`, `client-closed`, …). */
  endReasons: Record<string, number>;
  /** Event-loop delay since the previous stats request, ms (p50, p99, max). */
  loopDelayMs: { p50: number; p99: number; max: number };
  counters: ReturnType<Awaited<ReturnType<typeof startFluxServer>>["counters"]>;
}

const server = await startFluxServer({
  ...BENCH_SCRIPTED_ENGINE,
  maxSessions: 10_000,
});

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

const endReasons: Record<string, number> = {};
server.events.on("sessionEnded", (_session, end) => {
  const key = `${end.reason} (${end.code})`;
  endReasons[key] = (endReasons[key] ?? 0) + 1;
});

function stats(): ServerStats {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const loopDelayMs = {
    p50: loop.percentile(50) / 1e6,
    p99: loop.percentile(99) / 1e6,
    max: loop.max / 1e6,
  };
  loop.reset();
  return {
    loopDelayMs,
    cpuMicros: cpu.user + cpu.system,
    wallMs: performance.timeOrigin + performance.now(),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    liveSessions: server.sessions.size,
    endReasons: { ...endReasons },
    counters: server.counters(),
  };
}

process.on("message", (message: { type: string }) => {
  if (message.type === "stats") process.send?.({ type: "stats", stats: stats() });
  if (message.type === "gc") {
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ type: "gc-done" });
  }
  if (message.type === "stop") void server.close().then(() => process.exit(0));
});
process.send?.({ type: "ready", url: server.url });
