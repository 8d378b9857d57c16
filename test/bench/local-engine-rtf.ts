/**
 * Real-time factor and memory of the `local` engine (pocketsphinx + VAD), one stream at a
 * time, on three files of the labelled set: decoder CPU (its own process and the forked
 * copies that settle each pause) + this process's CPU (VAD, IPC) per second of audio, and
 * the number of real-time streams that cost allows on this machine's cores. Turn-taking and WER are measured by `voxpipe eval`
 * (`pnpm eval:local`).
 *
 * Run: `pnpm bench:local-rtf` [--vad silero|webrtc]
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { LocalSpeech, readWav16k } from "@voxpipe/speech-local";
import { ensureFixtures } from "../fixtures/make-fixtures.js";

const { values: args } = parseArgs({ options: { vad: { type: "string", default: "silero" } } });
if (args.vad !== "silero" && args.vad !== "webrtc")
  throw new RangeError(`--vad must be silero or webrtc, got ${args.vad}`);

const CHUNK = 1280; // 80 ms at 16 kHz, Flux's recommended chunk
const FILES = ["flite_three_turns", "espeak_three_turns_noisy", "librivox_conversation"];

const all = await ensureFixtures();
const speech = await LocalSpeech.start({ vad: args.vad });
console.log(
  `real-time factor, VAD ${args.vad} (one stream, one core; decoder = pocketsphinx process CPU, node = VAD + IPC in this process)`,
);
console.log("file                          audio s  decoder s  node s   RTF    stream private MB");
let worst = 0;
for (const file of FILES.map((n) => all.find((f) => f.name === n)).filter((f) => f !== undefined)) {
  const pcm = await readWav16k(file.path);
  const stream = await speech.openStream();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < pcm.length; i += CHUNK) await stream.push(pcm.subarray(i, i + CHUNK));
  const node = process.cpuUsage(cpu0);
  const stats = await stream.stats();
  await stream.close();
  const nodeCpu = (node.user + node.system) / 1e6;
  const rtf = (stats.cpuSeconds + nodeCpu) / stats.audioSeconds;
  worst = Math.max(worst, rtf);
  console.log(
    `${file.name.padEnd(30)}${stats.audioSeconds.toFixed(1).padStart(6)}  ${stats.cpuSeconds.toFixed(2).padStart(9)}  ${nodeCpu.toFixed(2).padStart(6)}  ${rtf.toFixed(2).padStart(5)}  ${(stats.privateKb / 1024).toFixed(1).padStart(8)}`,
  );
}
const load = speech.recognizer.load;
await speech.close();
console.log(
  `model load (once, shared by all streams): ${load.cpuSeconds.toFixed(2)} CPU s, peak RSS ${(load.maxRssKb / 1024).toFixed(0)} MB`,
);
console.log(
  `target RTF ≤ 0.5 per stream incl. VAD: ${worst <= 0.5 ? "PASS" : "FAIL"} (worst ${worst.toFixed(2)})`,
);
// Load-independent capacity bound: CPU seconds per audio second say how many real-time
// streams a core can carry at most (the Flux session, WebSocket and JSON come on top).
const cores = availableParallelism();
console.log(
  `at most ${Math.floor(cores / worst)} real-time streams on this machine's ${cores} cores at the worst file's cost (issue 16 asks for ≥ 10)`,
);
