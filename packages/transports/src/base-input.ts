import { setImmediate as yieldToEventLoop, setTimeout as sleep } from "node:timers/promises";
import { EndTaskFrame, FrameProcessor, InputAudioRawFrame, StartFrame } from "@voxpipe/core";
import type {
  EndFrame,
  InputAudioEncoding,
  Frame,
  FrameDirection,
  FrameProcessorEvents,
  FrameProcessorOptions,
} from "@voxpipe/core";
import { PcmFramer, pcmBytesFor } from "./pcm.js";

/** Options shared by every input transport. */
export interface InputTransportOptions extends FrameProcessorOptions {
  /** Sample rate of the emitted frames, Hz. Default: the StartFrame's `audioInSampleRate` (16000). */
  readonly sampleRate?: number | undefined;
  /** Duration of each emitted `InputAudioRawFrame`, ms. Default 20 (Pipecat's local transports). */
  readonly frameMs?: number | undefined;
  /**
   * Emit audio at real-time pace (one 20 ms frame every 20 ms), as a live caller would.
   * `false` ("fast"): as fast as the pipeline takes it — the STT then streams it as fast as its
   * connection accepts. Default true. Live sources (microphone, a radio stream) are paced by the
   * source anyway; the pacer never delays audio that arrives late.
   */
  readonly realtime?: boolean | undefined;
  /**
   * When the input ends, ask the task to end gracefully (`EndTaskFrame` upstream → `EndFrame`
   * behind the last audio, so the STT flushes the last turn). Default true.
   */
  readonly endOnInputEnd?: boolean | undefined;
  /**
   * Fast mode only: awaited before each frame with the seconds of audio emitted so far, so a
   * consumer can hold the input back — e.g. until the STT provider has answered all but the last
   * few seconds ("as fast as the provider accepts"). Without it, fast mode pushes at once.
   */
  readonly backpressure?:
    ((emittedSeconds: number, signal: AbortSignal) => Promise<void>) | undefined;
}

/** Events of input transports. */
export type InputTransportEvents = FrameProcessorEvents & {
  /** The source ended (or failed); `seconds` of audio were emitted. */
  inputEnded: { readonly seconds: number; readonly error?: Error | undefined };
};

/**
 * Base of input transports: put it first in the pipeline. After the `StartFrame` it reads
 * {@link readAudio} in a tracked task, cuts the audio into `frameMs` frames and pushes them
 * as `InputAudioRawFrame`s (mono PCM s16le at {@link sampleRate}), paced in real time unless
 * `realtime: false`. At the end of the source it asks for a graceful end (see
 * `endOnInputEnd`). A source that fails before any audio is a fatal error; one that fails
 * later is reported (non-fatal) and the run ends gracefully, so no transcript is lost.
 * An `EndFrame` or `CancelFrame` stops the reading (subprocesses are killed).
 */
export abstract class BaseInputTransport<
  TEvents extends InputTransportEvents = InputTransportEvents,
