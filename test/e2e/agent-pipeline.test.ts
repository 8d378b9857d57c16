/**
 * End to end, the agent: WAV input (real time) → Flux (local server, scripted engine: each
 * tone is a user turn) → context aggregator → OpenAI-compatible LLM (a local SSE fixture) →
 * espeak-ng → WAV output on the call's timeline → assistant aggregator.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readWav } from "@voxpipe/core";
import { startFluxServer } from "@voxpipe/flux-server";
import type { FluxServer } from "@voxpipe/flux-server";
import { startScriptedChatServer } from "@voxpipe/openai/testing";
import type { ScriptedChatServer } from "@voxpipe/openai/testing";
import { buildAgent, loudSegments, writeCall } from "./helpers.js";

let dir = "";
let flux: FluxServer;
let llm: ScriptedChatServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-e2e-agent-"));
  flux = await startFluxServer({
    engine: "scripted",
    engineOptions: {
      transcripts: ["a table", "for two", "at eight"],
      eotRamp: { from: 0.2, to: 0.95, durationMs: 400 },
    },
  });
  // Replies name the turn they answer, so the test can tell them apart.
  llm = await startScriptedChatServer({
    reply: (r) => `Noted: ${r.messages.filter((m) => m.role === "user").at(-1)?.content ?? ""}.`,
  });
});
afterAll(async () => {
  await flux?.close();
  await llm?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the agent pipeline", () => {
  it("writes a WAV with one reply after each user turn", async () => {
    const inputPath = join(dir, "call.wav");
    const outputPath = join(dir, "bot.wav");
    const turns = await writeCall(inputPath, [
      { silenceMs: 300 },
      { speechMs: 700 },
      { silenceMs: 4000 },
      { speechMs: 700 },
      { silenceMs: 4000 },
      { speechMs: 700 },
      { silenceMs: 2500 },
    ]);
    const { task, assistant, context } = buildAgent({
      inputPath,
      outputPath,
      fluxUrl: flux.url,
      llmBaseURL: llm.baseURL,
    });
    const replies: { text: string; interrupted: boolean }[] = [];
    assistant.on("assistantMessage", (m) => replies.push(m));
    const result = await task.run();

    expect(result.reason).toBe("end");
    expect(replies).toEqual([
      { text: "Noted: a table.", interrupted: false },
      { text: "Noted: for two.", interrupted: false },
      { text: "Noted: at eight.", interrupted: false },
    ]);
    expect(context.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
    expect(llm.requests).toHaveLength(3);

    const wav = await readWav(outputPath);
    const spoken = loudSegments(wav.audio, wav.sampleRate);
    expect(spoken).toHaveLength(3);
    spoken.forEach((reply, i) => {
      // Each reply starts after its user turn ended, and is over before the next turn begins.
      expect(reply.start).toBeGreaterThan(turns[i].end);
      expect(reply.end).toBeLessThan(turns[i + 1]?.start ?? Infinity);
    });
  }, 60_000);
});
