/**
 * Acoustic end-of-utterance cues: how the last word of a turn *sounds* — falling or rising
 * pitch, a lengthened last word, fading energy — as opposed to what the words say (the LM's
 * P(</s>), which cannot tell a finished sentence from a garbled one that merely reads as
 * complete).
 *
 * Pitch comes from `pitchy` (the McLeod Pitch Method, an NSDF autocorrelation pitch tracker in
 * the YIN family, MIT-licensed, pure JS with one dependency). A library because pitch tracking
 * is signal processing voxpipe does not exist for; `pitchy` rather than `pitchfinder` (YIN)
 * because pitchfinder is GPL-3.0, which an MIT package cannot ship, and pitchy reports a
 * clarity per window, which serves as the voicing decision.
 */
import { PitchDetector } from "pitchy";
import type { RecognizedWord } from "./recognizer.js";

/** Sample rate of the audio the cues are measured on, Hz (the recognizer's). */
const RATE = 16000;
/** Pitch window: 1024 samples = 64 ms, ≥ 2 periods of a 60 Hz voice. */
const WINDOW = 1024;
/** Hop between pitch windows, samples (20 ms: enough points for a last word's slope, half the CPU of 10 ms). */
const HOP = 320;
/** Clarity (NSDF peak) from which a window counts as voiced. */
const MIN_CLARITY = 0.8;
/** Range of speaking F0 accepted, Hz (outside: octave errors or noise). */
const MIN_F0 = 60;
const MAX_F0 = 450;
/** Audio before the last word's end that is pitch-tracked, s (≈6 ms of CPU per second tracked, once per pause, on the event loop). */
const PITCH_S = 1.5;
/** The stretch at the end of the last word the final pitch and energy are read over, s. */
const FINAL_S = 0.2;

/** What the audio says about whether the last word ended an utterance. */
export interface ProsodicCues {
  /**
   * Pitch slope over the voiced frames (20 ms apart) of the last word, semitones per second
   * (negative: falling, the classic declarative ending); `undefined` with fewer than 4 voiced
   * frames, or when pitch was not tracked ({@link ProsodicCueOptions.pitch}).
   */
  finalPitchSlope: number | undefined;
  /**
   * Median pitch of the last word's final 200 ms relative to the median pitch of the turn's
   * voiced speech, semitones (negative: the voice ends low in its range); `undefined` when
   * either has no voiced frame, or when pitch was not tracked ({@link ProsodicCueOptions.pitch}).
   */
  finalPitchLevel: number | undefined;
  /**
   * The last word's duration per phone over the turn's median word duration per phone
   * (final lengthening: > 1); `undefined` when the turn has no other word with phones.
   */
  finalLengthening: number | undefined;
  /**
   * Energy of the last word's final 200 ms relative to the turn's loudest word, dB (≤ 0;
   * more negative: the voice fades out).
   */
  finalEnergy: number | undefined;
}

/** Which cues {@link prosodicCues} measures. */
export interface ProsodicCueOptions {
  /**
   * Track pitch for {@link ProsodicCues.finalPitchSlope} and {@link ProsodicCues.finalPitchLevel}:
   * nearly all of the cues' CPU (pitch tracking over up to 1.5 s of audio, ≈6 ms per second
   * tracked; lengthening and energy cost well under 1 ms). Default `true`. `LocalSpeechStream`
   * passes `LocalSpeechOptions.pitchCues` (default `false`): its turn-end rule uses only
   * final lengthening.
   */
  pitch?: boolean;
}

let detector: PitchDetector<Float32Array> | undefined;

/** Median of a non-empty list. */
function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Pitch track of `pcm` (16 kHz): per hop, the centre time (s, from `t0`) and F0 in semitones re 100 Hz, voiced frames only. */
function pitchTrack(pcm: Int16Array, t0: number): Array<{ t: number; st: number }> {
  detector ??= PitchDetector.forFloat32Array(WINDOW);
  const window = new Float32Array(WINDOW);
  const out: Array<{ t: number; st: number }> = [];
  for (let i = 0; i + WINDOW <= pcm.length; i += HOP) {
    for (let k = 0; k < WINDOW; k++) window[k] = pcm[i + k] / 32768;
    const [f0, clarity] = detector.findPitch(window, RATE);
    if (clarity >= MIN_CLARITY && f0 >= MIN_F0 && f0 <= MAX_F0) {
      out.push({ t: t0 + (i + WINDOW / 2) / RATE, st: 12 * Math.log2(f0 / 100) });
    }
  }
  return out;
}

