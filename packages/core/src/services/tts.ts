/**
 * `TTSService`: text in, audio out, sentence by sentence.
 */
import { randomUUID } from "node:crypto";
import {
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  TextFrame,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  TTSUpdateSettingsFrame,
} from "../frames.js";
import type { Frame, EndFrame } from "../frames.js";
import type { FrameDirection } from "../processor.js";
import { AIService } from "./ai-service.js";
import type { AIServiceEvents, AIServiceOptions } from "./ai-service.js";

/** Events of TTS services. */
export type TTSServiceEvents<TSettings> = AIServiceEvents<TSettings>;

/** Constructor options of {@link TTSService}. */
export interface TTSServiceOptions<TSettings> extends AIServiceOptions<TSettings> {
  /** Sample rate of the audio `synthesize` yields, Hz. Default: the StartFrame's `audioOutSampleRate`. */
  readonly sampleRate?: number;
  /** Number of channels of that audio. Default 1. */
  readonly numChannels?: number;
  /** Speak whole sentences (true) or each text frame as it comes (false). Default true. */
  readonly aggregateSentences?: boolean;
  /** Locale for sentence segmentation (`Intl.Segmenter`). Default `"en"`. */
  readonly locale?: string;
}

/**
 * Splits streamed text into sentences with `Intl.Segmenter` (ICU sentence rules, built
 * into Node): a sentence is complete once the segmenter starts another one after it.
 * Known ICU limit: abbreviations such as "Dr." end a sentence.
 */
export class SentenceAggregator {
  readonly #segmenter: Intl.Segmenter;
  #buffer = "";

  constructor(locale = "en") {
    this.#segmenter = new Intl.Segmenter(locale, { granularity: "sentence" });
  }

  /** Add text; returns the sentences it completed (trimmed, non-empty). */
  push(text: string): string[] {
    this.#buffer += text;
    const segments = Array.from(this.#segmenter.segment(this.#buffer), (s) => s.segment);
    if (segments.length < 2) return [];
    this.#buffer = segments.at(-1) ?? "";
    return segments
      .slice(0, -1)
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  /** Return what is left (trimmed; may be empty) and clear. */
  flush(): string {
    const rest = this.#buffer.trim();
    this.#buffer = "";
    return rest;
  }

  /** Drop buffered text (interruption). */
  reset(): void {
    this.#buffer = "";
  }
}

/**
 * Base class of TTS services.
 *
 * - Speaks `LLMTextFrame`s and plain `TextFrame`s (forwarded unchanged, so the assistant
 *   aggregator sees the reply), aggregated into sentences; `LLMFullResponseEndFrame` and
 *   `EndFrame` flush the rest. `TTSSpeakFrame` text is spoken as its own context
 *   (consumed). Transcriptions (also text frames) are forwarded, never spoken.
 * - Per context (one LLM response or one `TTSSpeakFrame`): `TTSStartedFrame`, then per
 *   sentence a `TTSTextFrame` and its `TTSAudioRawFrame`s, then `TTSStoppedFrame`.
 * - Interruption: synthesis gets the processor's signal and is aborted at once; buffered
 *   text is dropped; nothing more is pushed for the interrupted context.
 * - `TTSUpdateSettingsFrame` → {@link updateSettings}. Metrics: TTFB per sentence.
 */
export abstract class TTSService<
  TSettings extends object,
  TEvents extends TTSServiceEvents<TSettings> = TTSServiceEvents<TSettings>,
> extends AIService<TSettings, TEvents> {
  readonly #sampleRate: number | undefined;
  readonly #numChannels: number;
  readonly #aggregate: boolean;
  readonly #sentences: SentenceAggregator;
  #contextId: string | undefined;
  #contextStarted = false;

  constructor(options: TTSServiceOptions<TSettings>) {
    super(options);
    this.#sampleRate = options.sampleRate;
    this.#numChannels = options.numChannels ?? 1;
    this.#aggregate = options.aggregateSentences ?? true;
    this.#sentences = new SentenceAggregator(options.locale);
  }

  /** Output sample rate in Hz (option, else StartFrame, else 24000). */
  get sampleRate(): number {
    return this.#sampleRate ?? this.startFrame?.audioOutSampleRate ?? 24000;
  }

  /**
   * Synthesize one sentence: yield PCM s16le chunks at {@link sampleRate}. Must stop
   * promptly when `signal` aborts.
   */
  protected abstract synthesize(text: string, signal: AbortSignal): AsyncIterable<Uint8Array>;

  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === "upstream") {
      this.push(frame, direction);
      return;
    }
    if (frame instanceof TTSSpeakFrame) return this.#speakVerbatim(frame.text);
    if (frame instanceof LLMTextFrame || frame.constructor === TextFrame) {
      this.push(frame, direction);
      const text = frame.text;
      if (!this.#aggregate) return this.#speak(text, this.signal);
      return this.#speakAll(this.#sentences.push(text), this.signal);
    }
    if (frame instanceof LLMFullResponseStartFrame) {
      this.#newContext();
      this.push(frame, direction);
      return;
    }
    if (frame instanceof LLMFullResponseEndFrame) {
      return this.#finishContext(this.signal).then(() => this.push(frame, direction));
    }
    if (frame instanceof TTSUpdateSettingsFrame && this.isForThisService(frame)) {
      return this.handleSettingsFrame(frame as TTSUpdateSettingsFrame<TSettings>);
    }
    this.push(frame, direction);
  }

  protected override onEnd(_frame: EndFrame): Promise<void> {
    return this.#finishContext(this.signal);
  }

  protected override onInterruption(): void {
    this.#sentences.reset();
    this.#contextId = undefined;
    this.#contextStarted = false;
  }

  #newContext(): void {
    this.#sentences.reset();
    this.#contextId = randomUUID();
    this.#contextStarted = false;
  }

