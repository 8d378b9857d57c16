import { readWav, resample } from "@voxpipe/core";
import { BaseInputTransport } from "./base-input.js";
import type { InputTransportOptions } from "./base-input.js";
import { downmixToMono } from "./pcm.js";

/** Options of {@link WavFileInputTransport}. */
export interface WavFileInputOptions extends InputTransportOptions {
  /** Path of the WAV file (any bit depth `wavefile` reads: 8/16/24/32-bit, float, μ-law, A-law). */
  readonly path: string;
}

/**
 * Plays a WAV file into the pipeline as a caller would speak it: decoded with `wavefile`
 * (through `@voxpipe/core`'s `readWav`), mixed down to mono, resampled to the pipeline's input
 * rate (libsamplerate), cut into 20 ms frames and paced in real time (`realtime: false` for
 * as fast as the pipeline takes it). The end of the file ends the run gracefully.
 */
export class WavFileInputTransport extends BaseInputTransport {
  readonly #path: string;

  constructor(options: WavFileInputOptions) {
    super(options);
    if (typeof options.path !== "string" || options.path === "") {
      throw new RangeError(
        `path must be the path of a WAV file, got ${JSON.stringify(options.path)}`,
      );
    }
    this.#path = options.path;
  }

  protected override describeSource(): string {
    return `WAV file ${this.#path}`;
  }

  protected override async *readAudio(sampleRate: number): AsyncGenerator<Uint8Array> {
    const wav = await readWav(this.#path);
    const mono = downmixToMono(wav.audio, wav.numChannels);
    const audio = await resample(mono, wav.sampleRate, sampleRate);
    // Hand the audio over a second at a time, so framing stays lazy for long files.
    const step = sampleRate * 2;
    for (let offset = 0; offset < audio.byteLength; offset += step)
      yield audio.subarray(offset, offset + step);
  }
}
