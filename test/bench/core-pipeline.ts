/**
 * Core pipeline benchmark (`pnpm bench:core`).
 *
 * 1. Throughput: 20 ms audio frames (OutputAudioRawFrame, 16 kHz mono, 640 bytes)
 *    through chains of 1, 5 and 20 pass-through processors inside a real PipelineTask.
 *    Prints frames/s, ns per frame and per-hop overhead (median over trials).
 *    Per-hop overhead = (time per frame through N hops − time per frame through 0 hops) / N,
 *    so the fixed cost of the task's source and sink is not counted as hop cost.
 * 2. Interruption latency: a 5-processor chain whose last processor is streaming
 *    (async work holding `this.signal`) with 200 frames queued behind it. Measures the
 *    time from handing an InterruptionFrame to the task until (a) the in-flight work's
 *    AbortSignal fired and (b) the queue was flushed. p50/p99 over many runs.
 *
 * Targets (issue #2): ≥ 100,000 frames/s through 5 processors, median per-hop ≤ 2 µs,
 * interruption p99 ≤ 1 ms. Figures depend on the machine and its load.
 */
import {
  FrameProcessor,
  InterruptionFrame,
  OutputAudioRawFrame,
  Pipeline,
  PipelineTask,
  TextFrame,
} from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";

const FRAME_BYTES = 640; // 20 ms at 16 kHz, mono, s16le
const FRAMES_PER_TRIAL = 20_000;
const TRIALS = Number(process.env.BENCH_TRIALS ?? 15);
const INTERRUPT_RUNS = Number(process.env.BENCH_INTERRUPT_RUNS ?? 2000);

/** Counts frames arriving at the end of the chain. */
class Counter extends FrameProcessor {
  count = 0;
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof OutputAudioRawFrame) this.count++;
    this.push(frame, direction);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function startedTask(
  processors: FrameProcessor[],
): Promise<{ task: PipelineTask; done: Promise<unknown> }> {
  const task = new PipelineTask(new Pipeline(processors), { idleTimeoutMs: null });
  const started = new Promise<void>((resolve) => task.on("started", () => resolve()));
  const done = task.run();
  await started;
  return { task, done };
}

/** ns per frame through `hops` pass-through processors (plus the counter), one trial. */
async function trial(hops: number, frames: Frame[], observed = false): Promise<number> {
  const counter = new Counter();
  const chain = Array.from({ length: hops }, () => new FrameProcessor());
  const { task, done } = await startedTask([...chain, counter]);
  let events = 0;
  const subscription = observed
    ? task.frames$.subscribe(() => {
        events++;
      })
    : undefined;
  const t0 = process.hrtime.bigint();
  for (const frame of frames) task.queueFrame(frame);
  const t1 = process.hrtime.bigint();
  if (counter.count !== frames.length)
    throw new Error(`lost frames: ${counter.count}/${frames.length}`);
  task.stopWhenDone();
  await done;
  subscription?.unsubscribe();
  if (observed && events < frames.length * hops)
    throw new Error(`observer missed events: ${events}`);
  return Number(t1 - t0) / frames.length;
}

async function throughput(): Promise<void> {
  const audio = new Uint8Array(FRAME_BYTES);
  const frames = Array.from(
    { length: FRAMES_PER_TRIAL },
    () => new OutputAudioRawFrame({ audio, sampleRate: 16000, numChannels: 1 }),
  );
  // Warm up the JIT on every chain length.
  for (const hops of [0, 1, 5, 20]) for (let i = 0; i < 3; i++) await trial(hops, frames);

  const base: number[] = [];
  const results = new Map<number, number[]>([
    [1, []],
    [5, []],
    [20, []],
  ]);
  for (let t = 0; t < TRIALS; t++) {
    base.push(await trial(0, frames));
    for (const hops of results.keys()) results.get(hops)?.push(await trial(hops, frames));
  }
  const observed: number[] = [];
  for (let t = 0; t < Math.max(3, Math.floor(TRIALS / 3)); t++)
    observed.push(await trial(5, frames, true));
  const baseNs = median(base);
  console.log(
    `\nThroughput: ${FRAMES_PER_TRIAL} × 20 ms audio frames per trial, ${TRIALS} trials (medians)`,
  );
  console.log(`  0 hops (task source + counter + sink only): ${baseNs.toFixed(0)} ns/frame`);
  console.log("  hops | frames/s    | ns/frame | per-hop overhead (median) | per-hop p90");
  for (const [hops, nsList] of results) {
    const ns = median(nsList);
    const perHop = nsList.map((x, i) => (x - base[i]) / hops);
    console.log(
      `  ${String(hops).padStart(4)} | ${Math.round(1e9 / ns)
        .toLocaleString("en-US")
        .padStart(
          11,
        )} | ${ns.toFixed(0).padStart(8)} | ${(median(perHop) / 1000).toFixed(3).padStart(8)} µs` +
        `                 | ${(percentile(perHop, 90) / 1000).toFixed(3)} µs`,
    );
  }
  const obs = median(observed);
  console.log(
    `  5 hops with a frames$ subscriber (every push observed, delivered asynchronously): ` +
      `${Math.round(1e9 / obs).toLocaleString("en-US")} frames/s, ${obs.toFixed(0)} ns/frame`,
  );
}

