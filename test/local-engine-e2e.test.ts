/**
 * End to end: the official @deepgram/sdk client streams a real LibriVox conversation
 * (three turns of human read speech from Debian's pocketsphinx-testdata, 1.5 s apart) at
 * real-time pace to the local Flux-compatible server running the `local` engine.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { DeepgramClient } from "@deepgram/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { checkTurnSequence, parseServerMessageObject } from "@voxpipe/flux-protocol";
import type { ServerMessage, TurnInfoMessage } from "@voxpipe/flux-protocol";
import { startFluxServer } from "@voxpipe/flux-server";
import type { FluxServer } from "@voxpipe/flux-server";
import { readWav16k } from "@voxpipe/speech-local";
import { ensureFixtures } from "./fixtures/make-fixtures.js";
import type { LabelledFile } from "./fixtures/make-fixtures.js";
import { normalizeWords, wordErrors } from "@voxpipe/cli/eval";

const CHUNK_MS = 80;
let server: FluxServer;
let file: LabelledFile;

beforeAll(async () => {
  file = (await ensureFixtures()).find((f) => f.name === "librivox_conversation")!;
  server = await startFluxServer({ engine: "local" });
});
afterAll(() => server.close());

it("gives one EndOfTurn per spoken turn, in a valid Flux stream, with transcripts within the WER bound", async () => {
  const pcm = await readWav16k(file.path);
  const client = new DeepgramClient({ auth: false, baseUrl: server.url });
  const socket = await client.listen.v2.connect({
    model: "flux-general-en",
    queryParams: {
      encoding: "linear16",
      sample_rate: "16000",
      eot_threshold: "0.7",
      eager_eot_threshold: "0.4",
    },
    reconnectAttempts: 0,
    shouldReconnect: () => false,
  });
  const messages: ServerMessage[] = [];
  socket.on("message", (m) => messages.push(parseServerMessageObject(m)));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.connect();
  await socket.waitForOpen();

  // Real-time pace: chunk i leaves at t0 + i·80 ms (no drift).
  const samplesPerChunk = (16000 * CHUNK_MS) / 1000;
  const t0 = performance.now();
  for (let i = 0; i * samplesPerChunk < pcm.length; i++) {
    const chunk = pcm.subarray(i * samplesPerChunk, (i + 1) * samplesPerChunk);
    socket.sendMedia(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    await sleep(Math.max(0, t0 + (i + 1) * CHUNK_MS - performance.now()));
  }
  socket.sendCloseStream({ type: "CloseStream" });
  await closed;

  expect(messages[0]?.type).toBe("Connected");
  const report = checkTurnSequence(messages);
  expect(report.violations).toEqual([]);
  const ends = messages.filter(
    (m): m is TurnInfoMessage => m.type === "TurnInfo" && m.event === "EndOfTurn",
  );
  expect(ends).toHaveLength(file.turns.length);
  ends.forEach((end, i) => {
    // Each EndOfTurn falls after its turn's speech and before the next turn begins.
    expect(end.audio_window_end).toBeGreaterThanOrEqual(file.turns[i].end);
    expect(end.audio_window_end).toBeLessThan(file.turns[i + 1]?.start ?? file.duration + 0.1);
    expect(end.transcript).toMatch(/^[A-Z].*[.?]$/);
  });
  const reference = normalizeWords(file.turns.map((t) => t.text).join(" "));
  const hypothesis = normalizeWords(ends.map((e) => e.transcript).join(" "));
  expect(wordErrors(reference, hypothesis) / reference.length).toBeLessThanOrEqual(0.4);
}, 90_000);
