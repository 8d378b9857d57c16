/**
 * End to end, barge-in: the user starts a new turn while the bot is still speaking its reply;
 * Flux's StartOfTurn interrupts the reply, and its audio stops at once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StartOfTurnFrame, TTSAudioRawFrame, readWav } from "@voxpipe/core";
import { startFluxServer } from "@voxpipe/flux-server";
import type { FluxServer } from "@voxpipe/flux-server";
import { startScriptedChatServer } from "@voxpipe/openai/testing";
import type { ScriptedChatServer } from "@voxpipe/openai/testing";
import { buildAgent, loudSegments, writeCall } from "./helpers.js";

// Sentences as the TTS speaks them: the user barges in during the second (≈6 s long), so the
// first two are heard (the second only in part) and the last two never.
const HEARD = [
  "Welcome.",
  "Let me tell you about every table we have this evening, starting with the ones by the window, then the quiet corner booths, and finally the terrace.",
];
const LONG_REPLY = [...HEARD, "We also have a private room upstairs.", "And the bar."].join(" ");

let dir = "";
let flux: FluxServer;
let llm: ScriptedChatServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-e2e-barge-"));
  flux = await startFluxServer({
    engine: "scripted",
    engineOptions: {
      transcripts: ["what tables do you have", "stop, the window one"],
      eotRamp: { from: 0.2, to: 0.95, durationMs: 400 },
    },
  });
  llm = await startScriptedChatServer({
    reply: (r) => (r.messages.filter((m) => m.role === "user").length === 1 ? LONG_REPLY : "Sure."),
  });
});
afterAll(async () => {
  await flux?.close();
  await llm?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("barge-in", () => {
  it("cuts the reply's audio when the user speaks over the bot", async () => {
    const inputPath = join(dir, "call.wav");
    const outputPath = join(dir, "bot.wav");
    const turns = await writeCall(inputPath, [
      { silenceMs: 300 },
      { speechMs: 700 },
      { silenceMs: 2200 }, // the long reply starts in here and would last ≈8 s
      { speechMs: 800 }, // the user talks over it
      { silenceMs: 3000 },
    ]);
    const { task, assistant, tts } = buildAgent({
      inputPath,
      outputPath,
      fluxUrl: flux.url,
      llmBaseURL: llm.baseURL,
    });
    const replies: { text: string; interrupted: boolean }[] = [];
    assistant.on("assistantMessage", (m) => replies.push(m));
    let synthesizedFirstReply = 0;
    let secondTurnAt = Infinity;
    const sub = task.frames$.subscribe(({ processor, frame, timestamp }) => {
      if (processor === tts && frame instanceof TTSAudioRawFrame && timestamp < secondTurnAt)
        synthesizedFirstReply += frame.durationMs;
      if (frame instanceof StartOfTurnFrame && frame.turnIndex === 1)
        secondTurnAt = Math.min(secondTurnAt, timestamp);
    });
    const result = await task.run();
    sub.unsubscribe();

    expect(result.reason).toBe("end");
    // The context holds what the user heard: the sentences whose audio started playing.
    expect(replies[0]).toEqual({ text: HEARD.join(" "), interrupted: true });
    expect(replies[1]).toEqual({ text: "Sure.", interrupted: false });

    const wav = await readWav(outputPath);
    const spoken = loudSegments(wav.audio, wav.sampleRate);
    // The first reply may pause between sentences (the TTS synthesizes one while the previous
    // plays): it is every loud stretch before the user's second turn.
    const firstReply = spoken.filter((seg) => seg.start < turns[1].start);
    const first = {
      start: firstReply[0].start,
      end: Math.max(...firstReply.map((seg) => seg.end)),
    };
    // The first reply started after the first turn and stopped soon after the user barged in
    // (Flux's StartOfTurn needs a little audio; the output stops within a chunk), although far
    // more of it had been synthesized.
    expect(first.start).toBeGreaterThan(turns[0].end);
    expect(first.end).toBeGreaterThan(turns[1].start);
    expect(first.end).toBeLessThan(turns[1].start + 0.8);
    expect(synthesizedFirstReply / 1000).toBeGreaterThan(first.end - first.start + 2);
    // Then only the answer to the second turn, after it ended.
    const later = spoken.slice(firstReply.length);
    expect(later).toHaveLength(1);
    expect(later[0].start).toBeGreaterThan(turns[1].end);
  }, 60_000);
});