/** Streams until aborted: the "LLM reply in flight". Records when the abort arrived. */
class Streaming extends FrameProcessor {
  abortedAt = 0;
  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame instanceof TextFrame && frame.text === "go") {
      const signal = this.signal;
      return new Promise<void>((resolve) => {
        signal.addEventListener(
          "abort",
          () => {
            this.abortedAt = performance.now();
            resolve();
          },
          { once: true },
        );
      });
    }
    this.push(frame, direction);
  }
}

async function interruption(): Promise<void> {
  const abortLat: number[] = [];
  const flushLat: number[] = [];
  const cpuLat: number[] = [];
  const streaming = new Streaming();
  const chain = [...Array.from({ length: 4 }, () => new FrameProcessor()), streaming];
  const { task, done } = await startedTask(chain);
  const audio = new Uint8Array(FRAME_BYTES);
  // The same 200 frames are queued in every run (frames are immutable), so the benchmark's
  // own allocations don't trigger garbage collections inside the measured window.
  const queuedFrames = Array.from(
    { length: 200 },
    () => new OutputAudioRawFrame({ audio, sampleRate: 16000 }),
  );
  for (let run = 0; run < INTERRUPT_RUNS + 100; run++) {
    task.queueFrame(new TextFrame({ text: "go" })); // starts the in-flight work
    for (const frame of queuedFrames) task.queueFrame(frame);
    const queued = (): number => streaming.queuedFrames;
    if (queued() !== 200) throw new Error(`expected 200 queued, got ${queued()}`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    task.queueFrame(new InterruptionFrame());
    const flushedAt = queued() === 0 ? performance.now() : Number.NaN;
    const cpu = process.cpuUsage(cpu0);
    if (run >= 100) {
      cpuLat.push(cpu.user + cpu.system);
      abortLat.push((streaming.abortedAt - t0) * 1000);
      flushLat.push((flushedAt - t0) * 1000);
    }
    await new Promise((r) => setImmediate(r)); // let the aborted work settle
  }
  task.stopWhenDone();
  await done;
  console.log(
    `\nInterruption latency (5 processors, streaming work in flight, 200 frames queued; ${INTERRUPT_RUNS} runs)`,
  );
  console.log(
    `  InterruptionFrame → in-flight AbortSignal fired: p50 ${median(abortLat).toFixed(1)} µs, p99 ${percentile(abortLat, 99).toFixed(1)} µs`,
  );
  console.log(
    `  InterruptionFrame → queue flushed:              p50 ${median(flushLat).toFixed(1)} µs, p99 ${percentile(flushLat, 99).toFixed(1)} µs`,
  );
  // Wall time includes being descheduled by the OS on a loaded machine; CPU time does not
  // (but it counts all of the process's threads, V8's GC and compiler threads included).
  console.log(
    `  CPU time of the whole interruption (all 5 hops): p50 ${median(cpuLat).toFixed(0)} µs, p99 ${percentile(cpuLat, 99).toFixed(0)} µs`,
  );
  const load = (await import("node:os")).loadavg()[0] ?? 0;
  console.log(`  (machine load average during the run: ${load.toFixed(1)})`);
}

console.log(
  `voxpipe core pipeline benchmark — Node ${process.version}, ${process.platform}/${process.arch}`,
);
await throughput();
await interruption();
