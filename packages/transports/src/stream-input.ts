import { addAbortSignal } from "node:stream";
import type { Readable } from "node:stream";
import { StreamResampler } from "@voxpipe/core";
import { BaseInputTransport } from "./base-input.js";
import type { InputTransportOptions } from "./base-input.js";
import { downmixToMono } from "./pcm.js";

/** Options of {@link PcmStreamInputTransport}. */
export interface PcmStreamInputOptions extends InputTransportOptions {
  /** Where the raw audio comes from. Default `process.stdin`. */
  readonly stream?: Readable;
  /** Sample rate of the incoming PCM, Hz. Default 16000. */
  readonly inputSampleRate?: number;
  /** Interleaved channels of the incoming PCM. Default 1. */
  readonly inputChannels?: number;
}

/**
 * Raw PCM s16le from a stream — by default stdin, e.g.
 * `arecord -f S16_LE -r 16000 -c 1 -t raw | voxpipe transcribe -`. Mixed down to mono and
 * resampled (streaming, libsamplerate) when the incoming format differs from the pipeline's.
 * The end of the stream ends the run gracefully.
 */
export class PcmStreamInputTransport extends BaseInputTransport {
  readonly #stream: Readable;
  readonly #inputRate: number;
  readonly #channels: number;

  constructor(options: PcmStreamInputOptions = {}) {
    super(options);
    const rate = options.inputSampleRate ?? 16000;
    const channels = options.inputChannels ?? 1;
    if (!(Number.isInteger(rate) && rate >= 8000 && rate <= 192000)) {
      throw new RangeError(
        `inputSampleRate must be an integer of Hz from 8000 to 192000, got ${String(rate)}`,
      );
    }
    if (!(Number.isInteger(channels) && channels >= 1 && channels <= 8)) {
      throw new RangeError(`inputChannels must be an integer from 1 to 8, got ${String(channels)}`);
    }
    this.#stream = options.stream ?? process.stdin;
    this.#inputRate = rate;
    this.#channels = channels;
  }

  protected override describeSource(): string {
    return this.#stream === process.stdin ? "stdin (raw PCM)" : "stream (raw PCM)";
  }

  protected override async *readAudio(
    sampleRate: number,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    const resampler = await StreamResampler.create({
      inputRate: this.#inputRate,
      outputRate: sampleRate,
    });
    const sampleBytes = 2 * this.#channels;
    let carry: Uint8Array = new Uint8Array(0);
    // An end or cancel of the run destroys the stream, which ends the iteration below.
    addAbortSignal(signal, this.#stream);
    try {
      for await (const chunk of this.#stream) {
        if (signal.aborted) return;
        const bytes = carry.byteLength
          ? Buffer.concat([carry, chunk as Buffer])
          : (chunk as Buffer);
        const whole = bytes.byteLength - (bytes.byteLength % sampleBytes);
        carry = bytes.subarray(whole);
        if (whole === 0) continue;
        const out = resampler.process(downmixToMono(bytes.subarray(0, whole), this.#channels));
        if (out.byteLength) yield out;
      }
    } finally {
      resampler.destroy();
    }
  }
}
