/**
 * Per-turn latency breakdown — where a reply's voice-to-voice time went — computed from
 * `PipelineTask.frames$` only: it adds nothing to the frame path (the task batches
 * observation events outside the pipeline's call stack).
 */
import mittImport from "mitt";
import type { Emitter, Handler } from "mitt";
import type { Subscription } from "rxjs";
import {
  BotStartedSpeakingFrame,
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  FunctionCallResultFrame,
  FunctionCallsStartedFrame,
  InputAudioRawFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  MetricsFrame,
  StartOfTurnFrame,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  TTSTextFrame,
  TurnResumedFrame,
} from "../frames.js";
import type { FrameProcessor } from "../processor.js";
import type { FrameEvent, PipelineTask } from "../pipeline/task.js";

const mitt = mittImport as unknown as typeof mittImport.default;

/** The stages of one turn, in order; each is the time from the previous milestone, ms. */
export const TURN_LATENCY_STAGES = [
  "stt",
  "aggregation",
  "llm",
  "sentence",
  "tts",
  "output",
] as const;

/** One stage of {@link TURN_LATENCY_STAGES}. */
export type TurnLatencyStage = (typeof TURN_LATENCY_STAGES)[number];

/** Task-clock times (ms) of a turn's milestones; `undefined` where the turn never got there. */
export interface TurnMilestones {
  /** End of the user's speech: the last word's end (Flux audio time) mapped onto the clock through the input audio. */
  readonly speechEnd: number | undefined;
  /** The STT pushed `EndOfTurnFrame`. */
  readonly endOfTurn: number;
  /** The LLM service started the reply (`LLMFullResponseStartFrame`: the request is sent or a speculative reply is committed). */
  readonly llmRequest: number | undefined;
  /** The first text of the reply (`LLMTextFrame`, or a `TTSSpeakFrame` a function pushed). */
  readonly firstToken: number | undefined;
  /** The first sentence went to the TTS (`TTSTextFrame`). */
  readonly firstSentence: number | undefined;
  /** The TTS produced its first audio (`TTSAudioRawFrame`). */
  readonly ttsFirstAudio: number | undefined;
  /** The output transport wrote the first audio (`BotStartedSpeakingFrame`). */
  readonly firstAudioOut: number | undefined;
}

/**
 * Where one user turn's response time went (ms). Stages:
 * - `stt`: end of speech → `EndOfTurn` (Flux's end-of-turn detection + transport);
 * - `aggregation`: `EndOfTurn` → LLM request (voxpipe: user aggregator, hops);
 * - `llm`: request → first token (the LLM's time to first token; with function calls, the
 *   calls and the follow-up request too — see `functionCallsMs`);
 * - `sentence`: first token → first complete sentence handed to the TTS (LLM streaming);
 * - `tts`: sentence → first audio from the TTS (the TTS's time to first byte);
 * - `output`: TTS audio → first audio written by the output transport (voxpipe: resampling,
 *   framing, hops).
 */
export interface TurnLatency {
  /** Flux `turn_index` of the user turn. */
  readonly turnIndex: number;
  /** Whether the turn reached the first audio out (else the reply never played: interrupted, no reply). */
  readonly complete: boolean;
  readonly at: TurnMilestones;
  /** Stage durations, ms (`undefined` where a milestone is missing). */
  readonly stages: Readonly<Record<TurnLatencyStage, number | undefined>>;
  /** End of speech (or `EndOfTurn` when speech end is unknown) → first audio out, ms: voice-to-voice latency. */
  readonly voiceToVoiceMs: number | undefined;
  /** voxpipe's own share, ms: `aggregation` + `output` (everything that is not Flux, the LLM or the TTS). */
  readonly voxpipeMs: number | undefined;
  /** Time in function calls, ms: the first `FunctionCallsStartedFrame` before the first token → the turn's last `FunctionCallResultFrame`. */
  readonly functionCallsMs: number | undefined;
  /**
   * Flux eager end of turn: `leadMs` = `EagerEndOfTurn` → `EndOfTurn`; `matched` = the eager
   * transcript equals the final one, so a speculative reply could be committed and the LLM
   * had that much head start (the `llm` stage then shows only what was left).
   * `undefined` when the turn had no (unresumed) eager end of turn.
   */
  readonly speculation: { readonly leadMs: number; readonly matched: boolean } | undefined;
}

