import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { startFluxServer } from "../src/index.js";
import { FluxTestClient, HandshakeRefusedError, silence, tone } from "../src/testing.js";

/** A pino logger at `level` whose JSON lines are collected. */
function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines, text: () => JSON.stringify(lines) };
}

describe("per-session logs", () => {
  it("are structured per requestId, carry counters, and never contain keyterms, keys or query strings", async () => {
    const { logger, lines, text } = capture("info");
    const server = await startFluxServer({
      logger,
      apiKey: "secret-api-key",
      engineOptions: { transcripts: ["Private words."] },
    });
    const query =
      "model=flux-general-en&encoding=linear16&sample_rate=16000&keyterm=SecretProjectName";
    const refused = await FluxTestClient.connect(server.url, query, {
      headers: { Authorization: "Token wrong-key" },
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HandshakeRefusedError);
    const client = await FluxTestClient.connect(server.url, query, {
      headers: { Authorization: "Token secret-api-key" },
    });
    client.sendText({ type: "Configure", keyterms: ["AnotherSecretTerm"] });
    client.sendChunks(Buffer.concat([tone(480, 16000), silence(1200, 16000)]), 16000);
    client.sendText({ type: "CloseStream" });
    await client.closed;
    await server.close();

    const requestId = client.responseHeaders["dg-request-id"];
    const closed = lines.find((l) => l.msg === "session closed");
    expect(closed).toMatchObject({
      requestId,
      reason: "close-stream",
      code: 1005,
      turns: 1,
      audioSeconds: 1.68,
    });
    expect(lines.find((l) => l.msg === "session open")).toMatchObject({
      requestId,
      keyterms: 1,
      model: "flux-general-en",
    });
    expect(lines.find((l) => l.msg === "handshake refused")).toMatchObject({ status: 401 });
    for (const secret of [
      "SecretProjectName",
      "AnotherSecretTerm",
      "secret-api-key",
      "wrong-key",
      "keyterm=",
      "Private words.",
    ]) {
      expect(text()).not.toContain(secret);
    }
  });

  it("logs transcripts only at debug level", async () => {
    const { logger, lines } = capture("debug");
    const server = await startFluxServer({
      logger,
      engineOptions: { transcripts: ["Debug words."] },
    });
    const client = await FluxTestClient.connect(server.url, {
      model: "flux-general-en",
      encoding: "linear16",
      sampleRate: 16000,
    });
    client.sendChunks(Buffer.concat([tone(480, 16000), silence(1200, 16000)]), 16000);
    client.sendText({ type: "CloseStream" });
    await client.closed;
    await server.close();
    expect(lines.find((l) => l.msg === "end of turn")).toMatchObject({
      level: 20,
      transcript: "Debug words.",
      trigger: "model",
    });
  });
});
