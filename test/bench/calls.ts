/**
 * `pnpm bench:calls [--calls 50,200] [--no-passthrough]`: N simulated Twilio calls against
 * one `voxpipe serve` process.
 *
 * Three processes, so each figure is one process's work:
 * - the Flux server: `@voxpipe/flux-server` with the scripted engine (tone = speech) in its
 *   own process (`./stress/server.ts`);
 * - `voxpipe serve` (measured): echo LLM, the in-process tone TTS (`--tts tone`, a TTS for
 *   load tests whose time to first byte is ~0 and measured), μ-law passthrough unless
 *   `--no-passthrough` (then every call is decoded and resampled to 16 kHz PCM);
 * - this process: the callers (`SimulatedTwilioCall`), each streaming 3 turns of 1.2 s tone
 *   with 3.5 s pauses as 8 kHz μ-law in real time and playing the bot's media; call starts
 *   are spread over one turn period (4.7 s), as calls arrive at a real server.
 *
 * Prints per level: calls answered; serve's CPU while all N calls are live at once (cores, and
 * % of a core per call; CPU is utime+stime from /proc, so it is comparable across machine
 * loads better than wall-clock figures) and over the whole run per minute of call audio; RSS
 * per call (peak minus idle); turns answered (of 3 per call) and turns the Flux server ended;
 * the framework's own delay from EndOfTurn to the first outbound media net of the TTS's time
 * to first byte (p50/p99), the total and the TTS TTFB; the event-loop delay p99 of serve
 * (since it started), of the Flux server, and of this process (above ~20 ms the callers
 * themselves are late and the latency figures are not serve's alone); serve's warnings and
 * errors by message (e.g. Flux reconnects), which explain turns that went unanswered.
 *
 * `CALLS_CPU_PROF=DIR` writes a V8 CPU profile of serve there.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pcmToMulaw } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { SimulatedTwilioCall } from "@voxpipe/transports/testing";
import { startChild, startServe, stopChild } from "../child-process.js";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "50,200" },
    "no-passthrough": { type: "boolean", default: false },
  },
});
const levels = values.calls.split(",").map(Number);
for (const n of levels)
  if (!(Number.isInteger(n) && n > 0))
    throw new Error(`--calls: ${values.calls} is not a comma-separated list of positive integers`);
const passthrough = !values["no-passthrough"];
const CLK_TCK = 100;
const TURNS = 3;
const SPEECH_MS = 1200;
const PAUSE_MS = 3500;
const PERIOD_MS = SPEECH_MS + PAUSE_MS;

/** utime+stime (s) and RSS (bytes) of a process, from /proc. */
function usage(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const rss =
    Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  return { cpu, rss };
}

/** One caller's audio: 0.3 s of silence, then 3 turns of 1.2 s "speech" (tone) and 3.5 s pauses, as μ-law. */
function callAudio(): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(8000 * 0.3 * 2)];
  for (let i = 0; i < TURNS; i++)
    parts.push(tonePcm(300, SPEECH_MS, 8000, 0.3), new Uint8Array((8000 * PAUSE_MS * 2) / 1000));
  const pcm = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((o, p) => (pcm.set(p, o), o + p.byteLength), 0);
  return pcmToMulaw(pcm);
}

interface Stats {
  latency: Record<"framework" | "total" | "ttsTtfb", { count: number; p50: number; p99: number }>;
  eventLoopDelayMs?: { p99: number };
}

