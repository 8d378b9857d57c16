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
