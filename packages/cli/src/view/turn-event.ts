/**
 * The turn events `voxpipe transcribe` shows, in Flux's vocabulary (TurnInfo `event` names,
 * protocol reference §3.2), plus the connection events of the STT service.
 */
import type { TurnEvent as FluxTurnEvent } from "@voxpipe/flux-protocol";

/** A word of a transcript with its recognition confidence (0–1). */
export interface TurnWord {
  word: string;
  confidence: number;
}

/** One TurnInfo event as the pipeline delivered it. */
export interface TurnEvent {
  /** Flux TurnInfo `event`. */
  event: FluxTurnEvent;
  /** Flux `turn_index`: 0-based, per connection. */
  turnIndex: number;
  transcript: string;
  words: TurnWord[];
  /** Flux `audio_window_start`, seconds of audio since the stream began. */
  audioWindowStart?: number;
  /** Flux `audio_window_end`, seconds of audio since the stream began. */
  audioWindowEnd?: number;
  /** Flux `end_of_turn_confidence` (0–1). */
  endOfTurnConfidence?: number;
  /** Detected languages (`flux-general-multi`), most likely first. */
  languages?: string[];
  /** EndOfTurn only: why the turn ended (Flux `trigger`: `model`, `manual`, `timeout`, …). */
  trigger?: string;
  /** EndOfTurn only: the final was dropped by `--min-confidence` (mean confidence too low). */
  droppedBelowMinConfidence?: boolean;
}

/** An error the pipeline reported (provider `code`/`description` when it has them). */
export interface ErrorEvent {
  event: "Error";
  message: string;
  /** Provider error code, e.g. Flux `Error.code`. */
  code?: string;
  /** True when the error ended the session (permanent), false when it was retried. */
  fatal: boolean;
}

/** The STT connection state changed (reconnects are otherwise invisible in a transcript). */
export interface ConnectionEvent {
  event: "Reconnecting" | "Reconnected";
  /** Reconnect attempt number, from 1. */
  attempt?: number;
  /** Why the connection was lost, when known. */
  reason?: string;
}

/**
 * Flux accepted a connection (Flux `Connected`). Its `request_id` is what Deepgram support
 * asks for about a session.
 */
export interface ConnectedEvent {
  event: "Connected";
  /** Flux `request_id`. */
  requestId: string;
  /** 1 for the first connection, +1 for each reconnect. */
  connection: number;
}

/** Everything the transcript views render. */
export type TranscriptViewEvent = TurnEvent | ErrorEvent | ConnectionEvent | ConnectedEvent;

/** Mean of the word confidences, or undefined without words. */
export function meanConfidence(words: readonly TurnWord[]): number | undefined {
  if (words.length === 0) return undefined;
  return words.reduce((sum, w) => sum + w.confidence, 0) / words.length;
}
