import { TURN_EVENTS } from "@voxpipe/flux-protocol";
import type { TurnEvent } from "@voxpipe/flux-protocol";
import { LatencyRecorder } from "./latency.js";
import type { LatencySummary } from "./latency.js";

/**
 * Latencies of one ended turn, as the Flux client measured them (`@voxpipe/deepgram`
 * `FluxTurnMetrics`; all ms, `undefined` when not measurable, e.g. without word timings).
 */
export interface TurnLatencies {
  /** Audio time from the end of the last word to `EndOfTurn`'s `audio_window_end`. */
  endOfSpeechToEndOfTurnAudioMs?: number | undefined;
  /** Wall time from sending the audio holding the last word's end to receiving `EndOfTurn`. */
  endOfSpeechToEndOfTurnWallMs?: number | undefined;
  /** Wall time from sending the audio up to `EndOfTurn`'s `audio_window_end` to receiving `EndOfTurn`. */
  processingDelayMs?: number | undefined;
  /** Wall time from `EagerEndOfTurn` to `EndOfTurn` (eager mode only). */
  eagerToEndOfTurnMs?: number | undefined;
}

/**
 * A TurnInfo event as a client delivered it: what the statistics and the live view need.
 * Structurally a subset of the CLI's `TurnEvent` view model.
 */
export interface ObservedTurnEvent {
  event: TurnEvent;
  /** Flux `turn_index`. */
  turnIndex: number;
  /** Full transcript of the turn so far. */
  transcript: string;
  /** Flux `end_of_turn_confidence`, 0–1. */
  endOfTurnConfidence?: number | undefined;
  /** On `EndOfTurn`: the turn's latencies. */
  metrics?: TurnLatencies | undefined;
}

/** Counts per TurnInfo event name. */
export type EventCounts = Record<TurnEvent, number>;

/** `Configure` messages and their acknowledgements (protocol reference §2.1, §3.3–3.4). */
export interface ConfigureSummary {
  sent: number;
  /** `ConfigureSuccess` received. */
  succeeded: number;
  /** `ConfigureFailure` received. */
  failed: number;
  /** From sending `Configure` to its acknowledgement, wall clock. */
  roundTripMs: LatencySummary;
}

/** What one connection (or, summed, all of them) did during a run. */
export interface StreamSummary {
  /** Completed turns: `EndOfTurn` events. */
  turns: number;
  /** TurnInfo events received, by name. */
  events: EventCounts;
  /**
   * End-of-turn latency in audio time: `EndOfTurn.audio_window_end` minus the end of the last
   * word. Only turns whose words carry timings are counted.
   */
  eotLatencyAudioMs: LatencySummary;
  /** End-of-turn latency in wall-clock time: from sending the audio holding the last word's end to receiving `EndOfTurn`. */
  eotLatencyWallMs: LatencySummary;
  /**
   * The delay the server's processing added to `EndOfTurn`, wall clock: from sending the audio
   * up to its `audio_window_end` to receiving it (the turn-end policy's own wait, which is audio
   * time, excluded). Small while the server keeps up with real time; grows when it falls behind.
   */
  eotProcessingDelayMs: LatencySummary;
  /** How long `EagerEndOfTurn` came before the `EndOfTurn` that confirmed it, wall clock. */
  eagerLeadMs: LatencySummary;
  /** From a message arriving on the socket to the frame the client delivered for it (when measured). */
  messageToFrameMs: LatencySummary;
  /** From opening the connection to Flux's `Connected`. */
  connectMs: LatencySummary;
  configure: ConfigureSummary;
  /** Connections re-established after a loss. */
  reconnects: number;
  /** Errors by provider code (`Error.code`, handshake status, or the client's error code). */
  errors: Record<string, number>;
  /** Flux `Warning`s received, by code (e.g. a local server's `ENGINE_BEHIND_AUDIO` under overload). */
  warnings: Record<string, number>;
  /** Seconds of audio streamed to the server. */
  audioSeconds: number;
}

const zeroCounts = (): EventCounts => ({
  Update: 0,
  StartOfTurn: 0,
  EagerEndOfTurn: 0,
  TurnResumed: 0,
  EndOfTurn: 0,
});

/**
 * Statistics of one Flux connection. Feed it what the client did (`audioSent`, `turnEvent`, …)
 * with `performance.now()` times; read `summary()` at any point. All times are ms.
 */
