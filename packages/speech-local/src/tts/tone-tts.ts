import { setTimeout as sleep } from "node:timers/promises";
import { TTSService } from "@voxpipe/core";
import type { TTSServiceEvents, TTSServiceOptions } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";

/** Settings of {@link ToneTTSService}; change them mid-call with `TTSUpdateSettingsFrame`. */
export interface ToneTTSSettings {
  /** Pitch of the tone, Hz (20–4000: audible on an 8 kHz phone line). Default 440. */
  frequencyHz: number;
  /**
   * Audio per character of the sentence, ms (1–1000), so a reply lasts about as long as it
   * would spoken: 60 ms is ~150 words per minute. Default 60.
   */
  msPerCharacter: number;
}

/** Options of {@link ToneTTSService}. */
export interface ToneTTSServiceOptions extends Omit<
  TTSServiceOptions<ToneTTSSettings>,
  "settings"
> {
  readonly settings?: Partial<ToneTTSSettings>;
  /**
   * Simulated provider time to first byte per sentence, ms (0–10000): the first chunk is
   * yielded this long after the sentence arrives. Default 0.
   */
  readonly firstByteDelayMs?: number;
}

/** Audio handed downstream per frame, ms (as the espeak-ng service does). */
const CHUNK_MS = 100;

function check(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= min && value <= max))
    throw new RangeError(`${name} must be a number from ${min} to ${max}, got ${String(value)}`);
}

/**
 * A TTS for load tests, benchmarks and wiring checks — **not a voice**: each sentence
 * becomes a sine tone `msPerCharacter` × its length long, yielded in 100 ms chunks of one
 * pre-rendered buffer. It runs in-process and costs almost nothing, so a load test measures
 * the framework rather than the synthesizer, and its time to first byte is
 * `firstByteDelayMs` (default 0) plus the event loop's delay — measured per sentence like
 * every TTS (`TTSTextFrame` → first `TTSAudioRawFrame`). `voxpipe serve --tts tone` and
 * `pnpm bench:calls` use it. Sentences, contexts and interruption come from `TTSService`.
 */
export class ToneTTSService extends TTSService<ToneTTSSettings, TTSServiceEvents<ToneTTSSettings>> {
  readonly #firstByteDelayMs: number;
  #chunk: { key: string; pcm: Uint8Array } | undefined;

  /** @throws {RangeError} naming the option or setting when it is out of range. */
  constructor(options: ToneTTSServiceOptions = {}) {
    const settings: ToneTTSSettings = { frequencyHz: 440, msPerCharacter: 60, ...options.settings };
    ToneTTSService.#validate(settings);
    check("firstByteDelayMs", options.firstByteDelayMs, 0, 10_000);
    super({ ...options, settings });
    this.#firstByteDelayMs = options.firstByteDelayMs ?? 0;
  }

  static #validate(settings: Partial<ToneTTSSettings>): void {
    check("frequencyHz", settings.frequencyHz, 20, 4000);
    check("msPerCharacter", settings.msPerCharacter, 1, 1000);
  }

  protected override applySettings(changed: Partial<ToneTTSSettings>): void {
    ToneTTSService.#validate(changed);
  }

  protected override async *synthesize(
    text: string,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    if (this.#firstByteDelayMs > 0)
      await sleep(this.#firstByteDelayMs, undefined, { signal }).catch(() => undefined);
    const chunk = this.#chunkPcm();
    let left =
      Math.round((text.length * this.settings.msPerCharacter * this.sampleRate) / 1000) * 2;
    while (left > 0 && !signal.aborted) {
      const part = left >= chunk.byteLength ? chunk : chunk.subarray(0, left);
      left -= part.byteLength;
      yield part;
    }
  }

  /** One 100 ms chunk of the tone, rendered once per frequency and rate (frames never mutate audio). */
  #chunkPcm(): Uint8Array {
    const key = `${this.settings.frequencyHz}/${this.sampleRate}`;
    if (this.#chunk?.key !== key)
      this.#chunk = {
        key,
        pcm: tonePcm(this.settings.frequencyHz, CHUNK_MS, this.sampleRate, 0.3),
      };
    return this.#chunk.pcm;
  }
}
