/**
 * `runSession`'s protocol check: every message of the connection goes to Flux's turn-sequence
 * checker, so a valid stream counts no violation — also when the client's closing
 * `ForceEndTurn` meets no open turn and Flux answers with the documented
 * `FORCE_END_TURN_NO_ACTIVE_TURN` Warning (protocol reference §4.5) — and a broken one is counted.
 * Real flux-server with the scripted engine (a tone is speech), streamed through FluxClient.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
