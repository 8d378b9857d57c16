/**
 * `pnpm bench:chaos` — chaos soak of the Flux client (issue 10): N real `FluxClient`s, each
 * streaming a labelled fixture WAV (`espeak_three_turns`, looped in whole passes) at
 * real-time pace, against the local Flux server (scripted engine) in its own process, through
 * a fault-injecting TCP proxy (`chaos/proxy.ts`: drops, short and long stalls) with
 * server-side faults (`chaos/server.ts`: 429/500 refusals of reconnects, messages without
 * optional fields, delayed Configure acknowledgements); each session also changes a live
 * setting now and then. Prints one table: turns spoken vs ended, duplicates, reconnects, time
 * to recover, client RSS over the run.
 *
 * Every `--blip-every` seconds the proxy drops every connection at once (a load balancer
 * restarting): the sessions must all come back, admitted a few at a time by the client
 * (`reconnect.maxConcurrentReconnects`); the table shows the peak of reconnect handshakes in
 * flight, and the recovery after blips apart from that after isolated faults.
 *
 * `--saturate`: no faults and no proxy; every core busy with a CPU burner process, 500
 * sessions at default client settings. Reports spurious reconnects (any reconnect is one),
 * what each replayed (bounded by the client's `replayBufferSeconds`), and how many
 * reconnected at once.
 *
 * Options: --sessions N (100; 500 with --saturate)  --duration S (300)  --fault-interval S
 * (mean seconds between proxy faults on one connection, 30)  --blip-every S (60; 0 = none)
 * --json. Exits 1 when turns spoken and ended differ, a turn was duplicated or a session failed.
 *
 * Run with `--expose-gc` (the package script does) so RSS is sampled after a GC.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LatencyRecorder, type LatencySummary } from "@voxpipe/cli/stress";
import { readWav } from "@voxpipe/core";
import { sdkCarrier, type Carrier } from "@voxpipe/deepgram";
import { ensureFixtures } from "../fixtures/make-fixtures.js";
import type { ChaosServerArgs, ChaosServerCounters } from "./chaos/server.js";
import { ChaosSession, type PassAudio } from "./chaos/session.js";
import { FramePacer } from "./stress/pacer.js";

// Connection logs at info would drown the table (and cost CPU at 500 sessions).
process.env.VOXPIPE_LOG_LEVEL ??= "error";

const { values } = parseArgs({
  options: {
    sessions: { type: "string" },
    duration: { type: "string", default: "300" },
    "fault-interval": { type: "string", default: "30" },
    "blip-every": { type: "string", default: "60" },
    saturate: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const SATURATE = values.saturate;
const SESSIONS = positiveInt(values.sessions ?? (SATURATE ? "500" : "100"), "--sessions");
const DURATION_S = positiveNumber(values.duration, "--duration");
const FAULT_INTERVAL_S = positiveNumber(values["fault-interval"], "--fault-interval");
const BLIP_EVERY_S =
  SATURATE || values["blip-every"] === "0"
    ? 0
    : positiveNumber(values["blip-every"], "--blip-every");

function positiveInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usage(`${name} must be a positive integer, got ${text}`);
  return n;
}
function positiveNumber(text: string, name: string): number {
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0)) usage(`${name} must be a positive number, got ${text}`);
  return n;
}
function usage(message: string): never {
  process.stderr.write(`bench:chaos: ${message}\n`);
  process.exit(2);
}

const FIXTURE = "espeak_three_turns";
const FRAME_MS = 20;
const RATE = 16000;
/** Sessions start this far apart, so their turns (and reconnects) do not line up. */
const RAMP_STEP_MS = 20;
/** Live setting changes: one every this many seconds per session, on average. */
const CONFIGURE_EVERY_S = 20;
/** Client RSS sampling period, ms. */
const RSS_SAMPLE_MS = 5000;
/** The client's stall timeout (default), to size the proxy's stalls around it. */
const STALL_TIMEOUT_MS = 5000;
/** The client's replay cap (`replayBufferSeconds`, default): no reconnect replays more. */
const REPLAY_CAP_S = 30;
/** The client's reconnect admission (`reconnect.maxConcurrentReconnects`, default). */
const RECONNECT_SLOTS = 16;
/** A loss this soon after a blip was caused by it, ms. */
const BLIP_WINDOW_MS = 1000;

const children: ChildProcess[] = [];
const killChildren = (): void => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
};
process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });

// ------------------------------------------------------------------ audio

