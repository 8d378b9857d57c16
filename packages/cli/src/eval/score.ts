/**
 * Scoring of one session's Flux events against a file's labelled turns, by Deepgram's method
 * for Flux ("Fluxing Conversational State and Speech-to-Text"; "Evaluating End-of-Turn
 * (Turn Detection) Models"): end-of-turn latency is **audio time** from the end of the
 * turn's last word to the `EndOfTurn` that ends it (its `audio_window_end`), and a turn that
 * was ended prematurely — an `EndOfTurn` inside it — or never ended has **infinite**
 * latency, so the latency percentiles carry the cost of every premature cut.
 *
 * Matching, per labelled turn `i` (times in s of audio):
 * - an `EndOfTurn` inside `(start_i, end_i)` is a **false end of turn**: the turn is
 *   **split** and its latency is ∞;
 * - the first `EndOfTurn` in `[end_i, start_{i+1})` (the last turn: `[end_i, ∞)`) **detects**
 *   the end of turn `i` (a true positive); none there: the turn is **missed** (∞);
 * - every other `EndOfTurn` (before the first turn, or a second one in a gap) is **extra**.
 * Precision = detections / every `EndOfTurn` Flux decided (trigger `model` or `timeout`);
 * recall = detections / labelled turns. `EndOfTurn`s voxpipe forced or made itself when the
 * stream closed (trigger `manual`, `closed`, `connection-lost`) are not Flux's decisions:
 * they never count as detections, but their transcripts count for WER (nothing said is lost).
 */
import type { LabelledTurn } from "./dataset.js";
import { normalizeWords, wordErrors } from "./wer.js";

/** One Flux `TurnInfo` as a session received it. */
export interface RecordedEvent {
  /** Flux's event name. */
  readonly event: "StartOfTurn" | "Update" | "EagerEndOfTurn" | "TurnResumed" | "EndOfTurn";
  /** Turn index (continuous across reconnects). */
  readonly turnIndex: number;
  /** `audio_window_end`: seconds of the file's audio (injected silence continues past its end). */
  readonly time: number;
  /** Wall ms from the session's first audio byte to the message's arrival. */
  readonly wallMs: number;
  readonly transcript: string;
  /** Flux's `end_of_turn_confidence` (0–1), when sent. */
  readonly endOfTurnConfidence?: number;
  /** `EndOfTurn` only: `model`, `timeout` (Flux), or `manual`/`closed`/`connection-lost` (forced). */
  readonly trigger?: string;
  /** `EndOfTurn` only: first word's start and last word's end (s), when Flux timed its words; else the turn's `audio_window_start` and `time`. */
  readonly speech?: { readonly start: number; readonly end: number };
  /** Wall ms from sending the audio that holds `time` to receiving this event (real-time pace only; undefined past the audio). */
  readonly delayMs?: number;
  /** `EndOfTurn` only: the turn's words and their confidences (0–1). */
  readonly words?: ReadonlyArray<{ readonly word: string; readonly confidence: number }>;
}

/** What happened to one labelled turn. */
export interface TurnOutcome {
  /** `detected` (ended once, after its last word), `split` (an EndOfTurn inside it), `missed`. */
  readonly outcome: "detected" | "split" | "missed";
  /** End-of-turn latency, audio ms; `Infinity` when split or missed. */
  readonly latencyMs: number;
}

/** Counts of turns and EndOfTurns, per session and summed over sessions. */
export interface TurnCounts {
  /** Labelled turns. */
  turns: number;
  /** Turns whose end was detected (true positives). */
  detected: number;
  missed: number;
  /** Turns with at least one EndOfTurn inside them. */
  splitTurns: number;
  /** EndOfTurns inside a turn. */
  falseEots: number;
  /** EndOfTurns outside every turn that ended nothing. */
  extraEots: number;
  /** EndOfTurns Flux decided (trigger `model`/`timeout`). */
  emittedEots: number;
  /** EndOfTurns forced at the end of the stream (`manual`, `closed`, `connection-lost`). */
  forcedEots: number;
  /** Reference words and word errors (final transcripts against the labels). */
  referenceWords: number;
  wordErrors: number;
}