  // Every method below takes the signal captured when its work started: after an
  // interruption, `this.signal` is a fresh signal, and abandoned work must not pick it up.
  async #finishContext(signal: AbortSignal): Promise<void> {
    const rest = this.#sentences.flush();
    if (rest !== "") await this.#speak(rest, signal);
    if (signal.aborted) return;
    if (this.#contextStarted) this.push(new TTSStoppedFrame({ contextId: this.#contextId }));
    this.#contextStarted = false;
    this.#contextId = undefined;
  }

  async #speakVerbatim(text: string): Promise<void> {
    // Whatever an LLM response left unsaid goes first, then the verbatim text alone.
    const signal = this.signal;
    await this.#finishContext(signal);
    if (signal.aborted) return;
    this.#newContext();
    await this.#speak(text, signal);
    await this.#finishContext(signal);
  }

  async #speakAll(sentences: string[], signal: AbortSignal): Promise<void> {
    for (const sentence of sentences) await this.#speak(sentence, signal);
  }

  async #speak(text: string, signal: AbortSignal): Promise<void> {
    if (text.trim() === "" || signal.aborted) return;
    this.#contextId ??= randomUUID();
    const contextId = this.#contextId;
    if (!this.#contextStarted) {
      this.#contextStarted = true;
      this.push(new TTSStartedFrame({ contextId }));
    }
    this.push(new TTSTextFrame({ text, contextId }));
    this.startTtfbMetrics();
    let first = true;
    try {
      for await (const audio of this.synthesize(text, signal)) {
        if (signal.aborted) return;
        if (first) {
          this.stopTtfbMetrics();
          first = false;
        }
        if (audio.byteLength === 0) continue;
        this.push(
          new TTSAudioRawFrame({
            audio,
            sampleRate: this.sampleRate,
            numChannels: this.#numChannels,
            contextId,
          }),
        );
      }
    } catch (err) {
      if (signal.aborted) return;
      this.pushError(
        `${this.name}: synthesis failed: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
}
