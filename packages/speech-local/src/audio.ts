import libsamplerate from "@alexanderolsen/libsamplerate-js";
import { int16ToPcm, pcmToInt16, readWav, resample } from "@voxpipe/core";

type SRC = Awaited<ReturnType<typeof libsamplerate.create>>;

/** Sample rate the recognizer and VAD run at, Hz. */
export const SAMPLE_RATE = 16000;

/**
 * Read a WAV file as 16 kHz mono PCM s16le samples (what the recognizer needs): decoded by
 * `@voxpipe/core`'s `readWav` (any bit depth `wavefile` reads, μ-law and A-law included —
 * telephone recordings), channels averaged, resampled with libsamplerate when the rate differs.
 * @throws Error when the file is not a WAV file wavefile can read.
 */
export async function readWav16k(path: string): Promise<Int16Array> {
  const wav = await readWav(path);
  let samples = pcmToInt16(wav.audio);
  if (wav.numChannels > 1) {
    // Mix down: average the interleaved channels.
    const n = wav.numChannels;
    const mono = new Int16Array(Math.floor(samples.length / n));
    for (let i = 0; i < mono.length; i++) {
      let sum = 0;
      for (let c = 0; c < n; c++) sum += samples[i * n + c];
      mono[i] = Math.round(sum / n);
    }
    samples = mono;
  }
  if (wav.sampleRate === SAMPLE_RATE) return samples;
  return pcmToInt16(await resample(int16ToPcm(samples), wav.sampleRate, SAMPLE_RATE));
}

/**
 * Streaming sample-rate conversion of mono PCM s16le to 16 kHz (libsamplerate through
 * `@alexanderolsen/libsamplerate-js`, sinc "fastest": keeps state across chunks, so chunk
 * edges leave no clicks). For clients that stream 8, 24, 44.1 or 48 kHz.
 */
export class Resampler16k {
  private constructor(private readonly src: SRC) {}

  /** @throws RangeError when `inputRate` is not a positive integer number of Hz. */
  static async create(inputRate: number): Promise<Resampler16k> {
    if (!Number.isInteger(inputRate) || inputRate <= 0) {
      throw new RangeError(`sample_rate must be a positive integer (Hz), got ${inputRate}`);
    }
    const src = await libsamplerate.create(1, inputRate, SAMPLE_RATE, {
      converterType: libsamplerate.ConverterType.SRC_SINC_FASTEST,
    });
    return new Resampler16k(src);
  }

  /** Convert the next chunk; output length varies by a sample or so with the filter state. */
  process(pcm: Int16Array): Int16Array {
    const input = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) input[i] = pcm[i] / 32768;
    const out = this.src.full(input);
    const result = new Int16Array(out.length);
    for (let i = 0; i < out.length; i++)
      result[i] = Math.max(-32768, Math.min(32767, Math.round(out[i] * 32768)));
    return result;
  }

  /** Free the converter's WebAssembly memory. */
  close(): void {
    this.src.destroy();
  }
}
