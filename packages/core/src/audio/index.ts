/**
 * Audio utilities, built on libraries (design.md "Conventions"): WAV I/O and bit-depth
 * conversion of files with `wavefile`, μ-law/A-law with `alawmulaw`, resampling with
 * `@alexanderolsen/libsamplerate-js` (libsamplerate compiled to WebAssembly; works
 * offline, streaming through its "full" API).
 *
 * Internal audio format: PCM signed 16-bit little-endian (s16le) in `Uint8Array`s.
 */
import { readFile } from "node:fs/promises";
import alawmulaw from "alawmulaw";
import wavefile from "wavefile";
import type * as LibSampleRate from "@alexanderolsen/libsamplerate-js";

type LibSampleRateModule = typeof LibSampleRate;
type SRC = Awaited<ReturnType<LibSampleRateModule["create"]>>;

/** libsamplerate's WebAssembly is loaded on first use, not when `@voxpipe/core` is imported. */
async function loadLibSampleRate(): Promise<LibSampleRateModule> {
  const mod = (await import("@alexanderolsen/libsamplerate-js")) as LibSampleRateModule & {
    default?: LibSampleRateModule;
  };
  return mod.default ?? mod;
}

/** Decoded PCM audio. */
export interface PcmAudio {
  /** PCM s16le, interleaved when `numChannels > 1`. */
  readonly audio: Uint8Array;
  /** Sample rate, Hz. */
  readonly sampleRate: number;
  /** Channels. */
  readonly numChannels: number;
}

/** View PCM s16le bytes as 16-bit samples (copies only when `bytes` is not 2-byte aligned). */
export function pcmToInt16(bytes: Uint8Array): Int16Array {
  if (bytes.byteLength % 2 !== 0) {
    throw new RangeError(`PCM s16le needs an even number of bytes, got ${bytes.byteLength}`);
  }
  if (bytes.byteOffset % 2 === 0)
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return new Int16Array(bytes.slice().buffer);
}

/** The bytes of 16-bit samples as PCM s16le (no copy). Assumes a little-endian host (x86, ARM). */
export function int16ToPcm(samples: Int16Array): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}

/**
 * Parse a WAV file (bytes or path) into PCM s16le. Any bit depth `wavefile` reads
 * (8/16/24/32-bit int, 32/64-bit float, μ-law, A-law) is converted to 16-bit.
 *
 * @throws Error when the data is not a WAV file (message from `wavefile`, prefixed).
 */
export async function readWav(source: Uint8Array | string): Promise<PcmAudio> {
  const bytes = typeof source === "string" ? await readFile(source) : source;
  return decodeWav(bytes);
}

