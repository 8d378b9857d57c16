import { StreamResampler, TTSService } from "@voxpipe/core";
import type { StartFrame, TTSServiceEvents, TTSServiceOptions } from "@voxpipe/core";
import { synthesizeWithEspeak, validateEspeakOptions } from "./espeak.js";

/** Settings of {@link EspeakTTSService}; change them mid-call with `TTSUpdateSettingsFrame`. */
export interface EspeakTTSSettings {
  /** espeak-ng voice (`-v`), e.g. `"en-us"`, `"en-gb"`, `"de"`, `"en-us+f3"`. Default `"en-us"`. */
  voice: string;
  /** Speaking rate, words per minute (`-s`, 80–450). Default 175. */
  wordsPerMinute: number;
  /** Pitch 0–99 (`-p`). Default 50. */
  pitch: number;
}

/** Options of {@link EspeakTTSService}. */
export interface EspeakTTSServiceOptions extends Omit<
  TTSServiceOptions<EspeakTTSSettings>,
  "settings"
> {
  readonly settings?: Partial<EspeakTTSSettings>;
  /** espeak-ng executable. Default `"espeak-ng"` from `PATH`. */
  readonly command?: string;
}

/** Audio handed downstream per frame, ms: small enough for a prompt interruption. */
const CHUNK_MS = 100;
/** espeak-ng's output rate for all its voices, Hz. */
const ESPEAK_RATE = 22050;

/**
 * Offline text-to-speech with espeak-ng (a subprocess per sentence, `--stdout` WAV),
 * resampled from its native 22050 Hz to the pipeline's output rate with libsamplerate.
 * Robotic but instant (a sentence in tens of ms) and installed by `scripts/bootstrap.sh`;
 * the default voice of the offline agent. Sentence aggregation, contexts and interruption
 * come from `TTSService`: an interruption kills the espeak-ng process of the sentence in flight.
 */
export class EspeakTTSService extends TTSService<
  EspeakTTSSettings,
  TTSServiceEvents<EspeakTTSSettings>
> {
  readonly #command: string | undefined;
  #resampler: StreamResampler | undefined;

  /** @throws {RangeError} naming the setting when a voice option is out of range. */
  constructor(options: EspeakTTSServiceOptions = {}) {
    const settings: EspeakTTSSettings = {
      voice: "en-us",
      wordsPerMinute: 175,
      pitch: 50,
      ...options.settings,
    };
    validateEspeakOptions(settings);
    super({ ...options, settings });
    this.#command = options.command;
  }

  protected override applySettings(changed: Partial<EspeakTTSSettings>): void {
    validateEspeakOptions(changed);
  }

  /** Prepares the resampler before the first reply (creating one costs far more than using it). */
  protected override async onStart(_frame: StartFrame): Promise<void> {
    await this.#resamplerFor(ESPEAK_RATE);
  }

  protected override onCleanup(): void {
    this.#resampler?.destroy();
    this.#resampler = undefined;
  }

  protected override async *synthesize(
    text: string,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    const { pcm, sampleRate } = await synthesizeWithEspeak(
      text,
      { ...this.settings, ...(this.#command !== undefined && { command: this.#command }) },
      signal,
    );
    // Each sentence is resampled whole (no filter state carried into the next sentence);
    // libsamplerate's fastest sinc converter is ample for a synthetic voice.
    const audio =
      sampleRate === this.sampleRate
        ? pcm
        : (await this.#resamplerFor(sampleRate)).processWhole(pcm);
    const step = Math.round((this.sampleRate * CHUNK_MS) / 1000) * 2;
    for (let offset = 0; offset < audio.byteLength; offset += step) {
      if (signal.aborted) return;
      yield audio.subarray(offset, offset + step);
    }
  }

  async #resamplerFor(inputRate: number): Promise<StreamResampler> {
    if (
      this.#resampler?.inputRate !== inputRate ||
      this.#resampler.outputRate !== this.sampleRate
    ) {
      this.#resampler?.destroy();
      this.#resampler = await StreamResampler.create({
        inputRate,
        outputRate: this.sampleRate,
        quality: "fastest",
      });
    }
    return this.#resampler;
  }
}
