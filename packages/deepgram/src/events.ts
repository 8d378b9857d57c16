import type { FluxActiveConfiguration, Received, TurnInfoMessage } from "@voxpipe/flux-protocol";
import type { FluxError } from "./errors.js";

/**
 * Events of a {@link FluxClient}. Turn events keep Flux's names
 * (`StartOfTurn`, `Update`, `EagerEndOfTurn`, `TurnResumed`, `EndOfTurn`) but their
 * times and turn indices are on the client's **continuous** timeline: seconds of
 * audio since the client started and turn indices counted across every
 * connection, so a reconnect never restarts them at 0.
 */
export type FluxEvent =
  | FluxTurnEvent
  | FluxEndOfTurnEvent
  | FluxConnectedEvent
  | FluxReconnectingEvent
  | FluxConfiguredEvent
  | FluxWarningEvent
  | FluxErrorEvent;

/** A recognised word; times in seconds on the continuous timeline (absent when Flux omits them). */
export interface FluxTimedWord {
  word: string;
  /** 0–1. */
  confidence: number;
  start?: number;
  end?: number;
}

/** Fields shared by every turn event. */
export interface FluxTurnFields {
  /** Turn index, continuous across connections (from 0). */
  turnIndex: number;
  /** Full text of the turn so far (replace, do not append). */
  transcript: string;
  words: FluxTimedWord[];
  /** Start of the turn's audio window, seconds on the continuous timeline. */
  audioWindowStart: number;
  /** End of the audio processed so far, seconds on the continuous timeline. */
  audioWindowEnd: number;
  /** Flux's `end_of_turn_confidence` (0–1), if sent. */
  endOfTurnConfidence: number | undefined;
  /** Detected languages (`flux-general-multi` only). */
  languages: string[] | undefined;
  /** Language hints active for this turn (`flux-general-multi` only). */
  languagesHinted: string[] | undefined;
  /** `performance.now()` when the message arrived (ms). */
  receivedAt: number;
  /** The Flux `TurnInfo` as received (its times and `turn_index` are relative to its connection). */
  raw: Received<TurnInfoMessage>;
}

/** `StartOfTurn`, `Update`, `EagerEndOfTurn` or `TurnResumed`. */
export interface FluxTurnEvent extends FluxTurnFields {
  type: "StartOfTurn" | "Update" | "EagerEndOfTurn" | "TurnResumed";
}

/**
 * Why a turn ended: Flux's triggers (`model`, `manual`, `timeout`), or voxpipe's
 * own when it had to close a turn Flux could not finish:
 * `connection-lost` (the turn could not be resumed after a reconnect) or
 * `closed` (the client closed before Flux ended the turn).
 */
export type FluxEndOfTurnTrigger =
  "model" | "manual" | "timeout" | "connection-lost" | "closed" | (string & {});

/** Latency figures of one turn (all in ms; `undefined` when not measurable). */
export interface FluxTurnMetrics {
  /** Audio time from the end of the last word to `EndOfTurn`'s `audio_window_end`. */
  endOfSpeechToEndOfTurnAudioMs: number | undefined;
  /** Wall time from sending the audio holding the last word's end to receiving `EndOfTurn`. */
  endOfSpeechToEndOfTurnWallMs: number | undefined;
  /**
   * Wall time from sending the audio up to `EndOfTurn`'s `audio_window_end` (the chunk that
   * holds its last 1 ms) to receiving `EndOfTurn`: the delay the server's processing added
   * (queueing and compute, plus the network), without the turn-end policy's own wait for
   * silence, which is audio time ({@link endOfSpeechToEndOfTurnAudioMs}). Near one chunk's
   * compute when the server keeps up with real time; grows when it falls behind.
   */
  processingDelayMs: number | undefined;
  /** Wall time from `EagerEndOfTurn` to `EndOfTurn` (eager mode only). */
  eagerToEndOfTurnMs: number | undefined;
}

/** `EndOfTurn`: the final transcript of a turn. Emitted exactly once per turn. */
export interface FluxEndOfTurnEvent extends FluxTurnFields {
  type: "EndOfTurn";
  trigger: FluxEndOfTurnTrigger;
  /** Mean word confidence (0–1, `meanWordConfidence` of `@voxpipe/core`), or `undefined` when the turn has no words. */
  confidence: number | undefined;
  /** `true` when voxpipe closed the turn itself (see {@link FluxEndOfTurnTrigger}). */
  synthetic: boolean;
  metrics: FluxTurnMetrics;
}

/** A connection is ready (Flux sent `Connected`) and buffered audio was replayed. */
export interface FluxConnectedEvent {
  type: "Connected";
  /** Flux `request_id` of this connection. */
  requestId: string;
  /** 1 for the first connection, +1 for each reconnect. */
  connection: number;
  /** Wall ms from losing the previous connection to this one being ready (0 for the first). */
  downtimeMs: number;
  /** Seconds of buffered audio replayed on this connection. */
  replayedSeconds: number;
}

/** A connection was lost (or could not be opened) and the client is retrying. */
export interface FluxReconnectingEvent {
  type: "Reconnecting";
  error: FluxError;
  /** Attempt that failed (1-based within this outage). */
  attempt: number;
}

/** Flux acknowledged a `Configure` (`ConfigureSuccess`); the active configuration follows. */
export interface FluxConfiguredEvent {
  type: "Configured";
  configuration: FluxActiveConfiguration;
}

/** A Flux `Warning` (non-fatal), e.g. `FORCE_END_TURN_NO_ACTIVE_TURN`. */
export interface FluxWarningEvent {
  type: "Warning";
  code: string;
  description: string;
}

/**
 * An error. Non-fatal (`error.fatal === false`: `ConfigureFailure`, a configure timeout,
 * lost audio) or fatal (`error.fatal === true`: the client failed; this is the last event
 * before `events$` completes).
 */
export interface FluxErrorEvent {
  type: "Error";
  error: FluxError;
}

/** Counters of a client (see {@link FluxClient.metrics}). */
export interface FluxClientMetrics {
  /** Seconds of audio written to sockets, replays and injected silence included. */
  audioSecondsSent: number;
  /** Seconds of audio sent again on a new connection. */
  audioSecondsReplayed: number;
  /** Seconds of silence streamed by the watchdog to let Flux end a turn. */
  silenceSecondsInjected: number;
  /** Seconds of audio dropped because the replay buffer overflowed during an outage. */
  audioSecondsDropped: number;
  /** Seconds of audio held for replay right now (bounded; trimmed as Flux confirms audio). */
  bufferedSeconds: number;
  /** Connections opened after the first. */
  reconnects: number;
  /**
   * Server frames skipped because the client does not know them (an unknown `type` or
   * TurnInfo `event`, a known type missing a field the client needs, non-JSON). Logged at debug.
   */
  unknownMessages: number;
  /** Turns ended. */
  turns: number;
  /** Metrics of the last ended turn. */
  lastTurn: FluxTurnMetrics | undefined;
}
