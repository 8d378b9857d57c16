/**
 * `pnpm bench:flux-client` — figures for the Flux connection layer (issue #5 targets):
 *
 * 1. **Resume after a drop**: a local Flux server drops the TCP connection (no close
 *    frame) in the middle of a turn; we measure wall time from the drop to the client
 *    being ready again (new `Connected`, unconfirmed audio replayed). Target ≤ 1 s when
 *    the server is reachable.
 * 2. **Delivery delay under load**: N (default 200) `DeepgramFluxSTTService`s in this
 *    process, each in its own `PipelineTask`, stream synthetic speech at real-time pace to
 *    a server running in a **child process**. For every turn frame we measure the wall time
 *    from the Flux message reaching the client (the carrier's message callback) to the
 *    frame leaving the service (arriving at the next processor). Target p99 ≤ 2 ms.
 *
 * Options: `--services N` (200), `--seconds S` of audio per service (20), `--drops D` (20).
 * The audio is synthetic (tone = speech for the scripted engine), by design.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  FrameProcessor,
  InputAudioRawFrame,
  Pipeline,
  PipelineTask,
  isTurnFrame,
  type Frame,
  type FrameDirection,
} from "@voxpipe/core";
import { startFluxServer } from "@voxpipe/flux-server";
import { silence, tone } from "@voxpipe/flux-server/testing";
import { DeepgramFluxSTTService, FluxClient, sdkCarrier, type Carrier } from "@voxpipe/deepgram";

// Connection logs at info would drown the figures.
process.env.VOXPIPE_LOG_LEVEL ??= "warn";

const RATE = 16000;
const FRAME_MS = 20;
const TRANSCRIPTS = [
  "Hello there.",
  "I would like to book a table for two.",
  "Thank you, goodbye.",
];

// ---------------------------------------------------------------------------- child: server

async function serveForParent(): Promise<void> {
  const server = await startFluxServer({
    engine: "scripted",
    engineOptions: { transcripts: TRANSCRIPTS },
  });
  process.send?.({ url: server.url });
  process.on("message", (m) => {
    if (m === "stop") void server.close().then(() => process.exit(0));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      services: { type: "string", default: "200" },
      seconds: { type: "string", default: "20" },
      drops: { type: "string", default: "20" },
    },
  });
  const services = positiveInt(values.services, "--services");
  const seconds = positiveInt(values.seconds, "--seconds");
  const drops = positiveInt(values.drops, "--drops");
  console.log(`flux-client bench — node ${process.version}, ${new Date().toISOString()}`);
  await resumeAfterDrop(drops);
  await deliveryUnderLoad(services, seconds);
}

function positiveInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${name}=${text}: expected a positive integer`);
    process.exit(2);
  }
  return n;
}

/** At least `totalSeconds` of utterances (1.2 s speech, 1.5 s pause) as PCM s16le, and how many. */
function conversation(totalSeconds: number): { audio: Buffer; turns: number } {
  const parts: Buffer[] = [silence(300, RATE)];
  let ms = 300;
  let turns = 0;
  while (ms < totalSeconds * 1000) {
    parts.push(tone(1200, RATE), silence(1500, RATE));
    ms += 2700;
    turns++;
  }
  return { audio: Buffer.concat(parts), turns };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(values: number[], unit: string, digits = 3): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (v: number): string => `${v.toFixed(digits)} ${unit}`;
  return `n=${s.length} p50=${f(percentile(s, 50))} p90=${f(percentile(s, 90))} p99=${f(percentile(s, 99))} max=${f(s.at(-1) ?? NaN)}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------- 1. resume after a drop

async function resumeAfterDrop(drops: number): Promise<void> {
  const dropAt = 0.3 + 1.2 + 1.5 + 0.6; // in the middle of the second utterance
  const dropTimes: number[] = [];
  const server = await startFluxServer({
    engine: "scripted",
    engineOptions: { transcripts: TRANSCRIPTS },
    sessionPlan: (info) =>
      info.index % 2 === 0 ? { faults: { drop: { afterAudioSeconds: dropAt } } } : undefined,
  });
  server.events.on("sessionEnded", (_session, end) => {
    if (end.reason === "fault-drop") dropTimes.push(performance.now());
  });
  const resume: number[] = [];
  const lost: number[] = [];
  const { audio, turns } = conversation(6);
  for (let i = 0; i < drops; i++) {
    const client = new FluxClient({
      settings: { model: "flux-general-en", encoding: "linear16", sampleRate: RATE },
      url: server.url,
    });
    let finals = 0;
    const resumed = new Promise<number>((resolve) => {
      client.events$.subscribe((e) => {
        if (e.type === "Connected" && e.connection === 2) resolve(performance.now());
        if (e.type === "EndOfTurn") finals++;
      });
    });
    await client.start();
    // Real-time pace, so the drop lands while audio is flowing as in production.
    const frame = (RATE * 2 * FRAME_MS) / 1000;
    for (let off = 0; off < audio.length; off += frame) {
      client.sendAudio(audio.subarray(off, off + frame));
      await sleep(FRAME_MS);
    }
    const readyAt = await resumed;
    const droppedAt = dropTimes[i] ?? NaN;
    resume.push(readyAt - droppedAt);
    await sleep(300);
    await client.close();
    lost.push(turns - finals);
  }
  await server.close();
  console.log("\n1. resume after a dropped connection (server reachable, in-process)");
  console.log(`   drop → ready (new Connected + replay sent): ${summary(resume, "ms", 1)}`);
  console.log(
    `   turns lost or duplicated across ${drops} drops: ${lost.filter((n) => n !== 0).length}`,
  );
  console.log(`   target ≤ 1000 ms: ${Math.max(...resume) <= 1000 ? "met" : "NOT met"}`);
}

// ---------------------------------------------------------------------------- 2. delivery delay under load

/** Records the time each Flux message reaches the client, per service. */
function timedCarrier(inner: Carrier, clock: { arrival: number; inMessage: boolean }): Carrier {
  return (request, handlers) =>
    inner(request, {
      onMessage: (message) => {
        clock.arrival = performance.now();
        clock.inMessage = true;
        try {
          handlers.onMessage(message);
        } finally {
          clock.inMessage = false;
        }
      },
      onClose: (close) => handlers.onClose(close),
    });
}

/** The processor after the service: measures message arrival → frame arrival here. */
class DelaySink extends FrameProcessor {
  constructor(
    private readonly arrivals: { arrival: number; inMessage: boolean },
    private readonly delays: number[],
    private readonly late: { count: number },
  ) {
    super({ name: "DelaySink" });
  }
  override process(frame: Frame, direction: FrameDirection): void {
    if (direction === "downstream" && isTurnFrame(frame)) {
      if (this.arrivals.inMessage) this.delays.push(performance.now() - this.arrivals.arrival);
      else this.late.count++;
    }
    if (!(frame instanceof InputAudioRawFrame)) this.push(frame, direction);
  }
}

async function deliveryUnderLoad(count: number, seconds: number): Promise<void> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--server"], {
    execArgv: process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m) => resolve((m as { url: string }).url));
    child.once("exit", (code) => reject(new Error(`server child exited with ${String(code)}`)));
  });
  const delays: number[] = [];
  const late = { count: 0 };
  const ended = { model: 0, synthetic: 0 };
  const tasks: { task: PipelineTask; run: Promise<unknown>; stt: DeepgramFluxSTTService }[] = [];
  for (let i = 0; i < count; i++) {
    const clock = { arrival: 0, inMessage: false };
    const stt = new DeepgramFluxSTTService({
      url,
      settings: { sampleRate: RATE },
      carrier: timedCarrier(sdkCarrier, clock),
    });
    stt.on("endOfTurn", (e) => (e.synthetic ? ended.synthetic++ : ended.model++));
    const task = new PipelineTask(new Pipeline([stt, new DelaySink(clock, delays, late)]), {
      idleTimeoutMs: null,
      audioInSampleRate: RATE,
    });
    tasks.push({ task, run: task.run(), stt });
  }
  // Wait until every service is connected.
  const deadline = performance.now() + 30_000;
  while (tasks.some((t) => t.stt.flux?.state !== "open") && performance.now() < deadline)
    await sleep(50);
  const connected = tasks.filter((t) => t.stt.flux?.state === "open").length;

  // One timer feeds every service a 20 ms frame per tick, at real-time pace (drift-corrected).
  const { audio, turns: turnsPerService } = conversation(seconds);
  const expected = turnsPerService * count;
  const frameBytes = (RATE * 2 * FRAME_MS) / 1000;
  const totalFrames = Math.floor(audio.length / frameBytes);
  const lags: number[] = [];
  const start = performance.now();
  for (let n = 0; n < totalFrames; n++) {
    const due = start + n * FRAME_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    lags.push(Math.max(0, performance.now() - due));
    const pcm = audio.subarray(n * frameBytes, (n + 1) * frameBytes);
    for (const { task } of tasks)
      task.queueFrame(new InputAudioRawFrame({ audio: pcm, sampleRate: RATE }));
  }
  // Let Flux answer the tail (bounded), then end every pipeline gracefully.
  const tail = performance.now() + 15_000;
  do await sleep(200);
  while (ended.model + ended.synthetic < expected && performance.now() < tail);
  for (const { task } of tasks) task.stopWhenDone();
  await Promise.all(tasks.map((t) => t.run));
  const reconnects = tasks.reduce((sum, t) => sum + (t.stt.flux?.metrics.reconnects ?? 0), 0);
  child.send("stop");
  await new Promise((r) => child.once("exit", r));

  console.log(
    `\n2. ${count} services in one process, real-time streaming (${seconds} s of audio each), server in a child process`,
  );
  console.log(
    `   connected: ${connected}/${count}; turns ended: ${ended.model + ended.synthetic} of ${expected} spoken (${ended.synthetic} closed by voxpipe); reconnects: ${reconnects}`,
  );
  console.log(`   message arrival → frame leaving the service: ${summary(delays, "ms")}`);
  console.log(`   frames not delivered within their message's call stack: ${late.count}`);
  console.log(`   audio pacing timer lag (event-loop load): ${summary(lags, "ms", 1)}`);
  console.log(
    `   target p99 ≤ 2 ms: ${
      percentile(
        [...delays].sort((a, b) => a - b),
        99,
      ) <= 2
        ? "met"
        : "NOT met"
    }`,
  );
}

if (process.argv[2] === "--server") await serveForParent();
else await main();
