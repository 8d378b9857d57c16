import { setTimeout as sleep } from "node:timers/promises";
import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  FrameProcessor,
  OutputAudioRawFrame,
  StreamResampler,
  TTSStoppedFrame,
  TTSTextFrame,
} from "@voxpipe/core";
import type {
  CancelFrame,
  EndFrame,
  Frame,
  FrameDirection,
  FrameProcessorEvents,
  FrameProcessorOptions,
  StartFrame,
} from "@voxpipe/core";
import { PcmFramer, downmixToMono, pcmBytesFor } from "./pcm.js";

/** Options shared by every output transport. */
export interface OutputTransportOptions extends FrameProcessorOptions {
  /** Sample rate written out, Hz. Default: the StartFrame's `audioOutSampleRate` (24000). */
  readonly sampleRate?: number | undefined;
  /**
   * Play audio in real time: each chunk is released when the previous one has played, as a
   * loudspeaker or a phone line consumes it. This is what makes barge-in cut a reply
   * mid-sentence. `false`: write as fast as audio arrives. Default true.
   */
  readonly realtime?: boolean | undefined;
  /** Write granularity, ms: an interruption takes effect within one chunk. Default 20. */
  readonly chunkMs?: number | undefined;
}

/** Events of output transports. */
export type OutputTransportEvents = FrameProcessorEvents & {
  /** The bot's audio started playing. */
  botStartedSpeaking: undefined;
  /** The bot's audio stopped: the reply finished, or was interrupted (`interrupted: true`). */
  botStoppedSpeaking: { readonly interrupted: boolean };
};

/** After this long without audio, a reply without `TTSStoppedFrame` counts as finished (Pipecat: 3 s). */
const BOT_STOPPED_FALLBACK_MS = 3000;

/**
 * Base of output transports: put it after the TTS (and before the assistant aggregator).
 * `OutputAudioRawFrame`s are mixed down to mono, resampled to {@link sampleRate} (streaming,
 * libsamplerate), cut into `chunkMs` chunks and handed to {@link writeAudio}, paced in real
 * time unless `realtime: false`; each frame is then forwarded, so processors downstream see
 * exactly what was played.
 *
 * Bot speech state: `BotStartedSpeakingFrame` before the first chunk of a reply and
 * `BotStoppedSpeakingFrame` after `TTSStoppedFrame` (or on interruption), both pushed
 * upstream (the STT and user aggregator use them for barge-in) and downstream.
 *
 * Text synced with audio (as Pipecat's output transport does): the TTS pushes each
 * sentence's `TTSTextFrame` just before that sentence's audio, so the transport holds the
 * text back and forwards it when the first chunk of the audio after it is handed to
 * {@link writeAudio} — the moment that sentence starts playing (a device hears it at most
 * {@link writeAheadMs} later). Text still held at the reply's `TTSStoppedFrame` or at
 * `EndFrame` (a sentence that produced no audio) is forwarded then, in order. Downstream —
 * the assistant context aggregator — therefore sees only sentences the listener heard.
 *
 * Interruption: the chunk being played is abandoned and queued audio is dropped at once
 * (core's interruption semantics), and so is held text whose audio never played; then
 * {@link onAudioInterrupted} runs. `EndFrame` waits until queued audio has played, then
 * {@link finish}; `CancelFrame` finishes at once.
 */
export abstract class BaseOutputTransport<
  TEvents extends OutputTransportEvents = OutputTransportEvents,
