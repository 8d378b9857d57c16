/**
 * Raw audio formats Flux accepts (flux-protocol.md §1.4), and the arithmetic the
 * client needs on them: bytes per second, 80 ms chunk sizes, silence bytes.
 */

/**
 * Raw encodings the client can re-chunk, time and pad with silence.
 * Containerised/compressed audio (`opus`, `ogg-opus`) has no fixed byte rate,
 * so the client does not accept it (its replay and watchdog are byte-timed).
 */
export type RawEncoding = "linear16" | "linear32" | "mulaw" | "alaw";

/** The raw encodings, in the wire spelling. */
export const RAW_ENCODINGS: readonly RawEncoding[] = ["linear16", "linear32", "mulaw", "alaw"];

/** Encoding and sample rate of a mono raw stream. */
export interface AudioFormat {
  encoding: RawEncoding;
  /** Samples per second (Hz). */
  sampleRate: number;
}

const BYTES_PER_SAMPLE: Record<RawEncoding, number> = {
  linear16: 2,
  linear32: 4,
  mulaw: 1,
  alaw: 1,
};

/** The byte that encodes digital silence: 0 for PCM, 0xFF for μ-law, 0xD5 for A-law (ITU-T G.711). */
const SILENCE_BYTE: Record<RawEncoding, number> = {
  linear16: 0x00,
  linear32: 0x00,
  mulaw: 0xff,
  alaw: 0xd5,
};

/** Bytes in one sample of `encoding` (mono). */
export function bytesPerSample(encoding: RawEncoding): number {
  return BYTES_PER_SAMPLE[encoding];
}

/** Bytes per second of audio in `format`. */
export function bytesPerSecond(format: AudioFormat): number {
  return format.sampleRate * BYTES_PER_SAMPLE[format.encoding];
}

/**
 * Bytes in a chunk of `ms` milliseconds, rounded down to whole samples.
 * Flux recommends 80 ms chunks (flux-protocol.md §1.4): 2560 bytes at 16 kHz linear16.
 */
export function chunkBytes(format: AudioFormat, ms: number): number {
  const samples = Math.floor((format.sampleRate * ms) / 1000);
  return samples * BYTES_PER_SAMPLE[format.encoding];
}

/** Seconds of audio in `bytes` bytes of `format`. */
export function secondsOf(format: AudioFormat, bytes: number): number {
  return bytes / bytesPerSecond(format);
}

/** `bytes` bytes of digital silence in `format`. */
export function silence(format: AudioFormat, bytes: number): Uint8Array {
  const fill = SILENCE_BYTE[format.encoding];
  const out = new Uint8Array(bytes);
  if (fill !== 0) out.fill(fill);
  return out;
}

/** Whether two formats are the same. */
export function sameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.encoding === b.encoding && a.sampleRate === b.sampleRate;
}
