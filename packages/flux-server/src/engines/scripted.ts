/**
 * The **scripted** turn engine: a deterministic fake recognizer for tests and demos.
 * It decides what is "heard" from data, not from speech:
 *
 * - **Timed script** (`turns`): each turn's words with their audio times, confidences and
 *   language, and how end-of-turn confidence ramps after the last word. Audio content is
 *   ignored; only the audio clock matters.
 * - **Energy segmentation** (`transcripts`, the default): frames louder than
 *   `energyThresholdDbfs` are speech; each speech segment is assigned the next scripted
 *   transcript (cycling), revealed word by word while the segment lasts, so a test can
 *   send tone and silence and get turns.
 *
 * In both modes the engine only reports recognition state; the server's state machine
 * decides the Flux events. Synchronous: every call returns at once.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { FluxWord } from "@voxpipe/flux-protocol";
import type {
  AudioFrame,
  EngineSessionContext,
  RecognitionState,
  TurnEngine,
  TurnEngineFactory,
} from "../engine.js";

const rampSchema = z
  .object({
    /** Confidence right after the last word. */
    from: z.number().min(0).max(1).default(0.2),
    /** Confidence reached after `durationMs` of silence. */
    to: z.number().min(0).max(1).default(0.95),
    /** Milliseconds of audio the ramp takes. */
    durationMs: z.number().positive().default(800),
  })
  .strict();