/** The scores of one session (one file at one setting). Lists are per turn or per event. */
export interface FileScore extends TurnCounts {
  /** Per labelled turn, in order. */
  outcomes: TurnOutcome[];
  /** Per labelled turn: latency in audio ms, `Infinity` when split or missed. */
  latenciesMs: number[];
  eagerEvents: number;
  turnResumed: number;
  /** EagerEndOfTurn events whose transcript is not their turn's final transcript. */
  eagerFinalDiffers: number;
  /** Per detected turn whose last EagerEndOfTurn stood (no TurnResumed after it): lead over EndOfTurn, audio ms. */
  eagerLeadsMs: number[];
  /** The same leads in wall ms (arrival of EagerEndOfTurn → arrival of EndOfTurn). */
  eagerLeadsWallMs: number[];
  /** Per Flux EndOfTurn inside the audio: wall ms from sending its audio to receiving it. */
  endOfTurnDelaysMs: number[];
}

const FORCED_TRIGGERS = new Set(["manual", "closed", "connection-lost"]);

/** Scores `events` (in arrival order) against `turns` (in time order, not overlapping). */
export function scoreSession(
  turns: readonly LabelledTurn[],
  events: readonly RecordedEvent[],
): FileScore {
  const finals = events.filter((e) => e.event === "EndOfTurn");
  const decided = finals.filter((e) => !FORCED_TRIGGERS.has(e.trigger ?? "model"));
  const used = new Set<RecordedEvent>();
  const score: FileScore = {
    turns: turns.length,
    detected: 0,
    missed: 0,
    splitTurns: 0,
    falseEots: 0,
    extraEots: 0,
    emittedEots: decided.length,
    forcedEots: finals.length - decided.length,
    outcomes: [],
    latenciesMs: [],
    referenceWords: 0,
    wordErrors: 0,
    eagerEvents: 0,
    turnResumed: 0,
    eagerFinalDiffers: 0,
    eagerLeadsMs: [],
    eagerLeadsWallMs: [],
    endOfTurnDelaysMs: [],
  };
  turns.forEach((turn, i) => {
    const next = turns[i + 1]?.start ?? Infinity;
    const inside = decided.filter((e) => e.time > turn.start && e.time < turn.end);
    for (const e of inside) used.add(e);
    const end = decided.find((e) => e.time >= turn.end && e.time < next);
    if (end) {
      used.add(end);
      score.detected += 1;
    } else score.missed += 1;
    if (inside.length > 0) {
      score.falseEots += inside.length;
      score.splitTurns += 1;
    }
    const outcome: TurnOutcome =
      inside.length > 0
        ? { outcome: "split", latencyMs: Infinity }
        : end
          ? { outcome: "detected", latencyMs: (end.time - turn.end) * 1000 }
          : { outcome: "missed", latencyMs: Infinity };
    score.outcomes.push(outcome);
    score.latenciesMs.push(outcome.latencyMs);
    if (end && inside.length === 0) eagerLead(events, end, score);
  });
  score.extraEots = decided.filter((e) => !used.has(e)).length;

  // Eager speculation: each EagerEndOfTurn against its turn's final transcript.
  const finalOf = new Map(finals.map((e) => [e.turnIndex, e.transcript]));
  for (const e of events) {
    if (e.event === "TurnResumed") score.turnResumed += 1;
    if (e.event !== "EagerEndOfTurn") continue;
    score.eagerEvents += 1;
    if (finalOf.get(e.turnIndex) !== e.transcript) score.eagerFinalDiffers += 1;
  }
  for (const e of decided) if (e.delayMs !== undefined) score.endOfTurnDelaysMs.push(e.delayMs);

  const reference = normalizeWords(turns.map((t) => t.transcript).join(" "));
  const hypothesis = normalizeWords(finals.map((e) => e.transcript).join(" "));
  score.referenceWords = reference.length;
  score.wordErrors = wordErrors(reference, hypothesis);
  return score;
}

/** Records the lead of the turn's last EagerEndOfTurn over `end`, if no TurnResumed undid it. */
function eagerLead(events: readonly RecordedEvent[], end: RecordedEvent, score: FileScore): void {
  const ofTurn = events.filter((e) => e.turnIndex === end.turnIndex);
  const last = ofTurn.findLastIndex((e) => e.event === "EagerEndOfTurn");
  if (last < 0 || ofTurn.slice(last).some((e) => e.event === "TurnResumed")) return;
  score.eagerLeadsMs.push((end.time - ofTurn[last].time) * 1000);
  score.eagerLeadsWallMs.push(end.wallMs - ofTurn[last].wallMs);
}
