import { afterEach, describe, expect, it } from "vitest";
import {
  checkTurnSequence,
  type ServerMessage,
  type TurnInfoMessage,
} from "@voxpipe/flux-protocol";
import { startFluxServer, type FluxServer, type FluxServerOptions } from "../src/index.js";
import { FluxTestClient, silence, tone } from "../src/testing.js";

const RATE = 16000;
const EN = { model: "flux-general-en", encoding: "linear16", sampleRate: RATE } as const;
let server: FluxServer | undefined;

async function start(options: FluxServerOptions = {}): Promise<FluxServer> {
  server = await startFluxServer(options);
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const turns = (messages: ServerMessage[]) =>
  messages.filter((m): m is TurnInfoMessage => m.type === "TurnInfo");

describe("flux server with the scripted engine (energy segmentation)", () => {
  it("turns tone and silence into a well-formed turn stream on audio time", async () => {
    const s = await start({ engineOptions: { transcripts: ["Hello there.", "Book a table."] } });
    const client = await FluxTestClient.connect(s.url, EN);
    expect(client.responseHeaders["dg-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    client.sendChunks(
      Buffer.concat([
        silence(480, RATE),
        tone(800, RATE),
        silence(1600, RATE),
        tone(720, RATE),
        silence(1600, RATE),
      ]),
      RATE,
    );
    client.sendText({ type: "CloseStream" });
    const closed = await client.closed;
    expect(closed.code).toBe(1005); // close frame without status code (reference §4.6)

    const report = checkTurnSequence(client.messages);
    expect(report.violations).toEqual([]);
    const connected = client.messages[0];
    expect(connected).toMatchObject({
      type: "Connected",
      sequence_id: 0,
      request_id: client.responseHeaders["dg-request-id"],
    });
    const ends = turns(client.messages).filter((m) => m.event === "EndOfTurn");
    expect(ends.map((m) => [m.turn_index, m.transcript, m.trigger])).toEqual([
      [0, "Hello there.", "model"],
      [1, "Book a table.", "model"],
    ]);
    // Every TurnInfo lands on an 80 ms audio tick; Updates every 240 ms.
    for (const m of turns(client.messages))
      expect(Math.round(m.audio_window_end * 1000) % 80).toBe(0);
    const starts = turns(client.messages).filter((m) => m.event === "StartOfTurn");
    expect(starts[0]?.audio_window_end).toBeCloseTo(0.48 + 0.24, 5); // first word revealed after 240 ms of tone
    expect(ends[1]?.audio_window_start).toBeCloseTo(ends[0]?.audio_window_end ?? NaN, 5);
    // The last Update covers all audio sent: 480+800+1600+720+1600 ms.
    expect(turns(client.messages).at(-1)).toMatchObject({
      event: "Update",
      audio_window_end: 5.2,
      transcript: "",
    });
    expect(s.counters()).toMatchObject({ sessions: 1, turns: 2 });
  });
});

describe("timed script, eager mode and the multilingual model", () => {
  it("plays scripted turns with EagerEndOfTurn, TurnResumed and languages on audio time", async () => {
    const s = await start({
      engineOptions: {
        turns: [
          // "Hola" then a pause long enough for eager (0.4) but not for eot (0.7), then more words.
          {
            words: [
              { word: "Hola,", start: 0.16, end: 0.4 },
              { word: "quiero", start: 0.4, end: 0.64 },
            ],
            language: "es",
            eotRamp: { from: 0.3, to: 0.6, durationMs: 160 },
          },
          { text: "una mesa.", start: 1.2, end: 1.6, language: "es" },
          { text: "Thank you.", start: 3.2, end: 3.6, language: "en" },
        ],
      },
    });
    const client = await FluxTestClient.connect(s.url, {
      ...EN,
      model: "flux-general-multi",
      eagerEotThreshold: 0.4,
      languageHints: ["es", "en-GB"],
    });
    client.sendChunks(silence(5200, RATE), RATE);
    client.sendText({ type: "CloseStream" });
    await client.closed;
    expect(checkTurnSequence(client.messages, { model: "flux-general-multi" }).violations).toEqual(
      [],
    );
    const events = turns(client.messages).filter((m) => m.event !== "Update");
    expect(events.map((m) => [m.event, m.transcript])).toEqual([
      ["StartOfTurn", "Hola,"],
      ["EagerEndOfTurn", "Hola, quiero"],
      ["TurnResumed", "Hola, quiero"], // speech resumed before the next word was recognized
      ["EagerEndOfTurn", "Hola, quiero una mesa."],
      ["EndOfTurn", "Hola, quiero una mesa."],
      ["StartOfTurn", "Thank"],
      ["EagerEndOfTurn", "Thank you."],
      ["EndOfTurn", "Thank you."],
    ]);
    expect(events[4]).toMatchObject({
      languages: ["es"],
      languages_hinted: ["es", "en"],
      trigger: "model",
    });
    expect(events[7]?.words).toEqual([
      { word: "Thank", confidence: 0.95, start: 3.2, end: 3.4 },
      { word: "you.", confidence: 0.95, start: 3.4, end: 3.6 },
    ]);
  });
});

describe("control messages in stream order", () => {
  it("applies Configure atomically between the audio before and after it, and echoes the full configuration", async () => {
    const s = await start({
      engineOptions: { turns: [{ text: "one two", start: 0.08, end: 0.4 }] },
    });
    const client = await FluxTestClient.connect(s.url, { ...EN, keyterms: ["alpha"] });
    client.sendChunks(silence(400, RATE), RATE);
    // eot 1.0 switches model EndOfTurn off: from here only timeout/manual end the turn.
    client.sendText({
      type: "Configure",
      thresholds: { eot_threshold: 1.0, eot_timeout_ms: 800 },
      keyterms: [],
    });
    client.sendText({
      type: "Configure",
      thresholds: { eager_eot_threshold: 0.9, eot_threshold: 0.5 },
    }); // refused: eager > eot
    client.sendChunks(silence(1600, RATE), RATE);
    client.sendText({ type: "CloseStream" });
    await client.closed;
    expect(checkTurnSequence(client.messages).violations).toEqual([]);
    const success = client.messages.find((m) => m.type === "ConfigureSuccess");
    expect(success).toMatchObject({
      thresholds: { eot_threshold: 1, eot_timeout_ms: 800 },
      keyterms: [],
      numerals: false,
    });
    expect(success && "thresholds" in success && "eager_eot_threshold" in success.thresholds).toBe(
      false,
    );
    expect(client.messages.find((m) => m.type === "ConfigureFailure")).toMatchObject({
      code: "INVALID_THRESHOLD",
    });
    // The ack comes after the TurnInfo for audio sent before the Configure (0.40 s).
    const ackIndex = client.messages.findIndex((m) => m.type === "ConfigureSuccess");
    expect(turns(client.messages.slice(0, ackIndex)).every((m) => m.audio_window_end <= 0.4)).toBe(
      true,
    );
    expect(turns(client.messages.slice(ackIndex)).every((m) => m.audio_window_end > 0.4)).toBe(
      true,
    );
    // Ended by timeout 800 ms after the last speech at 0.40 s, although confidence passed 0.7 long before.
    expect(turns(client.messages).find((m) => m.event === "EndOfTurn")).toMatchObject({
      trigger: "timeout",
      audio_window_end: 1.2,
    });
  });

  it("answers ForceEndTurn with a manual EndOfTurn, or a Warning when no turn is open; CloseStream then ForceEndTurn has no effect", async () => {
    const s = await start({
      engineOptions: { turns: [{ text: "please hold", start: 0.08, end: 0.4 }] },
    });
    const client = await FluxTestClient.connect(s.url, EN);
    client.sendText({ type: "ForceEndTurn" });
    client.sendChunks(silence(480, RATE), RATE);
    client.sendText({ type: "ForceEndTurn" });
    client.sendText({ type: "ForceEndTurn" });
    client.sendChunks(silence(240, RATE), RATE);
    client.sendText({ type: "CloseStream" });
    client.sendText({ type: "ForceEndTurn" });
    await client.closed;
    expect(checkTurnSequence(client.messages).violations).toEqual([]);
    const kinds = client.messages.map((m) => (m.type === "TurnInfo" ? m.event : m.type));
    expect(kinds.filter((k) => k !== "Update")).toEqual([
      "Connected",
      "Warning",
      "StartOfTurn",
      "EndOfTurn",
      "Warning",
    ]);
    expect(turns(client.messages).find((m) => m.event === "EndOfTurn")).toMatchObject({
      trigger: "manual",
      transcript: "please hold",
      turn_index: 0,
    });
  });
});

describe("audio decoding", () => {
  it.each(["mulaw", "alaw"] as const)(
    "decodes %s at 8 kHz with the right audio clock",
    async (encoding) => {
      const { alaw, mulaw } = (await import("alawmulaw")).default;
      const s = await start({ engineOptions: { transcripts: ["Hi."] } });
      const client = await FluxTestClient.connect(s.url, {
        model: "flux-general-en",
        encoding,
        sampleRate: 8000,
      });
      const pcm = Buffer.concat([tone(400, 8000), silence(1200, 8000)]);
      const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
      const encoded = Buffer.from((encoding === "mulaw" ? mulaw : alaw).encode(samples));
      // Odd chunk sizes: the server frames audio itself.
      for (let offset = 0; offset < encoded.length; offset += 333)
        client.sendAudio(encoded.subarray(offset, offset + 333));
      client.sendText({ type: "CloseStream" });
      await client.closed;
      expect(turns(client.messages).find((m) => m.event === "EndOfTurn")?.transcript).toBe("Hi.");
      expect(turns(client.messages).at(-1)?.audio_window_end).toBe(1.6);
    },
  );
});