async function passAudio(): Promise<PassAudio> {
  const file = (await ensureFixtures()).find((f) => f.name === FIXTURE);
  if (file === undefined) throw new Error(`fixture ${FIXTURE} not found (pnpm fixtures)`);
  const wav = await readWav(file.path);
  if (wav.sampleRate !== RATE || wav.numChannels !== 1)
    throw new Error(
      `${file.path}: expected 16 kHz mono, got ${wav.sampleRate} Hz × ${wav.numChannels}`,
    );
  const bytes = (RATE * FRAME_MS * 2) / 1000;
  const frames: Uint8Array[] = [];
  for (let at = 0; at + bytes <= wav.audio.byteLength; at += bytes)
    frames.push(wav.audio.subarray(at, at + bytes));
  return { frames, frameMs: FRAME_MS, turns: file.turns.map(({ start, end }) => ({ start, end })) };
}

// ------------------------------------------------------------------ processes

interface ServerHandle {
  url: string;
  send(type: "steady" | "blip" | "calm"): void;
  stop(): Promise<ChaosServerCounters>;
}

function startServer(args: ChaosServerArgs): Promise<ServerHandle> {
  const child = fork(
    fileURLToPath(new URL("./chaos/server.ts", import.meta.url)),
    [JSON.stringify(args)],
    {
      execArgv: ["--import", "tsx", "--conditions=@voxpipe/source"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the Flux server process exited (${code})`)));
    child.once("message", (m: { type: string; proxyUrl: string }) => {
      resolve({
        url: m.proxyUrl,
        send: (type) => child.send({ type }),
        stop: () =>
          new Promise((done) => {
            child.on("message", (r: { type: string; counters: ChaosServerCounters }) => {
              if (r.type === "counters") done(r.counters);
            });
            child.send({ type: "stop" });
          }),
      });
    });
  });
}

/** One busy-looping process per core: the machine is saturated for the whole run. */
function startBurners(): number {
  const n = availableParallelism();
  for (let i = 0; i < n; i++)
    children.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  return n;
}

/**
 * The default carrier (`@deepgram/sdk`), counted: how many connection attempts are opening at
 * once (from the attempt to the socket's open) — what reconnect admission bounds.
 */
const handshakes = { inFlight: 0, peak: 0 };
const countedCarrier: Carrier = async (request, handlers) => {
  handshakes.inFlight += 1;
  handshakes.peak = Math.max(handshakes.peak, handshakes.inFlight);
  try {
    return await sdkCarrier(request, handlers);
  } finally {
    handshakes.inFlight -= 1;
  }
};

// ------------------------------------------------------------------ run

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MIB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

const audio = await passAudio();
const passSeconds = (audio.frames.length * FRAME_MS) / 1000;
const server = await startServer({
  faults: !SATURATE,
  proxy: {
    meanFaultIntervalMs: FAULT_INTERVAL_S * 1000,
    weights: { drop: 2, shortStall: 1, longStall: 1 },
    shortStallMs: STALL_TIMEOUT_MS / 2,
    longStallMs: STALL_TIMEOUT_MS * 4,
  },
  refuseShare: 0.3,
  omitShare: 0.3,
  // 7000 ms: beyond the client's 5 s Configure timeout, so the ack arrives late.
  configureDelaysMs: [0, 0, 0, 500, 2000, 7000],
});
const burners = SATURATE ? startBurners() : 0;
process.stderr.write(
  `bench:chaos: ${SESSIONS} sessions × ${DURATION_S} s of ${FIXTURE} (${passSeconds.toFixed(1)} s passes, ${audio.turns.length} turns each)` +
    (SATURATE
      ? `, ${burners} CPU burners, no faults\n`
      : `, a fault every ${FAULT_INTERVAL_S} s per connection on average, a blip every ${BLIP_EVERY_S || "∞"} s\n`),
);

const sessions: ChaosSession[] = [];
const pacer = new FramePacer(FRAME_MS, () => {
  for (const session of sessions) session.pushFrame();
});
pacer.start();
const startedAt = performance.now();
const rssSamples: { t: number; mib: number }[] = [];
const sampleRss = (): void => {
  gc?.();
  rssSamples.push({
    t: (performance.now() - startedAt) / 1000,
    mib: process.memoryUsage.rss() / MIB,
  });
};
for (let i = 0; i < SESSIONS; i++) {
  const session = new ChaosSession(audio, {
    url: server.url,
    settings: { model: "flux-general-en", encoding: "linear16", sampleRate: RATE },
    carrier: countedCarrier,
  });
  sessions.push(session);
  session.start();
  await sleep(RAMP_STEP_MS);
}
// Every session connected once: from now on a new connection is a reconnect.
const rampedAt = performance.now();
while (
  sessions.some((s) => s.client.metrics.audioSecondsSent === 0 && s.figures.fatal === undefined)
) {
  if (performance.now() - rampedAt > 30_000) break;
  await sleep(100);
}
server.send("steady");
handshakes.peak = handshakes.inFlight;

sampleRss();
const rssTimer = setInterval(sampleRss, RSS_SAMPLE_MS);
const blips: number[] = [];
const blipTimer =
  BLIP_EVERY_S > 0
    ? setInterval(() => {
        blips.push(performance.now());
        server.send("blip");
      }, BLIP_EVERY_S * 1000)
    : undefined;
const configureTimer = setInterval(() => {
  for (const session of sessions)
    if (Math.random() < 1 / (CONFIGURE_EVERY_S * 2))
      session.configure(Math.random() < 0.5 ? [] : ["table", "report"]);
}, 500);

while (performance.now() - startedAt < DURATION_S * 1000) await sleep(250);

// Faults stop; every session finishes its pass (every turn it started is spoken in full) and closes.
clearInterval(configureTimer);
clearInterval(blipTimer);
clearInterval(rssTimer);
sampleRss();
server.send("calm");
await Promise.all(sessions.map((s) => s.finish()));
pacer.stop();
const ranSeconds = (performance.now() - startedAt) / 1000;
const serverCounters = await server.stop();
killChildren();

// ------------------------------------------------------------------ report

let spoken = 0;
let ended = 0;
let duplicates = 0;
let missed = 0;
let spurious = 0;
const triggers: Record<string, number> = {};
/** Recovery times by what caused the outage and whether an attempt was refused first (backoff). */
const recovery = {
  isolated: new LatencyRecorder(),
  isolatedRefused: new LatencyRecorder(),
  blip: new LatencyRecorder(),
  blipRefused: new LatencyRecorder(),
};
const replayed: number[] = [];
let unrecovered = 0;
/** Outages as +1/−1 edges in time, for the peak of sessions reconnecting at once. */
const edges: [number, number][] = [];
const merge = (into: Record<string, number>, from: Record<string, number>): void => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};
const lossCauses: Record<string, number> = {};
const failedAttempts: Record<string, number> = {};
const configureFailed: Record<string, number> = {};
let configuresSent = 0;
let configuresConfirmed = 0;
let reconnects = 0;
const fatal: string[] = [];
for (const session of sessions) {
  spurious += session.match().length;
  spoken += session.spoken.length;
  ended += session.ended.length;
  for (const turn of session.spoken) {
    if (turn.ended === 0) missed += 1;
    else duplicates += turn.ended - 1;
  }
  for (const end of session.ended) triggers[end.trigger] = (triggers[end.trigger] ?? 0) + 1;
  for (const outage of session.figures.outages) {
    if (outage.downtimeMs === undefined) {
      unrecovered += 1;
      continue;
    }
    const byBlip = blips.some((t) => outage.lostAt >= t && outage.lostAt - t < BLIP_WINDOW_MS);
    const refused = outage.failedAttempts > 0;
    recovery[
      byBlip ? (refused ? "blipRefused" : "blip") : refused ? "isolatedRefused" : "isolated"
    ].record(outage.downtimeMs);
    replayed.push(outage.replayedSeconds);
    edges.push([outage.lostAt, 1], [outage.lostAt + outage.downtimeMs, -1]);
  }
  merge(lossCauses, session.figures.lossCauses);
  merge(failedAttempts, session.figures.failedAttempts);
  merge(configureFailed, session.figures.configures.failed);
  configuresSent += session.figures.configures.sent;
  configuresConfirmed += session.figures.configures.confirmed;
  reconnects += session.client.metrics.reconnects;
  if (session.figures.fatal)
    fatal.push(`${session.figures.fatal.code}: ${session.figures.fatal.message}`);
}

let reconnectingNow = 0;
let peakReconnecting = 0;
for (const [, delta] of edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
  reconnectingNow += delta;
  peakReconnecting = Math.max(peakReconnecting, reconnectingNow);
}

/** Least-squares slope of RSS over the run, MiB per minute. */
function rssSlope(samples: { t: number; mib: number }[]): number {
  if (samples.length < 2) return NaN;
  const mt = samples.reduce((a, x) => a + x.t, 0) / samples.length;
  const mm = samples.reduce((a, x) => a + x.mib, 0) / samples.length;
  const num = samples.reduce((a, x) => a + (x.t - mt) * (x.mib - mm), 0);
  const den = samples.reduce((a, x) => a + (x.t - mt) ** 2, 0);
  return den === 0 ? NaN : (num / den) * 60;
}

const sortedReplay = [...replayed].sort((a, b) => a - b);
const at = (p: number): number =>
  sortedReplay[Math.min(sortedReplay.length - 1, Math.floor((p / 100) * sortedReplay.length))] ?? 0;
const middle = rssSamples[Math.floor(rssSamples.length / 2)];
const fmt = (o: Record<string, number>): string =>
  Object.keys(o).length === 0
    ? "none"
    : Object.entries(o)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
const percentiles = (s: LatencySummary): string =>
  `${s.p50.toFixed(0)} / ${s.p99.toFixed(0)} / ${s.max.toFixed(0)} ms (n=${s.count})`;

const rows: [string, string][] = [
  [
    "mode",
    SATURATE
      ? `saturated (${burners} CPU burners), no faults`
      : `chaos: a fault every ${FAULT_INTERVAL_S} s per connection (mean), a blip every ${BLIP_EVERY_S || "∞"} s`,
  ],
  [
    "sessions × duration",
    `${SESSIONS} × ${DURATION_S} s (ran ${ranSeconds.toFixed(0)} s: the last passes finish)`,
  ],
  [
    "turns spoken / ended",
    `${spoken} / ${ended}${spoken === ended ? "  (equal)" : "  (NOT EQUAL)"}`,
  ],
  ["duplicates / missed / spurious", `${duplicates} / ${missed} / ${spurious}`],
  ["EndOfTurn triggers", fmt(triggers)],
  ["reconnects", `${reconnects}${SATURATE ? " (all spurious: no faults injected)" : ""}`],
  ["connections lost, by cause", fmt(lossCauses)],
  ["failed reconnect attempts", fmt(failedAttempts)],
  [
    "time to recover p50 / p99 / max (loss → Connected)",
    `${percentiles(recovery.isolated.summary())} (drops, stalls)`,
  ],
  ["  … after refused attempts (backoff)", percentiles(recovery.isolatedRefused.summary())],
  [
    "  … after a blip (all cut at once)",
    `${percentiles(recovery.blip.summary())}, ${blips.length} blips`,
  ],
  ["  … after a blip and refused attempts", percentiles(recovery.blipRefused.summary())],
  ["outages never recovered", `${unrecovered}`],
  [
    "replayed per reconnect p50 / p99 / max",
    `${at(50).toFixed(2)} / ${at(99).toFixed(2)} / ${(sortedReplay.at(-1) ?? 0).toFixed(2)} s (cap: replayBufferSeconds ${REPLAY_CAP_S} s)`,
  ],
  ["sessions reconnecting at once (peak)", `${peakReconnecting}`],
  [
    "reconnect handshakes in flight (peak)",
    `${handshakes.peak} (reconnect.maxConcurrentReconnects ${RECONNECT_SLOTS})`,
  ],
  [
    "configures sent / confirmed / failed",
    `${configuresSent} / ${configuresConfirmed} / ${fmt(configureFailed)}`,
  ],
  [
    "sessions failed (fatal)",
    fatal.length === 0 ? "0" : `${fatal.length}: ${[...new Set(fatal)].slice(0, 3).join("; ")}`,
  ],
  [
    "client RSS start / middle / end",
    `${rssSamples[0]?.mib.toFixed(0)} / ${middle?.mib.toFixed(0)} / ${rssSamples.at(-1)?.mib.toFixed(0)} MiB`,
  ],
  [
    "client RSS slope whole run / second half",
    `${rssSlope(rssSamples).toFixed(2)} / ${rssSlope(rssSamples.slice(Math.floor(rssSamples.length / 2))).toFixed(2)} MiB/min`,
  ],
  [
    "server: sessions / refused / no-optional-fields / delayed acks",
    `${serverCounters.sessions} / 429×${serverCounters.refused[429]} 500×${serverCounters.refused[500]} / ${serverCounters.omitOptionalFields} / ${serverCounters.delayedAcks}`,
  ],
  [
    "proxy: connections / faults",
    serverCounters.proxy
      ? `${serverCounters.proxy.connections} / ${fmt(serverCounters.proxy.faults)}, blip ${serverCounters.proxy.blips}`
      : "no proxy",
  ],
];
if (values.json) {
  process.stdout.write(`${JSON.stringify(Object.fromEntries(rows), null, 2)}\n`);
} else {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}
process.exit(spoken === ended && duplicates === 0 && fatal.length === 0 ? 0 : 1);
