import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTurnSequence } from "@voxpipe/flux-protocol";
import { startFluxServer, type FluxServer } from "../src/index.js";
import { FluxTestClient, silence, tone } from "../src/testing.js";

const RATE = 16000;

/** What a client may do: stream tone or silence (any length, any chunking), or send a control message. */
type Action =
  | { kind: "tone" | "silence"; ms: number; chunkMs: number }
  | { kind: "force" }
  | { kind: "configure"; eot: number; eager: number | undefined };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom("tone" as const, "silence" as const),
      ms: fc.integer({ min: 10, max: 1500 }),
      chunkMs: fc.integer({ min: 5, max: 200 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "force" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("configure" as const),
      eot: fc.double({ min: 0.5, max: 1, noNaN: true }),
      eager: fc.option(fc.double({ min: 0.3, max: 0.9, noNaN: true }), { nil: undefined }),
    }),
  },
);

let server: FluxServer;
beforeAll(async () => {
  server = await startFluxServer({
    engineOptions: {
      transcripts: ["one two three", "four five"],
      wordMs: 160,
      eotRamp: { from: 0.2, to: 0.95, durationMs: 400 },
    },
  });
});
afterAll(async () => {
  await server.close();
});

describe("session (property)", () => {
  it("any mix of audio, chunk sizes, Configure and ForceEndTurn gives a valid stream that accounts for all audio", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 1, maxLength: 25 }),
        fc.boolean(),
        async (actions, eagerAtStart) => {
          const client = await FluxTestClient.connect(server.url, {
            model: "flux-general-en",
            encoding: "linear16",
            sampleRate: RATE,
            ...(eagerAtStart && { eagerEotThreshold: 0.4 }),
          });
          let bytes = 0;
          for (const a of actions) {
            if (a.kind === "force") client.sendText({ type: "ForceEndTurn" });
            else if (a.kind === "configure")
              client.sendText({
                type: "Configure",
                thresholds: {
                  eot_threshold: a.eot,
                  ...(a.eager !== undefined && { eager_eot_threshold: a.eager }),
                },
              });
            else {
              const audio = a.kind === "tone" ? tone(a.ms, RATE) : silence(a.ms, RATE);
              const size = Math.max(2, Math.round((RATE * a.chunkMs) / 1000) * 2);
              for (let offset = 0; offset < audio.length; offset += size)
                client.sendAudio(audio.subarray(offset, offset + size));
              bytes += audio.length;
            }
          }
          client.sendText({ type: "CloseStream" });
          expect((await client.closed).code).toBe(1005);
          expect(
            checkTurnSequence(client.messages, { maxUpdateGapSeconds: 0.24 }).violations,
          ).toEqual([]);
          const turnInfos = client.messages.filter((m) => m.type === "TurnInfo");
          const last = turnInfos.at(-1);
          if (bytes > 0)
            expect(last?.type === "TurnInfo" && last.audio_window_end).toBeCloseTo(
              bytes / 2 / RATE,
              4,
            );
          const acks = client.messages.filter(
            (m) => m.type === "ConfigureSuccess" || m.type === "ConfigureFailure",
          );
          expect(acks).toHaveLength(actions.filter((a) => a.kind === "configure").length);
        },
      ),
      { numRuns: 40 },
    );
  });
});
