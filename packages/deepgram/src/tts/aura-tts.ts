import { StreamResampler, TTSService } from "@voxpipe/core";
import type { TTSServiceEvents, TTSServiceOptions } from "@voxpipe/core";
import { AURA_DEFAULTS, AURA_SAMPLE_RATES, streamAuraSpeech, validateAuraOptions } from "./aura.js";

/** Settings of {@link DeepgramAuraTTSService}; change them mid-call with `TTSUpdateSettingsFrame`. */
export interface DeepgramAuraTTSSettings {
  /** Aura voice model, e.g. `"aura-2-thalia-en"`, `"aura-2-andromeda-en"`. Default `"aura-2-thalia-en"`. */
  model: string;
}

/** Options of {@link DeepgramAuraTTSService}. */
export interface DeepgramAuraTTSServiceOptions extends Omit<
  TTSServiceOptions<DeepgramAuraTTSSettings>,
  "settings"
> {
  readonly settings?: Partial<DeepgramAuraTTSSettings>;
  /** Deepgram API key. Default `DEEPGRAM_API_KEY`. Never logged. */
  readonly apiKey?: string;
  /** REST base URL. Default `https://api.deepgram.com`. */
  readonly baseUrl?: string;
  /** Request timeout, ms. Default 10000. */
  readonly timeoutMs?: number;
}

/**
 * Deepgram Aura text-to-speech (the cloud voice) through `@deepgram/sdk`: one streamed
 * `POST /v1/speak` (`linear16`, no container) per sentence; audio is pushed as it arrives.
 * Aura's rate is requested to match the pipeline's output rate when Aura offers it
 * (8, 16, 24, 32, 48 kHz), otherwise 24 kHz is requested and resampled.
 * An interruption cancels the HTTP request at once.
 *
 * @throws {Error} at construction without an API key (option or `DEEPGRAM_API_KEY`).
 */
export class DeepgramAuraTTSService extends TTSService<
  DeepgramAuraTTSSettings,
  TTSServiceEvents<DeepgramAuraTTSSettings>
> {
  readonly #apiKey: string;
  readonly #baseUrl: string | undefined;
  readonly #timeoutMs: number | undefined;

  constructor(options: DeepgramAuraTTSServiceOptions = {}) {
    const settings: DeepgramAuraTTSSettings = { model: AURA_DEFAULTS.model, ...options.settings };
    validateAuraOptions(settings);
    super({ ...options, settings });
    const apiKey = options.apiKey ?? process.env.DEEPGRAM_API_KEY;
    if (!apiKey)
      throw new Error(
        "DeepgramAuraTTSService needs a Deepgram API key: pass apiKey or set DEEPGRAM_API_KEY",
      );
    this.#apiKey = apiKey;
    this.#baseUrl = options.baseUrl;
    this.#timeoutMs = options.timeoutMs;
  }

  protected override applySettings(changed: Partial<DeepgramAuraTTSSettings>): void {
    validateAuraOptions(changed);
  }

  protected override async *synthesize(
    text: string,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    const outRate = this.sampleRate;
    const auraRate = (AURA_SAMPLE_RATES as readonly number[]).includes(outRate)
      ? outRate
      : AURA_DEFAULTS.sampleRate;
    const resampler =
      auraRate === outRate
        ? undefined
        : await StreamResampler.create({ inputRate: auraRate, outputRate: outRate });
    let odd: number | undefined;
    try {
      const chunks = streamAuraSpeech(
        text,
        {
          apiKey: this.#apiKey,
          model: this.settings.model,
          sampleRate: auraRate,
          ...(this.#baseUrl !== undefined && { baseUrl: this.#baseUrl }),
          ...(this.#timeoutMs !== undefined && { timeoutMs: this.#timeoutMs }),
        },
        signal,
      );
      for await (const chunk of chunks) {
        // HTTP chunks may split a 16-bit sample: carry the odd byte to the next chunk.
        let bytes = chunk;
        if (odd !== undefined) {
          bytes = new Uint8Array(chunk.byteLength + 1);
          bytes[0] = odd;
          bytes.set(chunk, 1);
          odd = undefined;
        }
        if (bytes.byteLength % 2 === 1) {
          odd = bytes[bytes.byteLength - 1];
          bytes = bytes.subarray(0, bytes.byteLength - 1);
        }
        if (bytes.byteLength === 0) continue;
        yield resampler ? resampler.process(bytes) : bytes;
      }
    } finally {
      resampler?.destroy();
    }
  }
}
