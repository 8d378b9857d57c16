/**
 * Audio intake: decodes the client's raw audio to PCM s16 mono and cuts it into 80 ms
 * frames on the audio clock (reference §1.4, §4.3). G.711 (μ-law, A-law) decoding is
 * the `alawmulaw` library's.
 */
import alawmulaw from "alawmulaw";
import { RECOMMENDED_CHUNK_MS, type FluxEncoding } from "@voxpipe/flux-protocol";
import type { AudioFrame } from "./engine.js";

/** Encodings this server decodes. The protocol's others (`linear32`, `opus`, `ogg-opus`, containers) are refused at the handshake. */
export const SUPPORTED_ENCODINGS = [
  "linear16",
  "mulaw",
  "alaw",
] as const satisfies readonly FluxEncoding[];
/** An encoding this server decodes. */
export type SupportedEncoding = (typeof SUPPORTED_ENCODINGS)[number];

/** Whether this server can decode `encoding`. */
export function isSupportedEncoding(encoding: string | undefined): encoding is SupportedEncoding {
  return (SUPPORTED_ENCODINGS as readonly string[]).includes(encoding ?? "");
}

/** Bytes per sample of each supported encoding. */
const BYTES_PER_SAMPLE: Record<SupportedEncoding, number> = { linear16: 2, mulaw: 1, alaw: 1 };

/**
 * Turns incoming binary messages into 80 ms {@link AudioFrame}s stamped with audio time.
 * Bytes that do not yet make a full frame wait for the next message; an odd trailing
 * byte of `linear16` waits for its pair. The audio clock counts samples, so times are
 * exact (`samples / sampleRate`).
 */
export class AudioFramer {
  private readonly bytesPerSample: number;
  private readonly frameBytes: number;
  /** Pending bytes not yet framed; `pendingLength` of them are valid. */
  private pending: Buffer;
  private pendingLength = 0;
  /** Samples framed so far: the audio clock. */
  private framedSamples = 0;
  /** Bytes received in total (for counters). */
  receivedBytes = 0;

  constructor(
    readonly encoding: SupportedEncoding,
    readonly sampleRate: number,
  ) {
    this.bytesPerSample = BYTES_PER_SAMPLE[encoding];
    this.frameBytes = ((sampleRate * RECOMMENDED_CHUNK_MS) / 1000) * this.bytesPerSample;
    this.pending = Buffer.allocUnsafe(this.frameBytes * 2);
  }

  /** Audio time in seconds at the end of the last frame produced. */
  get audioTime(): number {
    return this.framedSamples / this.sampleRate;
  }

  /** Seconds of audio received, including bytes not yet framed. */
  get receivedSeconds(): number {
    return this.secondsOf(this.receivedBytes);
  }

  /** Seconds of audio `bytes` of this encoding and sample rate hold. */
  secondsOf(bytes: number): number {
    return bytes / this.bytesPerSample / this.sampleRate;
  }

  /** Adds received bytes and returns the complete frames they finish (possibly none). */
  push(data: Buffer): AudioFrame[] {
    this.receivedBytes += data.length;
    const frames: AudioFrame[] = [];
    let offset = 0;
    // Complete a partial frame first.
    if (this.pendingLength > 0) {
      const take = Math.min(this.frameBytes - this.pendingLength, data.length);
      data.copy(this.pending, this.pendingLength, 0, take);
      this.pendingLength += take;
      offset = take;
      if (this.pendingLength === this.frameBytes) {
        frames.push(this.frame(this.pending.subarray(0, this.frameBytes), true));
        this.pendingLength = 0;
      }
    }
    while (data.length - offset >= this.frameBytes) {
      frames.push(this.frame(data.subarray(offset, offset + this.frameBytes), false));
      offset += this.frameBytes;
    }
    if (offset < data.length) {
      data.copy(this.pending, this.pendingLength, offset);
      this.pendingLength += data.length - offset;
    }
    return frames;
  }

  /** Frames whatever whole samples are pending (a final, shorter frame), or returns undefined. */
  flush(): AudioFrame | undefined {
    const usable = this.pendingLength - (this.pendingLength % this.bytesPerSample);
    if (usable === 0) return undefined;
    const frame = this.frame(this.pending.subarray(0, usable), true);
    this.pendingLength = 0;
    return frame;
  }

  /** `reused`: `bytes` live in the pending buffer, which the next message overwrites. */
  private frame(bytes: Buffer, reused: boolean): AudioFrame {
    const samples = this.decode(bytes, reused);
    const start = this.framedSamples / this.sampleRate;
    this.framedSamples += samples.length;
    return { samples, start, end: this.framedSamples / this.sampleRate };
  }

  /**
   * Decodes into samples the engine may keep. s16le is read in place (Node runs on
   * little-endian hosts) when the bytes are 2-byte aligned and not in the reused pending
   * buffer — received message buffers are never reused — and copied otherwise.
   */
  private decode(bytes: Buffer, reused: boolean): Int16Array {
    switch (this.encoding) {
      case "linear16":
        if (!reused && bytes.byteOffset % 2 === 0) {
          return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
        }
        return new Int16Array(new Uint8Array(bytes).buffer, 0, bytes.length >> 1);
      case "mulaw":
        return alawmulaw.mulaw.decode(bytes);
      case "alaw":
        return alawmulaw.alaw.decode(bytes);
    }
  }
}
