/**
 * `runSession`'s protocol check: every message of the connection goes to Flux's turn-sequence
 * checker, so a valid stream counts no violation — also when the client's closing
 * `ForceEndTurn` meets no open turn and Flux answers with the documented
 * `FORCE_END_TURN_NO_ACTIVE_TURN` Warning (protocol reference §4.5) — and a broken one is counted.
 * Real flux-server with the scripted engine (a tone is speech), streamed through FluxClient.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pcmToMulaw, resample } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { sdkCarrier } from "@voxpipe/deepgram";
import type { Carrier } from "@voxpipe/deepgram";
import { startFluxServer } from "@voxpipe/flux-server";
import type { FluxServer } from "@voxpipe/flux-server";
import { runSession } from "../src/eval/index.js";

/**
 * 0.5 s silence, a 1 s tone (one turn, ended by the model in the silence after it), silence to
 * 3.3 s. The server answers on the 240 ms grid, so its last Update covers 3.12 s: 0.18 s go
 * unanswered, and the closing client sends `ForceEndTurn` in case a turn starts in them.
 */
const AUDIO_MS = 3300;

function audio(): Uint8Array {
  const silence = (ms: number) => new Uint8Array((ms * 16000 * 2) / 1000);
  const parts = [silence(500), tonePcm(300, 1000, 16000, 0.3), silence(AUDIO_MS - 1500)];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((off, p) => (all.set(p, off), off + p.byteLength), 0);
  return all;
}

/** The SDK carrier, with each received message shown to `see` first (and maybe rewritten). */
function tapped(see: (message: Record<string, unknown>) => Record<string, unknown>): Carrier {
  return (request, handlers) =>
    sdkCarrier(request, {
      onMessage: (message) => {
        const parsed = (typeof message === "string" ? JSON.parse(message) : message) as Record<
          string,
          unknown
        >;
        handlers.onMessage(see(parsed));
      },
      onClose: (close) => handlers.onClose(close),
    });
}

let server: FluxServer;
beforeAll(async () => {
  server = await startFluxServer({ port: 0, engine: "scripted" });
});
afterAll(async () => {
  await server.close();
});

const run = (carrier: Carrier) =>
  runSession({
    target: { url: server.url, carrier },
    setting: { eotThreshold: 0.7 },
    model: "flux-general-en",
    audio: audio(),
    fast: true,
  });

describe("runSession's protocol check", () => {
  it("counts no violation in a valid stream that holds Connected and a Warning besides the turn", async () => {
    const types: string[] = [];
    const record = await run(
      tapped((m) => {
        const label = m.type === "TurnInfo" ? m.event : m.type;
        types.push([label, m.code].filter((p) => typeof p === "string").join(" "));
        return m;
      }),
    );
    expect(record.error).toBeUndefined();
    // The scenario: one turn, then the closing ForceEndTurn after the turn ended → Warning.
    expect(types[0]).toBe("Connected");
    expect(types.filter((t) => t === "EndOfTurn")).toHaveLength(1);
    expect(types).toContain("Warning FORCE_END_TURN_NO_ACTIVE_TURN");
    expect(record.violations).toBe(0);
  });

  it("counts a broken guarantee: a trigger on an Update (EndOfTurn only, reference §3.2)", async () => {
    const record = await run(tapped((m) => (m.sequence_id === 1 ? { ...m, trigger: "model" } : m)));
    expect(record.error).toBeUndefined();
    expect(record.violations).toBe(1);
  });
});

describe("runSession's audio format", () => {
  it("sends μ-law 8 kHz audio as such: encoding and sample rate in the query, 80 ms chunks, audio time right", async () => {
    const queries: URLSearchParams[] = [];
    const chunks: number[] = [];
    const carrier: Carrier = async (request, handlers) => {
      queries.push(request.query);
      const connection = await sdkCarrier(request, handlers);
      return new Proxy(connection, {
        get(target, key) {
          if (key === "sendBinary")
            return (data: Uint8Array) => {
              chunks.push(data.byteLength);
              target.sendBinary(data);
            };
          const value = Reflect.get(target, key) as unknown;
          return typeof value === "function" ? (value as () => unknown).bind(target) : value;
        },
      });
    };
    const mulaw = pcmToMulaw(await resample(audio(), 16000, 8000));
    const record = await runSession({
      target: { url: server.url, carrier },
      setting: { eotThreshold: 0.7 },
      model: "flux-general-en",
      audio: mulaw,
      format: { encoding: "mulaw", sampleRate: 8000 },
      fast: true,
    });
    expect(record.error).toBeUndefined();
    expect(queries[0].get("encoding")).toBe("mulaw");
    expect(queries[0].get("sample_rate")).toBe("8000");
    // 80 ms of 8 kHz μ-law is 640 bytes (1 byte a sample), not linear16's 2560.
    expect(chunks[0]).toBe(640);
    expect(record.audioSeconds).toBeCloseTo(AUDIO_MS / 1000, 2);
    // The tone is heard where it is: one turn, ended after 1.5 s of audio.
    const ends = record.events.filter((e) => e.event === "EndOfTurn");
    expect(ends).toHaveLength(1);
    expect(ends[0].time).toBeGreaterThan(1.5);
    expect(record.violations).toBe(0);
  });
});
