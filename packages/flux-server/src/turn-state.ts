/**
 * The server's turn state machine: turns an engine's {@link RecognitionState}s into Flux
 * TurnInfo events, the same way for every engine (reference §4.1, §4.2, §4.5).
 * Pure: no I/O, no clock but the audio time it is given.
 */
import {
  UPDATE_INTERVAL_MS,
  RECOMMENDED_CHUNK_MS,
  type EndOfTurnTrigger,
  type FluxWord,
  type TurnEvent,
} from "@voxpipe/flux-protocol";
import type { RecognitionState } from "./engine.js";

/** Thresholds in effect (from the query, changed by `Configure`). */
export interface TurnThresholds {
  /** 0.5–1.0; 1.0 turns model-triggered EndOfTurn off (D-byo). */
  readonly eotThreshold: number;
  /** 0.3–0.9; `undefined` = eager mode off (no EagerEndOfTurn/TurnResumed, D-mig). */
  readonly eagerEotThreshold: number | undefined;
  /** Streamed silence (ms of audio) after speech that ends a turn with `trigger: "timeout"`. */
  readonly eotTimeoutMs: number;
}

/** One TurnInfo to send, before the session adds ids and languages. */
export interface TurnUpdate {
  readonly event: TurnEvent;
  readonly turnIndex: number;
  /** Seconds: where this turn's audio began (the previous EndOfTurn, or 0). */
  readonly audioWindowStart: number;
  /** Seconds: audio processed so far. */
  readonly audioWindowEnd: number;
  readonly transcript: string;
  readonly words: readonly FluxWord[];
  readonly endOfTurnConfidence: number;
  readonly languages: readonly string[];
  /** Only on EndOfTurn. */
  readonly trigger?: EndOfTurnTrigger;
}

type Phase = "idle" | "ongoing" | "awaiting-end";

const FRAMES_PER_UPDATE = Math.round(UPDATE_INTERVAL_MS / RECOMMENDED_CHUNK_MS);
const EMPTY: RecognitionState = {
  transcript: "",
  words: [],
  speechActive: false,
  endOfTurnConfidence: 0,
};

/**
 * Per-session turn state. Call {@link frame} once per 80 ms frame with the engine's state
 * at that frame's end; it returns the one TurnInfo for that tick, if any:
 * - every 3rd frame (240 ms of audio) an `Update`, "whether or not the transcript changed"
 *   (rule 1);
 * - on any frame where the state changes, the state-change event, which takes the
 *   Update's place when both fall on the same tick (rule 1). At most one event per tick.
 *
 * Transitions (rules 2–9):
 * - idle → `StartOfTurn` when the engine has a non-empty transcript (rule 7: StartOfTurn
 *   carries text).
 * - ongoing → `EndOfTurn` `model` when confidence ≥ `eot_threshold` (< 1.0); in eager mode
 *   an `EagerEndOfTurn` always comes first — when both thresholds are crossed on one frame
 *   the EagerEndOfTurn goes now and the EndOfTurn on the next frame (rule 10 is UNKNOWN;
 *   this keeps "eager precedes model EndOfTurn" true for clients that speculate).
 * - ongoing → `EagerEndOfTurn` when confidence ≥ `eager_eot_threshold` and the transcript
 *   is non-empty (rule 2).
 * - awaiting-end → `TurnResumed` when the transcript changes or confidence falls below
 *   `eager_eot_threshold` (rule 3, 4: so EndOfTurn repeats the eager transcript).
 * - open turn → `EndOfTurn` `timeout` after `eot_timeout_ms` of audio without speech,
 *   whatever the confidence (rule 9; the clock restarts on speech).
 * - {@link forceEnd}: `EndOfTurn` `manual` with the latest transcript, superseding a pending
 *   eager without TurnResumed (§4.5).
 * After any EndOfTurn `turn_index` rises and Updates carry `""` until the next StartOfTurn (rule 5).
 */
export class TurnStateMachine {
  private phase: Phase = "idle";
  private turnIndex = 0;
  private turnStart = 0;
  private frames = 0;
  private lastSpeech = 0;
  private eagerTranscript = "";
  private latest: RecognitionState = EMPTY;
  private latestTime = 0;
  private reportedUntil = 0;

  constructor(public thresholds: TurnThresholds) {}

