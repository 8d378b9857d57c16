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
 * the value starts with a dash) [--search-gate '{}' [--rounds 3]]: with `--search-gate`, each
 * file runs without and with the Silero search gate (`LocalSpeechOptions.searchGate`, these
 * options), alternating, `--rounds` times: an A/B in one run, since this VM's CPU per audio
 * second drifts by ±20 % between runs.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { FramedVad, LocalSpeech, readWav16k, SileroVad, WebRtcVad } from "@voxpipe/speech-local";
import type { SearchGateOptions } from "@voxpipe/speech-local";
import { ensureFixtures } from "../fixtures/make-fixtures.js";

const { values: args } = parseArgs({
  options: {
    vad: { type: "string", default: "silero" },
    "decoder-args": { type: "string", default: "" },
    "search-gate": { type: "string" },
    rounds: { type: "string", default: "1" },
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
const speech = await LocalSpeech.start({ vad: args.vad, recognizer: { decoderArgs } });
const gated =
  args["search-gate"] === undefined
    ? undefined
    : await LocalSpeech.start({
        vad: args.vad,
        recognizer: { decoderArgs },
        searchGate: JSON.parse(args["search-gate"]) as SearchGateOptions,
      });
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new RangeError(`--rounds must be a positive integer, got ${args.rounds}`);
console.log(
  `CPU seconds per audio second, VAD ${args.vad}${pairs.length ? `, decoder args ${pairs.join(" ")}` : ""} (one stream at a time; load-independent)`,
);
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
console.log(`${"file".padEnd(32)}${cols.map((c) => c.padStart(12)).join("")}  private MB`);
let worst = 0;
const runs = FILES.map((n) => all.find((f) => f.name === n))
  .filter((f) => f !== undefined)
  .flatMap((file) =>
    Array.from({ length: rounds }, () => [
      { file, host: speech, label: file.name },
      ...(gated ? [{ file, host: gated, label: `${file.name} +gate` }] : []),
    ]).flat(),
  );
for (const { file, host, label } of runs) {
  const pcm = await readWav16k(file.path);
  const stream = await host.openStream();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < pcm.length; i += CHUNK) await stream.push(pcm.subarray(i, i + CHUNK));
  await stream.finishTurn();
  const node = process.cpuUsage(cpu0);
  const stats = await stream.stats();
  await stream.close();
  const nodeCpu = (node.user + node.system) / 1e6;
  const vad = await vadCpu(pcm);
  const a = stats.audioSeconds;
  const firstPass = stats.cpuSeconds - stats.settleCpuSeconds - stats.finalCpuSeconds;
  const total = (stats.cpuSeconds + nodeCpu) / a;
  if (host === speech) worst = Math.max(worst, total);
  const f = (x: number): string => (x / a).toFixed(3).padStart(12);
  console.log(
    `${label.padEnd(32)}${a.toFixed(1).padStart(12)}${`${((100 * stats.searchedSeconds) / a).toFixed(0)} %`.padStart(12)}${f(firstPass)}${`${(stats.settleCpuSeconds / a).toFixed(3)} (${stats.settles})`.padStart(12)}${f(stats.finalCpuSeconds)}${f(stats.cpuSeconds)}${f(vad)}${f(nodeCpu)}${total.toFixed(3).padStart(12)}  ${(stats.privateKb / 1024).toFixed(1).padStart(10)}`,
  );
}
const load = speech.recognizer.load;
await Promise.all([speech.close(), gated?.close()]);
console.log(
  `model load (once, shared by all streams): ${load.cpuSeconds.toFixed(2)} CPU s, peak RSS ${(load.maxRssKb / 1024).toFixed(0)} MB`,
);
// Load-independent capacity bound: CPU seconds per audio second say how many real-time
// streams the cores can carry at most (the Flux session, WebSocket and JSON come on top).
const cores = availableParallelism();
console.log(
  `worst file ${worst.toFixed(3)} CPU s per audio s per stream → at most ${Math.floor(cores / worst)} real-time streams on this machine's ${cores} cores (issue 16 asks for ≥ 10, before the server's own work)`,
);