/** p50 / p90 / p99 of one measure over the complete turns, ms. */
export interface LatencyPercentiles {
  readonly count: number;
  readonly p50: number | undefined;
  readonly p90: number | undefined;
  readonly p99: number | undefined;
}

/** End-of-run summary of the complete turns. */
export interface TurnLatencySummary {
  readonly turns: number;
  readonly completeTurns: number;
  readonly stages: Readonly<Record<TurnLatencyStage, LatencyPercentiles>>;
  readonly voiceToVoice: LatencyPercentiles;
  readonly voxpipe: LatencyPercentiles;
  /** Turns with an eager end of turn whose transcript matched the final one. */
  readonly speculationMatched: number;
}

/** Events of {@link TurnLatencyObserver}. */
export type TurnLatencyEvents = {
  /** A turn's breakdown, when its first audio went out or the next turn started. */
  turnLatency: TurnLatency;
};

/** Options of {@link TurnLatencyObserver}. */
export interface TurnLatencyObserverOptions {
  /** Also queue a `MetricsFrame` (`type: "turn_latency"`) into the task per turn. Default true. */
  readonly metricsFrames?: boolean;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** p50/p90/p99 of `values` (undefined ones skipped). */
export function latencyPercentiles(values: readonly (number | undefined)[]): LatencyPercentiles {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return {
    count: v.length,
    p50: percentile(v, 50),
    p90: percentile(v, 90),
    p99: percentile(v, 99),
  };
}

const diff = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : b - a;

/** Input audio seen so far: (audio seconds at the end of a chunk, clock ms when it was pushed). */
class AudioTimeline {
  // Bounded: the last ~60 s of 20 ms chunks is plenty to map a speech end.
  static readonly MAX = 3000;
  #source: FrameProcessor | undefined;
  #seconds = 0;
  readonly #ends: number[] = [];
  readonly #times: number[] = [];

  add(e: FrameEvent, frame: InputAudioRawFrame): void {
    this.#source ??= e.processor; // the input transport: the first to push input audio
    if (e.processor !== this.#source || e.direction !== "downstream") return;
    this.#seconds += frame.durationMs / 1000;
    this.#ends.push(this.#seconds);
    this.#times.push(e.timestamp);
    if (this.#ends.length > AudioTimeline.MAX) {
      this.#ends.splice(0, this.#ends.length - AudioTimeline.MAX);
      this.#times.splice(0, this.#times.length - AudioTimeline.MAX);
    }
  }

  /** Clock time at which audio time `seconds` had been captured (chunk push − what follows it). */
  clockAt(seconds: number): number | undefined {
    const i = this.#ends.findIndex((end) => end >= seconds);
    const end = this.#ends[i];
    const time = this.#times[i];
    if (end === undefined || time === undefined) return undefined;
    return time - (end - seconds) * 1000;
  }
}

interface OpenTurn {
  turnIndex: number;
  /** Frame ids grow: the reply's frames are the ones created after the turn's EndOfTurnFrame. */
  eotId: number;
  speechEnd: number | undefined;
  endOfTurn: number;
  llmRequest?: number;
  firstToken?: number;
  firstSentence?: number;
  ttsFirstAudio?: number;
  firstAudioOut?: number;
  functionsStart?: number;
  functionsEnd?: number;
  speculation: TurnLatency["speculation"];
}

/**
 * Watches a task's `frames$` and reports, per user turn, where the response time went:
 * end of speech → `EndOfTurn` → LLM request → first token → first sentence to the TTS →
 * TTS first audio → first audio written by the output transport (see {@link TurnLatency}).
 * Each turn is emitted as a typed event (`turnLatency`) and, unless disabled, as a
 * `MetricsFrame` queued into the task; {@link summary} gives p50/p90/p99 per stage.
 *
 * Each milestone is the **first push** of its frame after the turn's `EndOfTurnFrame`
 * (observation timestamps are taken when the frame is pushed, on the task's clock).
 * A turn is closed by its first audio out, or — incomplete — by the next `StartOfTurn`.
 *
 * @example
 * ```ts
 * const latency = new TurnLatencyObserver(task);
 * latency.on("turnLatency", (t) => console.log(t.voiceToVoiceMs, t.stages));
 * await task.run();
 * console.log(latency.summary());
 * ```
 */
export class TurnLatencyObserver {
  readonly #events: Emitter<TurnLatencyEvents> = mitt<TurnLatencyEvents>();
  readonly #task: PipelineTask;
  readonly #metricsFrames: boolean;
  readonly #subscription: Subscription;
  readonly #audio = new AudioTimeline();
  readonly #turns: TurnLatency[] = [];
  #open: OpenTurn | undefined;
  #eager: { at: number; transcript: string } | undefined;
  /** Turn frames already seen: only their first push (by the STT) counts, not the forwards. */
  readonly #seen = new WeakSet<object>();

