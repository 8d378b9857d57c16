import { int16ToPcm, pcmToInt16 } from "@voxpipe/core";

/** Bytes of mono PCM s16le in `ms` milliseconds at `sampleRate` Hz (whole samples). */
export function pcmBytesFor(ms: number, sampleRate: number): number {
  return Math.round((sampleRate * ms) / 1000) * 2;
}

/**
 * Averages interleaved channels into mono PCM s16le. Transports work in mono because
 * Flux takes mono only (flux-protocol.md §1.4) and telephony-style agents have one voice.
 */
export function downmixToMono(audio: Uint8Array, numChannels: number): Uint8Array {
  if (numChannels === 1) return audio;
  const input = pcmToInt16(audio);
  const frames = Math.floor(input.length / numChannels);
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < numChannels; c++) sum += input[i * numChannels + c];
    out[i] = Math.round(sum / numChannels);
  }
  return int16ToPcm(out);
}

/**
 * Cuts a byte stream into fixed-size frames (e.g. 20 ms of audio), whatever size the
 * source delivers; the remainder waits for the next `push`.
 */
export class PcmFramer {
  #pending: Uint8Array = new Uint8Array(0);

  /** @param frameBytes size of each frame in bytes (even, > 0). */
  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0 || frameBytes % 2 !== 0) {
      throw new RangeError(`frameBytes must be a positive even integer, got ${frameBytes}`);
    }
  }

  /** Adds bytes; returns the complete frames (copies, owned by the caller). */
  push(data: Uint8Array): Uint8Array[] {
    const joined = this.#pending.byteLength === 0 ? data : concat(this.#pending, data);
    const frames: Uint8Array[] = [];
    let offset = 0;
    for (; offset + this.frameBytes <= joined.byteLength; offset += this.frameBytes) {
      frames.push(joined.slice(offset, offset + this.frameBytes));
    }
    this.#pending = joined.slice(offset);
    return frames;
  }

  /** The held-back bytes (a short last frame, whole samples only), or undefined. */
  flush(): Uint8Array | undefined {
    const rest = this.#pending.subarray(
      0,
      this.#pending.byteLength - (this.#pending.byteLength % 2),
    );
    this.#pending = new Uint8Array(0);
    return rest.byteLength > 0 ? rest.slice() : undefined;
  }

  /** Drops held-back bytes (interruption). */
  clear(): void {
    this.#pending = new Uint8Array(0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
