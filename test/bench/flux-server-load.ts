/**
 * Load benchmark for `@voxpipe/flux-server` (`pnpm bench:flux-server`).
 *
 * Runs the server in its own process and opens N concurrent raw-`ws` sessions (default
 * 500) that stream linear16 16 kHz audio at real-time pace in 80 ms chunks (12.5
 * messages/s each): tone (speech for the scripted engine's energy segmentation) and
 * silence, so every session keeps opening and ending turns. Prints the server's CPU and
 * memory per session, and the delay from an event's audio time to its arrival at the
 * client: for a TurnInfo with `audio_window_end` = A, the wall time since the client sent
 * the chunk that completed A.
 *
 * Options: --sessions N (500) --seconds S (30 of steady state) --ramp-ms MS (3000)
 * --server-nice=P (0; e.g. --server-nice=-10 gives the server process a larger CPU share on a machine
 * shared with other work, to measure what the server can do rather than what it was given).
 * The client process shares the machine with the server; its CPU is printed too.
 */
import { fork } from "node:child_process";
import { setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import type { ServerStats } from "./flux-server-load/server-process.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "500" },
    seconds: { type: "string", default: "30" },
    "ramp-ms": { type: "string", default: "3000" },
    "server-nice": { type: "string", default: "0" },
  },
});
const SESSIONS = Number(values.sessions);
const SECONDS = Number(values.seconds);
const RAMP_MS = Number(values["ramp-ms"]);
const SERVER_NICE = Number(values["server-nice"]);
if (!Number.isInteger(SERVER_NICE) || SERVER_NICE < -20 || SERVER_NICE > 19) {
  throw new Error(`--server-nice must be an integer from -20 to 19, got ${values["server-nice"]}`);
}
for (const [name, value] of [
  ["sessions", SESSIONS],
  ["seconds", SECONDS],
  ["ramp-ms", RAMP_MS],
] as const) {
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`--${name} must be a non-negative number, got ${String(value)}`);
}

const RATE = 16000;
const CHUNK_MS = 80;
const CHUNK_BYTES = (RATE * CHUNK_MS * 2) / 1000;
/** One period of the pattern: 1.2 s of speech, 1.8 s of silence (one turn every 3 s). */
const PATTERN = [...Array<boolean>(15).fill(true), ...Array<boolean>(23).fill(false)];
const TONE = Buffer.alloc(CHUNK_BYTES);
for (let i = 0; i < CHUNK_BYTES / 2; i++)
  TONE.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / RATE)), i * 2);
const SILENCE = Buffer.alloc(CHUNK_BYTES);

// --- server process -------------------------------------------------------------------
const child = fork(
  fileURLToPath(new URL("./flux-server-load/server-process.ts", import.meta.url)),
  [],
  {
    execArgv: [
      "--import",
      "tsx",
      "--conditions=@voxpipe/source",
      "--expose-gc",
      ...(process.env.FLUX_LOAD_CPU_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.FLUX_LOAD_CPU_PROF}`]
        : []),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  },
);
const replies: ((message: { type: string; url?: string; stats?: ServerStats }) => void)[] = [];
child.on("message", (message: { type: string; url?: string; stats?: ServerStats }) =>
  replies.shift()?.(message),
);
const ask = (type: string) =>
  new Promise<{ type: string; url?: string; stats?: ServerStats }>((resolve) => {
    replies.push(resolve);
    if (type !== "ready") child.send({ type });
  });
const url = (await ask("ready")).url ?? "";
if (SERVER_NICE !== 0 && child.pid !== undefined) setPriority(child.pid, SERVER_NICE);
const statsNow = async (): Promise<ServerStats> => (await ask("stats")).stats as ServerStats;
await ask("gc");
const baseline = await statsNow();

// --- clients ----------------------------------------------------------------------------
interface Client {
  socket: WebSocket;
  /** performance.now() when chunk i was sent. */
  sentAt: number[];
  startedAt: number;
  sent: number;
  received: number;
  turns: number;
  closed: boolean;
}
const delays: number[] = [];
let failures = 0;
/** Client-side close codes seen, for diagnosis (1005 = the server's close after CloseStream). */
const closeCodes: Record<number, number> = {};
const clients: Client[] = [];
const query = "model=flux-general-en&encoding=linear16&sample_rate=16000";

function open(): Promise<Client | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url}/v2/listen?${query}`, {
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    const client: Client = {
      socket,
      sentAt: [],
      startedAt: 0,
      sent: 0,
      received: 0,
      turns: 0,
      closed: false,
    };
    socket.on("message", (data: Buffer) => {
      const now = performance.now();
      client.received += 1;
      const message = JSON.parse(data.toString()) as {
        type: string;
        event?: string;
        audio_window_end?: number;
      };
      if (message.type !== "TurnInfo" || message.audio_window_end === undefined) return;
      if (message.event === "EndOfTurn") client.turns += 1;
      const chunk = Math.round((message.audio_window_end * 1000) / CHUNK_MS) - 1;
      const sentAt = client.sentAt[chunk];
      if (sentAt !== undefined) delays.push(now - sentAt);
    });
    socket.once("open", () => resolve(client));
    socket.once("error", () => {
      failures += 1;
      resolve(undefined);
    });
    socket.once("close", (code) => {
      client.closed = true;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    });
  });
}

console.log(
  `flux-server load: server nice ${SERVER_NICE}, ${SESSIONS} sessions, ${SECONDS} s steady state, ramp ${RAMP_MS} ms, 80 ms linear16 chunks at real-time pace`,
);
const rampStart = performance.now();
let rampEnd = rampStart;
const opening: Promise<void>[] = [];
for (let i = 0; i < SESSIONS; i++) {
  const at = rampStart + (RAMP_MS * i) / Math.max(1, SESSIONS);
  opening.push(
    new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, at - performance.now()))).then(
      async () => {
        const client = await open();
        if (client === undefined) return;
        client.startedAt = performance.now();
        clients.push(client);
      },
    ),
  );
}

