import { InputDTMFFrame, StreamResampler, alawToPcm, mulawToPcm } from "@voxpipe/core";
import type { InputAudioEncoding, KeypadEntry } from "@voxpipe/core";
import { BaseInputTransport } from "../base-input.js";
import type { InputTransportOptions } from "../base-input.js";
import type { WireAudioFormat } from "./serializer.js";

/** Options of {@link WebSocketInputTransport}. */
export interface WebSocketInputOptions extends InputTransportOptions {
  /**
   * Pass G.711 audio through untouched (no decode, no resample) when the pipeline's input
   * rate equals the wire rate: frames then carry `encoding: "mulaw"` (or `alaw`), for an STT
   * that takes it (Flux `encoding=mulaw&sample_rate=8000`). Default false (decode to PCM and
   * resample to the pipeline's rate).
   */
  readonly passthrough?: boolean | undefined;
  /** Most audio held while the pipeline has not started, seconds; older audio is dropped (logged). Default 30. */
  readonly maxBufferedSeconds?: number | undefined;
}

/**
 * The caller's side of a WebSocket session: audio from the socket → 20 ms
 * `InputAudioRawFrame`s (decoded and resampled with core's libsamplerate resampler, or passed
 * through); key presses → `InputDTMFFrame`. The caller is the clock: frames go on as audio
 * arrives, and audio that queued while the pipeline started (Flux's handshake) goes to the STT
 * as fast as it accepts it (the pipeline's `whenWritable`; Flux takes audio faster than real
 * time), so the call never runs behind by its setup time and no timer runs per frame.
 * `realtime: true` paces it at real time instead (a backlog is then never caught up). The end of the stream (`stop`, socket closed)
 * ends the run gracefully, like the end of a file. Created by `WebSocketSession`.
 */
export class WebSocketInputTransport extends BaseInputTransport {
  readonly #format: WireAudioFormat;
  readonly #passthrough: boolean;
  readonly #maxBytes: number;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #ended = false;
  #wake: (() => void) | undefined;
  #dropped = 0;

  constructor(format: WireAudioFormat, options: WebSocketInputOptions = {}) {
    super({ ...options, realtime: options.realtime ?? false });
    this.#format = format;
    this.#passthrough = options.passthrough ?? false;
    const bytesPerSample = format.encoding === "linear16" ? 2 : 1;
    this.#maxBytes = (options.maxBufferedSeconds ?? 30) * format.sampleRate * bytesPerSample;
  }

  /** Whether audio goes through undecoded (G.711 wire, passthrough on, same rate). */
  get passingThrough(): boolean {
    return (
      this.#passthrough &&
      this.#format.encoding !== "linear16" &&
      this.sampleRate === this.#format.sampleRate
    );
  }

  protected override get audioEncoding(): InputAudioEncoding {
    return this.passingThrough ? this.#format.encoding : "linear16";
  }

  /** Queues wire audio (called by the session for each `media` message). */
  enqueueAudio(audio: Uint8Array): void {
    if (this.#ended) return;
    this.#queue.push(audio);
    this.#queuedBytes += audio.byteLength;
    while (this.#queuedBytes > this.#maxBytes && this.#queue.length > 1) {
      const old = this.#queue.shift();
      this.#queuedBytes -= old?.byteLength ?? 0;
      if (this.#dropped++ === 0)
        this.logger.warn("pipeline not reading caller audio: oldest buffered audio dropped");
    }
    this.#wake?.();
  }

  /** A key press (DTMF) goes downstream at once. */
  pushDtmf(button: KeypadEntry): void {
    if (this.started && !this.ended) this.push(new InputDTMFFrame({ button }));
  }

  /** The stream ended: what is queued is still emitted, then the run ends gracefully. */
  endOfStream(): void {
    this.#ended = true;
    this.#wake?.();
  }

  protected describeSource(): string {
    return `websocket (${this.#format.encoding} ${this.#format.sampleRate} Hz${this.passingThrough ? ", passthrough" : ""})`;
  }

  protected async *readAudio(sampleRate: number, signal: AbortSignal): AsyncIterable<Uint8Array> {
    const wire = this.#format;
    const passthrough = this.passingThrough;
    let resampler: StreamResampler | undefined;
    if (!passthrough && wire.sampleRate !== sampleRate)
      resampler = await StreamResampler.create({
        inputRate: wire.sampleRate,
        outputRate: sampleRate,
      });
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk === undefined) {
          if (this.#ended || signal.aborted) return;
          // One listener per wait, removed after it: this runs 50 times a second per call.
          const woken = new Promise<void>((resolve) => (this.#wake = resolve));
          const onAbort = (): void => this.#wake?.();
          signal.addEventListener("abort", onAbort, { once: true });
          await woken;
          signal.removeEventListener("abort", onAbort);
          this.#wake = undefined;
          continue;
        }
        this.#queuedBytes -= chunk.byteLength;
        if (passthrough) {
          yield chunk;
          continue;
        }
        const pcm =
          wire.encoding === "mulaw"
            ? mulawToPcm(chunk)
            : wire.encoding === "alaw"
              ? alawToPcm(chunk)
              : chunk;
        yield resampler ? resampler.process(pcm) : pcm;
      }
    } finally {
      resampler?.destroy();
    }
  }
}
