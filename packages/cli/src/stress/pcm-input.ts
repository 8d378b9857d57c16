import { readWav, resample } from "@voxpipe/core";
import { BaseInputTransport, downmixToMono } from "@voxpipe/transports";
import type { InputTransportOptions } from "@voxpipe/transports";

/**
 * Decodes a WAV file once for every connection of a run: `@voxpipe/core`'s `readWav`
 * (`wavefile`: any bit depth, μ-law, A-law), mixed down to mono, resampled to `sampleRate`
 * (libsamplerate) — the same steps as `WavFileInputTransport`, done once instead of once per
 * connection. Returns mono PCM s16le.
 * @throws Error when the file cannot be read or is not a WAV file.
 */
export async function decodeWavFile(path: string, sampleRate: number): Promise<Uint8Array> {
  const wav = await readWav(path);
  return resample(downmixToMono(wav.audio, wav.numChannels), wav.sampleRate, sampleRate);
}

/** Options of {@link SharedPcmInputTransport}. */
export interface SharedPcmInputOptions extends InputTransportOptions {
  /** Mono PCM s16le at `sampleRate`; shared, never copied or modified. */
  readonly audio: Uint8Array;
  /** Start again at the beginning when the audio ends (`--loop`), until the run is stopped. */
  readonly loop?: boolean;
  /**
   * Where in the audio the first pass starts, as a fraction of its length in [0, 1); later
   * passes of a looped input start at the beginning. Default 0. (`--stagger` spreads the
   * connections of a run over the file, so they do not all reach a turn's end at once.)
   * @throws RangeError (from the constructor) outside [0, 1).
   */
  readonly startFraction?: number;
}

/**
 * An input transport over audio already in memory (one decoded WAV shared by every
 * connection of a stress run), optionally looped. Framing, real-time pacing and the graceful
 * end at the end of the audio are the transport base's (`@voxpipe/transports`).
 */
export class SharedPcmInputTransport extends BaseInputTransport {
  readonly #audio: Uint8Array;
  readonly #loop: boolean;
  /** Byte offset of the first pass (whole samples). */
  readonly #start: number;

  constructor(options: SharedPcmInputOptions) {
    super(options);
    if (options.audio.byteLength < 2) throw new RangeError("audio must hold at least one sample");
    this.#audio = options.audio;
    this.#loop = options.loop ?? false;
    const fraction = options.startFraction ?? 0;
    if (!(fraction >= 0 && fraction < 1)) {
      throw new RangeError(`startFraction: ${fraction} is not in [0, 1)`);
    }
    this.#start = Math.floor((options.audio.byteLength / 2) * fraction) * 2;
  }

  protected override describeSource(): string {
    return `${(this.#audio.byteLength / 2 / this.sampleRate).toFixed(2)} s of audio${this.#loop ? ", looped" : ""}`;
  }

  // The base class reads an async iterable; audio in memory has nothing to wait for.
  // eslint-disable-next-line @typescript-eslint/require-await
  protected override async *readAudio(
    _sampleRate: number,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    // A second at a time keeps framing lazy; the loop ends when the run stops (signal).
    const step = this.sampleRate * 2;
    let start = this.#start;
    do {
      for (let offset = start; offset < this.#audio.byteLength && !signal.aborted; offset += step) {
        yield this.#audio.subarray(offset, offset + step);
      }
      start = 0;
    } while (this.#loop && !signal.aborted);
  }
}
