/**
 * Checks that a stream of server messages obeys Flux's guarantees (reference §3, §4.2).
 * Used by the tests of the client and of the local server alike.
 */
import { FLUX_MULTILINGUAL_MODEL, type FluxModel } from "./constants.js";
import {
  END_OF_TURN_TRIGGERS,
  type Received,
  type ServerMessage,
  type TurnInfoMessage,
} from "./messages.js";

/** A broken guarantee. */
export interface TurnSequenceViolation {
  /** Position of the offending message in the checked stream. */
  index: number;
  /** Its `sequence_id`, when it has one. */
  sequenceId: number | undefined;
  /** Short rule name, e.g. `"contiguous-sequence-id"`. */
  rule: TurnSequenceRule;
  /** What was expected and what came. */
  message: string;
}

/** The rules {@link TurnSequenceChecker} enforces. */
export type TurnSequenceRule =
  | "connected-first"
  | "contiguous-sequence-id"
  | "same-request-id"
  | "start-of-turn-first"
  | "start-of-turn-non-empty"
  | "eager-non-empty"
  | "resumed-after-eager"
  | "end-transcript-matches-eager"
  | "turn-index"
  | "trigger-on-end-of-turn-only"
  | "empty-between-turns"
  | "audio-time-monotonic"
  | "multilingual-fields"
  | "nothing-after-error"
  | "update-cadence";

/** Options for the checker. */
export interface TurnSequenceCheckOptions {
  /** When `flux-general-multi`, every TurnInfo must carry `languages` and `languages_hinted` (§4.2 rule 6). */
  model?: FluxModel;
  /**
   * When set, consecutive TurnInfo messages may be at most this many seconds of audio apart
   * (`update-cadence`). Flux sends an Update "approximately every 0.25 s" of audio (D-state),
   * so 0.24 suits a server on the exact 240 ms grid (the local server); off by default because
   * a live stream is only approximately regular.
   */
  maxUpdateGapSeconds?: number;
}

type TurnState = "idle" | "ongoing" | "awaiting-end";

/**
 * Incremental checker: feed messages in arrival order with {@link push}; each call
 * returns the violations that message caused. Rules (reference §4.2 unless noted):
 * - `connected-first`: the first message is `Connected` with `sequence_id` 0, and only the first (§3.1).
 * - `contiguous-sequence-id`: every message's `sequence_id` is the previous one + 1, across all types (§3).
 * - `same-request-id`: every `request_id` equals Connected's (§3).
 * - `start-of-turn-first`: EagerEndOfTurn, TurnResumed and EndOfTurn only inside a turn opened by
 *   StartOfTurn; StartOfTurn only when no turn is open (§4.1).
 * - `start-of-turn-non-empty` (rule 7): StartOfTurn carries a transcript. CONFLICT: a live multi capture
 *   shows an empty one; D-state guarantees non-empty and the capture looks edited (§8), so we enforce it.
 * - `eager-non-empty` (rule 2); `resumed-after-eager` (rule 3): TurnResumed only after EagerEndOfTurn.
 * - `end-transcript-matches-eager` (rule 4, current D-state/D-cfg; the older "~1% differ" is superseded):
 *   an EndOfTurn right after an EagerEndOfTurn (no TurnResumed between) repeats its transcript.
 * - `turn-index` (rule 5): starts at 0, constant within a turn, +1 right after EndOfTurn.
 * - `trigger-on-end-of-turn-only`: a known `trigger` on every EndOfTurn and on nothing else (rule 9, §3.2).
 * - `empty-between-turns` (rule 5): Updates outside a turn carry `transcript: ""`.
 * - `audio-time-monotonic`: `audio_window_end` never decreases; `audio_window_start` ≤ `audio_window_end` (§4.3).
 * - `multilingual-fields` (rule 6): on multi, every TurnInfo has `languages` and `languages_hinted`.
 * - `nothing-after-error`: `Error` is fatal, nothing follows it (§3.6).
 * - `update-cadence` (optional, {@link TurnSequenceCheckOptions.maxUpdateGapSeconds}): no gap in
 *   TurnInfo longer than the given audio time (rule 1).
 * Unknown messages count in the sequence but are otherwise ignored.
 */
export class TurnSequenceChecker {
  private index = -1;
  private lastSequenceId: number | undefined;
  private requestId: string | undefined;
  private state: TurnState = "idle";
  private turnIndex = 0;
  private eagerTranscript: string | undefined;
  private lastAudioEnd = -Infinity;
  private errored = false;
  readonly violations: TurnSequenceViolation[] = [];

  constructor(private readonly options: TurnSequenceCheckOptions = {}) {}

