import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { FrameProcessor } from "@voxpipe/core";
import { ScriptedSTTService, ScriptedTTSService, silenceFrames } from "@voxpipe/core/testing";
import { startScriptedChatServer } from "@voxpipe/openai/testing";
import type { ScriptedChatServer } from "@voxpipe/openai/testing";
import { createBookingAgent } from "../src/agent.js";
import { GOODBYE } from "../src/restaurant.js";
import { scriptedWaiter } from "../src/scripted-waiter.js";

let llmServer: ScriptedChatServer | undefined;
afterEach(async () => {
  await llmServer?.close();
});

describe("booking agent", () => {
  it("greets, checks, books, says goodbye and hangs up by itself", async () => {
    llmServer = await startScriptedChatServer({ reply: scriptedWaiter });
    const lines: string[] = [];
    const tts = new ScriptedTTSService();
    const agent = createBookingAgent({
      input: new FrameProcessor({ name: "input" }),
      // The caller's turns as Flux would report them, without a socket.
      stt: new ScriptedSTTService({
        turns: [
          { transcript: "I would like a table for four tomorrow at eight", startAt: 1, endAt: 3 },
          { transcript: "yes please the name is Rossi", startAt: 13, endAt: 15 },
          { transcript: "no thank you goodbye", startAt: 25, endAt: 27 },
        ],
      }),
      tts,
      output: new FrameProcessor({ name: "output" }),
      llm: { baseURL: llmServer.baseURL, apiKey: "unused", model: "scripted" },
      print: (line) => lines.push(line),
    });
    const running = agent.task.run();
    // 40 s of audio at 10× real time; the agent must hang up after the third turn.
    for (const frame of silenceFrames(40_000, { frameMs: 20 })) {
      if (agent.task.hasFinished) break;
      agent.task.queueFrame(frame);
      await sleep(2);
    }
    const result = await running;
    expect(result.reason).toBe("end");
    expect(lines.filter((l) => l.startsWith("  → "))).toEqual([
      '  → check_availability({"date":"tomorrow","time":"20:00","party_size":4})',
      '  → book_table({"date":"tomorrow","time":"20:00","party_size":4,"name":"Rossi"})',
      "  → end_call({})",
    ]);
    expect(agent.book.bookings).toEqual([
      { code: "BV-1001", name: "Rossi", date: "tomorrow", time: "20:00", partySize: 4 },
    ]);
    expect(tts.spoken[0]).toBe("Bella Vista, good evening.");
    expect(tts.spoken.at(-1)).toBe(GOODBYE);
    // The tool result went back to the model, which confirmed the booking.
    expect(tts.spoken).toContain("Your confirmation number is BV-1001.");
    // Hung up before the audio ran out.
    expect(agent.context.messages.filter((m) => m.role === "user")).toHaveLength(3);
  });

  it("tells the model when its arguments are invalid instead of booking", async () => {
    llmServer = await startScriptedChatServer({
      reply: (r) =>
        r.messages.at(-1)?.role === "tool"
          ? "Sorry."
          : {
              tokens: [
                {
                  toolCall: { name: "book_table", arguments: { date: "tomorrow", party_size: 0 } },
                },
              ],
            },
    });
    const agent = createBookingAgent({
      input: new FrameProcessor(),
      stt: new ScriptedSTTService({ turns: [{ transcript: "book it", startAt: 0.5, endAt: 1 }] }),
      tts: new ScriptedTTSService(),
      output: new FrameProcessor(),
      llm: { baseURL: llmServer.baseURL, apiKey: "unused", model: "scripted" },
    });
    const running = agent.task.run();
    for (const frame of silenceFrames(3000, { frameMs: 20 })) {
      agent.task.queueFrame(frame);
      await sleep(2);
    }
    agent.task.stopWhenDone();
    await running;
    expect(agent.book.bookings).toEqual([]);
    const tool = agent.context.messages.find((m) => m.role === "tool");
    expect(tool?.content).toMatch(/^\{"error":"book_table failed: .*time/s);
  });
});
