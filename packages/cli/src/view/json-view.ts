import type { TranscriptViewEvent } from "./turn-event.js";

/**
 * The `--json` output of `voxpipe transcribe`: one JSON object per line for every event, with
 * Flux's wire names (`turn_index`, `audio_window_start`, `end_of_turn_confidence`, …; protocol
 * reference §3.2) so scripts written against Flux read it unchanged. Fields that are unknown for
 * an event are omitted, never `null`.
 */
export function toJsonLine(event: TranscriptViewEvent): string {
  switch (event.event) {
    case "Error":
      return JSON.stringify({
        event: "Error",
        code: event.code,
        message: event.message,
        fatal: event.fatal,
      });
    case "Connected":
      return JSON.stringify({
        event: "Connected",
        request_id: event.requestId,
        connection: event.connection,
      });
    case "Reconnecting":
    case "Reconnected":
      return JSON.stringify({ event: event.event, attempt: event.attempt, reason: event.reason });
    default:
      return JSON.stringify({
        event: event.event,
        turn_index: event.turnIndex,
        transcript: event.transcript,
        words: event.words.map((w) => ({ word: w.word, confidence: w.confidence })),
        audio_window_start: event.audioWindowStart,
        audio_window_end: event.audioWindowEnd,
        end_of_turn_confidence: event.endOfTurnConfidence,
        languages: event.languages,
        trigger: event.trigger,
        dropped_below_min_confidence: event.droppedBelowMinConfidence,
      });
  }
}
