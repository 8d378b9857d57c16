/**
 * `pnpm bench:local-capacity` — how many concurrent real-time streams the `local` engine
 * serves on this machine. For each level (default 4, 8, 12, 16) a fresh `voxpipe flux-server
 * --engine local` process serves, and `voxpipe stress file ws://…` (another process) plays the
 * LibriVox conversation (real speech, 3 turns) into N connections at real-time pace; per level:
 *
 * - **processing delay** (the figure issue 16's capacity target applies to: p90 ≤ 500 ms at
 *   ≥ 10 streams): wall time from sending the audio up to the point `EndOfTurn` describes
 *   (its `audio_window_end`) to receiving the `EndOfTurn` — what load adds. Near zero while the
 *   server keeps up; it grows without bound once it falls behind real time. The issue's "4 streams
 *   keep up; at 8, EndOfTurn arrives 0.6 s (p50) to 1 s (p90) of wall time after the audio"
 *   describes this delay.
 * - **EOT wall**: wall time from sending the audio holding the turn's last word to receiving
 *   `EndOfTurn` (the stress client's own figure) — it includes the turn-end policy's wait
 *   for silence, which is audio time (`EOT audio`: ≈ 950 ms p90 on this file even with one
 *   stream), so it cannot show capacity; printed for comparison.
 * - **fairness**: how many streams fell behind (a processing delay over 500 ms on any of their
 *   turns) and the spread of the per-stream median processing delay (min–max);
 * - **degradation**: `Warning`s received (`ENGINE_BEHIND_AUDIO`), `Update`s received and the
 *   `Update`s the server thinned (not sent while behind real time); turns ended of those played;
 *   and audio decoded / audio sent (seconds, all streams: nothing may be dropped);
 * - **CPU seconds per audio second per stream** (CPU time, not wall): the pocketsphinx decoders
 *   (incl. their settle copies; from the server's "local engine stream closed" log lines), the
 *   server's Node process (Flux sessions, VAD) and, apart, the load-generating clients' process.
 *
 * Wall-clock figures depend on what else the machine runs: the load average before and after
 * each level is printed; measure on a quiet machine.
 *
 * Options: --levels 4,8,12,16  --file <wav>  --duration <s> (loop the file for this long;
 * default: play it once)  --stagger (with --duration: connection i of N starts (i − 1)/N of
 * the way into the file, so the turns of different connections end at different moments, as
 * in independent calls; without it every connection plays the file in lockstep and all N turns
 * end in the same 80 ms — the worst case, where N settles and final passes queue at once)
 * --engine-options '<JSON>' (the `local` engine's options, passed to each level's server as
 * `voxpipe flux-server --engine-options`, e.g. `'{"search":"fast"}'`; printed in the header)
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { StressReport } from "@voxpipe/cli/stress";
import { startChild, stopChild, VOXPIPE_BIN } from "../child-process.js";
import { ensureFixtures } from "../fixtures/make-fixtures.js";

/** Issue 16: EndOfTurn processing delay p90 at most this, at ≥ {@link TARGET_STREAMS} streams. */
const TARGET_P90_MS = 500;
const TARGET_STREAMS = 10;
/** A stream "fell behind" when any of its EndOfTurns came this much later than its audio. */
const BEHIND_MS = 500;

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values } = parseArgs({
  options: {
    levels: { type: "string", default: "4,8,12,16" },
    file: { type: "string" },
    duration: { type: "string" },
    stagger: { type: "boolean", default: false },
    "engine-options": { type: "string" },
  },
});
const levels = values.levels.split(",").map(Number);
for (const n of levels)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--levels: ${n} is not a positive integer`);
if (values.duration !== undefined && !(Number(values.duration) > 0))
  throw new Error(`--duration: ${values.duration} is not a number of seconds > 0`);
if (values.stagger && values.duration === undefined)
  throw new Error("--stagger needs --duration: staggered connections loop the file");
// Checked by the server it is passed to (`voxpipe flux-server --engine-options`): a bad value
// stops the first level with the server's error.
const engineOptions = values["engine-options"];
const file =
  values.file ?? (await ensureFixtures()).find((f) => f.name === "librivox_conversation")!.path;

/** What the server logged about its sessions (pino JSON lines on the stress run's stderr). */
interface ServerFigures {
  updatesSkipped: number;
  decoderCpuSeconds: number;
  decoderAudioSeconds: number;
  settles: number;
  behindWarnings: number;
}

function serverFigures(stderr: string): ServerFigures {
  const f: ServerFigures = {
    updatesSkipped: 0,
    decoderCpuSeconds: 0,
    decoderAudioSeconds: 0,
    settles: 0,
    behindWarnings: 0,
  };
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const num = (k: string): number => (typeof entry[k] === "number" ? entry[k] : 0);
    if (entry.msg === "session closed") f.updatesSkipped += num("updatesSkipped");
    else if (entry.msg === "engine behind real time") f.behindWarnings += 1;
    else if (entry.msg === "local engine stream closed") {
      f.decoderCpuSeconds += num("decoderCpuSeconds");
      f.decoderAudioSeconds += num("audioSeconds");
      f.settles += num("settles");
    }
  }
  return f;
}

/** User + system CPU seconds of process `pid` so far (/proc/<pid>/stat utime, stime). */
const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // fields 14 and 15 of stat
}

/** `voxpipe stress file <url>` with `connections` connections; its JSON report. */
function stress(url: string, connections: number): Promise<StressReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--conditions=@voxpipe/source",
        VOXPIPE_BIN,
        "stress",
        "file",
        url,
        "--file",
        file,
        "--connections",
        String(connections),
        "--eot-threshold",
        "0.7",
        "--eager-eot-threshold",
        "0.4",
        ...(values.duration !== undefined ? ["--loop", "--duration", values.duration] : []),
        ...(values.stagger ? ["--stagger"] : []),
        "--json",
      ],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DEEPGRAM_API_KEY: "" },
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      try {
        resolve(JSON.parse(out) as StressReport);
      } catch {
        const tail = err.trim().split("\n").slice(-3).join("\n");
        reject(
          new Error(`voxpipe stress exited with ${String(code)} without a JSON report:\n${tail}`),
        );
      }
    });
  });
}

/** One level: a fresh local Flux server process, `connections` streams into it. */
async function level(connections: number): Promise<{
  report: StressReport;
  server: ServerFigures;
  serverCpuSeconds: number;
}> {
  const server = await startChild(
    [
      VOXPIPE_BIN,
      "flux-server",
      "--port",
      "0",
      "--engine",
      "local",
      ...(engineOptions !== undefined ? ["--engine-options", engineOptions] : []),
      "--log-level",
      "info",
    ],
    /listening on (ws:\/\/\S+\/v2\/listen)/,
  );
  try {
    const pid = server.child.pid!;
    const from = server.output().length; // the model load's logs and CPU are not the level's
    const cpu0 = processCpuSeconds(pid);
    const report = await stress(server.match[1], connections);
    const serverCpuSeconds = processCpuSeconds(pid) - cpu0;
    await stopChild(server.child); // sessions log their decoder's cost as they close
    return { report, server: serverFigures(server.output().slice(from)), serverCpuSeconds };
  } finally {
    await stopChild(server.child);
  }
}

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
const ms = (x: number | undefined, width: number): string =>
  (x === undefined || !Number.isFinite(x) ? "—" : `${Math.round(x)}`).padStart(width);

console.log(
  `local engine capacity: ${file.split("/").pop()} at real-time pace into N connections (eot 0.7, eager 0.4), ${values.stagger ? "staggered: connection i of N starts (i − 1)/N of the way into the file" : "in lockstep: every connection's turns end at the same moment"}`,
);
console.log(
  `engine options: ${engineOptions ?? "{} (the local engine's defaults)"} — each level's server: voxpipe flux-server --engine local${engineOptions !== undefined ? ` --engine-options '${engineOptions}'` : ""}`,
);
console.log(
  `target (issue 16): ≥ ${TARGET_STREAMS} streams with EndOfTurn processing delay p90 ≤ ${TARGET_P90_MS} ms — the "processing" columns`,
);
console.log(
  "(processing = its audio sent → EndOfTurn received; EOT wall = last word's audio sent → EndOfTurn received, incl. the turn-end policy's audio-time wait)",
);
console.log("shared machine: wall-clock figures move with other work — see the load average\n");
console.log(
  [
    "streams",
    "turns",
    "processing p50",
    "p90",
    "max",
    "EOT wall p50",
    "p90",
    "EOT audio p50",
    "p90",
    "behind",
    "stream p50 min–max",
    "Warnings",
    "Updates (thinned)",
    "audio decoded/sent s",
    "CPU s/audio s: decoder",
    "server",
    "clients",
    "errors",
    "load before → after",
  ].join("  "),
);
let met: number | undefined;
for (const n of levels) {
  const before = load();
  const { report, server, serverCpuSeconds } = await level(n);
  const a = report.aggregate;
  const errors = Object.values(a.errors).reduce((s, x) => s + x, 0);
  const warnings = Object.values(a.warnings).reduce((s, x) => s + x, 0);
  const perStream = report.perConnection.map((c) => c.eotProcessingDelayMs);
  const behind = perStream.filter((p) => p.count === 0 || p.max > BEHIND_MS).length;
  const medians = perStream.filter((p) => p.count > 0).map((p) => p.p50);
  const audio = a.audioSeconds;
  const clients = (report.client.cpuUserMs + report.client.cpuSystemMs) / 1000;
  const p = a.eotProcessingDelayMs;
  const expectedTurns = report.perConnection.length * 3;
  if (n >= TARGET_STREAMS && p.count > 0 && p.p90 <= TARGET_P90_MS && behind === 0) met = n;
  console.log(
    [
      String(n).padStart(7),
      `${a.turns}/${values.duration === undefined ? expectedTurns : "?"}`.padStart(6),
      ms(p.count ? p.p50 : undefined, 14),
      ms(p.count ? p.p90 : undefined, 4),
      ms(p.count ? p.max : undefined, 5),
      ms(a.eotLatencyWallMs.count ? a.eotLatencyWallMs.p50 : undefined, 12),
      ms(a.eotLatencyWallMs.count ? a.eotLatencyWallMs.p90 : undefined, 5),
      ms(a.eotLatencyAudioMs.count ? a.eotLatencyAudioMs.p50 : undefined, 13),
      ms(a.eotLatencyAudioMs.count ? a.eotLatencyAudioMs.p90 : undefined, 4),
      `${behind}/${n}`.padStart(6),
      (medians.length
        ? `${Math.round(Math.min(...medians))}–${Math.round(Math.max(...medians))} ms`
        : "—"
      ).padStart(18),
      String(warnings).padStart(8),
      `${a.events.Update} (${server.updatesSkipped})`.padStart(17),
      `${server.decoderAudioSeconds.toFixed(1)}/${audio.toFixed(1)}`.padStart(20),
      (server.decoderAudioSeconds > 0
        ? (server.decoderCpuSeconds / server.decoderAudioSeconds).toFixed(3)
        : "—"
      ).padStart(22),
      (audio > 0 ? (serverCpuSeconds / audio).toFixed(3) : "—").padStart(6),
      (audio > 0 ? (clients / audio).toFixed(3) : "—").padStart(7),
      String(errors).padStart(6),
      `  ${before} → ${load()}`,
    ].join("  "),
  );
}
console.log(
  met !== undefined
    ? `\ntarget met: ${met} streams with processing delay p90 ≤ ${TARGET_P90_MS} ms and no stream behind`
    : `\ntarget not met at any level ≥ ${TARGET_STREAMS} streams (on this run's machine load)`,
);