export class ConnectionStats {
  /** 1-based connection number, as shown in `[Conn N]`. */
  readonly id: number;
  readonly #bytesPerSecond: number;
  readonly #events = zeroCounts();
  readonly #errors = new Map<string, number>();
  readonly #eotAudio = new LatencyRecorder();
  readonly #eotWall = new LatencyRecorder();
  readonly #eotProcessing = new LatencyRecorder();
  readonly #warnings = new Map<string, number>();
  readonly #eagerLead = new LatencyRecorder();
  readonly #messageToFrame = new LatencyRecorder();
  readonly #connect = new LatencyRecorder();
  readonly #configureRtt = new LatencyRecorder();
  /** Send times of unacknowledged `Configure`s, oldest first (acknowledgements come in order, §4.4). */
  readonly #configurePending: number[] = [];
  #configure = { sent: 0, succeeded: 0, failed: 0 };
  #audioBytes = 0;
  #reconnects = 0;
  #connectingSince: number | undefined;
  /** True between `Connected` and the connection's loss or end. */
  up = false;

  /**
   * @param id 1-based connection number.
   * @param bytesPerSecond of the streamed audio (sample_rate × 2 for mono linear16).
   */
  constructor(id: number, bytesPerSecond: number) {
    if (!(bytesPerSecond > 0))
      throw new RangeError(`bytesPerSecond must be > 0, got ${bytesPerSecond}`);
    this.id = id;
    this.#bytesPerSecond = bytesPerSecond;
  }

  /** Seconds of audio streamed so far. */
  get audioSeconds(): number {
    return this.#audioBytes / this.#bytesPerSecond;
  }

  /** Completed turns so far. */
  get turns(): number {
    return this.#events.EndOfTurn;
  }

  /** The client started opening a connection (first connect or a reconnect). */
  connecting(at: number): void {
    this.#connectingSince = at;
  }