  constructor(task: PipelineTask, options: TurnLatencyObserverOptions = {}) {
    this.#task = task;
    this.#metricsFrames = options.metricsFrames ?? true;
    this.#subscription = task.frames$.subscribe({
      next: (e) => this.#observe(e),
      complete: () => this.#close(),
    });
  }

  /** Subscribe to `turnLatency`. */
  on<K extends keyof TurnLatencyEvents>(type: K, handler: Handler<TurnLatencyEvents[K]>): this {
    this.#events.on(type, handler);
    return this;
  }

  /** Unsubscribe. */
  off<K extends keyof TurnLatencyEvents>(type: K, handler: Handler<TurnLatencyEvents[K]>): this {
    this.#events.off(type, handler);
    return this;
  }

  /** Every turn reported so far. */
  get turns(): readonly TurnLatency[] {
    return this.#turns;
  }

  /** Percentiles over the complete turns so far. */
  summary(): TurnLatencySummary {
    const complete = this.#turns.filter((t) => t.complete);
    const stages = Object.fromEntries(
      TURN_LATENCY_STAGES.map((s) => [s, latencyPercentiles(complete.map((t) => t.stages[s]))]),
    ) as Record<TurnLatencyStage, LatencyPercentiles>;
    return {
      turns: this.#turns.length,
      completeTurns: complete.length,
      stages,
      voiceToVoice: latencyPercentiles(complete.map((t) => t.voiceToVoiceMs)),
      voxpipe: latencyPercentiles(complete.map((t) => t.voxpipeMs)),
      speculationMatched: complete.filter((t) => t.speculation?.matched === true).length,
    };
  }

  /** Stop observing (the task's completion does this too). */
  dispose(): void {
    this.#subscription.unsubscribe();
  }

