/**
 * `pnpm bench:calls [--calls 50,200] [--seconds 12]`: N simulated Twilio calls against one
 * `voxpipe serve` process (its own process; Flux = a local server with the scripted engine in
 * this bench process; echo LLM; espeak-ng TTS; μ-law passthrough). Each caller streams tone
 * bursts (the scripted engine's speech) as 8 kHz μ-law at real-time pace and plays the bot's
 * media. Prints, per level: voxpipe serve's CPU (cores, and % of a core per call — its own
 * process; espeak-ng subprocesses are not counted), RSS per call, and the framework's own
 * delay from EndOfTurn to the first outbound media (minus the TTS's time to first byte), p50/p99.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pcmToMulaw } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { startFluxServer } from "@voxpipe/flux-server";
import { SimulatedTwilioCall } from "@voxpipe/transports/testing";
import { BENCH_SCRIPTED_ENGINE } from "./bench-engine.js";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "50,200" },
    seconds: { type: "string", default: "12" },
  },
});
const levels = values.calls.split(",").map(Number);
const seconds = Number(values.seconds);
const CLK_TCK = 100;

/** utime+stime (s) and RSS (bytes) of a process, from /proc. */
function usage(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const rss =
    Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  return { cpu, rss };
}

/** One caller's audio: 3 turns of 1.2 s "speech" (tone) and 1.8 s pauses, as μ-law. */
function callAudio(): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(8000 * 0.3 * 2)];
  for (let i = 0; i < 3; i++)
    parts.push(tonePcm(300, 1200, 8000, 0.3), new Uint8Array(8000 * 1.8 * 2));
  const pcm = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((o, p) => (pcm.set(p, o), o + p.byteLength), 0);
  return pcmToMulaw(pcm);
}

async function level(n: number): Promise<Record<string, string>> {
  const flux = await startFluxServer({ port: 0, ...BENCH_SCRIPTED_ENGINE });
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--conditions=@voxpipe/source",
      join(here, "../../packages/cli/src/bin.ts"),
      "serve",
      "--port",
      "0",
      "--url",
      flux.url,
      "--llm",
      "echo",
      "--tts",
      "espeak",
      "--log-level",
      "error",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DEEPGRAM_API_KEY: "" } },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  let port = 0;
  for (const t0 = Date.now(); port === 0;) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (m) port = Number(m[1]);
    else if (Date.now() - t0 > 60_000) throw new Error(`voxpipe serve did not start:\n${out}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  await new Promise((r) => setTimeout(r, 1000));
  const idle = usage(pid);
  const audio = callAudio();
  const calls: SimulatedTwilioCall[] = [];
  for (let i = 0; i < n; i++) {
    calls.push(await SimulatedTwilioCall.connect(`ws://127.0.0.1:${port}/twilio`));
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 50)); // ramp
  }
  const start = usage(pid);
  const t0 = performance.now();
  const streams = calls.map((c) => c.sendAudio(audio));
  let peakRss = start.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, usage(pid).rss)), 500);
  await Promise.all(streams);
  await new Promise((r) => setTimeout(r, Math.max(0, seconds * 1000 - (performance.now() - t0))));
  clearInterval(sampler);
  const end = usage(pid);
  const wall = (performance.now() - t0) / 1000;
  const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as {
    latency: Record<"framework" | "total" | "ttsTtfb", { count: number; p50: number; p99: number }>;
  };
  const answered = calls.filter((c) => c.media.length > 0).length;
  await Promise.all(calls.map((c) => c.hangUp()));
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await flux.close();
  const cores = (end.cpu - start.cpu) / wall;
  const { framework, total, ttsTtfb } = stats.latency;
  return {
    calls: String(n),
    answered: `${answered}/${n}`,
    "serve cores": cores.toFixed(3),
    "CPU %/call": ((cores * 100) / n).toFixed(3),
    "RSS MiB/call": ((peakRss - idle.rss) / n / 2 ** 20).toFixed(3),
    "turns answered": String(framework.count),
    "framework p50 ms": framework.p50.toFixed(2),
    "framework p99 ms": framework.p99.toFixed(2),
    "EOT→media p50/p99 ms": `${total.p50.toFixed(1)}/${total.p99.toFixed(1)}`,
    "TTS TTFB p50/p99 ms": `${ttsTtfb.p50.toFixed(1)}/${ttsTtfb.p99.toFixed(1)}`,
  };
}

const rows: Record<string, string>[] = [];
for (const n of levels) rows.push(await level(n));
const cols = Object.keys(rows[0]);
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i])).join(" | ")} |`;
console.log(line(cols));
console.log(line(width.map((w) => "-".repeat(w))));
for (const r of rows) console.log(line(cols.map((c) => r[c])));