// One pacer for all sessions: each sends every chunk that is due by its own clock (no drift).
let streaming = true;
const pacer = setInterval(() => {
  const now = performance.now();
  for (const client of clients) {
    if (client.closed || client.socket.readyState !== WebSocket.OPEN) continue;
    const due = Math.floor((now - client.startedAt) / CHUNK_MS) + 1;
    while (streaming && client.sent < due) {
      client.sentAt[client.sent] = performance.now();
      client.socket.send(PATTERN[client.sent % PATTERN.length] ? TONE : SILENCE);
      client.sent += 1;
    }
  }
}, 10);

await Promise.all(opening);
rampEnd = performance.now();
await new Promise((r) => setTimeout(r, 1000)); // settle after the ramp
delays.length = 0;
const steadyStart = await statsNow();
const clientCpuSteady = process.cpuUsage();
const steadyWall = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const steadyEnd = await statsNow();
const clientCpuEnd = process.cpuUsage(clientCpuSteady);
const steadyElapsed = performance.now() - steadyWall;
const steadyDelays = Float64Array.from(delays).sort();

streaming = false;
clearInterval(pacer);
await Promise.all(
  clients.map(
    (client) =>
      new Promise<void>((resolve) => {
        if (client.closed) return resolve();
        client.socket.once("close", () => resolve());
        client.socket.send(JSON.stringify({ type: "CloseStream" }));
      }),
  ),
);
const final = await statsNow();
child.send({ type: "stop" });
await new Promise((r) => child.once("exit", r));

// --- report -------------------------------------------------------------------------------
const live = clients.length;
const pct = (p: number) =>
  steadyDelays[Math.min(steadyDelays.length - 1, Math.floor((p / 100) * steadyDelays.length))] ??
  NaN;
const steadyWallMs = steadyEnd.wallMs - steadyStart.wallMs;
const serverCpuMs = (steadyEnd.cpuMicros - steadyStart.cpuMicros) / 1000;
const serverCpu = serverCpuMs / steadyWallMs;
const steadyAudio = steadyEnd.counters.audioSeconds - steadyStart.counters.audioSeconds;
/** CPU per second of audio: independent of how much CPU the (shared) machine gave the server. */
const cpuPerAudioSecond = serverCpuMs / Math.max(1e-9, steadyAudio);
/** 1.0 = the server processed audio as fast as it arrived in real time. */
const keptUp = steadyAudio / ((steadyWallMs / 1000) * Math.max(1, live));
const clientCpu = (clientCpuEnd.user + clientCpuEnd.system) / 1000 / steadyElapsed;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const kb = (bytes: number) => (bytes / 1024).toFixed(0);
const rows: [string, string][] = [
  ["sessions open / failed", `${live} / ${failures} (server saw ${steadyEnd.liveSessions} live)`],
  [
    "server CPU (steady)",
    `${(serverCpu * 100).toFixed(1)} % of one core over ${(steadyWallMs / 1000).toFixed(1)} s`,
  ],
  [
    "server CPU per audio second",
    `${cpuPerAudioSecond.toFixed(3)} ms per session-second => ${((cpuPerAudioSecond * live) / 10).toFixed(1)} % of one core for ${live} real-time sessions`,
  ],
  [
    "audio processed / real time",
    `${(keptUp * 100).toFixed(1)} % (100 % = kept up with ${live} real-time streams)`,
  ],
  [
    "server event-loop delay p50/p99/max",
    `${steadyEnd.loopDelayMs.p50.toFixed(1)} / ${steadyEnd.loopDelayMs.p99.toFixed(1)} / ${steadyEnd.loopDelayMs.max.toFixed(1)} ms`,
  ],
  [
    "server RSS baseline → steady",
    `${mb(baseline.rssBytes)} MB → ${mb(steadyEnd.rssBytes)} MB (${kb((steadyEnd.rssBytes - baseline.rssBytes) / Math.max(1, live))} KB per session)`,
  ],
  [
    "server heap used baseline → steady",
    `${mb(baseline.heapUsedBytes)} MB → ${mb(steadyEnd.heapUsedBytes)} MB (${kb((steadyEnd.heapUsedBytes - baseline.heapUsedBytes) / Math.max(1, live))} KB per session)`,
  ],
  ["client process CPU (same machine)", `${(clientCpu * 100).toFixed(1)} % of one core`],
  [
    "audio received by the server",
    `${final.counters.audioSeconds.toFixed(0)} s (${(final.counters.audioSeconds / Math.max(1, live)).toFixed(1)} s per session)`,
  ],
  ["messages sent / turns ended", `${final.counters.messagesSent} / ${final.counters.turns}`],
  ["ramp (all sessions open) took", `${((rampEnd - rampStart) / 1000).toFixed(1)} s`],
  ["client close codes", JSON.stringify(closeCodes)],
  ["server session end reasons", JSON.stringify(final.endReasons)],
  ["event delay samples (steady)", `${steadyDelays.length}`],
  [
    "event delay p50 / p90 / p99 / max",
    `${pct(50).toFixed(1)} / ${pct(90).toFixed(1)} / ${pct(99).toFixed(1)} / ${(steadyDelays.at(-1) ?? NaN).toFixed(1)} ms`,
  ],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
process.exit(failures > 0 && live === 0 ? 1 : 0);
