import { meanWordConfidence, type Logger } from "@voxpipe/core";
import type { Received, TurnInfoMessage } from "@voxpipe/flux-protocol";
import type {
  FluxEndOfTurnEvent,
  FluxEndOfTurnTrigger,
  FluxEvent,
  FluxTimedWord,
  FluxTurnFields,
  FluxTurnMetrics,
} from "../events.js";

/** Audio past the replayed range after which a turn that Flux did not re-open is closed by us. */
export const RESUME_SLACK_SECONDS = 1;

/** The turn between `StartOfTurn` and `EndOfTurn`. */
interface OpenTurn {
  index: number;
  /**
   * Where the turn's speech starts on the continuous timeline: its first word, else
   * `audio_window_start`. Replays after a drop start a margin before it.
   */
  anchor: number;
  last: FluxTurnFields;
  eagerAt: number | undefined;
}

/** What the tracker reads and updates on the connection a `TurnInfo` came from. */
export interface TurnTimeline {
  /** Continuous-timeline time of the connection's audio time 0 (seconds). */
  readonly offset: number;
  /** Added to Flux's `turn_index`; bumped by {@link cutTurnClosed}. */
  readonly turnIndexOffset: number;
  /** Set while a turn open before a drop waits for Flux to re-open it (seconds). */
  readonly resumeUntil: number | undefined;
  /** The turn cut by the drop was re-opened or ended by Flux: stop waiting for it. */
  resumeSettled(): void;
  /**
   * Flux did not re-open the cut turn and the tracker closed it: Flux's next turn on this
   * connection is one index later on the client's timeline.
   */
  cutTurnClosed(): void;
}

/** What the tracker needs from its client. */
export interface TurnTrackerHost {
  emit(event: FluxEvent): void;
  /** `performance.now()` when the audio at `time` (continuous timeline, seconds) was sent, if known. */
  sentAt(time: number): number | undefined;
  readonly log: Logger;
}

/**
 * Turn state across connections: maps Flux `TurnInfo`s (connection-relative times and
 * indices) to events on the client's continuous timeline, emits exactly one
 * `EndOfTurn` per turn (never a final twice, never a turn left open: a turn cut by a
 * drop is resumed when Flux re-opens it, else closed with `connection-lost`), and says
 * where a new connection must start replaying.
 */
export class TurnTracker {
  private turn: OpenTurn | undefined;
  private lastFinalIndex = -1;
  private lastFinalEnd = 0;
  private processed = 0;
  private ended = 0;
  private last: FluxTurnMetrics | undefined;

  constructor(private readonly host: TurnTrackerHost) {}

  /** Whether a turn is open. */
  get isOpen(): boolean {
    return this.turn !== undefined;
  }

  /** End of the audio Flux has processed (continuous timeline, seconds). */
  get processedUntil(): number {
    return this.processed;
  }

  /** Turns ended so far. */
  get turns(): number {
    return this.ended;
  }

  /** Metrics of the last ended turn. */
  get lastTurn(): FluxTurnMetrics | undefined {
    return this.last;
  }

  /**
   * First point Flux has not confirmed: the open turn's speech, else the end of the
   * processed audio (continuous timeline, seconds).
   */
  get unconfirmedFrom(): number {
    return this.turn !== undefined ? this.turn.anchor : this.processed;
  }

  /** Where a new connection's replay starts: `marginSeconds` before the unconfirmed point, never before the last final. */
  replayFrom(marginSeconds: number): number {
    return Math.max(this.lastFinalEnd, this.unconfirmedFrom - marginSeconds, 0);
  }

  /** The turn index a new connection's `turn_index` 0 stands for. */
  nextTurnIndexOffset(): number {
    return this.turn !== undefined ? this.turn.index : this.lastFinalIndex + 1;
  }

  /** Handles one `TurnInfo` from `conn` (the current connection). */
  onTurnInfo(conn: TurnTimeline, m: Received<TurnInfoMessage>): void {
    const fields = toTurnFields(conn, m);
    this.processed = Math.max(this.processed, fields.audioWindowEnd);
    const index = fields.turnIndex;
    switch (m.event) {
      case "StartOfTurn":
        conn.resumeSettled();
        if (this.turn !== undefined && this.turn.index === index) {
          // Flux re-opened the turn cut by the drop: it continues, no second StartOfTurn.
          this.turn.last = fields;
          this.turn.anchor = Math.min(this.turn.anchor, anchorOf(fields));
          this.host.emit({ type: "Update", ...fields });
        } else if (index > this.lastFinalIndex) {
          this.closeOpen("connection-lost");
          this.open(fields);
        }
        break;
      case "Update":
      case "EagerEndOfTurn":
      case "TurnResumed":
        if (
          this.turn !== undefined &&
          conn.resumeUntil !== undefined &&
          fields.audioWindowEnd >= conn.resumeUntil
        ) {
          // Flux did not re-open the turn cut by the drop: close it with what we have.
          conn.cutTurnClosed();
          this.endTurn(this.turn.last, "connection-lost", true);
          break;
        }
        if (this.turn !== undefined && conn.resumeUntil !== undefined) break; // not re-opened (yet)
        if (this.turn !== undefined && this.turn.index === index) {
          this.turn.last = fields;
          if (m.event === "EagerEndOfTurn") this.turn.eagerAt = fields.receivedAt;
          this.host.emit({ type: m.event, ...fields });
        } else if (m.event === "Update" && this.turn === undefined && index > this.lastFinalIndex) {
          this.host.emit({ type: "Update", ...fields });
        }
        break;
      case "EndOfTurn": {
        conn.resumeSettled();
        if (index <= this.lastFinalIndex) break; // already final: never emit a transcript twice
        if (this.turn === undefined || this.turn.index !== index) {
          // EndOfTurn without a known start: open and close it rather than drop it (pipecat #5425).
          this.closeOpen("connection-lost");
          this.open(fields);
        }
        this.endTurn(fields, m.trigger ?? "model", false);
        break;
      }
    }
  }