/** The pitch cues of {@link prosodicCues}; `heard`: the words inside `pcm` (≥ 1), in order. */
function pitchCues(
  pcm: Int16Array,
  start: number,
  heard: readonly RecognizedWord[],
): Pick<ProsodicCues, "finalPitchSlope" | "finalPitchLevel"> {
  const last = heard[heard.length - 1];
  // The voice's range from the last PITCH_S of the turn only: pitch tracking is the cost here.
  const from = Math.max(start, heard[0].start, last.end - PITCH_S);
  const track = pitchTrack(pcm.subarray(Math.max(0, Math.round((from - start) * RATE))), from);
  const inLast = track.filter((p) => p.t >= last.start && p.t <= last.end);
  const inFinal = inLast.filter((p) => p.t >= last.end - FINAL_S);
  const inWords = track.filter((p) => heard.some((w) => p.t >= w.start && p.t <= w.end));

  let finalPitchSlope: number | undefined;
  if (inLast.length >= 4) {
    const mt = inLast.reduce((s, p) => s + p.t, 0) / inLast.length;
    const ms = inLast.reduce((s, p) => s + p.st, 0) / inLast.length;
    let num = 0;
    let den = 0;
    for (const p of inLast) {
      num += (p.t - mt) * (p.st - ms);
      den += (p.t - mt) ** 2;
    }
    finalPitchSlope = den > 0 ? num / den : undefined;
  }
  const finalPitchLevel =
    inFinal.length > 0 && inWords.length > 0
      ? median(inFinal.map((p) => p.st)) - median(inWords.map((p) => p.st))
      : undefined;
  return { finalPitchSlope, finalPitchLevel };
}

/** Energy of `pcm[from, to)` in dB re full scale (−120 for silence). */
function energyDb(pcm: Int16Array, from: number, to: number): number {
  let sum = 0;
  const a = Math.max(0, from);
  const b = Math.min(pcm.length, to);
  for (let i = a; i < b; i++) sum += (pcm[i] / 32768) ** 2;
  return b > a && sum > 0 ? 10 * Math.log10(sum / (b - a)) : -120;
}

/**
 * The cues at the end of a turn's words.
 * @param pcm 16 kHz mono s16 audio that starts at stream time `start` (s) and covers the words
 *   (words or parts of words outside it are ignored).
 * @param words the turn's words so far, in order (times in s of stream audio); the last one is
 *   the word whose ending is judged.
 * @param options which cues to measure (default: all).
 */
export function prosodicCues(
  pcm: Int16Array,
  start: number,
  words: readonly RecognizedWord[],
  options: ProsodicCueOptions = {},
): ProsodicCues {
  const none: ProsodicCues = {
    finalPitchSlope: undefined,
    finalPitchLevel: undefined,
    finalLengthening: undefined,
    finalEnergy: undefined,
  };
  const end = start + pcm.length / RATE;
  const heard = words.filter((w) => w.end > start && w.start < end && w.end > w.start);
  const last = heard.at(-1);
  if (last === undefined) return none;
  const index = (t: number): number => Math.round((t - start) * RATE);
  const { finalPitchSlope, finalPitchLevel } =
    (options.pitch ?? true) ? pitchCues(pcm, start, heard) : none;

  const perPhone = heard
    .slice(0, -1)
    .filter((w) => w.phones > 0)
    .map((w) => (w.end - w.start) / w.phones);
  const finalLengthening =
    perPhone.length > 0 && last.phones > 0
      ? (last.end - last.start) / last.phones / median(perPhone)
      : undefined;

  const loudest = Math.max(...heard.map((w) => energyDb(pcm, index(w.start), index(w.end))));
  const finalEnergy =
    loudest > -120
      ? energyDb(pcm, index(Math.max(last.start, last.end - FINAL_S)), index(last.end)) - loudest
      : undefined;
  return { finalPitchSlope, finalPitchLevel, finalLengthening, finalEnergy };
}