const wordSchema = z
  .object({
    word: z.string().min(1),
    start: z.number().nonnegative(),
    end: z.number().nonnegative(),
    confidence: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((w) => w.end >= w.start, { message: "end must be ≥ start" });

const turnSchema = z
  .object({
    /** Explicit words with audio times (seconds)… */
    words: z.array(wordSchema).min(1).optional(),
    /** …or a text spoken evenly between `start` and `end` (seconds of stream audio). */
    text: z.string().min(1).optional(),
    start: z.number().nonnegative().optional(),
    end: z.number().nonnegative().optional(),
    /** Word confidence when a word gives none. */
    confidence: z.number().min(0).max(1).default(0.95),
    /** BCP-47 base code, reported in `languages` on the multilingual model. */
    language: z.string().default("en"),
    eotRamp: rampSchema.optional(),
  })
  .strict()
  .refine(
    (t) =>
      t.words !== undefined ||
      (t.text !== undefined && t.start !== undefined && t.end !== undefined && t.end > t.start),
    {
      message: "a turn needs `words`, or `text` with `start` < `end`",
    },
  );

/** Options of the scripted engine (server `engineOptions`, overridable per session). */
export const scriptedEngineOptionsSchema = z
  .object({
    /** Timed script; when given, audio content is ignored. */
    turns: z.array(turnSchema).optional(),
    /** A JSON file holding `{ turns }` or `{ transcripts }` (for the CLI). */
    scriptFile: z.string().optional(),
    /** Energy mode: transcripts assigned to speech segments in order, cycling. */
    transcripts: z
      .array(z.string().min(1))
      .min(1)
      .default(["Hello there.", "I would like to book a table for two.", "Thank you, goodbye."]),
    /** Energy mode: a frame louder than this RMS level (dBFS) is speech. */
    energyThresholdDbfs: z.number().max(0).default(-40),
    /** Energy mode: audio per revealed word while a segment lasts (ms). */
    wordMs: z.number().positive().default(240),
    /** Energy mode: language reported on the multilingual model. */
    language: z.string().default("en"),
    /** Energy mode: confidence ramp after a segment ends. */
    eotRamp: rampSchema.default({ from: 0.2, to: 0.95, durationMs: 800 }),
    /** Confidence reported while speech is active. */
    speakingConfidence: z.number().min(0).max(1).default(0.05),
  })
  .strict();

/** Parsed scripted-engine options. */
export type ScriptedEngineOptions = z.output<typeof scriptedEngineOptionsSchema>;
/** Options as accepted (defaults optional). */
export type ScriptedEngineInput = z.input<typeof scriptedEngineOptionsSchema>;

interface ScriptWord extends FluxWord {
  start: number;
  end: number;
  language: string;
  ramp: z.output<typeof rampSchema>;
}

/**
 * Builds the scripted engine factory.
 * @throws Error naming the bad field when `options` do not match {@link scriptedEngineOptionsSchema}.
 */
export function createScriptedEngine(
  options: Readonly<Record<string, unknown>> = {},
): TurnEngineFactory {
  const base = parseOptions(options);
  return {
    name: "scripted",
    createSession(context: EngineSessionContext): TurnEngine {
      const opts =
        Object.keys(context.options).length === 0
          ? base
          : parseOptions({ ...options, ...context.options });
      return opts.turns !== undefined
        ? new TimedScriptEngine(opts, context)
        : new EnergyScriptEngine(opts);
    },
  };
}

function parseOptions(input: Readonly<Record<string, unknown>>): ScriptedEngineOptions {
  let merged: Record<string, unknown> = { ...input };
  if (typeof input.scriptFile === "string") {
    let fromFile: unknown;
    try {
      fromFile = JSON.parse(readFileSync(input.scriptFile, "utf8"));
    } catch (error) {
      throw new Error(
        `scripted engine: cannot read scriptFile ${input.scriptFile}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    merged = { ...(fromFile as Record<string, unknown>), ...input };
  }
  const result = scriptedEngineOptionsSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(
      `scripted engine: option ${issue?.path.join(".") || "(root)"} is invalid: ${issue?.message ?? "invalid"}`,
    );
  }
  return result.data;
}

/** Words of the timed script, flattened in time order. */
function scriptWords(options: ScriptedEngineOptions): ScriptWord[] {
  const words: ScriptWord[] = [];
  for (const turn of options.turns ?? []) {
    const ramp = turn.eotRamp ?? options.eotRamp;
    if (turn.words !== undefined) {
      for (const w of turn.words)
        words.push({
          word: w.word,
          confidence: w.confidence ?? turn.confidence,
          start: w.start,
          end: w.end,
          language: turn.language,
          ramp,
        });
      continue;
    }
    const tokens = (turn.text ?? "").split(/\s+/).filter(Boolean);
    const start = turn.start ?? 0;
    const step = ((turn.end ?? start) - start) / tokens.length;
    tokens.forEach((word, i) =>
      words.push({
        word,
        confidence: turn.confidence,
        start: start + i * step,
        end: start + (i + 1) * step,
        language: turn.language,
        ramp,
      }),
    );
  }
  return words.sort((a, b) => a.end - b.end);
}

/** Confidence after `silence` seconds without words, along a ramp. */
function rampAt(ramp: z.output<typeof rampSchema>, silence: number): number {
  return (
    ramp.from + (ramp.to - ramp.from) * Math.min(1, Math.max(0, (silence * 1000) / ramp.durationMs))
  );
}

/** Languages of the heard words, most words first. */
function languagesOf(words: readonly { language: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w.language, (counts.get(w.language) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([language]) => language);
}

function toWire(w: ScriptWord): FluxWord {
  return { word: w.word, confidence: w.confidence, start: w.start, end: w.end };
}

/** The timed script: the current turn is every scripted word that ended after the last reset and by now. */
class TimedScriptEngine implements TurnEngine {
  private readonly words: ScriptWord[];
  /** Index of the first word not yet assigned to an ended turn. */
  private first = 0;
  /** Words heard in the current turn: `words[first .. heard)`. */
  private heard = 0;
  private state: RecognitionState = {
    transcript: "",
    words: [],
    speechActive: false,
    endOfTurnConfidence: 0,
  };

  constructor(
    private readonly options: ScriptedEngineOptions,
    context: EngineSessionContext,
  ) {
    this.words = scriptWords(options);
    context.logger.debug({ words: this.words.length }, "scripted engine: timed script");
  }

  hear(frame: AudioFrame): RecognitionState {
    const before = this.heard;
    while (
      this.heard < this.words.length &&
      (this.words[this.heard]?.end ?? Infinity) <= frame.end + 1e-9
    )
      this.heard += 1;
    const speechActive = this.words.some((w) => w.start < frame.end && w.end > frame.start);
    if (
      this.heard === before &&
      !speechActive &&
      !this.state.speechActive &&
      this.state.transcript === ""
    )
      return this.state;
    const current = this.words.slice(this.first, this.heard);
    const last = current.at(-1);
    const confidence =
      last === undefined
        ? 0
        : speechActive
          ? this.options.speakingConfidence
          : rampAt(last.ramp, frame.end - last.end);
    this.state = {
      transcript: current.map((w) => w.word).join(" "),
      words: this.heard === before ? this.state.words : current.map(toWire),
      speechActive,
      endOfTurnConfidence: confidence,
      languages: languagesOf(current),
    };
    return this.state;
  }

  resetTurn(): void {
    this.first = this.heard;
    this.state = { transcript: "", words: [], speechActive: false, endOfTurnConfidence: 0 };
  }

  close(): void {}
}

/**
 * Energy segmentation: speech = frames above the RMS threshold. Each segment takes the
 * next transcript; its words are revealed one per `wordMs` of speech and all of them by
 * the segment's end, spread evenly over the segment. Segments heard before the turn ends
 * join the same turn (the user paused and went on).
 */
class EnergyScriptEngine implements TurnEngine {
  private readonly threshold: number;
  private segmentIndex = 0;
  /** Words of earlier segments of the current turn. */
  private turnWords: ScriptWord[] = [];
  /** The segment being spoken: its transcript tokens and start time. */
  private segment: { tokens: string[]; start: number } | undefined;
  /** Words of `segment` revealed so far. */
  private revealed = 0;
  private lastSpeechEnd = 0;
  private state: RecognitionState = {
    transcript: "",
    words: [],
    speechActive: false,
    endOfTurnConfidence: 0,
  };

  constructor(private readonly options: ScriptedEngineOptions) {
    // Compare mean squares, not dB: no log per frame.
    const amplitude = 32768 * 10 ** (options.energyThresholdDbfs / 20);
    this.threshold = amplitude * amplitude;
  }

  hear(frame: AudioFrame): RecognitionState {
    const speech = meanSquare(frame.samples) > this.threshold;
    if (speech) {
      if (this.segment === undefined) {
        const transcripts = this.options.transcripts;
        const text = transcripts[this.segmentIndex % transcripts.length] ?? "";
        this.segmentIndex += 1;
        this.segment = { tokens: text.split(/\s+/).filter(Boolean), start: frame.start };
        this.revealed = 0;
      }
      this.lastSpeechEnd = frame.end;
      const revealed = Math.min(
        this.segment.tokens.length,
        // + 1e-6: audio times are sums of float seconds; 0.48 - 0.16 must count as 320 ms.
        Math.floor(((frame.end - this.segment.start) * 1000) / this.options.wordMs + 1e-6),
      );
      // Nothing new heard: the same state object (no allocation per frame under load).
      if (revealed === this.revealed && this.state.speechActive) return this.state;
      this.revealed = revealed;
      return this.publish(
        this.segmentWords(revealed, frame.end, false),
        true,
        this.options.speakingConfidence,
      );
    }
    if (this.segment !== undefined) {
      // The segment ended: every word is heard, spread over the segment.
      this.turnWords = this.segmentWords(this.segment.tokens.length, this.lastSpeechEnd, true);
      this.segment = undefined;
      return this.publish(this.turnWords, false, this.options.eotRamp.from);
    }
    if (this.turnWords.length === 0) return this.state;
    const confidence = rampAt(this.options.eotRamp, frame.end - this.lastSpeechEnd);
    if (confidence === this.state.endOfTurnConfidence && !this.state.speechActive)
      return this.state;
    this.state = { ...this.state, speechActive: false, endOfTurnConfidence: confidence };
    return this.state;
  }

  /** The turn's words with `revealed` words of the current segment; timed evenly up to `until` when `final`. */
  private segmentWords(revealed: number, until: number, final: boolean): ScriptWord[] {
    const segment = this.segment;
    if (segment === undefined || revealed === 0) return this.turnWords;
    const wordSeconds = final
      ? (until - segment.start) / segment.tokens.length
      : this.options.wordMs / 1000;
    const words = segment.tokens.slice(0, revealed).map((word, i) => ({
      word,
      confidence: 0.95,
      start: segment.start + i * wordSeconds,
      end: segment.start + (i + 1) * wordSeconds,
      language: this.options.language,
      ramp: this.options.eotRamp,
    }));
    return [...this.turnWords, ...words];
  }

  private publish(
    words: ScriptWord[],
    speechActive: boolean,
    confidence: number,
  ): RecognitionState {
    const previous = this.state;
    const sameWords =
      previous.words.length === words.length &&
      previous.words.every((w, i) => w.end === words[i]?.end && w.word === words[i]?.word);
    this.state = {
      transcript: sameWords ? previous.transcript : words.map((w) => w.word).join(" "),
      words: sameWords ? previous.words : words.map(toWire),
      speechActive,
      endOfTurnConfidence: words.length === 0 ? 0 : confidence,
      languages: words.length === 0 ? [] : [this.options.language],
    };
    return this.state;
  }

  resetTurn(): void {
    this.turnWords = [];
    // A segment still being spoken (turn forced or timed out mid-speech) continues into
    // the next turn with its words not yet revealed.
    if (this.segment !== undefined) {
      this.segment = {
        tokens: this.segment.tokens.slice(this.revealed),
        start: this.lastSpeechEnd,
      };
      this.revealed = 0;
    }
    this.state = {
      transcript: "",
      words: [],
      speechActive: this.state.speechActive,
      endOfTurnConfidence: 0,
    };
  }

  close(): void {}
}

/**
 * Mean square of every 4th sample: an energy estimate good enough to tell speech from
 * silence (even a 440 Hz tone is well sampled at a quarter of 8 kHz), at a quarter of the
 * cost — it runs on every frame of every session.
 */
function meanSquare(samples: Int16Array): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < samples.length; i += 4) {
    const s = samples[i] ?? 0;
    sum += s * s;
    count += 1;
  }
  return count === 0 ? 0 : sum / count;
}