  /** Closes the open turn, if any, with what Flux last said of it (voxpipe's own `trigger`). */
  closeOpen(trigger: FluxEndOfTurnTrigger): void {
    if (this.turn !== undefined) this.endTurn(this.turn.last, trigger, true);
  }

  private open(fields: FluxTurnFields): void {
    this.turn = {
      index: fields.turnIndex,
      anchor: anchorOf(fields),
      last: fields,
      eagerAt: undefined,
    };
    this.host.emit({ type: "StartOfTurn", ...fields });
  }

  /** Emits the one `EndOfTurn` of the open turn and closes it. */
  private endTurn(fields: FluxTurnFields, trigger: FluxEndOfTurnTrigger, synthetic: boolean): void {
    const turn = this.turn;
    this.turn = undefined;
    this.lastFinalIndex = Math.max(this.lastFinalIndex, fields.turnIndex);
    this.lastFinalEnd = Math.max(this.lastFinalEnd, fields.audioWindowEnd);
    this.ended++;
    const metrics = this.turnMetrics(fields, turn?.eagerAt);
    this.last = metrics;
    const event: FluxEndOfTurnEvent = {
      ...fields,
      type: "EndOfTurn",
      trigger,
      confidence: meanWordConfidence(fields.words),
      synthetic,
      metrics,
    };
    this.host.log.debug(
      { turnIndex: event.turnIndex, trigger, transcript: event.transcript },
      "end of turn",
    );
    this.host.emit(event);
  }

  private turnMetrics(fields: FluxTurnFields, eagerAt: number | undefined): FluxTurnMetrics {
    const lastWordEnd = fields.words.reduce<number | undefined>(
      (end, w) => (w.end !== undefined && (end === undefined || w.end > end) ? w.end : end),
      undefined,
    );
    const sentAt = lastWordEnd !== undefined ? this.host.sentAt(lastWordEnd) : undefined;
    // The chunk holding the window's last millisecond (a chunk starting exactly at the end is later audio).
    const windowSentAt = this.host.sentAt(Math.max(0, fields.audioWindowEnd - 0.001));
    return {
      endOfSpeechToEndOfTurnAudioMs:
        lastWordEnd !== undefined
          ? Math.max(0, (fields.audioWindowEnd - lastWordEnd) * 1000)
          : undefined,
      endOfSpeechToEndOfTurnWallMs: sentAt !== undefined ? fields.receivedAt - sentAt : undefined,
      processingDelayMs: windowSentAt !== undefined ? fields.receivedAt - windowSentAt : undefined,
      eagerToEndOfTurnMs: eagerAt !== undefined ? fields.receivedAt - eagerAt : undefined,
    };
  }
}

/** A `TurnInfo`'s fields on the continuous timeline (times + `offset`, index + `turnIndexOffset`). */
function toTurnFields(conn: TurnTimeline, m: Received<TurnInfoMessage>): FluxTurnFields {
  const o = conn.offset;
  return {
    turnIndex: conn.turnIndexOffset + m.turn_index,
    transcript: m.transcript,
    words: m.words.map((w): FluxTimedWord => {
      const word: FluxTimedWord = { word: w.word, confidence: w.confidence };
      if (w.start !== undefined) word.start = o + w.start;
      if (w.end !== undefined) word.end = o + w.end;
      return word;
    }),
    audioWindowStart: o + m.audio_window_start,
    audioWindowEnd: o + m.audio_window_end,
    endOfTurnConfidence: m.end_of_turn_confidence,
    languages: m.languages,
    languagesHinted: m.languages_hinted,
    receivedAt: performance.now(),
    raw: m,
  };
}

/** Start of a turn's speech: its first timed word, else the start of its audio window. */
function anchorOf(fields: FluxTurnFields): number {
  const first = fields.words.find((w) => w.start !== undefined)?.start;
  return first !== undefined ? Math.max(fields.audioWindowStart, first) : fields.audioWindowStart;
}
