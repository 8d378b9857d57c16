/**
 * Scripted (fake) services for tests and benchmarks: deterministic, offline, and
 * instrumented so tests can see what was aborted. They are fakes by design — named
 * `Scripted*` — built on the real `LLMService`/`TTSService` base classes, so everything
 * around them (frames, interruption, metrics) is the real code.
 */
import type { LLMContext } from "../aggregators/context.js";
import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  meanWordConfidence,
  StartOfTurnFrame,
  TranscriptionFrame,
  TurnResumedFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
} from "../frames.js";
import type { Frame, InputAudioRawFrame, Word } from "../frames.js";
import type { LLMStreamChunk, LLMToolCallDelta } from "../services/functions.js";
import { LLMService } from "../services/llm.js";
import type { LLMServiceOptions } from "../services/llm.js";
import { STTService } from "../services/stt.js";
import { TTSService } from "../services/tts.js";
import type { FrameProcessorOptions } from "../processor.js";
import { tonePcm } from "./builders.js";
import { abortableSleep } from "../clock.js";

/** Re-exported here for the tests that imported it from `@voxpipe/core/testing`. */
export { abortableSleep };

/** Settings of the scripted LLM (for settings-frame tests). */
export interface ScriptedLLMSettings {
  model: string;
  temperature: number;
}

/** A function call in a scripted reply. */
export interface ScriptedToolCall {
  readonly toolCall: {
    readonly name: string;
    /** The arguments: an object (sent as JSON) or raw JSON text (to test bad JSON). Default `{}`. */
    readonly arguments?: unknown;
    /** Tool-call id. Default `call_<n>` (n counts calls across the service's replies). */
    readonly id?: string;
  };
}

/** One item of a scripted reply: a text token, or a function call. */
export type ScriptedLLMToken = string | ScriptedToolCall;

/** A streamed tool call: the call's fragments, as OpenAI streams them. */
export interface ToolCallDeltaOptions {
  /** Characters of `arguments` per fragment. Default 7 (splits JSON mid-token, as OpenAI does). */
  readonly chunkChars?: number;
}

/**
 * The fragments OpenAI's streaming API sends for one tool call (Chat Completions streaming,
 * `delta.tool_calls[]`): a first fragment with `index`, `id`, `function.name` and empty
 * `arguments`, then the arguments' JSON in pieces under the same `index`.
 */
export function toolCallDeltas(
  index: number,
  call: { readonly id: string; readonly name: string; readonly arguments: string },
  options: ToolCallDeltaOptions = {},
): LLMToolCallDelta[] {
  const size = options.chunkChars ?? 7;
  const deltas: LLMToolCallDelta[] = [{ index, id: call.id, name: call.name, arguments: "" }];
  for (let i = 0; i < call.arguments.length; i += size) {
    deltas.push({ index, arguments: call.arguments.slice(i, i + size) });
  }
  return deltas;
}

/** JSON text of scripted arguments (strings are taken as raw JSON text). */
export function scriptedArguments(args: unknown): string {
  return typeof args === "string" ? args : JSON.stringify(args ?? {});
}

/** One call of {@link ScriptedLLMService.generate}. */
export interface ScriptedLLMCall {
  /** The messages it was given (snapshot). */
  readonly messages: LLMContext["messages"];
  /** The tools it was given (snapshot). */
  readonly tools: LLMContext["tools"];
  /** Items (text tokens and tool-call fragments) yielded before it finished or was aborted. */
  tokens: number;
  /** Whether the signal aborted it. */
  aborted: boolean;
}

/** Options of {@link ScriptedLLMService}. */
export interface ScriptedLLMServiceOptions
  extends FrameProcessorOptions, Omit<LLMServiceOptions<ScriptedLLMSettings>, "settings"> {
  /**
   * The replies, used in order (the last one repeats), or a function of the context (e.g.
   * "if the last message is a tool result, say it"). Function calls stream as OpenAI
   * streams them (see {@link toolCallDeltas}); several in one reply are parallel calls.
   */
  readonly replies:
    | readonly (readonly ScriptedLLMToken[])[]
    | ((context: LLMContext) => readonly ScriptedLLMToken[]);
  /** Delay before each item, ms. Default 0. */
  readonly tokenDelayMs?: number;
  readonly settings?: ScriptedLLMSettings;
}

/**
 * An LLM that streams scripted replies item by item, `tokenDelayMs` apart: text tokens
 * and function calls (as OpenAI-style fragments, so the real assembly code runs).
 */
