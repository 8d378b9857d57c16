/**
 * The chaos benchmark's Flux side, in its own process (forked by `../chaos.ts` with an IPC
 * channel) so its CPU and memory never count against the clients: `@voxpipe/flux-server` with
 * the scripted engine in energy mode, and — unless `faults` is off — the {@link FaultProxy}
 * in front of it.
 *
 * Server-side faults, chosen per session by `sessionPlan`:
 * - messages without `request_id`/`sequence_id`/`trigger` (`omitOptionalFields`) on a share
 *   of sessions;
 * - Configure acknowledgements delayed (some beyond the client's 5 s Configure timeout);
 * - once the parent says the run is steady (every session connected once, so every new
 *   connection is a reconnect), a share of handshakes refused with 429 or 500.
 *
 * IPC: sends `{ type: "ready", serverUrl, proxyUrl }`; answers `steady` (refusals on),
 * `blip` (every proxied connection dropped at once), `calm` (every fault off, stalled links
 * released) and `stop` (`{ type: "counters" }`, exit).
 */
import { startFluxServer, type FaultPlan } from "@voxpipe/flux-server";
import { BENCH_SCRIPTED_ENGINE } from "../bench-engine.js";
import { FaultProxy, type FaultProxyOptions, type ProxyCounters } from "./proxy.js";

/** What the parent asks for (argv[2], JSON). */
export interface ChaosServerArgs {
  /** Proxy and server faults on (`false`: a clean server, no proxy — the saturation run). */
  faults: boolean;
  proxy: Omit<FaultProxyOptions, "targetPort">;
  /** Share of reconnect handshakes refused (half 429, half 500). */
  refuseShare: number;
  /** Share of sessions whose messages omit the optional fields. */
  omitShare: number;
  /** Configure acknowledgement delays (ms) drawn per session. */
  configureDelaysMs: readonly number[];
}

/** What the server process reports at the end. */
export interface ChaosServerCounters {
  sessions: number;
  refused: { 429: number; 500: number };
  omitOptionalFields: number;
  delayedAcks: number;
  turns: number;
  endReasons: Record<string, number>;
  proxy: ProxyCounters | undefined;
}

const args = JSON.parse(process.argv[2] ?? "{}") as ChaosServerArgs;
let steady = false;
let calm = !args.faults;
const counters: ChaosServerCounters = {
  sessions: 0,
  refused: { 429: 0, 500: 0 },
  omitOptionalFields: 0,
  delayedAcks: 0,
  turns: 0,
  endReasons: {},
  proxy: undefined,
};

const pick = <T>(values: readonly T[]): T | undefined =>
  values[Math.floor(Math.random() * values.length)];

const server = await startFluxServer({
  ...BENCH_SCRIPTED_ENGINE,
  maxSessions: 10_000,
  sessionPlan: () => {
    if (calm) return undefined;
    if (steady && Math.random() < args.refuseShare) {
      const status = Math.random() < 0.5 ? 429 : 500;
      counters.refused[status] += 1;
      return { faults: { refuseHandshake: { status } } };
    }
    const faults: FaultPlan = {};
    if (Math.random() < args.omitShare) {
      faults.omitOptionalFields = true;
      counters.omitOptionalFields += 1;
    }
    const delay = pick(args.configureDelaysMs) ?? 0;
    if (delay > 0) {
      faults.configureDelayMs = delay;
      counters.delayedAcks += 1;
    }
    return { faults };
  },
});
server.events.on("sessionEnded", (_session, end) => {
  const key = `${end.reason} (${end.code})`;
  counters.endReasons[key] = (counters.endReasons[key] ?? 0) + 1;
});

const proxy = args.faults
  ? await FaultProxy.start({ ...args.proxy, targetPort: Number(new URL(server.url).port) })
  : undefined;

process.on("message", (message: { type: string }) => {
  switch (message.type) {
    case "steady":
      steady = true;
      break;
    case "blip":
      proxy?.blip();
      break;
    case "calm":
      calm = true;
      proxy?.calm();
      break;
    case "stop":
      void (async () => {
        await proxy?.close();
        const totals = server.counters();
        await server.close();
        counters.sessions = totals.sessions;
        counters.turns = totals.turns;
        counters.proxy = proxy?.counters;
        process.send?.({ type: "counters", counters }, () => process.exit(0));
      })();
      break;
  }
});
process.send?.({ type: "ready", serverUrl: server.url, proxyUrl: proxy?.url ?? server.url });