  /** Whether a turn is open (StartOfTurn sent, EndOfTurn not yet). */
  get turnOpen(): boolean {
    return this.phase !== "idle";
  }

  /** The turn index the next event will carry. */
  get currentTurnIndex(): number {
    return this.turnIndex;
  }

  /** Processes the state after a full 80 ms frame ending at `audioTime` (seconds). */
  frame(state: RecognitionState, audioTime: number): TurnUpdate | undefined {
    this.frames += 1;
    this.latest = state;
    this.latestTime = audioTime;
    if (state.speechActive) this.lastSpeech = audioTime;
    const change = this.transition(state, audioTime);
    if (change !== undefined) return change;
    return this.frames % FRAMES_PER_UPDATE === 0 ? this.update("Update") : undefined;
  }

  /**
   * `CloseStream` flush: takes the state after the final, partial frame (if there was one)
   * and returns an `Update` covering the audio not yet reported, or `undefined` when every
   * frame is already reported. Never a state change: CloseStream sends Updates only (§4.6).
   */
  finalUpdate(state?: RecognitionState, audioTime?: number): TurnUpdate | undefined {
    if (state !== undefined && audioTime !== undefined) {
      // Words first heard in the flushed audio cannot open a turn (no StartOfTurn here), so
      // outside a turn the last Update stays empty, as every Update between turns (rule 5).
      this.latest = this.phase === "idle" ? EMPTY : state;
      this.latestTime = audioTime;
    }
    return this.latestTime > this.reportedUntil ? this.update("Update") : undefined;
  }

  /** `ForceEndTurn`: the manual EndOfTurn, or `undefined` when no turn is open (the caller warns). */
  forceEnd(): TurnUpdate | undefined {
    if (this.phase === "idle") return undefined;
    return this.endTurn("manual");
  }

  private transition(state: RecognitionState, audioTime: number): TurnUpdate | undefined {
    const { eotThreshold, eagerEotThreshold, eotTimeoutMs } = this.thresholds;
    const confidence = state.endOfTurnConfidence;
    const eager = eagerEotThreshold !== undefined;
    const modelEnd = eotThreshold < 1 && confidence >= eotThreshold;
    const timedOut = (audioTime - this.lastSpeech) * 1000 >= eotTimeoutMs - 1e-6;
    switch (this.phase) {
      case "idle":
        if (state.transcript === "") return undefined;
        this.phase = "ongoing";
        this.lastSpeech = audioTime;
        return this.update("StartOfTurn");
      case "ongoing":
        if (eager && state.transcript !== "" && confidence >= eagerEotThreshold) {
          this.phase = "awaiting-end";
          this.eagerTranscript = state.transcript;
          return this.update("EagerEndOfTurn");
        }
        if (modelEnd) return this.endTurn("model");
        if (timedOut) return this.endTurn("timeout");
        return undefined;
      case "awaiting-end":
        if (state.transcript !== this.eagerTranscript || confidence < (eagerEotThreshold ?? 0)) {
          this.phase = "ongoing";
          return this.update("TurnResumed");
        }
        if (modelEnd) return this.endTurn("model");
        if (timedOut) return this.endTurn("timeout");
        return undefined;
    }
  }

  private endTurn(trigger: EndOfTurnTrigger): TurnUpdate {
    const update = this.update("EndOfTurn", trigger);
    this.phase = "idle";
    this.turnIndex += 1;
    this.turnStart = this.latestTime;
    this.eagerTranscript = "";
    this.latest = EMPTY;
    return update;
  }

  private update(event: TurnEvent, trigger?: EndOfTurnTrigger): TurnUpdate {
    // Idle implies an empty transcript (a non-empty one opens a turn), so Updates between
    // turns carry "" (rule 5); after EndOfTurn `latest` is reset until the engine speaks again.
    const state = this.latest;
    this.reportedUntil = this.latestTime;
    return {
      event,
      turnIndex: this.turnIndex,
      audioWindowStart: this.turnStart,
      audioWindowEnd: this.latestTime,
      transcript: state.transcript,
      words: state.words,
      endOfTurnConfidence: state.endOfTurnConfidence,
      languages: state.transcript === "" ? [] : (state.languages ?? []),
      ...(trigger !== undefined && { trigger }),
    };
  }
}
