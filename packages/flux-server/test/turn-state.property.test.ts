import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkTurnSequence, type KnownServerMessage } from "@voxpipe/flux-protocol";
import { TurnStateMachine, type TurnUpdate } from "../src/turn-state.js";

/** One step of a fake engine: a frame (maybe a new word, speech on/off, a confidence) or a ForceEndTurn. */
type Step =
  { kind: "frame"; word: boolean; speech: boolean; confidence: number } | { kind: "force" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("frame" as const),
      word: fc.boolean(),
      speech: fc.boolean(),
      confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "force" as const }) },
);

const thresholds = fc
  .record({
    eot: fc.double({ min: 0.5, max: 1, noNaN: true }),
    eagerShare: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
    timeout: fc.integer({ min: 500, max: 3000 }),
  })
  .map(({ eot, eagerShare, timeout }) => ({
    eotThreshold: eot,
    // eager in 0.3–0.9 and ≤ eot, or off
    eagerEotThreshold:
      eagerShare === null ? undefined : 0.3 + (Math.min(eot, 0.9) - 0.3) * eagerShare,
    eotTimeoutMs: timeout,
  }));

describe("TurnStateMachine (property)", () => {
  it("whatever the engine reports, the events obey every Flux ordering guarantee", () => {
    fc.assert(
      fc.property(thresholds, fc.array(step, { maxLength: 300 }), (t, steps) => {
        const machine = new TurnStateMachine(t);
        const rid = "r";
        const out: KnownServerMessage[] = [{ type: "Connected", request_id: rid, sequence_id: 0 }];
        const push = (u: TurnUpdate) =>
          out.push({
            type: "TurnInfo",
            request_id: rid,
            sequence_id: out.length,
            event: u.event,
            turn_index: u.turnIndex,
            audio_window_start: u.audioWindowStart,
            audio_window_end: u.audioWindowEnd,
            transcript: u.transcript,
            words: [...u.words],
            end_of_turn_confidence: u.endOfTurnConfidence,
            ...(u.trigger !== undefined && { trigger: u.trigger }),
          });
        let words: string[] = []; // the fake engine's current turn
        let frame = 0;
        for (const s of steps) {
          if (s.kind === "force") {
            const u = machine.forceEnd();
            if (u === undefined)
              out.push({
                type: "Warning",
                request_id: rid,
                sequence_id: out.length,
                code: "FORCE_END_TURN_NO_ACTIVE_TURN",
                description: "",
              });
            else push(u);
            if (u !== undefined) words = []; // resetTurn
            continue;
          }
          frame += 1;
          if (s.word) words = [...words, `w${frame}`];
          const u = machine.frame(
            {
              transcript: words.join(" "),
              words: words.map((word) => ({ word, confidence: 1 })),
              speechActive: s.speech,
              endOfTurnConfidence: words.length === 0 ? 0 : s.confidence,
            },
            (frame * 80) / 1000,
          );
          if (u === undefined) continue;
          push(u);
          if (u.event === "EndOfTurn") words = [];
        }
        const report = checkTurnSequence(out, { maxUpdateGapSeconds: 0.24 });
        expect(report.violations).toEqual([]);
        // Eager events only in eager mode (D-mig); model ends never with eot_threshold 1.0 (D-byo).
        const events = out.flatMap((m) => (m.type === "TurnInfo" ? [m] : []));
        if (t.eagerEotThreshold === undefined)
          expect(
            events.some((m) => m.event === "EagerEndOfTurn" || m.event === "TurnResumed"),
          ).toBe(false);
        if (t.eotThreshold === 1) expect(events.some((m) => m.trigger === "model")).toBe(false);
        // At most one TurnInfo per 80 ms tick, plus manual ends.
        const perTick = new Map<number, number>();
        for (const m of events)
          if (m.trigger !== "manual")
            perTick.set(m.audio_window_end, (perTick.get(m.audio_window_end) ?? 0) + 1);
        expect(Math.max(0, ...perTick.values())).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
