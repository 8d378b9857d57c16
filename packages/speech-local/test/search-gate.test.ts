import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSpeechStream, SearchGate, SphinxRecognizer } from "../src/index.js";
import { fixtureAudio } from "./fixtures.js";
import type { RecognizedWord, VadFrame, VoiceActivityDetector } from "../src/index.js";

const CHUNK = 1280; // 80 ms at 16 kHz, as the server frames audio
const SR = 16000;

/** 32 ms VAD frames from `start` (s) with these probabilities. */
function frames(start: number, probabilities: number[]): VadFrame[] {
  return probabilities.map((probability, i) => ({
    start: start + i * 0.032,
    end: start + (i + 1) * 0.032,
    probability,
  }));
}

describe("SearchGate", () => {
  it("closes after closeAfterMs of non-speech and reopens at the next speech frame minus the look-back", () => {
    const gate = new SearchGate({ threshold: 0.3, closeAfterMs: 100, lookBackMs: 300 });
    expect(gate.update(frames(0, [0.9, 0.8, 0.6]), 0.096)).toBeUndefined();
    // 0.096 → 0.16: 64 ms of non-speech, not yet.
    expect(gate.update(frames(0.096, [0.1, 0.05]), 0.16)).toBeUndefined();
    expect(gate.update(frames(0.16, [0.05]), 0.24)).toEqual({ kind: "close" });
    expect(gate.open).toBe(false);
    // A frame at 0.29 (below the VAD's 0.5 but at the gate's threshold) is an onset.
    expect(gate.update(frames(1.0, [0.1, 0.1]), 1.064)).toBeUndefined();
    expect(gate.update(frames(1.5, [0.1, 0.3, 0.9]), 1.6)).toEqual({
      kind: "open",
      from: expect.closeTo(1.532 - 0.3, 9) as number,
    });
    expect(gate.update(frames(1.6, [0.9]), 1.68)).toBeUndefined();
  });

  it("starts open, closes on leading silence, and never resumes before the stream's start", () => {
    const gate = new SearchGate({ lookBackMs: 300 });
    expect(gate.update(frames(0, [0, 0, 0, 0]), 0.128)).toEqual({ kind: "close" });
    expect(gate.update(frames(0.128, [0.9]), 0.16)).toEqual({ kind: "open", from: 0 });
  });

  it("refuses settings outside their range, naming them", () => {
    expect(() => new SearchGate({ threshold: 1.5 })).toThrow(/searchGate\.threshold.*1\.5/);
    expect(() => new SearchGate({ lookBackMs: 1600 })).toThrow(/searchGate\.lookBackMs/);
    expect(() => new SearchGate({ closeAfterMs: -1 })).toThrow(/searchGate\.closeAfterMs/);
  });
});

let recognizer: SphinxRecognizer;

beforeAll(async () => {
  recognizer = await SphinxRecognizer.start();
});
afterAll(() => recognizer.close());

const text = (words: readonly RecognizedWord[]): string => words.map((w) => w.word).join(" ");

// Real decoding: allow for a loaded two-core CI machine.
describe("the search gate on the real recognizer", { timeout: 60_000 }, () => {
  it("skips paused audio, and words after the gap keep their stream time", async () => {
    // flite_three_turns: turn 2 ("can you tell me…") is 5.5–8.6 s, turn 3 ("please send a
    // report…") starts with "please" at 9.93 s. The search is paused from 4.8 s (after turn 1)
    // to 9.6 s: turn 2 is never searched, turn 3 is, at its own times.
    const pcm = await fixtureAudio("flite_three_turns");
    const [plain, gated] = await Promise.all([recognizer.openStream(), recognizer.openStream()]);
    const finals: number[] = [];
    gated.onHypothesis = (_s, final) => {
      if (final) finals.push(gated.state().audioTime);
    };
    for (let i = 0; i < pcm.length; i += CHUNK) {
      const chunk = pcm.subarray(i, i + CHUNK);
      if (i === 4.8 * SR) gated.pauseSearch();
      await Promise.all([plain.write(chunk), gated.write(chunk)]);
      if (i === 9.6 * SR - CHUNK) gated.resumeSearch(9.6);
    }
    await Promise.all([plain.finalize(), gated.finalize()]);
    const [p, g] = [plain.state().words, gated.state().words];
    const [ps, gs] = await Promise.all([plain.stats(), gated.stats()]);
    await Promise.all([plain.close(), gated.close()]);

    expect(text(p)).toContain("can you tell me");
    expect(text(g)).not.toContain("tell me");
    const please = (ws: RecognizedWord[]) => ws.find((w) => w.word === "please")!;
    expect(text(g)).toMatch(/please send a report/);
    // Stream time: 4.8 s of skipped audio would otherwise put "please" near 5.1 s.
    expect(Math.abs(please(g).start - please(p).start)).toBeLessThan(0.1);
    expect(Math.abs(g.at(-1)!.end - p.at(-1)!.end)).toBeLessThan(0.1);
    // The 4.8 s skipped hold ≈3 s of searched audio (turn 2 and its padding).
    expect(ps.searchedSeconds - gs.searchedSeconds).toBeGreaterThan(2.5);
    expect(gs.audioSeconds).toBeCloseTo(ps.audioSeconds, 3);
    // Nothing was decoded or ended while paused, beyond the skip's own endpoint (at most
    // -vad_postspeech, 0.5 s, after the pause, when an utterance was still open).
    expect(finals.filter((t) => t > 5.4 && t < 9.6)).toEqual([]);
  });

  it("decodes an onset the VAD hears late: the look-back re-searches the kept audio", async () => {
    // A VAD that hears nothing until 0.25 s after "please" begins (9.93 s): the gate is closed
    // at 9.0 s (after the pause's first silence), and opens only then, with its default 500 ms
    // look-back (with 300 ms, "please" was lost: the search began 50 ms before it).
    const pcm = (await fixtureAudio("flite_three_turns")).subarray(0, 11 * SR);
    const lateVad = (): VoiceActivityDetector => {
      let at = 0;
      return {
        frameSamples: 512,
        process(frame: Int16Array) {
          const start = at;
          at += frame.length / SR;
          return Promise.resolve(start < 8.7 || start >= 10.18 ? 0.9 : 0.02);
        },
        close: () => Promise.resolve(),
      };
    };
    const run = async (searchGate: false | object) => {
      const stream = new LocalSpeechStream(await recognizer.openStream(), lateVad(), {
        searchGate,
      });
      for (let i = 0; i < pcm.length; i += CHUNK) await stream.push(pcm.subarray(i, i + CHUNK));
      const words = await stream.finishTurn();
      await stream.close();
      return { words };
    };
    const [plain, gated] = await Promise.all([run(false), run({})]);
    const tail = (ws: RecognizedWord[]) => ws.filter((w) => w.start > 9.5);
    expect(text(tail(plain.words))).toMatch(/^please send/);
    // (The audio ends inside "a report": only the words before it are compared.)
    expect(text(tail(gated.words))).toMatch(/^please send/);
    expect(Math.abs(tail(gated.words)[0].start - tail(plain.words)[0].start)).toBeLessThan(0.1);
  });
});
