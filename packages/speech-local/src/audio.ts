import { readFile } from "node:fs/promises";
import libsamplerate from "@alexanderolsen/libsamplerate-js";
import wavefile from "wavefile";

type SRC = Awaited<ReturnType<typeof libsamplerate.create>>;

/** Sample rate the recognizer and VAD run at, Hz. */
export const SAMPLE_RATE = 16000;

/**
 * Read a WAV file as 16 kHz mono PCM s16le samples (what the recognizer needs), converting
 * rate, channels and bit depth with `wavefile` when the file differs.
 * @throws Error when the file is not a WAV file wavefile can read.
 */
export async function readWav16k(path: string): Promise<Int16Array> {
  const wav = new wavefile.WaveFile(await readFile(path));
  const fmt = wav.fmt as { numChannels: number; sampleRate: number };
  if (wav.bitDepth !== "16") wav.toBitDepth("16");
  if (fmt.sampleRate !== SAMPLE_RATE) wav.toSampleRate(SAMPLE_RATE);
  let samples = wav.getSamples(false, Int16Array) as unknown as Int16Array | Int16Array[];
  if (Array.isArray(samples)) {
    // Mix down: average the channels.
    const chans = samples;
    samples = new Int16Array(chans[0].length);
    for (let i = 0; i < samples.length; i++) {
      let sum = 0;
      for (const c of chans) sum += c[i];
      samples[i] = Math.round(sum / chans.length);
    }
  }
  void fmt;
  return samples;
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