  /** Flux `Connected` arrived. */
  connected(at: number): void {
    if (this.#connectingSince !== undefined) this.#connect.record(at - this.#connectingSince);
    this.#connectingSince = undefined;
    this.up = true;
  }

  /** The connection was lost or closed. */
  disconnected(): void {
    this.up = false;
  }

  /** A lost connection was re-established. */
  reconnected(): void {
    this.#reconnects += 1;
  }

  /** An error, by provider or client code. */
  error(code: string): void {
    count(this.#errors, code);
  }

  /** A Flux `Warning` arrived. */
  warning(code: string): void {
    count(this.#warnings, code);
  }

  /** `bytes` of linear16 audio were streamed. */
  audioSent(bytes: number): void {
    this.#audioBytes += bytes;
  }

  /** A `Configure` was sent at `at`. */
  configureSent(at: number): void {
    this.#configure.sent += 1;
    this.#configurePending.push(at);
  }

  /** The oldest outstanding `Configure` was acknowledged at `at`. */
  configureAcknowledged(at: number, success: boolean): void {
    if (success) this.#configure.succeeded += 1;
    else this.#configure.failed += 1;
    const sentAt = this.#configurePending.shift();
    if (sentAt !== undefined) this.#configureRtt.record(at - sentAt);
  }

  /** The delay between a message's arrival on the socket and the client delivering it. */
  messageToFrame(ms: number): void {
    this.#messageToFrame.record(ms);
  }

  /** A TurnInfo event arrived. */
  turnEvent(event: ObservedTurnEvent): void {
    this.#events[event.event] += 1;
    const m = event.metrics;
    if (event.event !== "EndOfTurn" || m === undefined) return;
    if (m.endOfSpeechToEndOfTurnAudioMs !== undefined)
      this.#eotAudio.record(m.endOfSpeechToEndOfTurnAudioMs);
    if (m.endOfSpeechToEndOfTurnWallMs !== undefined)
      this.#eotWall.record(m.endOfSpeechToEndOfTurnWallMs);
    if (m.processingDelayMs !== undefined) this.#eotProcessing.record(m.processingDelayMs);
    if (m.eagerToEndOfTurnMs !== undefined) this.#eagerLead.record(m.eagerToEndOfTurnMs);
  }

  /** The statistics so far. */
  summary(): StreamSummary {
    return {
      turns: this.turns,
      events: { ...this.#events },
      eotLatencyAudioMs: this.#eotAudio.summary(),
      eotLatencyWallMs: this.#eotWall.summary(),
      eotProcessingDelayMs: this.#eotProcessing.summary(),
      eagerLeadMs: this.#eagerLead.summary(),
      messageToFrameMs: this.#messageToFrame.summary(),
      connectMs: this.#connect.summary(),
      configure: { ...this.#configure, roundTripMs: this.#configureRtt.summary() },
      reconnects: this.#reconnects,
      errors: Object.fromEntries(this.#errors),
      warnings: Object.fromEntries(this.#warnings),
      audioSeconds: round3(this.audioSeconds),
    };
  }

  /** Adds this connection's figures to an aggregate. */
  mergeInto(total: AggregateStats): void {
    total.add(this, {
      eotAudio: this.#eotAudio,
      eotWall: this.#eotWall,
      eotProcessing: this.#eotProcessing,
      eagerLead: this.#eagerLead,
      messageToFrame: this.#messageToFrame,
      connect: this.#connect,
      configureRtt: this.#configureRtt,
    });
  }
}

/** The recorders a connection hands to an aggregate. */
interface Recorders {
  eotAudio: LatencyRecorder;
  eotWall: LatencyRecorder;
  eotProcessing: LatencyRecorder;
  eagerLead: LatencyRecorder;
  messageToFrame: LatencyRecorder;
  connect: LatencyRecorder;
  configureRtt: LatencyRecorder;
}

/** Sums of several connections: counts add up, latency distributions merge exactly. */
export class AggregateStats {
  readonly #recorders: Recorders = {
    eotAudio: new LatencyRecorder(),
    eotWall: new LatencyRecorder(),
    eotProcessing: new LatencyRecorder(),
    eagerLead: new LatencyRecorder(),
    messageToFrame: new LatencyRecorder(),
    connect: new LatencyRecorder(),
    configureRtt: new LatencyRecorder(),
  };
  readonly #events = zeroCounts();
  readonly #errors = new Map<string, number>();
  readonly #warnings = new Map<string, number>();
  #configure = { sent: 0, succeeded: 0, failed: 0 };
  #reconnects = 0;
  #audioSeconds = 0;

  /** Builds the aggregate of `connections`. */
  static of(connections: Iterable<ConnectionStats>): AggregateStats {
    const total = new AggregateStats();
    for (const c of connections) c.mergeInto(total);
    return total;
  }

  /** @internal Called by {@link ConnectionStats.mergeInto}. */
  add(connection: ConnectionStats, recorders: Recorders): void {
    const s = connection.summary();
    for (const name of TURN_EVENTS) this.#events[name] += s.events[name];
    for (const [code, n] of Object.entries(s.errors)) count(this.#errors, code, n);
    for (const [code, n] of Object.entries(s.warnings)) count(this.#warnings, code, n);
    this.#configure.sent += s.configure.sent;
    this.#configure.succeeded += s.configure.succeeded;
    this.#configure.failed += s.configure.failed;
    this.#reconnects += s.reconnects;
    this.#audioSeconds += connection.audioSeconds;
    for (const key of Object.keys(recorders) as (keyof Recorders)[])
      this.#recorders[key].merge(recorders[key]);
  }

  /** The summed statistics. */
  summary(): StreamSummary {
    const r = this.#recorders;
    return {
      turns: this.#events.EndOfTurn,
      events: { ...this.#events },
      eotLatencyAudioMs: r.eotAudio.summary(),
      eotLatencyWallMs: r.eotWall.summary(),
      eotProcessingDelayMs: r.eotProcessing.summary(),
      eagerLeadMs: r.eagerLead.summary(),
      messageToFrameMs: r.messageToFrame.summary(),
      connectMs: r.connect.summary(),
      configure: { ...this.#configure, roundTripMs: r.configureRtt.summary() },
      reconnects: this.#reconnects,
      errors: Object.fromEntries(this.#errors),
      warnings: Object.fromEntries(this.#warnings),
      audioSeconds: round3(this.#audioSeconds),
    };
  }
}

/** Adds `n` to `code`'s count in `counts` (errors and warnings by code). */
function count(counts: Map<string, number>, code: string, n = 1): void {
  counts.set(code, (counts.get(code) ?? 0) + n);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
