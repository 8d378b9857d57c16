/**
 * Frames: the only thing that travels between processors.
 *
 * Every frame is an instance of a class (so `instanceof` works and subclasses
 * match), with readonly fields, a unique `id` and a scheduling **kind**:
 *
 * - `system`  — may overtake queued frames and is never dropped by an interruption
 *   (`StartFrame`, `CancelFrame`, `InterruptionFrame`, `ErrorFrame`, user-input audio).
 * - `data`    — ordered lane; dropped from queues by an interruption unless it is
 *   uninterruptible (audio out, text, LLM/TTS output, transcriptions).
 * - `control` — same ordered lane as data (`EndFrame`, settings, turn boundaries).
 *
 * `uninterruptible` frames stay in order and survive interruptions (`EndFrame`,
 * settings updates, and — our choice — every frame of the user's turn, see
 * {@link TurnFrame}). Source of the model: design.md "The frame model";
 * Pipecat `frames.py` (see pipecat-design-notes §1).
 *
 * Why turn frames are *not* system frames: Pipecat made speech-state frames system
 * frames, and they overtook `TranscriptionFrame`s in queues (pipecat#1323, #1446).
 * Here every turn frame (start, interim, eager, resumed, transcription, end) and the
 * user speech-state frames share the ordered lane, so "a `TranscriptionFrame` is never
 * overtaken by its own `EndOfTurnFrame`" holds by construction (FIFO lane), and they are
 * uninterruptible because an interruption cuts *bot* output, never the user's words.
 */
import type { LLMContext, LLMMessage, LLMTool, LLMToolChoice } from "./aggregators/context.js";
import type { TurnLatency } from "./observers/turn-latency.js";

/** Scheduling class of a frame. */
export type FrameKind = "system" | "data" | "control";

/** Fields every frame constructor accepts. */
export interface FrameInit {
  /** Presentation timestamp in ms of the pipeline's monotonic clock (see `Clock`). */
  readonly pts?: number | undefined;
  /** Free-form metadata (provider ids, tracing…). Not interpreted by the core. */
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
}

let nextFrameId = 1;

/**
 * Base class of all frames. Do not extend `Frame` directly: extend
 * {@link SystemFrame}, {@link DataFrame} or {@link ControlFrame}.
 */
export abstract class Frame {
  /** Process-wide unique, increasing id. */
  readonly id: number;
  /** Presentation timestamp (ms, monotonic clock), if the producer set one. */
  readonly pts: number | undefined;
  /** Free-form metadata. */
  readonly metadata: Readonly<Record<string, unknown>> | undefined;

  constructor(init?: FrameInit) {
    this.id = nextFrameId++;
    this.pts = init?.pts;
    this.metadata = init?.metadata;
  }

  /** Scheduling class (a prototype getter: no per-frame cost). */
  abstract get kind(): FrameKind;

  /** Whether the frame survives interruptions (kept in queues). Default `false`. */
  get uninterruptible(): boolean {
    return false;
  }

  /** `"<ClassName>#<id>"`, for logs. */
  get name(): string {
    return `${this.constructor.name}#${this.id}`;
  }

  toString(): string {
    return this.name;
  }
}

/** High-priority frame: may overtake queued frames; never dropped by an interruption. */
export abstract class SystemFrame extends Frame {
  get kind(): FrameKind {
    return "system";
  }
}

/** Ordered-lane payload frame; dropped from queues by an interruption unless uninterruptible. */
export abstract class DataFrame extends Frame {
  get kind(): FrameKind {
    return "data";
  }
}

/** Ordered-lane control frame (end, settings, turn boundaries). */
export abstract class ControlFrame extends Frame {
  get kind(): FrameKind {
    return "control";
  }
}

// ---------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------

/** Fields of {@link StartFrame}. */
export interface StartFrameInit extends FrameInit {
  /** Sample rate of input (user) audio in Hz. Default 16000. */
  readonly audioInSampleRate?: number;
  /** Sample rate of output (bot) audio in Hz. Default 24000. */
  readonly audioOutSampleRate?: number;
  /** Whether interruptions are allowed in this run. Default `true`. */
  readonly allowInterruptions?: boolean;
  /** Whether processors emit {@link MetricsFrame}s (TTFB, processing time). Default `false`. */
  readonly enableMetrics?: boolean;
  /** Whether services report usage metrics (characters, audio seconds). Default `false`. */
  readonly enableUsageMetrics?: boolean;
  /** Report only the first TTFB of each processor. Default `false`. */
  readonly reportOnlyInitialTtfb?: boolean;
}