/** Synchronous {@link readWav} for bytes already in memory. */
export function decodeWav(bytes: Uint8Array): PcmAudio {
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (err) {
    throw new Error(
      `not a readable WAV file: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  // Read the format first: the conversions below rebuild `wav.fmt` in place.
  const { numChannels, sampleRate, audioFormat } = wav.fmt as {
    numChannels: number;
    sampleRate: number;
    audioFormat: number;
  };
  if (audioFormat === 7) wav.fromMuLaw();
  else if (audioFormat === 6) wav.fromALaw();
  if (wav.bitDepth !== "16") wav.toBitDepth("16");
  const samples = wav.getSamples(true, Int16Array) as unknown as Int16Array;
  return { audio: int16ToPcm(samples), sampleRate, numChannels };
}

/** Encode PCM s16le as a WAV file (RIFF, 16-bit PCM). */
export function encodeWav(audio: Uint8Array, sampleRate: number, numChannels = 1): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(numChannels, sampleRate, "16", pcmToInt16(audio));
  return wav.toBuffer();
}

/**
 * PCM s16le → float32 samples in [-1, 1): `sample / 32768`.
 *
 * Why not `wavefile`'s bit-depth converter: it scales asymmetrically and truncates, so a
 * 16 → 32f → 16 round trip changes samples (measured: 1000 → 999). This mapping is the
 * one libsamplerate and Web Audio use and round-trips exactly.
 */
export function s16ToFloat32(audio: Uint8Array): Float32Array {
  const samples = pcmToInt16(audio);
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] / 32768;
  return out;
}

/** Float32 samples → PCM s16le: `round(x × 32768)` clipped to [-32768, 32767]. */
export function float32ToS16(samples: Float32Array): Uint8Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i] * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return int16ToPcm(out);
}

/** PCM s16le → G.711 μ-law bytes (one byte per sample). */
export function pcmToMulaw(audio: Uint8Array): Uint8Array {
  return alawmulaw.mulaw.encode(pcmToInt16(audio));
}

/** G.711 μ-law bytes → PCM s16le. */
export function mulawToPcm(bytes: Uint8Array): Uint8Array {
  return int16ToPcm(alawmulaw.mulaw.decode(bytes));
}

/** PCM s16le → G.711 A-law bytes. */
export function pcmToAlaw(audio: Uint8Array): Uint8Array {
  return alawmulaw.alaw.encode(pcmToInt16(audio));
}

/** G.711 A-law bytes → PCM s16le. */
export function alawToPcm(bytes: Uint8Array): Uint8Array {
  return int16ToPcm(alawmulaw.alaw.decode(bytes));
}

/** Resampler quality (libsamplerate converter types). */
export type ResamplerQuality = "best" | "medium" | "fastest" | "linear";

const QUALITY = {
  best: "SRC_SINC_BEST_QUALITY",
  medium: "SRC_SINC_MEDIUM_QUALITY",
  fastest: "SRC_SINC_FASTEST",
  linear: "SRC_LINEAR",
} as const satisfies Record<ResamplerQuality, string>;

/**
 * A streaming resampler for PCM s16le: keeps filter state across chunks, so a stream
 * cut into 20 ms frames resamples without clicks at the joins. Output length per call
 * varies slightly (libsamplerate buffers a few samples of latency).
 *
 * @example
 * ```ts
 * const rs = await StreamResampler.create({ inputRate: 48000, outputRate: 16000 });
 * const out = rs.process(chunk); // call per chunk; rs.destroy() when done
 * ```
 */
export class StreamResampler {
  readonly inputRate: number;
  readonly outputRate: number;
  readonly numChannels: number;
  #src: SRC | undefined;

  private constructor(src: SRC, inputRate: number, outputRate: number, numChannels: number) {
    this.#src = src;
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    this.numChannels = numChannels;
  }

  /**
   * Create a resampler. Rates in Hz (1–192000), 1–128 channels.
   * @throws RangeError naming the bad field.
   */
  static async create(options: {
    inputRate: number;
    outputRate: number;
    numChannels?: number;
    quality?: ResamplerQuality;
  }): Promise<StreamResampler> {
    const { inputRate, outputRate } = options;
    const numChannels = options.numChannels ?? 1;
    for (const [field, value] of [
      ["inputRate", inputRate],
      ["outputRate", outputRate],
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 192000) {
        throw new RangeError(
          `StreamResampler: ${field} must be an integer of Hz in 1–192000, got ${value}`,
        );
      }
    }
    if (!Number.isInteger(numChannels) || numChannels < 1 || numChannels > 128) {
      throw new RangeError(
        `StreamResampler: numChannels must be an integer in 1–128, got ${numChannels}`,
      );
    }
    const lib = await loadLibSampleRate();
    const src = await lib.create(numChannels, inputRate, outputRate, {
      converterType: lib.ConverterType[QUALITY[options.quality ?? "medium"]],
    });
    return new StreamResampler(src, inputRate, outputRate, numChannels);
  }

  /** Resample one chunk of PCM s16le. Same rate in and out returns the input unchanged. */
  process(audio: Uint8Array): Uint8Array {
    if (this.#src === undefined) throw new Error("StreamResampler: used after destroy()");
    if (this.inputRate === this.outputRate || audio.byteLength === 0) return audio;
    return float32ToS16(this.#src.full(s16ToFloat32(audio)));
  }

  /** Resample a complete signal in one call (no state kept; used by {@link resample}). */
  processWhole(audio: Uint8Array): Uint8Array {
    if (this.#src === undefined) throw new Error("StreamResampler: used after destroy()");
    return float32ToS16(this.#src.simple(s16ToFloat32(audio)));
  }

  /** Free the WebAssembly state. */
  destroy(): void {
    this.#src?.destroy();
    this.#src = undefined;
  }
}

/** Resample a whole buffer of PCM s16le at once (libsamplerate "simple" API). */
export async function resample(
  audio: Uint8Array,
  inputRate: number,
  outputRate: number,
  numChannels = 1,
  quality: ResamplerQuality = "medium",
): Promise<Uint8Array> {
  if (inputRate === outputRate || audio.byteLength === 0) return audio;
  const rs = await StreamResampler.create({ inputRate, outputRate, numChannels, quality });
  try {
    return rs.processWhole(audio);
  } finally {
    rs.destroy();
  }
}