> extends FrameProcessor<TEvents> {
  readonly #sampleRate: number | undefined;
  readonly #frameMs: number;
  readonly #realtime: boolean;
  readonly #endOnInputEnd: boolean;
  readonly #backpressure: InputTransportOptions["backpressure"];
  readonly #stop = new AbortController();
  #reader: Promise<void> | undefined;

  constructor(options: InputTransportOptions = {}) {
    super(options);
    const { sampleRate, frameMs = 20 } = options;
    if (
      sampleRate !== undefined &&
      !(Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 192000)
    ) {
      throw new RangeError(
        `sampleRate must be an integer of Hz from 8000 to 192000, got ${String(sampleRate)}`,
      );
    }
    if (!(Number.isFinite(frameMs) && frameMs >= 5 && frameMs <= 1000)) {
      throw new RangeError(`frameMs must be a number of ms from 5 to 1000, got ${String(frameMs)}`);
    }
    this.#sampleRate = sampleRate;
    this.#frameMs = frameMs;
    this.#realtime = options.realtime ?? true;
    this.#endOnInputEnd = options.endOnInputEnd ?? true;
    this.#backpressure = options.backpressure;
  }

  /** Sample rate of the emitted frames in Hz (option, else StartFrame, else 16000). */
  get sampleRate(): number {
    return this.#sampleRate ?? this.startFrame?.audioInSampleRate ?? 16000;
  }

  /** Whether audio is paced in real time. */
  get realtime(): boolean {
    return this.#realtime;
  }

  /**
   * Encoding of what {@link readAudio} yields and of the emitted frames: `linear16` (PCM
   * s16le, the default), or G.711 `mulaw`/`alaw` for telephony passthrough (1 byte per sample).
   * Read once, when the source starts.
   */
  protected get audioEncoding(): InputAudioEncoding {
    return "linear16";
  }

  /**
   * The source: mono audio in {@link audioEncoding} (PCM s16le by default) at `sampleRate` Hz, in chunks of any size. Return when the input
   * ends; stop promptly when `signal` aborts (an end or cancel of the run).
   */
  protected abstract readAudio(sampleRate: number, signal: AbortSignal): AsyncIterable<Uint8Array>;

  /** A short description of the source for logs (no secrets, no query strings). */
  protected abstract describeSource(): string;

  override process(frame: Frame, direction: FrameDirection): void {
    this.push(frame, direction);
    if (frame instanceof StartFrame && this.#reader === undefined) {
      this.#reader = this.createTask("read-input", (lifetime) =>
        this.#read(AbortSignal.any([lifetime, this.#stop.signal])),
      );
    }
  }

  protected override async onEnd(_frame: EndFrame): Promise<void> {
    this.#stop.abort(new DOMException("pipeline ended", "AbortError"));
    await this.#reader;
  }

  async #read(signal: AbortSignal): Promise<void> {
    const rate = this.sampleRate;
    const encoding = this.audioEncoding;
    const bytesPerSample = encoding === "linear16" ? 2 : 1;
    const framer = new PcmFramer((pcmBytesFor(this.#frameMs, rate) / 2) * bytesPerSample);
    const bytesPerSecond = rate * bytesPerSample;
    let emittedBytes = 0;
    const t0 = this.clock.now();
    const emit = async (audio: Uint8Array): Promise<void> => {
      if (!this.#realtime) {
        // Fast input goes as fast as the pipeline accepts it (the STT's whenWritable).
        await this.whenDownstreamWritable();
        if (this.#backpressure !== undefined) {
          await this.#backpressure(emittedBytes / bytesPerSecond, signal);
        }
      }
      this.push(
        new InputAudioRawFrame({ audio, sampleRate: rate, encoding, pts: this.clock.now() }),
      );
      emittedBytes += audio.byteLength;
      if (this.#realtime) {
        const due = t0 + (emittedBytes / bytesPerSecond) * 1000;
        const wait = due - this.clock.now();
        if (wait > 1) await sleep(wait, undefined, { signal });
      } else {
        // Fast mode still lets sockets and timers run between frames.
        await yieldToEventLoop(undefined, { signal });
      }
    };
    let failure: Error | undefined;
    this.logger.info(
      { source: this.describeSource(), sampleRate: rate, realtime: this.#realtime },
      "input started",
    );
    try {
      for await (const chunk of this.readAudio(rate, signal)) {
        for (const audio of framer.push(chunk)) await emit(audio);
      }
      const rest = framer.flush();
      if (rest !== undefined) await emit(rest);
    } catch (err) {
      if (signal.aborted) return;
      failure = err instanceof Error ? err : new Error(String(err));
    }
    const seconds = emittedBytes / bytesPerSecond;
    this.emit("inputEnded", { seconds, error: failure });
    if (failure !== undefined) {
      const fatal = emittedBytes === 0;
      this.pushError(`${this.name}: input ${this.describeSource()} failed: ${failure.message}`, {
        fatal,
        cause: failure,
      });
      if (fatal) return;
    }
    this.logger.info({ seconds: Number(seconds.toFixed(2)) }, "input ended");
    if (this.#endOnInputEnd && !signal.aborted)
      this.push(new EndTaskFrame({ reason: "end of input" }), "upstream");
  }
}