  /** Checks the next message; returns the violations it caused (also appended to {@link violations}). */
  push(message: ServerMessage): TurnSequenceViolation[] {
    this.index += 1;
    const found: TurnSequenceViolation[] = [];
    const sequenceId = message.sequence_id;
    const fail = (rule: TurnSequenceRule, text: string): void => {
      found.push({ index: this.index, sequenceId, rule, message: text });
    };

    if (this.errored) fail("nothing-after-error", `${message.type} after a fatal Error`);
    if (this.index === 0) {
      if (message.type !== "Connected" || sequenceId !== 0)
        fail(
          "connected-first",
          `first message is ${message.type} with sequence_id ${String(sequenceId)}, expected Connected with 0`,
        );
    } else if (message.type === "Connected") {
      fail("connected-first", "Connected after the first message");
    }
    if (sequenceId === undefined) {
      fail("contiguous-sequence-id", `${message.type} has no sequence_id`);
    } else if (this.lastSequenceId !== undefined && sequenceId !== this.lastSequenceId + 1) {
      fail("contiguous-sequence-id", `sequence_id ${sequenceId} follows ${this.lastSequenceId}`);
    }
    if (sequenceId !== undefined) this.lastSequenceId = sequenceId;

    if (
      "request_id" in message &&
      typeof message.request_id === "string" &&
      message.request_id !== ""
    ) {
      if (this.requestId === undefined) this.requestId = message.request_id;
      else if (message.request_id !== this.requestId)
        fail("same-request-id", `request_id ${message.request_id} differs from ${this.requestId}`);
    }

    if (message.type === "Error") this.errored = true;
    if (message.type === "TurnInfo") this.checkTurnInfo(message, fail);
    this.violations.push(...found);
    return found;
  }

  private checkTurnInfo(
    m: Received<TurnInfoMessage>,
    fail: (rule: TurnSequenceRule, text: string) => void,
  ): void {
    if (m.turn_index !== this.turnIndex)
      fail("turn-index", `${m.event} has turn_index ${m.turn_index}, expected ${this.turnIndex}`);
    if (m.audio_window_end < this.lastAudioEnd)
      fail(
        "audio-time-monotonic",
        `audio_window_end ${m.audio_window_end} < previous ${this.lastAudioEnd}`,
      );
    if (m.audio_window_start > m.audio_window_end)
      fail(
        "audio-time-monotonic",
        `audio_window_start ${m.audio_window_start} > audio_window_end ${m.audio_window_end}`,
      );
    const gap = this.options.maxUpdateGapSeconds;
    if (
      gap !== undefined &&
      Number.isFinite(this.lastAudioEnd) &&
      m.audio_window_end - this.lastAudioEnd > gap + 1e-6
    ) {
      fail(
        "update-cadence",
        `${m.event} at ${m.audio_window_end} s follows a TurnInfo at ${this.lastAudioEnd} s: more than ${gap} s apart`,
      );
    }
    this.lastAudioEnd = Math.max(this.lastAudioEnd, m.audio_window_end);
    if (
      this.options.model === FLUX_MULTILINGUAL_MODEL &&
      (!Array.isArray(m.languages) || !Array.isArray(m.languages_hinted))
    ) {
      fail(
        "multilingual-fields",
        `${m.event} lacks languages/languages_hinted on ${FLUX_MULTILINGUAL_MODEL}`,
      );
    }
    if (m.event === "EndOfTurn") {
      if (
        m.trigger === undefined ||
        !(END_OF_TURN_TRIGGERS as readonly string[]).includes(m.trigger)
      )
        fail(
          "trigger-on-end-of-turn-only",
          `EndOfTurn trigger is ${JSON.stringify(m.trigger ?? null)}`,
        );
    } else if (m.trigger !== undefined) {
      fail(
        "trigger-on-end-of-turn-only",
        `${m.event} carries trigger ${JSON.stringify(m.trigger)}`,
      );
    }

    switch (m.event) {
      case "Update":
        if (this.state === "idle" && m.transcript !== "")
          fail("empty-between-turns", "Update outside a turn has a transcript");
        break;
      case "StartOfTurn":
        if (this.state !== "idle") fail("start-of-turn-first", "StartOfTurn while a turn is open");
        if (m.transcript === "")
          fail("start-of-turn-non-empty", "StartOfTurn with an empty transcript");
        this.state = "ongoing";
        break;
      case "EagerEndOfTurn":
        if (this.state === "idle") fail("start-of-turn-first", "EagerEndOfTurn before StartOfTurn");
        else if (this.state === "awaiting-end")
          fail("resumed-after-eager", "EagerEndOfTurn twice without TurnResumed");
        if (m.transcript === "") fail("eager-non-empty", "EagerEndOfTurn with an empty transcript");
        this.state = "awaiting-end";
        this.eagerTranscript = m.transcript;
        break;
      case "TurnResumed":
        if (this.state === "idle") fail("start-of-turn-first", "TurnResumed before StartOfTurn");
        else if (this.state !== "awaiting-end")
          fail("resumed-after-eager", "TurnResumed without a preceding EagerEndOfTurn");
        this.state = "ongoing";
        this.eagerTranscript = undefined;
        break;
      case "EndOfTurn":
        if (this.state === "idle") fail("start-of-turn-first", "EndOfTurn before StartOfTurn");
        if (this.state === "awaiting-end" && this.eagerTranscript !== m.transcript) {
          fail(
            "end-transcript-matches-eager",
            "EndOfTurn transcript differs from the preceding EagerEndOfTurn without TurnResumed",
          );
        }
        this.state = "idle";
        this.eagerTranscript = undefined;
        this.turnIndex = m.turn_index + 1;
        break;
    }
  }
}

/** Result of {@link checkTurnSequence}. */
export interface TurnSequenceReport {
  ok: boolean;
  violations: TurnSequenceViolation[];
}

/**
 * Checks a whole recorded stream (in arrival order) against Flux's guarantees; see
 * {@link TurnSequenceChecker} for the rules. Never throws.
 */
export function checkTurnSequence(
  messages: Iterable<ServerMessage>,
  options: TurnSequenceCheckOptions = {},
): TurnSequenceReport {
  const checker = new TurnSequenceChecker(options);
  for (const message of messages) checker.push(message);
  return { ok: checker.violations.length === 0, violations: checker.violations };
}
