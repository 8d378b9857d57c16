/**
 * Scripted (fake) services for tests and benchmarks: deterministic, offline, and
 * instrumented so tests can see what was aborted. They are fakes by design — named
 * `Scripted*` — built on the real `LLMService`/`TTSService` base classes, so everything
 * around them (frames, interruption, metrics) is the real code.
 */
import type { LLMContext } from "../aggregators/context.js";
import { LLMService } from "../services/llm.js";
import { TTSService } from "../services/tts.js";
import type { FrameProcessorOptions } from "../processor.js";
import { tonePcm } from "./builders.js";

/** Wait `ms` (global `setTimeout`, so fake timers apply); rejects with an AbortError on abort. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Settings of the scripted LLM (for settings-frame tests). */
export interface ScriptedLLMSettings {
  model: string;
  temperature: number;
}

/** One call of {@link ScriptedLLMService.generate}. */
export interface ScriptedLLMCall {
  /** The messages it was given (snapshot). */
  readonly messages: LLMContext["messages"];
  /** Tokens yielded before it finished or was aborted. */
  tokens: number;
  /** Whether the signal aborted it. */
  aborted: boolean;
}

/**
 * An LLM that streams scripted replies token by token, `tokenDelayMs` apart.
 * `replies` is used in order (the last one repeats); or pass a function of the context.
 */
export class ScriptedLLMService extends LLMService<ScriptedLLMSettings> {
  readonly calls: ScriptedLLMCall[] = [];
  readonly #replies: readonly (readonly string[])[] | ((context: LLMContext) => readonly string[]);
  readonly #tokenDelayMs: number;

  constructor(
    options: FrameProcessorOptions & {
      replies: readonly (readonly string[])[] | ((context: LLMContext) => readonly string[]);
      tokenDelayMs?: number;
      settings?: ScriptedLLMSettings;
    },
  ) {
    super({ ...options, settings: options.settings ?? { model: "scripted", temperature: 0 } });
    this.#replies = options.replies;
    this.#tokenDelayMs = options.tokenDelayMs ?? 0;
  }

  protected override async *generate(
    context: LLMContext,
    signal: AbortSignal,
  ): AsyncIterable<string> {
    const replies = this.#replies;
    const tokens =
      typeof replies === "function"
        ? replies(context)
        : (replies[Math.min(this.calls.length, replies.length - 1)] ?? []);
    const call: ScriptedLLMCall = { messages: context.messages, tokens: 0, aborted: false };
    this.calls.push(call);
    const onAbort = (): void => {
      call.aborted = true;
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (const token of tokens) {
        if (this.#tokenDelayMs > 0) await abortableSleep(this.#tokenDelayMs, signal);
        call.tokens++;
        yield token;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
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