async function level(n: number): Promise<Record<string, string>> {
  const flux = await startChild([join(here, "stress/server.ts")], /READY (\S+)/);
  const fluxUrl = flux.match[1];
  const serve = await startServe(
    ["--url", fluxUrl, ...(passthrough ? [] : ["--no-passthrough"])],
    // CALLS_CPU_PROF=DIR: a V8 CPU profile of voxpipe serve (open it in Chrome DevTools).
    {
      nodeArgs: process.env.CALLS_CPU_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.CALLS_CPU_PROF}`]
        : [],
    },
  );
  const port = Number(serve.match[1]);
  const pid = serve.child.pid!;
  try {
    await sleep(1000);
    const idle = usage(pid);
    const audio = callAudio();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const start0 = usage(pid);
    const t0 = performance.now();
    let peakRss = start0.rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, usage(pid).rss)), 250);
    // Calls arrive spread over one turn period, each streams its audio in real time.
    const calls: SimulatedTwilioCall[] = [];
    // The steady state: from the last call's arrival to the first call's last audio, all n
    // calls are live at once.
    let allLive: { cpu: number; at: number } | undefined;
    let firstDone: { cpu: number; at: number } | undefined;
    const runs = Array.from({ length: n }, async (_, i) => {
      await sleep((i * PERIOD_MS) / n);
      const call = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${port}/twilio`);
      calls.push(call);
      if (calls.length === n) allLive = { ...usage(pid), at: performance.now() };
      await call.sendAudio(audio);
      firstDone ??= { ...usage(pid), at: performance.now() };
    });
    await Promise.all(runs);
    await sleep(PAUSE_MS); // the last reply plays out
    // Replies still coming (a pipeline running behind) are waited for, up to 15 s more: a
    // late turn then shows as late, not as lost.
    const answeredTurns = async (): Promise<number> =>
      ((await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as Stats).latency.framework
        .count;
    for (let last = -1, now = await answeredTurns(), t = performance.now(); ;) {
      if (now >= n * TURNS || now === last || performance.now() - t > 15_000) break;
      await sleep(2000);
      [last, now] = [now, await answeredTurns()];
    }
    clearInterval(sampler);
    peakRss = Math.max(peakRss, usage(pid).rss);
    const end = usage(pid);
    const wall = (performance.now() - t0) / 1000;
    lag.disable();
    const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as Stats;
    // serve's warnings and errors (pino JSON lines), most frequent first: reconnects, slow far ends…
    const logged = new Map<string, number>();
    for (const line of serve.output().split("\n")) {
      const msg = /"level":(?:40|50).*?"msg":"([^"]*)"/.exec(line)?.[1];
      if (msg !== undefined) logged.set(msg, (logged.get(msg) ?? 0) + 1);
    }
    const warnings = [...logged].sort((a, b) => b[1] - a[1]);
    const answered = calls.filter((c) => c.media.length > 0).length;
    await Promise.all(calls.map((c) => c.hangUp()));
    // The Flux server's own view: turns it ended, and whether it kept up (its event-loop delay).
    await stopChild(flux.child);
    const fluxCounters = JSON.parse(/COUNTERS (\{.*\})/.exec(flux.output())?.[1] ?? "{}") as {
      turns?: number;
      loopDelayP99Ms?: number;
    };
    const cores =
      allLive !== undefined && firstDone !== undefined && firstDone.at - allLive.at > 1000
        ? (firstDone.cpu - allLive.cpu) / ((firstDone.at - allLive.at) / 1000)
        : (end.cpu - start0.cpu) / wall;
    const audioMinutes = (n * audio.byteLength) / 8000 / 60;
    const { framework, total, ttsTtfb } = stats.latency;
    return {
      calls: String(n),
      μlaw: passthrough ? "passthrough" : "decoded",
      answered: `${answered}/${n}`,
      "serve cores, all live": cores.toFixed(3),
      "CPU %/call": ((cores * 100) / n).toFixed(3),
      "CPU s/call-min": ((end.cpu - start0.cpu) / audioMinutes).toFixed(3),
      "RSS MiB/call": ((peakRss - idle.rss) / n / 2 ** 20).toFixed(2),
      "turns answered": `${framework.count}/${n * TURNS}`,
      "Flux turns": String(fluxCounters.turns ?? "-"),
      "framework p50/p99 ms": `${framework.p50.toFixed(1)}/${framework.p99.toFixed(1)}`,
      "EOT→media p50/p99 ms": `${total.p50.toFixed(1)}/${total.p99.toFixed(1)}`,
      "TTS TTFB p50/p99 ms": `${ttsTtfb.p50.toFixed(1)}/${ttsTtfb.p99.toFixed(1)}`,
      "serve loop p99 ms": stats.eventLoopDelayMs?.p99.toFixed(1) ?? "-",
      "Flux loop p99 ms": fluxCounters.loopDelayP99Ms?.toFixed(1) ?? "-",
      "callers loop p99 ms": (lag.percentile(99) / 1e6).toFixed(1),
      "serve warnings":
        warnings.length === 0 ? "0" : warnings.map(([m, k]) => `${k}× ${m}`).join("; "),
    };
  } finally {
    await stopChild(serve.child);
    await stopChild(flux.child);
  }
}

const rows: Record<string, string>[] = [];
for (const n of levels) rows.push(await level(n));
const cols = Object.keys(rows[0]);
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i])).join(" | ")} |`;
console.log(line(cols));
console.log(line(width.map((w) => "-".repeat(w))));
for (const r of rows) console.log(line(cols.map((c) => r[c])));
