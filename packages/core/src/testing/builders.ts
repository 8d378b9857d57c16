/**
 * Synthetic frames for tests: silence, tones, WAV files cut into frames, transcripts and
 * whole Flux-style turns. Deterministic: same arguments, same frames.
 */
import { readWav } from "../audio/index.js";
import { int16ToPcm } from "../audio/index.js";
import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  InputAudioRawFrame,
  InterimTranscriptionFrame,
  OutputAudioRawFrame,
  StartOfTurnFrame,
  SystemFrame,
  TranscriptionFrame,
  TurnResumedFrame,
  meanWordConfidence,
} from "../frames.js";
import type { EndOfTurnTrigger, Frame, Word } from "../frames.js";

/** Options shared by the audio builders. */
export interface AudioBuildOptions {
  /** Sample rate, Hz. Default 16000. */
  readonly sampleRate?: number;
  /** Channels. Default 1. */
  readonly numChannels?: number;
  /** Duration of each frame, ms. Default 20. */
  readonly frameMs?: number;
  /** `input` → `InputAudioRawFrame` (default), `output` → `OutputAudioRawFrame`. */
  readonly kind?: "input" | "output";
}

/**
 * Cut PCM s16le into frames of `frameMs` (the last one may be shorter).
 * @throws RangeError when `frameMs` does not give at least one sample per frame.
 */
export function audioFrames(
  audio: Uint8Array,
  options: AudioBuildOptions = {},
): (InputAudioRawFrame | OutputAudioRawFrame)[] {
  const sampleRate = options.sampleRate ?? 16000;
  const numChannels = options.numChannels ?? 1;
  const frameMs = options.frameMs ?? 20;
  const bytesPerFrame = Math.floor((sampleRate * frameMs) / 1000) * 2 * numChannels;
  if (bytesPerFrame <= 0)
    throw new RangeError(`audioFrames: frameMs ${frameMs} is too short at ${sampleRate} Hz`);
  const Ctor = options.kind === "output" ? OutputAudioRawFrame : InputAudioRawFrame;
  const frames: (InputAudioRawFrame | OutputAudioRawFrame)[] = [];
  for (let off = 0; off < audio.byteLength; off += bytesPerFrame) {
    frames.push(
      new Ctor({ audio: audio.subarray(off, off + bytesPerFrame), sampleRate, numChannels }),
    );
  }
  return frames;
}

function sampleCount(durationMs: number, sampleRate: number): number {
  if (!(durationMs >= 0)) throw new RangeError(`durationMs must be ≥ 0, got ${durationMs}`);
  return Math.round((durationMs * sampleRate) / 1000);
}

/** `durationMs` of digital silence, as 20 ms (by default) input audio frames. */
export function silenceFrames(
  durationMs: number,
  options: AudioBuildOptions = {},
): InputAudioRawFrame[] {
  const sampleRate = options.sampleRate ?? 16000;
  const n = sampleCount(durationMs, sampleRate) * (options.numChannels ?? 1);
  return audioFrames(new Uint8Array(n * 2), options) as InputAudioRawFrame[];
}

/** PCM s16le of a sine tone (`amplitude` 0–1 of full scale, default 0.5). */
export function tonePcm(
  frequencyHz: number,
  durationMs: number,
  sampleRate = 16000,
  amplitude = 0.5,
): Uint8Array {
  const n = sampleCount(durationMs, sampleRate);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    samples[i] = Math.round(
      Math.sin((2 * Math.PI * frequencyHz * i) / sampleRate) * amplitude * 32767,
    );
  }
  return int16ToPcm(samples);
}

/** A sine tone cut into frames (mono). */
export function toneFrames(
  frequencyHz: number,
  durationMs: number,
  options: AudioBuildOptions & { readonly amplitude?: number } = {},
): InputAudioRawFrame[] {
  const sampleRate = options.sampleRate ?? 16000;
  const pcm = tonePcm(frequencyHz, durationMs, sampleRate, options.amplitude);
  return audioFrames(pcm, { ...options, sampleRate, numChannels: 1 }) as InputAudioRawFrame[];
}

/** A WAV file (path or bytes) cut into frames at its own sample rate and channels. */
export async function wavFrames(
  source: string | Uint8Array,
  options: Pick<AudioBuildOptions, "frameMs" | "kind"> = {},
): Promise<(InputAudioRawFrame | OutputAudioRawFrame)[]> {
  const wav = await readWav(source);
  return audioFrames(wav.audio, {
    ...options,
    sampleRate: wav.sampleRate,
    numChannels: wav.numChannels,
  });
}

/** Options of the transcript builders. Times in seconds of audio. */
export interface TranscriptBuildOptions {
  /** Default 0. */
  readonly turnIndex?: number;
  /** Audio time of the first word, s. Default 0.5. */
  readonly startTime?: number;
  /** Duration of each word, s. Default 0.3. */
  readonly wordDuration?: number;
  /** Confidence of every word. Default 0.95. */
  readonly confidence?: number;
  /** Detected language. Default undefined. */
  readonly language?: string;
}