> extends FrameProcessor<TEvents> {
  readonly #sampleRate: number | undefined;
  readonly #realtime: boolean;
  readonly #chunkMs: number;
  #framer: PcmFramer | undefined;
  #resampler: StreamResampler | undefined;
  /** Clock time (ms) at which the audio written so far will have played out. */
  #playhead = 0;
  #speaking = false;
  #fallback: ReturnType<typeof setTimeout> | undefined;
  #finished = false;
  /** `TTSTextFrame`s waiting for their sentence's audio to start playing, in order. */
  #heldText: TTSTextFrame[] = [];

  constructor(options: OutputTransportOptions = {}) {
    super(options);
    const { sampleRate, chunkMs = 20 } = options;
    if (
      sampleRate !== undefined &&
      !(Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 192000)
    ) {
      throw new RangeError(
        `sampleRate must be an integer of Hz from 8000 to 192000, got ${String(sampleRate)}`,
      );
    }
    if (!(Number.isFinite(chunkMs) && chunkMs >= 5 && chunkMs <= 500)) {
      throw new RangeError(`chunkMs must be a number of ms from 5 to 500, got ${String(chunkMs)}`);
    }
    this.#sampleRate = sampleRate;
    this.#realtime = options.realtime ?? true;
    this.#chunkMs = chunkMs;
  }

  /** Output sample rate in Hz (option, else StartFrame, else 24000). */
  get sampleRate(): number {
    return this.#sampleRate ?? this.startFrame?.audioOutSampleRate ?? 24000;
  }

  /** Whether playback is paced in real time. */
  get realtime(): boolean {
    return this.#realtime;
  }

  /** Whether bot audio is playing. */
  get botSpeaking(): boolean {
    return this.#speaking;
  }

  /** Write one chunk of mono PCM s16le at {@link sampleRate}. */
  protected abstract writeAudio(chunk: Uint8Array): void | Promise<void>;

  /** Hook: open the destination (after the StartFrame is known). */
  protected open(): void | Promise<void> {}

  /** Hook: queued audio was dropped by an interruption (e.g. flush a device buffer). */
  protected onAudioInterrupted(): void | Promise<void> {}

  /** Hook: close the destination (end: after playout; cancel: at once). Called once. */
  protected abstract close(reason: "end" | "cancel"): void | Promise<void>;

  /**
   * How far ahead of the playhead audio may be written, ms. A device needs a little lead so it
   * never starves; a file needs none. Default 0.
   */
  protected get writeAheadMs(): number {
    return 0;
  }

  protected override async onStart(frame: StartFrame): Promise<void> {
    this.#framer = new PcmFramer(
      pcmBytesFor(this.#chunkMs, this.#sampleRate ?? frame.audioOutSampleRate),
    );
    await this.open();
  }

  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === "downstream" && frame instanceof OutputAudioRawFrame)
      return this.#play(frame);
    if (direction === "downstream" && frame instanceof TTSStoppedFrame)
      return this.#endOfReply(frame);
    if (direction === "downstream" && frame instanceof TTSTextFrame) {
      this.#heldText.push(frame);
      return;
    }
    this.push(frame, direction);
  }

  /** The reply's last partial chunk plays, then the bot has stopped speaking. */
  async #endOfReply(frame: TTSStoppedFrame): Promise<void> {
    const signal = this.signal;
    const rest = this.#framer?.flush();
    if (rest !== undefined) await this.#write(rest, signal);
    if (signal.aborted) return;
    this.#releaseText();
    this.push(frame);
    this.#botStopped(false);
  }

  protected override async onInterruption(): Promise<void> {
    // Their audio was dropped with the queue (or never arrived): nobody heard these.
    this.#heldText = [];
    this.#framer?.clear();
    this.#dropResampler();
    this.#playhead = this.clock.now();
    this.#botStopped(true);
    await this.onAudioInterrupted();
  }

  protected override async onEnd(_frame: EndFrame): Promise<void> {
    const rest = this.#framer?.flush();
    if (rest !== undefined) await this.#write(rest, this.lifetimeSignal);
    this.#releaseText();
    // Let the last chunk play out before the run ends.
    const wait = this.#playhead - this.clock.now();
    if (this.#realtime && wait > 0)
      await sleep(wait, undefined, { signal: this.lifetimeSignal }).catch(() => undefined);
    this.#botStopped(false);
    await this.#finish("end");
  }

  protected override async onCancel(_frame: CancelFrame): Promise<void> {
    clearTimeout(this.#fallback);
    this.#heldText = [];
    await this.#finish("cancel");
  }

  protected override async onCleanup(): Promise<void> {
    clearTimeout(this.#fallback);
    this.#dropResampler();
    await this.#finish("cancel");
  }

  async #finish(reason: "end" | "cancel"): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await this.close(reason);
  }

  async #play(frame: OutputAudioRawFrame): Promise<void> {
    const signal = this.signal;
    let audio = downmixToMono(frame.audio, frame.numChannels);
    if (frame.sampleRate !== this.sampleRate) {
      const resampler = await this.#resamplerFrom(frame.sampleRate, signal);
      if (resampler === undefined) return;
      audio = resampler.process(audio);
    }
    const framer = this.#framer;
    if (framer === undefined || signal.aborted) return;
    for (const chunk of framer.push(audio)) {
      if (signal.aborted) return;
      await this.#write(chunk, signal);
    }
    if (!signal.aborted) this.push(frame);
  }

  /**
   * The resampler for audio at `inputRate`, created on first use or a change of rate. Its
   * WebAssembly memory is freed exactly once whatever races the creation: the field never
   * points at a freed resampler, and one created for work that an interruption, cancel or
   * cleanup abandoned meanwhile (`signal` aborted) is freed at once instead of being kept —
   * nothing else would free it. Returns `undefined` then.
   */
  async #resamplerFrom(
    inputRate: number,
    signal: AbortSignal,
  ): Promise<StreamResampler | undefined> {
    if (this.#resampler?.inputRate === inputRate) return this.#resampler;
    this.#dropResampler();
    const created = await StreamResampler.create({ inputRate, outputRate: this.sampleRate });
    if (signal.aborted) {
      created.destroy();
      return undefined;
    }
    this.#dropResampler(); // never overwrite a live one
    this.#resampler = created;
    return created;
  }

  #dropResampler(): void {
    const resampler = this.#resampler;
    this.#resampler = undefined;
    resampler?.destroy();
  }

  async #write(chunk: Uint8Array, signal: AbortSignal): Promise<void> {
    if (!this.#speaking) {
      this.#speaking = true;
      this.push(new BotStartedSpeakingFrame(), "upstream");
      this.push(new BotStartedSpeakingFrame(), "downstream");
      this.emit("botStartedSpeaking", undefined);
    }
    const now = this.clock.now();
    if (this.#playhead < now) this.#playhead = now;
    // This chunk starts the audio that followed the held sentence(s): they start playing now.
    this.#releaseText();
    await this.writeAudio(chunk);
    this.#playhead += (chunk.byteLength / 2 / this.sampleRate) * 1000;
    this.#armFallback();
    if (!this.#realtime) return;
    const wait = this.#playhead - this.writeAheadMs - this.clock.now();
    if (wait > 1) await sleep(wait, undefined, { signal });
  }

  /** Hand the held `TTSTextFrame`s to {@link onSentencesStarting}, in order. */
  #releaseText(): void {
    const held = this.#heldText;
    if (held.length === 0) return;
    this.#heldText = [];
    this.onSentencesStarting(held);
  }

  /**
   * Hook: these sentences' audio starts now (called just before the chunk that begins it is
   * written). Default: forward them downstream at once — right for a local device. A network
   * output whose listener plays audio later can hold them until the far end confirms playback
   * (the WebSocket output's marks) and push them then, in order.
   */
  protected onSentencesStarting(sentences: readonly TTSTextFrame[]): void {
    for (const text of sentences) this.push(text);
  }

  /** Replies that never send `TTSStoppedFrame` (raw audio) still end the bot's turn. */
  #armFallback(): void {
    clearTimeout(this.#fallback);
    const delay = Math.max(0, this.#playhead - this.clock.now()) + BOT_STOPPED_FALLBACK_MS;
    this.#fallback = setTimeout(() => this.#botStopped(false), delay);
    this.#fallback.unref?.();
  }

  #botStopped(interrupted: boolean): void {
    clearTimeout(this.#fallback);
    if (!this.#speaking || this.cancelled) return;
    this.#speaking = false;
    this.push(new BotStoppedSpeakingFrame(), "upstream");
    this.push(new BotStoppedSpeakingFrame(), "downstream");
    this.emit("botStoppedSpeaking", { interrupted });
  }
}