  #observe(e: FrameEvent): void {
    const { frame, timestamp } = e;
    if (frame instanceof InputAudioRawFrame) {
      this.#audio.add(e, frame);
      return;
    }
    const turnFrame =
      frame instanceof StartOfTurnFrame ||
      frame instanceof EagerEndOfTurnFrame ||
      frame instanceof TurnResumedFrame ||
      frame instanceof EndOfTurnFrame;
    if (turnFrame) {
      if (this.#seen.has(frame)) return;
      this.#seen.add(frame);
    }
    if (frame instanceof StartOfTurnFrame) {
      this.#finish(false);
      this.#eager = undefined;
    } else if (frame instanceof EagerEndOfTurnFrame) {
      this.#eager ??= { at: timestamp, transcript: frame.transcript };
    } else if (frame instanceof TurnResumedFrame) {
      this.#eager = undefined;
    } else if (frame instanceof EndOfTurnFrame) {
      this.#finish(false);
      const speechEndAudio = frame.words.at(-1)?.end ?? frame.audioWindowEnd;
      const eager = this.#eager;
      this.#eager = undefined;
      this.#open = {
        turnIndex: frame.turnIndex,
        eotId: frame.id,
        endOfTurn: timestamp,
        speechEnd: speechEndAudio === undefined ? undefined : this.#audio.clockAt(speechEndAudio),
        speculation:
          eager === undefined
            ? undefined
            : {
                leadMs: timestamp - eager.at,
                matched: eager.transcript.trim() === frame.transcript.trim(),
              },
      };
    }
    const turn = this.#open;
    if (turn === undefined || frame.id <= turn.eotId) return;
    if (frame instanceof LLMFullResponseStartFrame) turn.llmRequest ??= timestamp;
    else if (
      (frame instanceof LLMTextFrame || frame instanceof TTSSpeakFrame) &&
      turn.llmRequest !== undefined
    )
      // A function may answer with a TTSSpeakFrame (a goodbye): its text is the first "token".
      turn.firstToken ??= timestamp;
    else if (frame instanceof FunctionCallsStartedFrame && turn.firstToken === undefined)
      turn.functionsStart ??= timestamp;
    else if (frame instanceof FunctionCallResultFrame && turn.functionsStart !== undefined)
      turn.functionsEnd = timestamp;
    else if (frame instanceof TTSTextFrame && turn.firstToken !== undefined)
      turn.firstSentence ??= timestamp;
    else if (frame instanceof TTSAudioRawFrame && turn.firstSentence !== undefined)
      turn.ttsFirstAudio ??= timestamp;
    else if (frame instanceof BotStartedSpeakingFrame && turn.ttsFirstAudio !== undefined) {
      turn.firstAudioOut ??= timestamp;
      this.#finish(true);
    }
  }

  #finish(complete: boolean): void {
    const t = this.#open;
    if (t === undefined) return;
    this.#open = undefined;
    const at: TurnMilestones = {
      speechEnd: t.speechEnd,
      endOfTurn: t.endOfTurn,
      llmRequest: t.llmRequest,
      firstToken: t.firstToken,
      firstSentence: t.firstSentence,
      ttsFirstAudio: t.ttsFirstAudio,
      firstAudioOut: t.firstAudioOut,
    };
    const stages = {
      stt: diff(at.speechEnd, at.endOfTurn),
      aggregation: diff(at.endOfTurn, at.llmRequest),
      llm: diff(at.llmRequest, at.firstToken),
      sentence: diff(at.firstToken, at.firstSentence),
      tts: diff(at.firstSentence, at.ttsFirstAudio),
      output: diff(at.ttsFirstAudio, at.firstAudioOut),
    };
    const latency: TurnLatency = {
      turnIndex: t.turnIndex,
      complete,
      at,
      stages,
      voiceToVoiceMs: diff(at.speechEnd ?? at.endOfTurn, at.firstAudioOut),
      voxpipeMs:
        stages.aggregation === undefined || stages.output === undefined
          ? undefined
          : stages.aggregation + stages.output,
      functionCallsMs: diff(t.functionsStart, t.functionsEnd),
      speculation: t.speculation,
    };
    this.#turns.push(latency);
    try {
      this.#events.emit("turnLatency", latency);
    } catch {
      // A throwing listener must not stop the observation of later turns.
    }
    if (this.#metricsFrames && !this.#task.hasFinished) {
      this.#task.queueFrame(
        new MetricsFrame({
          data: [
            {
              processor: "TurnLatencyObserver",
              type: "turn_latency",
              value: latency.voiceToVoiceMs ?? Number.NaN,
              turnLatency: latency,
            },
          ],
        }),
      );
    }
  }

  #close(): void {
    this.#finish(false);
  }
}
