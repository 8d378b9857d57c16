/**
 * `pnpm bench:local-rtf` — CPU of the `local` engine (pocketsphinx + VAD) per second of
 * audio, one stream at a time, on three files of the labelled set, broken down by where it
 * goes (all load-independent CPU seconds per audio second):
 * - `first pass`: the decoder process's frame-by-frame search (its CPU minus the two below);
 * - `settle`: the forked copies that settle pauses (final search + lattice pass), with the
 *   number of pauses settled;
 * - `final`: the final passes at utterance/turn ends in the decoder itself;
 * - `vad`: the VAD alone over the same audio in this process (a separate run of the detector);
 * - `node`: this process's whole CPU while streaming (VAD + IPC + turn-end bookkeeping);
 * - `searched`: the share of the audio the search decoded (pocketsphinx's energy VAD drops the
 *   rest as silence before the search sees it), which the first pass's CPU follows.
 * `total` = decoder + node; the last line prints the bound on real-time streams this cost
 * allows on the machine's cores (before the Flux sessions' WebSocket/JSON work, which
 * `pnpm bench:local-capacity` includes). Turn-taking and WER: `pnpm eval:local-heldout`.
 *
 * Run: `pnpm bench:local-rtf` [--vad silero|webrtc] [--decoder-args="-ds 2 -topn 2"] (with `=`:
 * the value starts with a dash) [--only <regular expression on file names>].
 *
 * A/B in one run: `--ab '<JSON>'` (repeatable) adds a variant, the `local` engine's options
 * exactly as `voxpipe flux-server --engine-options` and `pnpm eval:local-heldout
 * --engine-options` take them (e.g. `'{"decoderArgs":{"-pl_weight":"4"}}'`, `'{"search":"fast"}'`;
 * `vad` defaults to `--vad`, `--decoder-args` are not inherited); `--search-gate '{…}'` is
 * short for `--ab '{"searchGate":{…}}'`.
 * Each file then runs under the baseline (`--vad`, `--decoder-args`) and every variant,
 * `--rounds` times, the order rotated each round — interleaved because this VM's CPU per audio
 * second drifts by ±20 % between runs — and a summary prints per variant the decoder's CPU
 * seconds per audio second (all files and rounds), its ratio to the baseline (overall, per file,
 * and the lowest–highest of the per-round, per-file ratios: the run's noise), the searched share, and
 * how many of the baseline's words the variant's transcript differs by (word edit distance).
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { FramedVad, LocalSpeech, readWav16k, SileroVad, WebRtcVad } from "@voxpipe/speech-local";
import type { LocalSpeechOptions } from "@voxpipe/speech-local";
import { normalizeWords, wordErrors } from "@voxpipe/cli/eval";
import { localSpeechOptions } from "../../packages/flux-server/src/engines/local.js";
import { parseEngineOptions } from "../../packages/cli/src/options/engine.js";
import { ensureFixtures } from "../fixtures/make-fixtures.js";

const { values: args } = parseArgs({
  options: {
    vad: { type: "string", default: "silero" },
    "decoder-args": { type: "string", default: "" },
    ab: { type: "string", multiple: true, default: [] },
    "search-gate": { type: "string" },
    rounds: { type: "string", default: "1" },
    only: { type: "string" },
  },
});
if (args.vad !== "silero" && args.vad !== "webrtc")
  throw new RangeError(`--vad must be silero or webrtc, got ${args.vad}`);
const pairs = args["decoder-args"].split(/\s+/).filter((x) => x !== "");
if (pairs.length % 2 !== 0)
  throw new RangeError(`--decoder-args must be "-name value" pairs, got ${args["decoder-args"]}`);
const decoderArgs = Object.fromEntries(
  Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i], pairs[2 * i + 1]]),
);
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new RangeError(`--rounds must be a positive integer, got ${args.rounds}`);

/** A set of engine options under test; `json` is how the user wrote it (its label). */
interface Variant {
  json: string;
  options: LocalSpeechOptions;
}
/** `--ab`'s JSON (the local engine's options) as a variant; `vad` defaults to `--vad`. */
function variant(json: string, flag: string): Variant {
  const parsed = parseEngineOptions(flag)(json);
  if ("overloadSearch" in parsed)
    throw new RangeError(
      `${flag}: overloadSearch only acts when a server admits a session under overload; measure its search as {"search":…}`,
    );
  return { json, options: localSpeechOptions({ vad: args.vad, ...parsed }) };
}
const variants: Variant[] = [
  {
    json: pairs.length ? `decoder args ${pairs.join(" ")}` : "baseline (defaults)",
    options: { vad: args.vad, recognizer: { decoderArgs } },
  },
  ...args.ab.map((json) => variant(json, "--ab")),
  ...(args["search-gate"] === undefined
    ? []
    : [variant(`{"searchGate":${args["search-gate"]}}`, "--search-gate")]),
];

