/**
 * The turn-engine interface: what decides what is heard.
 *
 * An engine only *recognizes*: it hears audio and reports the recognition state
 * (transcript so far, words, whether speech is active, end-of-turn confidence,
 * languages). The server's own state machine (`turn-state.ts`) turns those states into
 * Flux events with `eot_threshold`, `eager_eot_threshold` and `eot_timeout_ms`, so every
 * engine obeys the same protocol rules.
 *
 * Time: everything is **audio time**, seconds of stream audio since the connection
 * started (byte count ÷ bytes per second, reference §4.3), never wall time.
 *
 * Asynchrony: `hear`, `configure`, `resetTurn` and `close` may return promises (a real
 * recognizer decodes in a helper process). The server calls them **one at a time per
 * session, in stream order** — each frame's call completes before the next call starts
 * — and queues incoming audio and control messages meanwhile. Because each state is
 * tied to the audio time of the frame it answers, a slow engine delays events on the
 * wall clock but never changes their audio times or their order.
 */
import type { Logger } from "@voxpipe/core";
import type { FluxModel, FluxWord } from "@voxpipe/flux-protocol";

/**
 * One frame of decoded audio: mono PCM, signed 16-bit, at the session's sample rate
 * (`EngineSessionContext.sampleRate`). The server decodes `linear16`, `mulaw` and `alaw`
 * to this form and cuts the stream into 80 ms frames (the last frame before a
 * `CloseStream` may be shorter).
 */
export interface AudioFrame {
  /** Samples; owned by the engine once passed (the server never reuses the buffer). */
  readonly samples: Int16Array;
  /** Audio time of the first sample, seconds since stream start. */
  readonly start: number;
  /** Audio time just after the last sample, seconds since stream start. */
  readonly end: number;
}

/**
 * What an engine knows after hearing a frame. The transcript and words cover the
 * **current turn only**: after `resetTurn` they start empty again.
 */
export interface RecognitionState {
  /** Full text of the current turn so far ("" before any word). Punctuated and cased as the engine likes. */
  readonly transcript: string;
  /** Words of the current turn; `start`/`end` in seconds of stream audio; `confidence` 0–1. */
  readonly words: readonly FluxWord[];
  /** The user is speaking at the end of this frame (voice activity). Resets the `eot_timeout_ms` clock. */
  readonly speechActive: boolean;
  /**
   * 0–1: how sure the engine is that the user has finished their turn. Compared with
   * `eager_eot_threshold` and `eot_threshold` by the server.
   */
  readonly endOfTurnConfidence: number;
  /**
   * Languages detected in the current turn, most words first (BCP-47 base codes).
   * Reported as `languages` on `flux-general-multi`; omit or `[]` when unknown.
   */
  readonly languages?: readonly string[];
}

/** The settings an engine may use, as currently active (after any `Configure`). */
export interface EngineConfiguration {
  /** Terms to favour in recognition. Private: never log them. */
  readonly keyterms: readonly string[];
  /** Language hints (base codes), `[]` = auto-detect. Only on `flux-general-multi`. */
  readonly languageHints: readonly string[];
  /** Whether numbers should be written as digits. */
  readonly numerals: boolean;
}

/** What the server tells an engine about a new session. */
export interface EngineSessionContext {
  /** The session's `request_id` (a UUID): use it to correlate logs. */
  readonly requestId: string;
  /** The Flux model the client asked for. */
  readonly model: FluxModel;
  /** Sample rate in Hz of the PCM handed to `hear` (the client's `sample_rate`). */
  readonly sampleRate: number;
  /** The configuration at connection time. Changes arrive through `configure`. */
  readonly configuration: EngineConfiguration;
  /**
   * Per-session engine options from the server's `sessionPlan` hook (e.g. a test's
   * script for the scripted engine). `{}` when none were given.
   */
  readonly options: Readonly<Record<string, unknown>>;
  /** A pino logger bound to this session. Transcripts only at debug level; never keyterms. */
  readonly logger: Logger;
  /**
   * The server is overloaded as this session starts: at least one of its live sessions is
   * behind real time (it sent `ENGINE_BEHIND_AUDIO` and its backlog has not drained since).
   * An engine may start the session with cheaper settings, and say so with
   * {@link TurnEngine.warning}. `undefined` (a caller that does not know) means not overloaded.
   */
  readonly serverOverloaded?: boolean;
}

/**
 * Warning code of a session an engine started with cheaper settings because the server was
 * overloaded (`EngineSessionContext.serverOverloaded`; the local engine's `overloadSearch`).
 * voxpipe's own code.
 */
export const REDUCED_SEARCH_WARNING = "ENGINE_REDUCED_SEARCH";

/** A `Warning` an engine asks its session to send (voxpipe's own codes; Flux documents only `FORCE_END_TURN_NO_ACTIVE_TURN`). */
export interface EngineWarning {
  /** Machine-readable code, e.g. `"ENGINE_REDUCED_SEARCH"`. */
  readonly code: string;
  /** What it means for the client, in a sentence. */
  readonly description: string;
}

/** A value or a promise of it: engines may answer synchronously (cheap) or asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** The recognizer of one session. See the module doc for the calling contract. */
export interface TurnEngine {
  /** Hears one frame and returns the recognition state after it. A throw or rejection ends the session with `Error INTERNAL_SERVER_ERROR`. */
  hear(frame: AudioFrame): MaybePromise<RecognitionState>;
  /** Applies a new configuration (a successful `Configure`), effective for audio heard afterwards. */
  configure?(configuration: EngineConfiguration): MaybePromise<void>;
  /**
   * The server ended the turn (EndOfTurn with any trigger) at audio time `at` (seconds):
   * forget the current turn's words; audio from now on belongs to the next turn.
   */
  resetTurn(at: number): MaybePromise<void>;
  /** The session is over (any reason). Release per-session resources. Called exactly once. */
  close(): MaybePromise<void>;
  /** Sent to the client once as a `Warning`, right after `Connected` (e.g. the session started degraded). */
  readonly warning?: EngineWarning;
}

/**
 * Creates engines for sessions; one per server. Expensive shared set-up (loading a model,
 * spawning helpers) belongs in whatever builds the factory, not in `createSession`.
 */
export interface TurnEngineFactory {
  /** Name for logs and the engine registry, e.g. `"scripted"`. */
  readonly name: string;
  /** Creates the engine of one session. A throw or rejection refuses the handshake with 500. */
  createSession(context: EngineSessionContext): MaybePromise<TurnEngine>;
  /** Releases shared resources when the server closes. */
  close?(): MaybePromise<void>;
}

/**
 * Builds a factory from plain options (as given to `startFluxServer({ engineOptions })`
 * or the CLI). Each engine module exports one of these.
 */
export type TurnEngineProvider = (
  options: Readonly<Record<string, unknown>>,
) => MaybePromise<TurnEngineFactory>;
