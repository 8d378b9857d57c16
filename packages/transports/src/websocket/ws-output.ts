import { setTimeout as sleep } from "node:timers/promises";
import { OutputAudioRawFrame, TTSTextFrame } from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import { BaseOutputTransport } from "../base-output.js";
import type { OutputTransportOptions } from "../base-output.js";
import type { FrameSerializer, WireMessage } from "./serializer.js";

/** Options of {@link WebSocketOutputTransport}. */
export interface WebSocketOutputOptions extends Omit<OutputTransportOptions, "sampleRate"> {
  /**
   * Hold each sentence's `TTSTextFrame` until the far end reports (a `mark`) that its audio
   * started playing, so the assistant aggregator records what the caller heard. Default true
   * when the protocol has marks.
   */
  readonly marks?: boolean | undefined;
  /**
   * How long to wait for a mark's echo before counting the sentence as heard anyway, ms (a
   * peer that does not answer marks). Default 2000.
   */
  readonly markTimeoutMs?: number | undefined;
  /** How far ahead of real time audio is sent, ms (the provider's jitter buffer). Default 40. */
  readonly leadMs?: number | undefined;
  /**
   * Backpressure: once more than this many bytes sit in the socket's send buffer (its
   * `bufferedAmount`: the far end or the network takes them slower than they are sent), the
   * output waits for the buffer to drain to this bound before it sends more audio, so a slow
   * far end holds up the reply instead of growing memory without bound. Bytes, at least 1024.
   * Default 65536 (64 KiB: ~5 s of Twilio media messages, ~2 s of the browser's 16 kHz PCM).
   */
  readonly maxBufferedBytes?: number | undefined;
}

/** Default of {@link WebSocketOutputOptions.maxBufferedBytes}, bytes. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024;

/** What the output needs from its session. */
export interface OutputSink {
  send(message: WireMessage): void;
  /** Bytes sent and not yet handed to the network (the socket's `bufferedAmount`). */
  readonly bufferedAmount: number;
  /** Resolves once {@link bufferedAmount} is at most `bytes`, or the socket closed. */
  whenDrained(bytes: number): Promise<void>;
  /** Called once when the pipeline finished with the output (end: after playout). */
  finish(reason: "end" | "cancel"): Promise<void>;
}

interface PendingMark {
  readonly name: string;
  readonly sentences: readonly TTSTextFrame[];
}

/**
 * The bot's side of a WebSocket session: `OutputAudioRawFrame`s resampled to the protocol's
 * rate, cut into `chunkMs` (20 ms) chunks and sent one message per chunk in real time (a
 * small lead keeps the provider's buffer fed), so an interruption cuts the reply within one
 * chunk: queued audio is dropped and the serializer's `clear` makes the provider drop what it
 * buffered. Sentences reach the assistant aggregator when the provider's `mark` says they
 * started playing; marks still unanswered at an interruption were not heard. A far end that
 * reads slower than audio is sent makes the output wait for its socket to drain (see
 * {@link WebSocketOutputOptions.maxBufferedBytes}). Created by `WebSocketSession`.
 */
export class WebSocketOutputTransport extends BaseOutputTransport {
  readonly #serializer: FrameSerializer;
  readonly #sink: OutputSink;
  readonly #marks: boolean;
  readonly #markTimeoutMs: number;
  readonly #leadMs: number;
  readonly #maxBufferedBytes: number;
  #slowWarned = false;
  #pending: PendingMark[] = [];
  #nextMark = 1;
  #settled: (() => void) | undefined;
  #markWarned = false;
  #gone = false;