/** First frame of every run; must reach every processor (forward it!). System. */
export class StartFrame extends SystemFrame {
  readonly audioInSampleRate: number;
  readonly audioOutSampleRate: number;
  readonly allowInterruptions: boolean;
  readonly enableMetrics: boolean;
  readonly enableUsageMetrics: boolean;
  readonly reportOnlyInitialTtfb: boolean;
  constructor(init: StartFrameInit = {}) {
    super(init);
    this.audioInSampleRate = init.audioInSampleRate ?? 16000;
    this.audioOutSampleRate = init.audioOutSampleRate ?? 24000;
    this.allowInterruptions = init.allowInterruptions ?? true;
    this.enableMetrics = init.enableMetrics ?? false;
    this.enableUsageMetrics = init.enableUsageMetrics ?? false;
    this.reportOnlyInitialTtfb = init.reportOnlyInitialTtfb ?? false;
  }
}

/** Fields of frames that carry an optional reason. */
export interface ReasonInit extends FrameInit {
  /** Human-readable reason, for logs. */
  readonly reason?: string | undefined;
}

/**
 * Graceful end: travels in order behind everything queued; each processor flushes
 * (`onEnd`) before forwarding it. Control, uninterruptible.
 */
export class EndFrame extends ControlFrame {
  readonly reason: string | undefined;
  constructor(init: ReasonInit = {}) {
    super(init);
    this.reason = init.reason;
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/** Stop the run but keep processors (connections) alive. Control, uninterruptible. */
export class StopFrame extends ControlFrame {
  override get uninterruptible(): boolean {
    return true;
  }
}

/** Immediate stop: overtakes everything; queued frames are abandoned. System. */
export class CancelFrame extends SystemFrame {
  readonly reason: string | undefined;
  constructor(init: ReasonInit = {}) {
    super(init);
    this.reason = init.reason;
  }
}

/**
 * Cancel in-flight bot output: processors abort their current work (AbortSignal),
 * drop queued interruptible frames and forward it. System.
 */
export class InterruptionFrame extends SystemFrame {}

/** Pushed **upstream** by a processor to ask the task for a graceful end (`EndFrame`). */
export class EndTaskFrame extends ControlFrame {
  readonly reason: string | undefined;
  constructor(init: ReasonInit = {}) {
    super(init);
    this.reason = init.reason;
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/** Pushed **upstream** by a processor to ask the task to cancel (`CancelFrame`). System. */
export class CancelTaskFrame extends SystemFrame {
  readonly reason: string | undefined;
  constructor(init: ReasonInit = {}) {
    super(init);
    this.reason = init.reason;
  }
}

/**
 * Pushed **upstream** by a processor to ask the task to inject an {@link InterruptionFrame}
 * at the pipeline source (ignored when the task disallows interruptions). System.
 */
export class InterruptionTaskFrame extends SystemFrame {}

/** Something with a name (a processor), referenced from frames without an import cycle. */
export interface NamedSource {
  readonly name: string;
}

/** Fields of {@link ErrorFrame}. */
export interface ErrorFrameInit extends FrameInit {
  /** What went wrong (no secrets, no URLs with query strings). */
  readonly error: string;
  /** A fatal error ends the run (the task cancels). Default `false`. */
  readonly fatal?: boolean;
  /** The processor that reported it. */
  readonly processor?: NamedSource | undefined;
  /** The underlying exception, if any. */
  readonly cause?: unknown;
}

/** An error, pushed **upstream** to the task (which emits its `error` event). System. */
export class ErrorFrame extends SystemFrame {
  readonly error: string;
  readonly fatal: boolean;
  readonly processor: NamedSource | undefined;
  readonly cause: unknown;
  constructor(init: ErrorFrameInit) {
    super(init);
    this.error = init.error;
    this.fatal = init.fatal ?? false;
    this.processor = init.processor;
    this.cause = init.cause;
  }
}

/** One measurement carried by a {@link MetricsFrame}. */
export interface MetricsData {
  /** Name of the processor measured (`TurnLatencyObserver` for `turn_latency`). */
  readonly processor: string;
  /**
   * `ttfb`: time to first byte/token/audio; `processing`: time to process one unit of work;
   * `turn_latency`: one user turn's breakdown (`turnLatency`), `value` = voice-to-voice ms.
   */
  readonly type: "ttfb" | "processing" | "usage" | "turn_latency";
  /** Value in ms for `ttfb`/`processing`/`turn_latency` (NaN: the turn got no reply); a count (characters, tokens) for `usage`. */
  readonly value: number;
  /** For `turn_latency`: the breakdown (see `TurnLatencyObserver`). */
  readonly turnLatency?: TurnLatency | undefined;
  /** Model or voice, when the processor knows it. */
  readonly model?: string | undefined;
  /** For `usage`: what is counted (e.g. `"characters"`, `"audio_seconds"`). */
  readonly unit?: string | undefined;
}

/** Metrics (TTFB, processing time, usage) when the task enables metrics. System. */
export class MetricsFrame extends SystemFrame {
  readonly data: readonly MetricsData[];
  constructor(init: FrameInit & { readonly data: readonly MetricsData[] }) {
    super(init);
    this.data = init.data;
  }
}

// ---------------------------------------------------------------------------------------
// Audio
// ---------------------------------------------------------------------------------------

/** Fields of audio frames. */
export interface AudioFrameInit extends FrameInit {
  /**
   * PCM **signed 16-bit little-endian**, interleaved when `numChannels > 1`.
   * A `Uint8Array` (a Node `Buffer` is one and is accepted as is; it is not copied).
   */
  readonly audio: Uint8Array;
  /** Sample rate in Hz. */
  readonly sampleRate: number;
  /** Number of interleaved channels. Default 1. */
  readonly numChannels?: number;
}

/** What every raw audio frame has (input and output). */
export interface AudioFrame {
  readonly audio: Uint8Array;
  readonly sampleRate: number;
  readonly numChannels: number;
  /** Samples per channel (`audio.byteLength / (2 × numChannels)`). */
  readonly numFrames: number;
  /** Duration in ms. */
  readonly durationMs: number;
}

/** Samples per channel in `byteLength` bytes of PCM s16le with `numChannels` channels. */
export function pcmNumFrames(byteLength: number, numChannels = 1): number {
  return Math.floor(byteLength / (2 * numChannels));
}

/** Duration in ms of `byteLength` bytes of PCM s16le at `sampleRate` Hz. */
export function pcmDurationMs(byteLength: number, sampleRate: number, numChannels = 1): number {
  return (pcmNumFrames(byteLength, numChannels) * 1000) / sampleRate;
}

function checkAudio(init: AudioFrameInit): void {
  if (!(init.sampleRate > 0)) {
    throw new RangeError(
      `audio frame: sampleRate must be a positive number of Hz, got ${String(init.sampleRate)}`,
    );
  }
  const ch = init.numChannels ?? 1;
  if (!Number.isInteger(ch) || ch < 1) {
    throw new RangeError(`audio frame: numChannels must be an integer ≥ 1, got ${String(ch)}`);
  }
}

/**
 * Microphone / caller audio entering the pipeline. **System** (design.md): user audio
 * is never dropped by an interruption and is not stuck behind slow data work.
 * Turn frames do not depend on its lane: STT services emit them in the ordered lane.
 */
export class InputAudioRawFrame extends SystemFrame implements AudioFrame {
  readonly audio: Uint8Array;
  readonly sampleRate: number;
  readonly numChannels: number;
  /** Identifies the speaker/track in multi-party transports. */
  readonly userId: string | undefined;
  /**
   * How `audio` is encoded. `linear16` (PCM s16le, the default) everywhere in the pipeline,
   * except for telephony **passthrough**: a call's 8 kHz G.711 μ-law (`mulaw`, 1 byte per
   * sample, ITU-T G.711) travels untouched to an STT that accepts it (Flux:
   * `encoding=mulaw&sample_rate=8000`), so the input path neither decodes nor resamples.
   * Processors that read samples must check it (or decode with `mulawToPcm`).
   */
  readonly encoding: InputAudioEncoding;
  constructor(
    init: AudioFrameInit & {
      readonly userId?: string;
      readonly encoding?: InputAudioEncoding | undefined;
    },
  ) {
    super(init);
    checkAudio(init);
    this.audio = init.audio;
    this.sampleRate = init.sampleRate;
    this.numChannels = init.numChannels ?? 1;
    this.userId = init.userId;
    this.encoding = init.encoding ?? "linear16";
  }
  get numFrames(): number {
    return this.encoding === "linear16"
      ? pcmNumFrames(this.audio.byteLength, this.numChannels)
      : Math.floor(this.audio.byteLength / this.numChannels);
  }
  get durationMs(): number {
    return (this.numFrames * 1000) / this.sampleRate;
  }
}

/** Encodings an {@link InputAudioRawFrame} may carry: PCM s16le, or G.711 μ-law/A-law (1 byte per sample). */
export type InputAudioEncoding = "linear16" | "mulaw" | "alaw";

/** A telephone keypad key (DTMF, ITU-T Q.23/Q.24): digits, `*`, `#` and the column keys A–D. */
export type KeypadEntry =
  "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "*" | "#" | "A" | "B" | "C" | "D";

/** The keypad keys, in keypad order; see {@link KeypadEntry}. */
export const KEYPAD_ENTRIES: readonly KeypadEntry[] = [
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
  "*",
  "0",
  "#",
  "A",
  "B",
  "C",
  "D",
];

/**
 * The caller pressed a key (DTMF from a telephony provider: Twilio/Telnyx/Plivo/Exotel
 * `dtmf` events). System, like user audio (Pipecat's `InputDTMFFrame`).
 * @throws {RangeError} when `button` is not a keypad key.
 */
export class InputDTMFFrame extends SystemFrame {
  /** The key pressed. */
  readonly button: KeypadEntry;
  constructor(init: FrameInit & { readonly button: KeypadEntry }) {
    super(init);
    if (!KEYPAD_ENTRIES.includes(init.button)) {
      throw new RangeError(
        `InputDTMFFrame: button must be one of ${KEYPAD_ENTRIES.join(" ")}, got ${JSON.stringify(init.button)}`,
      );
    }
    this.button = init.button;
  }
}

/** Audio to play to the user. Data (interruptible). */
export class OutputAudioRawFrame extends DataFrame implements AudioFrame {
  readonly audio: Uint8Array;
  readonly sampleRate: number;
  readonly numChannels: number;
  constructor(init: AudioFrameInit) {
    super(init);
    checkAudio(init);
    this.audio = init.audio;
    this.sampleRate = init.sampleRate;
    this.numChannels = init.numChannels ?? 1;
  }
  get numFrames(): number {
    return pcmNumFrames(this.audio.byteLength, this.numChannels);
  }
  get durationMs(): number {
    return pcmDurationMs(this.audio.byteLength, this.sampleRate, this.numChannels);
  }
}

/** Audio synthesized by a TTS service. Data (interruptible). */
export class TTSAudioRawFrame extends OutputAudioRawFrame {
  /** The TTS context (one per bot response) this audio belongs to. */
  readonly contextId: string | undefined;
  constructor(init: AudioFrameInit & { readonly contextId?: string | undefined }) {
    super(init);
    this.contextId = init.contextId;
  }
}

/** True for any raw audio frame (input or output). */
export function isAudioFrame(frame: Frame): frame is Frame & AudioFrame {
  return frame instanceof InputAudioRawFrame || frame instanceof OutputAudioRawFrame;
}

// ---------------------------------------------------------------------------------------
// Speech state
// ---------------------------------------------------------------------------------------

/**
 * The user started speaking. Control + uninterruptible (not system, unlike Pipecat):
 * it stays ordered with the transcription frames of the same turn.
 */
export class UserStartedSpeakingFrame extends ControlFrame {
  override get uninterruptible(): boolean {
    return true;
  }
}

/** The user stopped speaking. Control + uninterruptible; ordered with transcriptions. */
export class UserStoppedSpeakingFrame extends ControlFrame {
  override get uninterruptible(): boolean {
    return true;
  }
}

/** The bot started playing audio (output transport; usually pushed up and down). System. */
export class BotStartedSpeakingFrame extends SystemFrame {}

/** The bot stopped playing audio. System. */
export class BotStoppedSpeakingFrame extends SystemFrame {}

/** Mute (`true`) or unmute the STT service: muted audio is not sent to the provider. System. */
export class STTMuteFrame extends SystemFrame {
  readonly mute: boolean;
  constructor(init: FrameInit & { readonly mute: boolean }) {
    super(init);
    this.mute = init.mute;
  }
}

// ---------------------------------------------------------------------------------------
// Text and turns
// ---------------------------------------------------------------------------------------

/** Text. Data. */
export class TextFrame extends DataFrame {
  readonly text: string;
  constructor(init: FrameInit & { readonly text: string }) {
    super(init);
    this.text = init.text;
  }
}

/** A recognised word. Times are **seconds of stream audio** (Flux `words[]`). */
export interface Word {
  readonly word: string;
  /** 0–1. */
  readonly confidence: number;
  /** Start in seconds of audio since the stream started (may be absent on some providers). */
  readonly start?: number | undefined;
  /** End in seconds of audio since the stream started. */
  readonly end?: number | undefined;
}

/** Fields shared by all turn frames (Flux `TurnInfo`, flux-protocol.md §TurnInfo). */
export interface TurnFields {
  /** Flux `turn_index` (restarts at 0 on a new connection unless the service offsets it). */
  readonly turnIndex: number;
  /** Cumulative transcript of the turn so far. */
  readonly transcript: string;
  /** Words of the transcript. */
  readonly words: readonly Word[];
  /** Primary detected language (BCP-47), when known. */
  readonly language: string | undefined;
  /** Detected languages sorted by word count (Flux multi `languages`). */
  readonly languages: readonly string[] | undefined;
  /** Flux `end_of_turn_confidence`, 0–1. */
  readonly endOfTurnConfidence: number | undefined;
  /** Flux `audio_window_start`, seconds of audio. */
  readonly audioWindowStart: number | undefined;
  /** Flux `audio_window_end`, seconds of audio. */
  readonly audioWindowEnd: number | undefined;
  /** The provider's raw message, untouched. */
  readonly result: unknown;
  /** Speaker/track id in multi-party transports. */
  readonly userId: string | undefined;
}

/** Constructor fields of turn frames (only `turnIndex` is required). */
export interface TurnFrameInit extends FrameInit {
  readonly turnIndex: number;
  readonly transcript?: string;
  readonly words?: readonly Word[];
  readonly language?: string | undefined;
  readonly languages?: readonly string[] | undefined;
  readonly endOfTurnConfidence?: number | undefined;
  readonly audioWindowStart?: number | undefined;
  readonly audioWindowEnd?: number | undefined;
  readonly result?: unknown;
  readonly userId?: string | undefined;
}

/** Constructor fields of transcription frames (`text` is the transcript). */
export type TranscriptionFrameInit = Omit<TurnFrameInit, "transcript"> & { readonly text: string };

const EMPTY_WORDS: readonly Word[] = Object.freeze([]);

/** Copies turn fields onto a frame (one place, so all turn frames agree). */
function assignTurn(target: Frame, init: TurnFrameInit, transcript: string): void {
  const t = target as unknown as Record<string, unknown>;
  t.turnIndex = init.turnIndex;
  t.transcript = transcript;
  t.words = init.words ?? EMPTY_WORDS;
  t.language = init.language ?? init.languages?.[0];
  t.languages = init.languages;
  t.endOfTurnConfidence = init.endOfTurnConfidence;
  t.audioWindowStart = init.audioWindowStart;
  t.audioWindowEnd = init.audioWindowEnd;
  t.result = init.result;
  t.userId = init.userId;
}

// The turn fields are declared once, in `TurnFields`, and merged into each turn frame class
// below (interface + class declaration merging); `assignTurn` sets them in the constructor.
// The lint rule guards against merged members that nothing initialises — here the
// constructor initialises every one of them. The rules are off for this region only, so
// each declaration keeps its TSDoc right above it.
/* eslint-disable @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the interfaces are merged into their classes (that is their point); assignTurn sets the fields */

/** The {@link TurnFields} of every `TurnControlFrame` (declaration merging). */
export interface TurnControlFrame extends TurnFields {}
/** Base of turn-boundary frames. Control + uninterruptible (see the module comment). */
export abstract class TurnControlFrame extends ControlFrame {
  constructor(init: TurnFrameInit) {
    super(init);
    assignTurn(this, init, init.transcript ?? "");
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/** Flux `StartOfTurn`: the user began a turn. */
export class StartOfTurnFrame extends TurnControlFrame {}

/** Flux `EagerEndOfTurn`: the turn is probably over (speculative; may be followed by `TurnResumed`). */
export class EagerEndOfTurnFrame extends TurnControlFrame {}

/** Flux `TurnResumed`: the user kept talking after an `EagerEndOfTurn`; drop speculative work. */
export class TurnResumedFrame extends TurnControlFrame {}

/** Why a turn ended (Flux `trigger`, an open enum: `model`, `manual`, `timeout`). */
export type EndOfTurnTrigger = "model" | "manual" | "timeout" | (string & {});

/**
 * Flux `EndOfTurn`: the turn is over. Always pushed **after** the turn's final
 * {@link TranscriptionFrame}; both share the ordered lane, so it never overtakes it.
 */
export class EndOfTurnFrame extends TurnControlFrame {
  /** Cause of the end (Flux `trigger`), when the provider says. */
  readonly trigger: EndOfTurnTrigger | undefined;
  constructor(init: TurnFrameInit & { readonly trigger?: EndOfTurnTrigger | undefined }) {
    super(init);
    this.trigger = init.trigger;
  }
}

/** The {@link TurnFields} of every `InterimTranscriptionFrame` (declaration merging). */
export interface InterimTranscriptionFrame extends TurnFields {}
/** Interim transcript of the current turn (Flux `Update`). Data, uninterruptible. */
export class InterimTranscriptionFrame extends TextFrame {
  constructor(init: TranscriptionFrameInit) {
    super(init);
    assignTurn(this, init, init.text);
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/** Constructor fields of {@link TranscriptionFrame}: a transcription plus how the turn ended. */
export type FinalTranscriptionFrameInit = TranscriptionFrameInit & {
  readonly trigger?: EndOfTurnTrigger | undefined;
  readonly confidence?: number | undefined;
};

/** The {@link TurnFields} of every `TranscriptionFrame` (declaration merging). */
export interface TranscriptionFrame extends TurnFields {}
/**
 * Final transcript of a turn (Flux `EndOfTurn` transcript). Data, uninterruptible.
 * Pushed before the turn's {@link EndOfTurnFrame}, which carries the same `trigger`.
 */
export class TranscriptionFrame extends TextFrame {
  /**
   * Why the turn ended (Flux `EndOfTurn` `trigger`: `model`, `manual`, `timeout`; a
   * service may add its own, e.g. voxpipe's Flux client uses `connection-lost` and
   * `closed` for turns it had to close itself). `undefined` when the provider does not say.
   */
  readonly trigger: EndOfTurnTrigger | undefined;
  /**
   * Confidence of the transcript, 0–1: the **mean of the words' confidences**
   * ({@link meanWordConfidence}; Flux sends
   * per-word `confidence` only, flux-protocol.md §TurnInfo; `end_of_turn_confidence` is a
   * different thing, see {@link TurnFields.endOfTurnConfidence}). `undefined` when the
   * turn has no words or the provider gives no confidence.
   */
  readonly confidence: number | undefined;
  constructor(init: FinalTranscriptionFrameInit) {
    super(init);
    assignTurn(this, init, init.text);
    this.trigger = init.trigger;
    this.confidence = init.confidence;
  }
  override get uninterruptible(): boolean {
    return true;
  }
}
/* eslint-enable @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type */

/**
 * Mean of the words' confidences (0–1): what {@link TranscriptionFrame.confidence} holds.
 * @returns `undefined` for no words.
 */
export function meanWordConfidence(words: readonly Pick<Word, "confidence">[]): number | undefined {
  if (words.length === 0) return undefined;
  return words.reduce((sum, w) => sum + w.confidence, 0) / words.length;
}

/** Any frame of a user turn. */
export type TurnFrame = TurnControlFrame | InterimTranscriptionFrame | TranscriptionFrame;

/** True for the six turn frames (start, interim, eager, resumed, transcription, end). */
export function isTurnFrame(frame: Frame): frame is TurnFrame {
  return (
    frame instanceof TurnControlFrame ||
    frame instanceof InterimTranscriptionFrame ||
    frame instanceof TranscriptionFrame
  );
}

// ---------------------------------------------------------------------------------------
// LLM
// ---------------------------------------------------------------------------------------

/** "Run inference on this context" — produced by the user context aggregator. Data. */
export class LLMContextFrame extends DataFrame {
  readonly context: LLMContext;
  constructor(init: FrameInit & { readonly context: LLMContext }) {
    super(init);
    this.context = init.context;
  }
}

/** Opens one LLM response (followed by `LLMTextFrame`s). Control. */
export class LLMFullResponseStartFrame extends ControlFrame {}

/** Closes one LLM response. Control. */
export class LLMFullResponseEndFrame extends ControlFrame {}

/** A streamed chunk of LLM output; carries its own spacing (`"Hello"`, `" world"`). Data. */
export class LLMTextFrame extends TextFrame {}

/** Fields of the frames that change the conversation ({@link LLMMessagesAppendFrame} and friends). */
export interface LLMMessagesInit extends FrameInit {
  /** The messages (copied into the context). */
  readonly messages: readonly LLMMessage[];
  /** Run the LLM on the updated context right away. Default `false` (Pipecat's default). */
  readonly runLlm?: boolean | undefined;
}

/** Base of the frames that change the conversation's messages. Data, uninterruptible. */
export abstract class LLMMessagesFrame extends DataFrame {
  readonly messages: readonly LLMMessage[];
  readonly runLlm: boolean;
  constructor(init: LLMMessagesInit) {
    super(init);
    this.messages = init.messages;
    this.runLlm = init.runLlm ?? false;
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/**
 * Append messages to the conversation (e.g. "the caller is a returning customer"), handled
 * by the user context aggregator. Data, **uninterruptible** (unlike Pipecat, where it is a
 * plain data frame): a change the application asked for is never lost to a barge-in.
 */
export class LLMMessagesAppendFrame extends LLMMessagesFrame {}

/** Replace the whole conversation; handled by the user context aggregator. Data, uninterruptible. */
export class LLMMessagesUpdateFrame extends LLMMessagesFrame {}

/** Replace the tools the LLM may call; handled by the user context aggregator. Data, uninterruptible. */
export class LLMSetToolsFrame extends DataFrame {
  readonly tools: readonly LLMTool[];
  readonly toolChoice: LLMToolChoice | undefined;
  constructor(
    init: FrameInit & {
      readonly tools: readonly LLMTool[];
      readonly toolChoice?: LLMToolChoice | undefined;
    },
  ) {
    super(init);
    this.tools = init.tools;
    this.toolChoice = init.toolChoice;
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/**
 * Run the LLM on the conversation now (e.g. a greeting when a call connects: queue it after
 * the system prompt). The user context aggregator turns it into an `LLMContextFrame`. Data.
 */
export class LLMRunFrame extends DataFrame {}

// ---------------------------------------------------------------------------------------
// Function calling (Pipecat's frames; see `LLMService.registerFunction`)
// ---------------------------------------------------------------------------------------

/** One function call as the LLM asked for it (Pipecat `FunctionCallFromLLM`). */
export interface FunctionCallFromLLM {
  readonly functionName: string;
  /** The provider's id of the call (OpenAI `tool_calls[].id`). */
  readonly toolCallId: string;
  /** The arguments, parsed from the model's JSON (`{}` when it sent none). */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** The conversation the call was made in. */
  readonly context: LLMContext;
}

/**
 * The LLM asked for these function calls (all calls of one reply, before any runs).
 * System (Pipecat: a system frame), pushed downstream.
 */
export class FunctionCallsStartedFrame extends SystemFrame {
  readonly functionCalls: readonly FunctionCallFromLLM[];
  constructor(init: FrameInit & { readonly functionCalls: readonly FunctionCallFromLLM[] }) {
    super(init);
    this.functionCalls = init.functionCalls;
  }
}

/** Fields identifying one function call in the frames below. */
export interface FunctionCallInit extends FrameInit {
  readonly functionName: string;
  readonly toolCallId: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/**
 * One function call started running. Control, uninterruptible (Pipecat's lane).
 * `cancelOnInterruption`: whether a barge-in cancels it (see `registerFunction`).
 */
export class FunctionCallInProgressFrame extends ControlFrame {
  readonly functionName: string;
  readonly toolCallId: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly cancelOnInterruption: boolean;
  constructor(init: FunctionCallInit & { readonly cancelOnInterruption: boolean }) {
    super(init);
    this.functionName = init.functionName;
    this.toolCallId = init.toolCallId;
    this.arguments = init.arguments;
    this.cancelOnInterruption = init.cancelOnInterruption;
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/**
 * A function call finished: its `result` (what the handler returned, or `{ error }` when it
 * threw, timed out or was unknown) is in the conversation as a `tool` message. `runLlm`:
 * whether the LLM runs again because of it. Data, uninterruptible (Pipecat's lane).
 */
export class FunctionCallResultFrame extends DataFrame {
  readonly functionName: string;
  readonly toolCallId: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly result: unknown;
  readonly runLlm: boolean;
  constructor(init: FunctionCallInit & { readonly result: unknown; readonly runLlm: boolean }) {
    super(init);
    this.functionName = init.functionName;
    this.toolCallId = init.toolCallId;
    this.arguments = init.arguments;
    this.result = init.result;
    this.runLlm = init.runLlm;
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/** A running function call was cancelled by an interruption (its signal aborted). System. */
export class FunctionCallCancelFrame extends SystemFrame {
  readonly functionName: string;
  readonly toolCallId: string;
  constructor(init: FrameInit & { readonly functionName: string; readonly toolCallId: string }) {
    super(init);
    this.functionName = init.functionName;
    this.toolCallId = init.toolCallId;
  }
}

// ---------------------------------------------------------------------------------------
// TTS
// ---------------------------------------------------------------------------------------

/** Speak this text verbatim (bypasses the LLM). Data. */
export class TTSSpeakFrame extends TextFrame {}

/** Text actually sent to synthesis (one sentence); pushed before its audio. Data. */
export class TTSTextFrame extends TextFrame {
  readonly contextId: string | undefined;
  constructor(
    init: FrameInit & { readonly text: string; readonly contextId?: string | undefined },
  ) {
    super(init);
    this.contextId = init.contextId;
  }
}

/** A TTS context (one bot response) starts producing audio. Control. */
export class TTSStartedFrame extends ControlFrame {
  readonly contextId: string | undefined;
  constructor(init: FrameInit & { readonly contextId?: string | undefined } = {}) {
    super(init);
    this.contextId = init.contextId;
  }
}

/** A TTS context finished producing audio. Control. */
export class TTSStoppedFrame extends ControlFrame {
  readonly contextId: string | undefined;
  constructor(init: FrameInit & { readonly contextId?: string | undefined } = {}) {
    super(init);
    this.contextId = init.contextId;
  }
}

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

/** Fields of settings frames. */
export interface UpdateSettingsInit<TSettings> extends FrameInit {
  /** Only the fields to change (a typed delta). */
  readonly settings: Partial<TSettings>;
  /** Target one service instance; others forward the frame. Default: the first service of the type. */
  readonly service?: NamedSource | undefined;
}

/**
 * Base of settings updates: applied in order with data and never lost to an
 * interruption. Control, uninterruptible.
 */
export abstract class ServiceUpdateSettingsFrame<
  TSettings = Record<string, unknown>,
> extends ControlFrame {
  readonly settings: Partial<TSettings>;
  readonly service: NamedSource | undefined;
  constructor(init: UpdateSettingsInit<TSettings>) {
    super(init);
    this.settings = init.settings;
    this.service = init.service;
  }
  override get uninterruptible(): boolean {
    return true;
  }
}

/** Update an STT service's settings mid-stream (e.g. Flux `eotThreshold` → `Configure`). */
export class STTUpdateSettingsFrame<
  TSettings = Record<string, unknown>,
> extends ServiceUpdateSettingsFrame<TSettings> {}

/** Update an LLM service's settings (model, temperature…). */
export class LLMUpdateSettingsFrame<
  TSettings = Record<string, unknown>,
> extends ServiceUpdateSettingsFrame<TSettings> {}

/** Update a TTS service's settings (voice, speed…). */
export class TTSUpdateSettingsFrame<
  TSettings = Record<string, unknown>,
> extends ServiceUpdateSettingsFrame<TSettings> {}
