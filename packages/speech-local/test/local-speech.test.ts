import { describe, expect, it } from "vitest";
import { endOfTurnConfidence, IDENTITY_CALIBRATION, LocalSpeechStream } from "../src/index.js";
import type {
  RecognizedWord,
  RecognizerState,
  RecognizerStream,
  TurnObservation,
  VoiceActivityDetector,
} from "../src/index.js";

/**
 * Fakes of the two inputs of a LocalSpeechStream, scripted by audio time, so the turn-end
 * arithmetic can be checked exactly (the real recognizer and VAD are exercised in
 * recognizer.test.ts, vad.test.ts and flux-server's local-engine tests).
 */
class ScriptedRecognizer {
  private audioTime = 0;
  /** `openWord`: a word the recognizer is still hearing (it ends at the current audio time). */
  constructor(
    private readonly words: RecognizedWord[],
    private readonly endOfSentenceProbability: number,
    private readonly openWord?: RecognizedWord,
  ) {}
  state(): RecognizerState {
    const open = this.openWord && { ...this.openWord, end: this.audioTime };
    return {
      audioTime: this.audioTime,
      // Words appear once the audio has reached their end.
      words: [...this.words.filter((w) => w.end <= this.audioTime + 1e-9), ...(open ? [open] : [])],
      endOfSentenceProbability: this.endOfSentenceProbability,
      inUtterance: true,
    };
  }
  write(pcm: Int16Array): Promise<RecognizerState> {
    this.audioTime += pcm.length / 16000;
    return Promise.resolve(this.state());
  }
  settle(): Promise<RecognizerState> {
    return Promise.resolve(this.state());
  }
  finalize(): Promise<RecognizerState> {
    return Promise.resolve(this.state());
  }
  releaseWordsBefore(): void {}
  setKeyterms(): void {}
  pauseSearch(): void {}
  resumeSearch(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A VAD that hears speech (probability 0.9) while `speechUntil` (s) has not passed, then 0.05,
 * and speech again from `resumeAt` (s) on.
 */
function scriptedVad(speechUntil: number, resumeAt = Infinity): VoiceActivityDetector {
  let at = 0;
  return {
    frameSamples: 512,
    process(frame: Int16Array) {
      const start = at;
      at += frame.length / 16000;
      return Promise.resolve(start < speechUntil || start >= resumeAt ? 0.9 : 0.05);
    },
    close: () => Promise.resolve(),
  };
}

const word = (w: string, start: number, end: number, confidence = 0.95): RecognizedWord => ({
  word: w,
  start,
  end,
  confidence,
  scored: true,
  acousticScore: -4,
  phones: 3,
});

/** Streams 80 ms chunks of silence-shaped PCM until `until` (s); returns every observation. */
async function run(stream: LocalSpeechStream, until: number) {
  const out = [];
  for (let t = 0; t < until - 1e-9; t += 0.08) out.push(await stream.push(new Int16Array(1280)));
  return out;
}

const COMPLETE = 0.267; // P(</s> | "tomorrow evening") on the Debian LM

describe("LocalSpeechStream turn end", () => {
  // "evening" is lengthened (133 ms per phone against 100 for "tomorrow"): it sounds final.
  const words = [word("tomorrow", 0.3, 0.6), word("evening", 0.6, 1.0)];

  it("counts the pause from the last word's end, not from the VAD's lagging speech→silence", async () => {
    // Silero holds "speech" past the last word (here 150 ms: the espeak-ng voice's decay).
    const stream = new LocalSpeechStream(
      new ScriptedRecognizer(words, COMPLETE) as unknown as RecognizerStream,
      scriptedVad(1.15),
      { confidenceCalibration: IDENTITY_CALIBRATION },
    );
    const observations = await run(stream, 2);
    const silent = observations.filter((o) => o.silenceMs > 0);
    expect(silent.length).toBeGreaterThan(5);
    for (const o of silent) {
      expect(o.pauseMs).toBeCloseTo((o.audioTime - 1.0) * 1000, 6);
      expect(o.pauseMs).toBeGreaterThan(o.silenceMs + 100);
      expect(o.endOfTurnConfidence).toBeCloseTo(
        endOfTurnConfidence({
          silenceMs: o.pauseMs,
          endOfSentenceProbability: COMPLETE,
          lastWordsConfidence: 0.95,
          prosody: o.prosody,
        }),
        9,
      );
      expect(o.prosody?.finalLengthening).toBeCloseTo(4 / 3, 6);
    }
    // eot_threshold 0.7 is reached ≈400 ms after the last word (not ≈400 ms after the VAD's 1.15 s).
    const end = observations.find((o) => o.endOfTurnConfidence >= 0.7)!;
    expect(end.audioTime).toBeGreaterThanOrEqual(1.4);
    expect(end.audioTime).toBeLessThanOrEqual(1.48 + 1e-9);
    // While the VAD hears speech the estimate stays below every eager threshold.
    for (const o of observations.filter((x) => x.speaking))
      expect(o.endOfTurnConfidence).toBeLessThanOrEqual(0.1);
  });

  it("sees no pause while the recognizer's last word reaches the end of the audio", async () => {
    // The VAD has gone quiet, but the recognizer is still inside a word (a soft consonant the
    // VAD misses): no pause yet, so no EagerEndOfTurn at the first silent frame.
    const stream = new LocalSpeechStream(
      new ScriptedRecognizer(
        [word("tomorrow", 0.3, 0.7)],
        COMPLETE,
        word("evening", 0.7, 0.7),
      ) as unknown as RecognizerStream,
      scriptedVad(1.0),
      { confidenceCalibration: IDENTITY_CALIBRATION },
    );
    const observations = await run(stream, 1.6);
    const first = observations.findIndex((o) => o.silenceMs > 0);
    expect(observations[first].words.at(-1)).toMatchObject({ word: "evening" });
    expect(observations[first].pauseMs).toBe(0);
    expect(observations[first].endOfTurnConfidence).toBeLessThanOrEqual(0.1);
    // The words are settled at that frame, so the pause then runs from the word's end.
    expect(observations[first + 1].pauseMs).toBeCloseTo(80, 6);
    expect(observations[first + 1].endOfTurnConfidence).toBeLessThan(0.4);
  });

  it("waits longer after a last word that is not lengthened", async () => {
    // "evening" at 100 ms per phone after "tomorrow" at 167: ratio 0.6, faster than the
    // turn's own pace, as inside a sentence. The ending gets the whole extra 700 ms.
    const stream = new LocalSpeechStream(
      new ScriptedRecognizer(
        [word("tomorrow", 0.2, 0.7), word("evening", 0.7, 1.0)],
        COMPLETE,
      ) as unknown as RecognizerStream,
      scriptedVad(1.0),
      { confidenceCalibration: IDENTITY_CALIBRATION },
    );
    const observations = await run(stream, 2.8);
    const paused = observations.filter((o) => o.silenceMs > 0);
    for (const o of paused) expect(o.prosody?.finalLengthening).toBeCloseTo(0.6, 6);
    const eager = observations.find((o) => o.endOfTurnConfidence >= 0.4)!;
    const end = observations.find((o) => o.endOfTurnConfidence >= 0.7)!;
    // ≈100 ms + 700 and ≈400 ms + 700 after the last word (1.0 s), on the 80 ms grid.
    expect(eager.audioTime).toBeGreaterThanOrEqual(1.8);
    expect(eager.audioTime).toBeLessThanOrEqual(1.88 + 1e-9);
    expect(end.audioTime).toBeGreaterThanOrEqual(2.1);
    expect(end.audioTime).toBeLessThanOrEqual(2.18 + 1e-9);
  });

  it("tracks the last word's pitch only when asked to (pitchCues)", async () => {
    // A voice falling from 200 to 120 Hz over the two words (0.2–1.0 s), then silence.
    const pcm = new Int16Array(2 * 16000);
    let phase = 0;
    for (let i = Math.round(0.2 * 16000); i < 16000; i++) {
      phase += (2 * Math.PI * (200 - (80 * (i / 16000 - 0.2)) / 0.8)) / 16000;
      pcm[i] = Math.round(8000 * (Math.sin(phase) + 0.5 * Math.sin(2 * phase)));
    }
    const lastPause = async (pitchCues?: boolean) => {
      const stream = new LocalSpeechStream(
        new ScriptedRecognizer(
          [word("tomorrow", 0.2, 0.6), word("evening", 0.6, 1.0)],
          COMPLETE,
        ) as unknown as RecognizerStream,
        scriptedVad(1.0),
        { confidenceCalibration: IDENTITY_CALIBRATION, pitchCues },
      );
      let prosody: TurnObservation["prosody"];
      for (let i = 0; i < pcm.length; i += 1280)
        prosody = (await stream.push(pcm.subarray(i, i + 1280))).prosody;
      if (prosody === undefined) throw new Error("no pause observed");
      return prosody;
    };
    const [plain, withPitch] = [await lastPause(), await lastPause(true)];
    // 200 → 120 Hz over 0.8 s: −8.8 semitones, ≈ −11 st/s.
    expect(withPitch.finalPitchSlope).toBeLessThan(-7);
    expect(plain.finalPitchSlope).toBeUndefined();
    expect(plain.finalPitchLevel).toBeUndefined();
    expect(plain.finalLengthening).toBeCloseTo(1, 6);
    expect(plain.finalLengthening).toBe(withPitch.finalLengthening);
    expect(plain.finalEnergy).toBe(withPitch.finalEnergy);
  });
});

describe("LocalSpeechStream.finishTurn", () => {
  /** A recognizer that records the carry point each finalize is given. */
  class CarryRecorder extends ScriptedRecognizer {
    readonly carries: (number | undefined)[] = [];
    override finalize(carryFrom?: number): Promise<RecognizerState> {
      this.carries.push(carryFrom);
      return Promise.resolve({ ...this.state(), carryFrom });
    }
  }
  const words = [word("store", 0.2, 0.6), word("is", 0.6, 0.8), word("open", 0.8, 1.1)];

  /** "…open" (ends at 1.1 s), a pause, the VAD hearing speech again from `resumeAt`; the turn ends at 1.6 s. */
  async function endTurn(resumeAt: number) {
    const recognizer = new CarryRecorder(words, COMPLETE);
    const stream = new LocalSpeechStream(
      recognizer as unknown as RecognizerStream,
      scriptedVad(1.1, resumeAt),
      { confidenceCalibration: IDENTITY_CALIBRATION },
    );
    await run(stream, 1.6);
    const ended = await stream.finishTurn();
    return { ended, carries: recognizer.carries };
  }

  it("has the recognizer decode again from the pause when speech began as the turn ended", async () => {
    // A 400 ms hesitation, then "until…" begins just before the EndOfTurn.
    const { ended, carries } = await endTurn(1.5);
    expect(ended.map((w) => w.word)).toEqual(["store", "is", "open"]);
    // From 0.4 s back (1.2 s, after "open" ended at 1.1 s): the start of "until" is in it.
    expect(carries).toHaveLength(1);
    expect(carries[0]).toBeCloseTo(1.2, 6);
  });

  it("starts the next turn at the turn end, decoding nothing again, after a silent pause", async () => {
    const { carries } = await endTurn(99);
    expect(carries).toEqual([undefined]);
  });
});