  /** @throws {RangeError} for a `maxBufferedBytes` that is not an integer ≥ 1024. */
  constructor(serializer: FrameSerializer, sink: OutputSink, options: WebSocketOutputOptions = {}) {
    super({ ...options, sampleRate: serializer.outputFormat.sampleRate });
    const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!(Number.isInteger(maxBuffered) && maxBuffered >= 1024))
      throw new RangeError(
        `maxBufferedBytes must be an integer of bytes, at least 1024, got ${String(maxBuffered)}`,
      );
    this.#maxBufferedBytes = maxBuffered;
    this.#serializer = serializer;
    this.#sink = sink;
    this.#marks = (options.marks ?? true) && serializer.serializeMark !== undefined;
    this.#markTimeoutMs = options.markTimeoutMs ?? 2000;
    this.#leadMs = options.leadMs ?? 40;
  }

  protected override get writeAheadMs(): number {
    return this.#leadMs;
  }

  /** Sentences sent and not yet confirmed played. */
  get unconfirmedSentences(): number {
    return this.#pending.reduce((n, m) => n + m.sentences.length, 0);
  }

  protected override writeAudio(chunk: Uint8Array): void | Promise<void> {
    this.#sink.send(this.#serializer.serializeAudio(chunk));
    if (this.#sink.bufferedAmount > this.#maxBufferedBytes) return this.#drain(this.signal);
  }

  /** The far end is behind: wait until its socket has drained (or an interruption). */
  async #drain(signal: AbortSignal): Promise<void> {
    if (!this.#slowWarned) {
      this.#slowWarned = true;
      this.logger.warn(
        { bufferedBytes: this.#sink.bufferedAmount, maxBufferedBytes: this.#maxBufferedBytes },
        "the far end reads slower than real time: waiting for its socket to drain",
      );
    }
    if (signal.aborted) return;
    let onAbort = (): void => {};
    const aborted = new Promise<void>((resolve) => {
      onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
    });
    await Promise.race([this.#sink.whenDrained(this.#maxBufferedBytes), aborted]);
    signal.removeEventListener("abort", onAbort);
  }

  protected override onSentencesStarting(sentences: readonly TTSTextFrame[]): void {
    if (this.#gone) return; // nobody is listening any more
    if (!this.#marks || this.#serializer.serializeMark === undefined) {
      super.onSentencesStarting(sentences);
      return;
    }
    // The mark goes before the sentence's first chunk: the far end answers it once the audio
    // before it has played, i.e. when this sentence starts playing.
    const name = `voxpipe-${this.#nextMark++}`;
    this.#pending.push({ name, sentences });
    this.#sink.send(this.#serializer.serializeMark(name));
  }

  /** The far end played up to mark `name`: its sentences (and earlier ones) were heard. */
  markPlayed(name: string): void {
    const index = this.#pending.findIndex((m) => m.name === name);
    if (index < 0) return; // cut by an interruption, or not ours
    const played = this.#pending.splice(0, index + 1);
    for (const m of played) for (const s of m.sentences) this.push(s);
    if (this.#pending.length === 0) this.#settled?.();
  }

  override async process(frame: Frame, direction: FrameDirection): Promise<void> {
    // Keep order: nothing after a sentence may reach the aggregator before the sentence does.
    if (
      direction === "downstream" &&
      frame.kind !== "system" &&
      this.#pending.length > 0 &&
      !(frame instanceof OutputAudioRawFrame) &&
      !(frame instanceof TTSTextFrame)
    ) {
      const signal = this.signal;
      await this.#whenSettled(signal);
      if (signal.aborted && !frame.uninterruptible) return;
    }
    await super.process(frame, direction);
  }

  async #whenSettled(signal: AbortSignal): Promise<void> {
    const settled = new Promise<void>((resolve) => (this.#settled = resolve));
    const timeout = sleep(this.#markTimeoutMs, "timeout" as const, { signal }).catch(
      () => "aborted" as const,
    );
    const result = await Promise.race([settled.then(() => "settled" as const), timeout]);
    this.#settled = undefined;
    if (result === "timeout" && this.#pending.length > 0) {
      if (!this.#markWarned) {
        this.#markWarned = true;
        this.logger.warn(
          { protocol: this.#serializer.protocol },
          "the far end does not answer marks: sentences counted as heard when sent",
        );
      }
      const rest = this.#pending.splice(0);
      for (const m of rest) for (const s of m.sentences) this.push(s);
    }
  }

  protected override onAudioInterrupted(): void {
    // Not confirmed played before the barge-in: the caller did not hear these.
    this.#pending = [];
    this.#settled?.();
    const clear = this.#serializer.serializeClear();
    if (clear !== undefined) this.#sink.send(clear);
  }

  /**
   * The far end is gone (socket closed): sentences not confirmed played were not heard, and
   * nothing sent from now on will be.
   */
  peerGone(): void {
    this.#gone = true;
    this.#pending = [];
    this.#settled?.();
  }

  protected override async close(reason: "end" | "cancel"): Promise<void> {
    // The last sentences' marks may still be on their way back.
    if (reason === "end" && this.#pending.length > 0 && !this.#gone)
      await this.#whenSettled(this.lifetimeSignal);
    await this.#sink.finish(reason);
  }
}