const CHUNK = 1280; // 80 ms at 16 kHz, Flux's recommended chunk
const FILES = ["flite_three_turns", "espeak_three_turns_noisy", "librivox_conversation"];

/** CPU seconds of this process spent running `detector` over `pcm` in 80 ms chunks. */
async function vadCpu(pcm: Int16Array): Promise<number> {
  const detector = args.vad === "webrtc" ? new WebRtcVad() : await SileroVad.create();
  const vad = new FramedVad(detector);
  const t0 = process.cpuUsage();
  for (let i = 0; i < pcm.length; i += CHUNK) await vad.push(pcm.subarray(i, i + CHUNK));
  const u = process.cpuUsage(t0);
  await detector.close();
  return (u.user + u.system) / 1e6;
}

const all = await ensureFixtures();
const files = FILES.map((n) => all.find((f) => f.name === n))
  .filter((f) => f !== undefined)
  .filter((f) => args.only === undefined || new RegExp(args.only).test(f.name));
if (files.length === 0)
  throw new RangeError(`--only ${args.only} matches none of ${FILES.join(", ")}`);
const hosts = await Promise.all(variants.map((v) => LocalSpeech.start(v.options)));
const tag = (i: number): string => (i === 0 ? "" : ` [${i}]`);
console.log(
  `CPU seconds per audio second, VAD ${args.vad}${pairs.length ? `, decoder args ${pairs.join(" ")}` : ""} (one stream at a time; load-independent)`,
);
if (variants.length > 1) {
  console.log(`A/B, ${rounds} round(s), order rotated each round:`);
  variants.forEach((v, i) => console.log(`  [${i}] ${v.json}`));
}
const cols = [
  "audio s",
  "searched",
  "first pass",
  "settle (n)",
  "final",
  "decoder",
  "vad",
  "node",
  "total",
];
console.log(`${"file".padEnd(36)}${cols.map((c) => c.padStart(12)).join("")}  private MB`);

/** One stream's figures. */
interface Run {
  audio: number;
  decoder: number;
  searched: number;
  words: string[];
}
/** runs[variant][file][round] */
const runs: Run[][][] = variants.map(() => files.map(() => []));
let worst = 0;
for (let round = 0; round < rounds; round++) {
  for (const [fi, file] of files.entries()) {
    const pcm = await readWav16k(file.path);
    const vad = await vadCpu(pcm); // the same VAD for every variant
    for (let k = 0; k < variants.length; k++) {
      const vi = (k + round) % variants.length;
      const stream = await hosts[vi].openStream();
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < pcm.length; i += CHUNK) await stream.push(pcm.subarray(i, i + CHUNK));
      const words = await stream.finishTurn();
      const node = process.cpuUsage(cpu0);
      const stats = await stream.stats();
      await stream.close();
      const nodeCpu = (node.user + node.system) / 1e6;
      const a = stats.audioSeconds;
      runs[vi][fi].push({
        audio: a,
        decoder: stats.cpuSeconds,
        searched: stats.searchedSeconds,
        words: normalizeWords(words.map((w) => w.word).join(" ")),
      });
      const firstPass = stats.cpuSeconds - stats.settleCpuSeconds - stats.finalCpuSeconds;
      const total = (stats.cpuSeconds + nodeCpu) / a;
      if (vi === 0) worst = Math.max(worst, total);
      const f = (x: number): string => (x / a).toFixed(3).padStart(12);
      console.log(
        `${(file.name + tag(vi)).padEnd(36)}${a.toFixed(1).padStart(12)}${`${((100 * stats.searchedSeconds) / a).toFixed(0)} %`.padStart(12)}${f(firstPass)}${`${(stats.settleCpuSeconds / a).toFixed(3)} (${stats.settles})`.padStart(12)}${f(stats.finalCpuSeconds)}${f(stats.cpuSeconds)}${f(vad)}${f(nodeCpu)}${total.toFixed(3).padStart(12)}  ${(stats.privateKb / 1024).toFixed(1).padStart(10)}`,
      );
    }
  }
}
const load = hosts[0].recognizer.load;
await Promise.all(hosts.map((h) => h.close()));