/** Words with evenly spaced times for `text`. */
export function wordsFor(text: string, options: TranscriptBuildOptions = {}): Word[] {
  const start = options.startTime ?? 0.5;
  const d = options.wordDuration ?? 0.3;
  const confidence = options.confidence ?? 0.95;
  return text
    .split(/\s+/)
    .filter((w) => w !== "")
    .map((word, i) => ({ word, confidence, start: start + i * d, end: start + (i + 1) * d }));
}

/** A final `TranscriptionFrame` for `text`, with word timings. */
export function transcriptionFrame(
  text: string,
  options: TranscriptBuildOptions = {},
): TranscriptionFrame {
  const words = wordsFor(text, options);
  return new TranscriptionFrame({
    text,
    words,
    confidence: meanWordConfidence(words),
    turnIndex: options.turnIndex ?? 0,
    language: options.language,
    audioWindowStart: 0,
    audioWindowEnd: words.at(-1)?.end ?? options.startTime ?? 0,
  });
}

/** Options of {@link turnFrames}. */
export interface TurnBuildOptions extends TranscriptBuildOptions {
  /** Emit an `InterimTranscriptionFrame` per word (as Flux `Update`s). Default true. */
  readonly interim?: boolean;
  /** Insert an `EagerEndOfTurnFrame` before the end. Default false. */
  readonly eager?: boolean;
  /** Insert `EagerEndOfTurnFrame` + `TurnResumedFrame` after this many words. */
  readonly resumeAfterWords?: number;
  /** `trigger` of the `TranscriptionFrame` and the `EndOfTurnFrame`. Default `"model"`. */
  readonly trigger?: EndOfTurnTrigger;
  /** Final end-of-turn confidence. Default 0.9. */
  readonly endOfTurnConfidence?: number;
}

/**
 * All frames of one user turn in the order an STT service emits them for Flux
 * (flux-protocol.md, turn state machine): `StartOfTurnFrame`, interims,
 * [`EagerEndOfTurnFrame`, `TurnResumedFrame`], [`EagerEndOfTurnFrame`], then the final
 * `TranscriptionFrame` and the `EndOfTurnFrame`.
 */
export function turnFrames(text: string, options: TurnBuildOptions = {}): Frame[] {
  const turnIndex = options.turnIndex ?? 0;
  const words = wordsFor(text, options);
  const windowEnd = (n: number): number =>
    words[Math.max(0, n - 1)]?.end ?? options.startTime ?? 0.5;
  const base = { turnIndex, language: options.language, audioWindowStart: 0 };
  const partial = (n: number): { transcript: string; words: Word[] } => {
    const w = words.slice(0, n);
    return { transcript: w.map((x) => x.word).join(" "), words: w };
  };
  const frames: Frame[] = [
    new StartOfTurnFrame({
      ...base,
      ...partial(1),
      audioWindowEnd: windowEnd(1),
      endOfTurnConfidence: 0.05,
    }),
  ];
  for (let n = 1; n <= words.length; n++) {
    if (options.interim ?? true) {
      const p = partial(n);
      frames.push(
        new InterimTranscriptionFrame({
          ...base,
          text: p.transcript,
          words: p.words,
          audioWindowEnd: windowEnd(n),
          endOfTurnConfidence: 0.1,
        }),
      );
    }
    if (options.resumeAfterWords === n && n < words.length) {
      frames.push(
        new EagerEndOfTurnFrame({
          ...base,
          ...partial(n),
          audioWindowEnd: windowEnd(n),
          endOfTurnConfidence: 0.5,
        }),
      );
      frames.push(
        new TurnResumedFrame({
          ...base,
          ...partial(n),
          audioWindowEnd: windowEnd(n),
          endOfTurnConfidence: 0.2,
        }),
      );
    }
  }
  const all = partial(words.length);
  const end = windowEnd(words.length) + 0.24;
  if (options.eager === true) {
    frames.push(
      new EagerEndOfTurnFrame({ ...base, ...all, audioWindowEnd: end, endOfTurnConfidence: 0.6 }),
    );
  }
  const eot = options.endOfTurnConfidence ?? 0.9;
  frames.push(
    new TranscriptionFrame({
      ...base,
      text,
      words: all.words,
      audioWindowEnd: end,
      endOfTurnConfidence: eot,
      trigger: options.trigger ?? "model",
      confidence: meanWordConfidence(all.words),
    }),
  );
  frames.push(
    new EndOfTurnFrame({
      ...base,
      ...all,
      audioWindowEnd: end,
      endOfTurnConfidence: eot,
      trigger: options.trigger ?? "model",
    }),
  );
  return frames;
}

/**
 * Test-only pseudo frame for {@link runProcessorTest}: wait `ms` before sending the
 * next frame (uses `setTimeout`, so fake timers control it). Never enters the pipeline.
 */
export class SleepFrame extends SystemFrame {
  readonly ms: number;
  constructor(ms: number) {
    super();
    this.ms = ms;
  }
}
