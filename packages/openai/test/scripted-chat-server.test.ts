import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { startScriptedChatServer } from "../src/testing/index.js";
import type { ScriptedChatServer } from "../src/testing/index.js";

describe("startScriptedChatServer (fake OpenAI-compatible SSE server)", () => {
  let server: ScriptedChatServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("streams a reply the official openai client parses, token by token", async () => {
    server = await startScriptedChatServer({ reply: () => "Hello there, friend." });
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: "test-key" });
    const stream = await client.chat.completions.create({
      model: "fake-model",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const deltas: string[] = [];
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta.content;
      if (content) deltas.push(content);
    }
    expect(deltas).toEqual(["Hello ", "there, ", "friend."]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      model: "fake-model",
      completed: true,
      aborted: false,
    });
    expect(server.requests[0]?.messages).toEqual([{ role: "user", content: "hi" }]);
  });

  it("records a client abort mid-stream", async () => {
    server = await startScriptedChatServer({
      reply: () => "one two three four five six",
      tokenDelayMs: 30,
    });
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: "k" });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "m", messages: [{ role: "user", content: "x" }], stream: true },
      { signal: controller.signal },
    );
    const seen: string[] = [];
    // The openai client ends the iteration quietly when its signal aborts.
    for await (const chunk of stream) {
      seen.push(chunk.choices[0]?.delta.content ?? "");
      if (seen.length === 2) controller.abort();
    }
    expect(seen).toEqual(["one ", "two "]);
    await expect.poll(() => server?.requests[0]?.aborted).toBe(true);
    expect(server.requests[0]?.completed).toBe(false);
  });

  it("rejects a wrong API key with 401 in OpenAI's error shape", async () => {
    server = await startScriptedChatServer({ apiKey: "right" });
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: "wrong", maxRetries: 0 });
    const request = client.chat.completions.create({ model: "m", messages: [], stream: true });
    await expect(request).rejects.toMatchObject({ status: 401 });
    await expect(request).rejects.toThrow(/Incorrect API key/);
  });
});