if (variants.length > 1) {
  const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
  /** Decoder CPU s per audio s of variant `vi` over `rs`. */
  const rate = (rs: Run[]): number => sum(rs.map((r) => r.decoder)) / sum(rs.map((r) => r.audio));
  const pct = (x: number): string => `${x >= 1 ? "+" : "−"}${Math.abs(100 * (x - 1)).toFixed(1)} %`;
  const base = rate(runs[0].flat());
  const baseWords = sum(runs[0].map((byRound) => byRound[0].words.length));
  const short = (name: string): string => name.split("_")[0];
  console.log(
    `\n${"variant".padEnd(9)}${"decoder".padStart(10)}${"vs [0]".padStart(10)}${"per round/file".padStart(20)}${files.map((f) => short(f.name).padStart(10)).join("")}${"searched".padStart(10)}${"words ≠ [0]".padStart(14)}`,
  );
  for (let vi = 0; vi < variants.length; vi++) {
    // Paired ratios: the same file in the same round, run next to the baseline.
    const ratios = runs[vi].flatMap((byRound, fi) =>
      byRound.map((r, round) => rate([r]) / rate([runs[0][fi][round]])),
    );
    const all = runs[vi].flat();
    const searched = sum(all.map((r) => r.searched)) / sum(all.map((r) => r.audio));
    const changed = sum(
      runs[vi].map((byRound, fi) => wordErrors(runs[0][fi][0].words, byRound[0].words)),
    );
    const first = vi === 0;
    console.log(
      [
        `[${vi}]`.padEnd(9),
        rate(all).toFixed(4).padStart(10),
        (first ? "—" : pct(rate(all) / base)).padStart(10),
        (first ? "—" : `${pct(Math.min(...ratios))} … ${pct(Math.max(...ratios))}`).padStart(20),
        ...runs[vi].map((byRound, fi) =>
          (first ? rate(byRound).toFixed(4) : pct(rate(byRound) / rate(runs[0][fi]))).padStart(10),
        ),
        `${(100 * searched).toFixed(0)} %`.padStart(10),
        `${changed} of ${baseWords}`.padStart(14),
      ].join(""),
    );
  }
  console.log(
    "decoder: CPU s per audio s, all files and rounds; per round/file: the lowest … highest paired ratio (the run's noise); per file: [0]'s CPU s per audio s, the others' ratio to it; words ≠ [0]: word edits from the baseline's transcript, round 1",
  );
}
console.log(
  `model load (once, shared by all streams): ${load.cpuSeconds.toFixed(2)} CPU s, peak RSS ${(load.maxRssKb / 1024).toFixed(0)} MB`,
);
// Load-independent capacity bound: CPU seconds per audio second say how many real-time
// streams the cores can carry at most (the Flux session, WebSocket and JSON come on top).
const cores = availableParallelism();
console.log(
  `worst file ${worst.toFixed(3)} CPU s per audio s per stream (baseline) → at most ${Math.floor(cores / worst)} real-time streams on this machine's ${cores} cores (issue 16 asks for ≥ 10, before the server's own work)`,
);