export class ScriptedLLMService extends LLMService<ScriptedLLMSettings> {
  readonly calls: ScriptedLLMCall[] = [];
  readonly #replies: ScriptedLLMServiceOptions["replies"];
  readonly #tokenDelayMs: number;
  #toolCallCount = 0;

  constructor(options: ScriptedLLMServiceOptions) {
    super({ ...options, settings: options.settings ?? { model: "scripted", temperature: 0 } });
    this.#replies = options.replies;
    this.#tokenDelayMs = options.tokenDelayMs ?? 0;
  }

  protected override async *generate(
    context: LLMContext,
    signal: AbortSignal,
  ): AsyncIterable<LLMStreamChunk> {
    const replies = this.#replies;
    const tokens =
      typeof replies === "function"
        ? replies(context)
        : (replies[Math.min(this.calls.length, replies.length - 1)] ?? []);
    const call: ScriptedLLMCall = {
      messages: context.messages,
      tools: context.tools,
      tokens: 0,
      aborted: false,
    };
    this.calls.push(call);
    const onAbort = (): void => {
      call.aborted = true;
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      let index = 0;
      for (const token of tokens) {
        const items =
          typeof token === "string"
            ? [token]
            : toolCallDeltas(index++, {
                id: token.toolCall.id ?? `call_${++this.#toolCallCount}`,
                name: token.toolCall.name,
                arguments: scriptedArguments(token.toolCall.arguments),
              });
        for (const item of items) {
          if (this.#tokenDelayMs > 0) await abortableSleep(this.#tokenDelayMs, signal);
          call.tokens++;
          yield item;
        }
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/**
 * One scripted user turn. Times are **seconds of input audio** (the audio the service has
 * received), like Flux's `audio_window_*` and word times.
 */
export interface ScriptedTurn {
  /** The final transcript. */
  readonly transcript: string;
  /** `StartOfTurn` (+ `UserStartedSpeakingFrame`) when the audio reaches this time. */
  readonly startAt: number;
  /** End of the last word (speech end). Default `endAt − 0.25`. */
  readonly speechEndAt?: number;
  /** `EagerEndOfTurn` (with the whole transcript) at this time, if set. */
  readonly eagerAt?: number;
  /** `TurnResumed` at this time (after `eagerAt`), if set; a second eager is not sent. */
  readonly resumedAt?: number;
  /** `TranscriptionFrame` + `EndOfTurnFrame` + `UserStoppedSpeakingFrame` at this time. */
  readonly endAt: number;
  /** Words' confidence. Default 0.95. */
  readonly confidence?: number;
}

/** Options of {@link ScriptedSTTService}. */
export interface ScriptedSTTServiceOptions extends FrameProcessorOptions {
  /** The turns, in order; their times must not overlap. */
  readonly turns: readonly ScriptedTurn[];
}

/**
 * **Fake** STT: emits the turn frames of a script as the input audio reaches their times —
 * the frames `DeepgramFluxSTTService` emits for Flux, in its order — with no socket and no
 * server, so processors after the STT can be tested on turns (including eager end of turn
 * and resumed turns). Feed it audio (e.g. `silenceFrames`); audio is forwarded.
 *
 * @throws {RangeError} on a turn whose times are not increasing (start ≤ eager < resumed,
 *   speech end ≤ end) or that overlaps the previous one.
 */
export class ScriptedSTTService extends STTService<Record<string, never>> {
  readonly #events: { readonly at: number; readonly frames: () => Frame[] }[] = [];
  #audioSeconds = 0;
  #next = 0;

  constructor(options: ScriptedSTTServiceOptions) {
    super({ ...options, settings: {} });
    let previousEnd = -Infinity;
    for (const [turnIndex, turn] of options.turns.entries()) {
      const speechEnd = turn.speechEndAt ?? turn.endAt - 0.25;
      const ok =
        turn.startAt >= previousEnd &&
        turn.startAt <= speechEnd &&
        speechEnd <= turn.endAt &&
        (turn.eagerAt === undefined ||
          (turn.eagerAt >= turn.startAt && turn.eagerAt <= turn.endAt)) &&
        (turn.resumedAt === undefined ||
          (turn.eagerAt !== undefined &&
            turn.resumedAt > turn.eagerAt &&
            turn.resumedAt <= turn.endAt));
      if (!ok) {
        throw new RangeError(
          `turns[${turnIndex}]: times must increase (startAt ≤ eagerAt < resumedAt ≤ endAt, speechEndAt ≤ endAt) and not overlap the previous turn, got ${JSON.stringify(turn)}`,
        );
      }
      previousEnd = turn.endAt;
      this.#schedule(turnIndex, turn, speechEnd);
    }
    this.#events.sort((a, b) => a.at - b.at);
  }

  /** Seconds of input audio received so far. */
  get audioSeconds(): number {
    return this.#audioSeconds;
  }

  protected override runStt(_audio: Uint8Array, frame: InputAudioRawFrame): void {
    this.#audioSeconds += frame.durationMs / 1000;
    while (this.#next < this.#events.length) {
      const event = this.#events[this.#next];
      if (event === undefined || event.at > this.#audioSeconds + 1e-9) break;
      this.#next++;
      for (const f of event.frames()) this.push(f);
    }
  }

  #schedule(turnIndex: number, turn: ScriptedTurn, speechEnd: number): void {
    const texts = turn.transcript.split(/\s+/).filter((w) => w !== "");
    const span = Math.max(speechEnd - turn.startAt, 0.01) / Math.max(texts.length, 1);
    const words: Word[] = texts.map((word, i) => ({
      word,
      confidence: turn.confidence ?? 0.95,
      start: turn.startAt + i * span,
      end: turn.startAt + (i + 1) * span,
    }));
    const fields = (at: number, eot: number) => ({
      turnIndex,
      transcript: turn.transcript,
      words,
      audioWindowStart: turn.startAt,
      audioWindowEnd: at,
      endOfTurnConfidence: eot,
    });
    this.#events.push({
      at: turn.startAt,
      frames: () => [
        new StartOfTurnFrame({ ...fields(turn.startAt, 0.05), transcript: "", words: [] }),
        new UserStartedSpeakingFrame(),
      ],
    });
    if (turn.eagerAt !== undefined) {
      const at = turn.eagerAt;
      this.#events.push({ at, frames: () => [new EagerEndOfTurnFrame(fields(at, 0.5))] });
    }
    if (turn.resumedAt !== undefined) {
      const at = turn.resumedAt;
      this.#events.push({ at, frames: () => [new TurnResumedFrame(fields(at, 0.2))] });
    }
    this.#events.push({
      at: turn.endAt,
      frames: () => [
        new TranscriptionFrame({
          ...fields(turn.endAt, 0.9),
          text: turn.transcript,
          trigger: "model",
          confidence: meanWordConfidence(words),
        }),
        new EndOfTurnFrame({ ...fields(turn.endAt, 0.9), trigger: "model" }),
        new UserStoppedSpeakingFrame(),
      ],
    });
  }
}

/** Settings of the scripted TTS. */
export interface ScriptedTTSSettings {
  voice: string;
}

/**
 * A TTS that "speaks" each sentence as a 440 Hz tone: `chunksPerSentence` chunks of
 * `chunkMs` each, `chunkDelayMs` apart. Records what it was asked to say.
 */
export class ScriptedTTSService extends TTSService<ScriptedTTSSettings> {
  /** Sentences synthesized, in order. */
  readonly spoken: string[] = [];
  /** Sentences whose synthesis was aborted. */
  readonly aborted: string[] = [];
  readonly #chunks: number;
  readonly #chunkMs: number;
  readonly #delayMs: number;

  constructor(
    options: FrameProcessorOptions & {
      chunksPerSentence?: number;
      chunkMs?: number;
      chunkDelayMs?: number;
      sampleRate?: number;
      aggregateSentences?: boolean;
      settings?: ScriptedTTSSettings;
    } = {},
  ) {
    super({ ...options, settings: options.settings ?? { voice: "tone" } });
    this.#chunks = options.chunksPerSentence ?? 2;
    this.#chunkMs = options.chunkMs ?? 20;
    this.#delayMs = options.chunkDelayMs ?? 0;
  }

  protected override async *synthesize(
    text: string,
    signal: AbortSignal,
  ): AsyncIterable<Uint8Array> {
    this.spoken.push(text);
    const onAbort = (): void => {
      this.aborted.push(text);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (let i = 0; i < this.#chunks; i++) {
        if (this.#delayMs > 0) await abortableSleep(this.#delayMs, signal);
        yield tonePcm(440, this.#chunkMs, this.sampleRate);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}
