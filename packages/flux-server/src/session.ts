/**
 * One `/v2/listen` connection after the 101: audio clock, engine calls, the turn state
 * machine, control messages in stream order, sequence ids, idle timeout, logs and
 * counters (reference §2–§4). Fault injection is a decorator (`fault-injector.ts`) installed
 * only when faults are configured; the production path below has none.
 */
import type { Logger } from "@voxpipe/core";
import type WebSocket from "ws";
import {
  FLUX_ERROR_CODES,
  FLUX_MULTILINGUAL_MODEL,
  FORCE_END_TURN_NO_ACTIVE_TURN,
  RECOMMENDED_CHUNK_MS,
  UPDATE_INTERVAL_MS,
  applyConfigure,
  encodeServerMessage,
  initialActiveConfiguration,
  parseClientMessage,
  type ConfigureMessage,
  type FluxActiveConfiguration,
  type FluxModel,
  type FluxSettings,
  type FluxWord,
  type KnownServerMessage,
} from "@voxpipe/flux-protocol";
import { AudioFramer, type SupportedEncoding } from "./audio.js";
import type {
  AudioFrame,
  EngineConfiguration,
  MaybePromise,
  RecognitionState,
  TurnEngine,
} from "./engine.js";
import type { FaultPlan } from "./faults.js";
import { FaultInjector, hasSessionFaults, type MessageWriter } from "./fault-injector.js";
import { TurnStateMachine, type TurnUpdate } from "./turn-state.js";

/** Counters of one session. */
export interface SessionCounters {
  /** Seconds of audio received (audio time). */
  audioSeconds: number;
  /** Server messages sent (all types). */
  messagesSent: number;
  /** Client messages received (binary and text). */
  messagesReceived: number;
  /** Turns ended (EndOfTurn sent, any trigger). */
  turns: number;
  /**
   * `Update`s not sent because the engine was behind real time and a newer one was already
   * due from audio waiting in the queue (see {@link OVERLOAD_UPDATE_EVERY_MS}).
   */
  updatesSkipped: number;
}

/** How a session ended. */
export interface SessionEnd {
  /** Why: `close-stream`, `client-closed`, `idle-timeout`, `unparsable-message`, `engine-error`, `fault-drop`, `fault-error`, `server-closed`. */
  reason: string;
  /** Close code as seen on the wire (1005 = no status code). */
  code: number;
  counters: SessionCounters;
}

/** Construction parameters of a {@link FluxSession} (internal to the server). */
export interface FluxSessionInit {
  requestId: string;
  settings: FluxSettings & { encoding: SupportedEncoding; sampleRate: number };
  engine: TurnEngine;
  engineName: string;
  faults: FaultPlan;
  idleTimeoutMs: number;
  logger: Logger;
}

/** Wire message before the session stamps its `sequence_id`. */
export type Unsequenced = KnownServerMessage extends infer M
  ? M extends KnownServerMessage
    ? Omit<M, "sequence_id">
    : never
  : never;

type Operation =
  | { kind: "audio"; frame: AudioFrame }
  | { kind: "configure"; message: ConfigureMessage }
  | { kind: "force-end-turn" }
  | { kind: "close-stream" }
  | { kind: "unparsable"; description: string }
  | { kind: "action"; run: () => void };

const IDLE_CLOSE_CODE = 1011;

/**
 * Queued operations beyond which the session stops reading the socket (TCP backpressure
 * on the client) until a slow engine catches up: 250 frames = 20 s of audio.
 */
const MAX_QUEUED_OPERATIONS = 250;

/**
 * How far (s) the engine may fall behind real time — audio heard vs wall time since the
 * session's first audio — with that much audio waiting, before the session warns the client.
 * Overload then shows as a `Warning` and later events, never as lost audio (the queue and TCP
 * backpressure keep every byte). A client streaming faster than real time (a file) is not
 * "behind": its backlog is its own. voxpipe's own code: Flux documents only
 * `FORCE_END_TURN_NO_ACTIVE_TURN`.
 */
const BEHIND_WARNING_SECONDS = 2;
/** Warning code sent when the engine falls {@link BEHIND_WARNING_SECONDS} behind real time. */
export const ENGINE_BEHIND_WARNING = "ENGINE_BEHIND_AUDIO";

/**
 * Under overload — the engine is more than one Update interval (240 ms) behind real time
 * and at least one more Update's worth of audio is already queued — an `Update` is sent at
 * most once per this many ms of wall time: the skipped ones would arrive late and be
 * superseded at once by the next, so the engine's time goes to catching up instead of the
 * client's bandwidth to stale text. State changes (StartOfTurn, EagerEndOfTurn,
 * TurnResumed, EndOfTurn) are always sent, and no audio is dropped. voxpipe's own policy:
 * Flux documents an Update about every 0.25 s of audio, not its behaviour when overloaded.
 */
export const OVERLOAD_UPDATE_EVERY_MS = 1000;

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === "function";
}

/**
 * A live session. Tests get these from `server.sessions` or the server's `"session"` event
 * and may inject faults at any time ({@link drop}, {@link stall}, {@link sendFatalError}, …).
 *
 * Ordering: binary audio and text messages become one queue of operations, run one at a
 * time in arrival order; an asynchronous engine pauses the queue, never reorders it. So
 * `Configure`, `ForceEndTurn` and `CloseStream` take effect exactly between the audio
 * before and after them (reference §2.1, §4.4).
 */
export class FluxSession {
  readonly requestId: string;
  readonly model: FluxModel;
  readonly counters: SessionCounters = {
    audioSeconds: 0,
    messagesSent: 0,
    messagesReceived: 0,
    turns: 0,
    updatesSkipped: 0,
  };
  /** Resolves once the socket is closed and the engine released. Never rejects. */
  readonly ended: Promise<SessionEnd>;
  /** Installed when faults are configured (at the handshake or live): see `fault-injector.ts`. */
  private injector: FaultInjector | undefined;
  /** Where messages go: {@link write}, or through the fault injector when there is one. */
  private output: (message: Unsequenced) => void = (message) => this.write(message);
  /** What handles a client frame: {@link receive}, or the fault injector in front of it. */
  private input: (data: Buffer, isBinary: boolean) => void = (data, isBinary) =>
    this.receive(data, isBinary);

  private readonly framer: AudioFramer;
  private readonly machine: TurnStateMachine;
  private configuration: FluxActiveConfiguration;
  private sequenceId = 0;
  private readonly queue: Operation[] = [];
  private running = false;
  /** The in-flight asynchronous step, if any. */
  private pending: Promise<void> | undefined;
  /** No more client input is processed (after CloseStream, an invalid message, or a fatal fault). */
  private inputClosed = false;
  private closed = false;
  /** A close handshake or drop has started. */
  private closing = false;
  /** Socket reading paused because the engine is behind. */
  private paused = false;
  /** A behind-real-time Warning was sent and the backlog has not drained since. */
  private warnedBehind = false;
  /** performance.now() of the last Update sent (for thinning under overload). */
  private lastUpdateAt = -Infinity;
  /** performance.now() at which the stream's audio time 0 would have started in real time (first frame). */
  private firstAudioAt: number | undefined;
  private endReason = "client-closed";
  private readonly idleTimer: NodeJS.Timeout;
  private resolveEnded!: (end: SessionEnd) => void;

  constructor(
    private readonly ws: WebSocket,
    private readonly init: FluxSessionInit,
  ) {
    this.requestId = init.requestId;
    this.model = init.settings.model;
    this.framer = new AudioFramer(init.settings.encoding, init.settings.sampleRate);
    this.configuration = initialActiveConfiguration(init.settings);
    this.machine = new TurnStateMachine(this.thresholds());
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.idleTimer = setTimeout(() => this.onIdle(), init.idleTimeoutMs);
    this.idleTimer.unref();
    if (hasSessionFaults(init.faults)) this.faultInjector().setFaults(init.faults);
  }

  /** Sends `Connected` and starts reading. Called once, right after the 101. */
  start(): void {
    const { logger, settings } = this.init;
    logger.info(
      {
        model: settings.model,
        encoding: settings.encoding,
        sampleRate: settings.sampleRate,
        keyterms: this.configuration.keyterms.length,
        languageHints: this.configuration.languageHints,
        eotThreshold: this.configuration.eotThreshold,
        eagerEotThreshold: this.configuration.eagerEotThreshold,
        eotTimeoutMs: this.configuration.eotTimeoutMs,
      },
      "session open",
    );
    this.ws.on("message", (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    this.ws.on("ping", () => this.idleTimer.refresh());
    this.ws.on("close", (code: number) => this.onClose(code));
    this.ws.on("error", (error) => logger.warn({ err: error.message }, "socket error"));
    this.send({ type: "Connected", request_id: this.requestId });
    const warning = this.init.engine.warning;
    if (warning !== undefined) {
      logger.warn({ code: warning.code }, "engine warning at session start");
      this.send({ type: "Warning", request_id: this.requestId, ...warning });
    }
  }

  /**
   * The engine is behind real time: the session sent `ENGINE_BEHIND_AUDIO` and its backlog has
   * not drained since (what `EngineSessionContext.serverOverloaded` of a new session reads).
   */
  get behind(): boolean {
    return this.warnedBehind && this.queuedAudioFrames() > 3;
  }

  // -------------------------------------------------------------------------
  // Live fault injection

  /** Replaces the fault plan (wall-clock triggers are armed from now). */
  setFaults(faults: FaultPlan): void {
    this.faultInjector().setFaults(faults);
  }

  /** Drops the TCP connection without a close frame (client sees 1006). */
  drop(): void {
    if (this.closed) return;
    this.endReason = "fault-drop";
    this.closing = true;
    this.inputClosed = true;
    this.init.logger.info("fault: drop");
    this.ws.terminate();
  }

  /** Stops sending (audio is still read and pings answered; a fatal `Error` still goes out). */
  stall(): void {
    this.faultInjector().stall();
  }

  /** Ends a {@link stall}: messages flow again (those produced meanwhile are lost). */
  resume(): void {
    this.faultInjector().resume();
  }

  /** Sends a fatal `Error` and closes without a status code (reference §3.6). */
  sendFatalError(
    code: string = FLUX_ERROR_CODES.internalServerError,
    description = "Injected fault: internal server error.",
  ): void {
    if (this.closing || this.closed) return;
    this.init.logger.info({ code }, "fault: fatal error");
    this.fatal("fault-error", code, description);
  }

  /** Sends one text frame that is not valid JSON. */
  sendMalformed(): void {
    this.faultInjector().sendMalformed();
  }

  /**
   * Closes the session from the server side (server shutdown): a close frame with code
   * 1001, unless the session is already closing for its own reason.
   */
  shutdown(): void {
    this.closeSocket("server-closed", 1001, "server shutting down");
  }

  /** Destroys the socket at once (a shutdown whose close handshake the client never finished). */
  terminate(): void {
    if (!this.closed) this.ws.terminate();
  }

  // -------------------------------------------------------------------------
  // Input

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.idleTimer.refresh();
    this.counters.messagesReceived += 1;
    if (this.inputClosed) return;
    this.input(data, isBinary);
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      // A zero-length frame is UNKNOWN on v2 (reference §1.4); it carries no audio, so it is ignored.
      if (data.length === 0) return;
      const frames = this.framer.push(data);
      this.counters.audioSeconds = this.framer.receivedSeconds;
      for (const frame of frames) this.enqueue({ kind: "audio", frame });
      return;
    }
    const message = parseClientMessage(data.toString("utf8"));
    switch (message.type) {
      case "Configure":
        this.enqueue({ kind: "configure", message });
        break;
      case "ForceEndTurn":
        this.enqueue({ kind: "force-end-turn" });
        break;
      case "CloseStream":
        this.inputClosed = true; // a later ForceEndTurn has no effect (reference §4.5)
        this.enqueue({ kind: "close-stream" });
        break;
      case "Invalid":
        this.inputClosed = true;
        this.enqueue({ kind: "unparsable", description: message.description });
        break;
    }
  }

  private enqueue(operation: Operation): void {
    this.queue.push(operation);
    if (operation.kind === "audio") this.warnWhenBehind(operation.frame);
    if (this.queue.length > MAX_QUEUED_OPERATIONS && !this.paused) {
      this.paused = true;
      this.ws.pause();
    }
    if (!this.running) this.pump();
  }

  /**
   * Once per episode of overload: when the engine has heard {@link BEHIND_WARNING_SECONDS}
   * less audio than real time allows and that much audio is waiting, tell the client (events
   * will come late; nothing is dropped). The episode ends when the backlog is down to a few frames.
   */
  private warnWhenBehind(frame: AudioFrame): void {
    this.firstAudioAt ??= performance.now() - frame.end * 1000;
    const backlog = this.queuedAudioFrames();
    if (backlog <= 3) this.warnedBehind = false;
    const waiting = (backlog * RECOMMENDED_CHUNK_MS) / 1000;
    const heard = frame.end - waiting;
    const lag = (performance.now() - this.firstAudioAt) / 1000 - heard;
    if (waiting < BEHIND_WARNING_SECONDS || lag < BEHIND_WARNING_SECONDS) return;
    if (this.warnedBehind || this.closing) return;
    this.warnedBehind = true;
    this.init.logger.warn({ lagSeconds: Number(lag.toFixed(1)) }, "engine behind real time");
    this.send({
      type: "Warning",
      request_id: this.requestId,
      code: ENGINE_BEHIND_WARNING,
      description: `The speech engine is ${lag.toFixed(1)} s behind real time (server overloaded): turn events will arrive late. No audio is dropped.`,
    });
  }

  /** Audio frames waiting in the queue. */
  private queuedAudioFrames(): number {
    return this.queue.reduce((n, op) => n + (op.kind === "audio" ? 1 : 0), 0);
  }

  /** Runs queued operations synchronously while they complete synchronously. */
  private pump(): void {
    this.running = true;
    while (!this.closed) {
      // Idle means neither the client nor the engine did anything: a client waiting for a
      // slow engine's backlog (its socket paused, so not even its pings are read) is not idle.
      this.idleTimer.refresh();
      const operation = this.queue.shift();
      if (operation === undefined) break;
      if (this.paused && this.queue.length < MAX_QUEUED_OPERATIONS / 2) this.resumeReading();
      let step: MaybePromise<void>;
      try {
        step = this.run(operation);
      } catch (error) {
        this.engineFailed(error);
        break;
      }
      if (isPromise(step)) {
        this.pending = step.then(
          () => this.pump(),
          (error: unknown) => this.engineFailed(error),
        );
        return;
      }
    }
    this.running = false;
  }

  private run(operation: Operation): MaybePromise<void> {
    switch (operation.kind) {
      case "audio":
        return this.hear(operation.frame);
      case "configure":
        return this.configure(operation.message);
      case "force-end-turn":
        return this.forceEndTurn();
      case "close-stream":
        return this.closeStream();
      case "unparsable":
        this.init.logger.info("unparsable client message");
        this.fatal(
          "unparsable-message",
          FLUX_ERROR_CODES.unparsableClientMessage,
          operation.description,
        );
        return;
      case "action":
        operation.run();
        return;
    }
  }

  private hear(frame: AudioFrame): MaybePromise<void> {
    const state = this.init.engine.hear(frame);
    return isPromise(state)
      ? state.then((s) => this.afterFrame(frame, s))
      : this.afterFrame(frame, state);
  }

  private afterFrame(frame: AudioFrame, state: RecognitionState): MaybePromise<void> {
    if (this.closing || this.closed) return;
    const update = this.machine.frame(state, frame.end);
    if (update === undefined) return;
    if (update.event === "Update" && this.thinUpdates(frame)) {
      this.counters.updatesSkipped += 1;
      return;
    }
    return this.emit(update);
  }

  /** Whether to skip this frame's Update: overloaded, see {@link OVERLOAD_UPDATE_EVERY_MS}. */
  private thinUpdates(frame: AudioFrame): boolean {
    if (this.firstAudioAt === undefined) return false;
    const now = performance.now();
    const lagMs = now - this.firstAudioAt - frame.end * 1000;
    const queuedMs = this.queuedAudioFrames() * RECOMMENDED_CHUNK_MS;
    const behind = lagMs > UPDATE_INTERVAL_MS && queuedMs >= UPDATE_INTERVAL_MS;
    if (behind && now - this.lastUpdateAt < OVERLOAD_UPDATE_EVERY_MS) return true;
    this.lastUpdateAt = now;
    return false;
  }

  /** Sends a TurnInfo; after an EndOfTurn, tells the engine the turn is over. */
  private emit(update: TurnUpdate): MaybePromise<void> {
    this.sendTurn(update);
    if (update.event !== "EndOfTurn") return;
    this.counters.turns += 1;
    const { logger } = this.init;
    if (logger.isLevelEnabled("debug")) {
      logger.debug(
        { turnIndex: update.turnIndex, trigger: update.trigger, transcript: update.transcript },
        "end of turn",
      );
    }
    return this.init.engine.resetTurn(update.audioWindowEnd);
  }

  private sendTurn(update: TurnUpdate): void {
    const multi = this.model === FLUX_MULTILINGUAL_MODEL;
    this.send({
      type: "TurnInfo",
      request_id: this.requestId,
      event: update.event,
      turn_index: update.turnIndex,
      audio_window_start: update.audioWindowStart,
      audio_window_end: update.audioWindowEnd,
      transcript: update.transcript,
      words: update.words as FluxWord[],
      end_of_turn_confidence: update.endOfTurnConfidence,
      ...(update.trigger !== undefined && { trigger: update.trigger }),
      ...(multi && {
        languages: [...update.languages],
        languages_hinted: [...this.configuration.languageHints],
      }),
    });
  }

  private configure(message: ConfigureMessage): MaybePromise<void> {
    const { logger } = this.init;
    const result = applyConfigure(this.configuration, message, this.model);
    if (!result.ok) {
      logger.info(
        { code: result.code, fields: result.issues.map((i) => i.field) },
        "configure refused",
      );
      this.send({
        type: "ConfigureFailure",
        request_id: this.requestId,
        code: result.code,
        description: result.description,
      });
      return;
    }
    this.configuration = result.configuration;
    this.machine.thresholds = this.thresholds();
    logger.info(
      {
        keyterms: this.configuration.keyterms.length,
        languageHints: this.configuration.languageHints,
      },
      "configure applied",
    );
    const applied = this.init.engine.configure?.(this.engineConfiguration());
    const ack = (): void => this.send(this.configureSuccess());
    return isPromise(applied) ? applied.then(ack) : ack();
  }

  private forceEndTurn(): MaybePromise<void> {
    const update = this.machine.forceEnd();
    if (update !== undefined) return this.emit(update);
    // Ignored with a Warning; each repeat warns again (reference §4.5).
    this.send({
      type: "Warning",
      request_id: this.requestId,
      code: FORCE_END_TURN_NO_ACTIVE_TURN,
      description: "Received ForceEndTurn while no turn was active; the request was ignored.",
    });
  }

  /**
   * Decodes what is left, sends the matching Update, closes without a status code — no
   * EndOfTurn (reference §4.6, current D-cs; see `CloseStreamMessage` for the CONFLICT).
   */
  private closeStream(): MaybePromise<void> {
    const finish = (frame?: AudioFrame, state?: RecognitionState): void => {
      if (this.closing) return;
      const update = this.machine.finalUpdate(state, frame?.end);
      if (update !== undefined) this.sendTurn(update);
      this.init.logger.info("close stream");
      this.closeSocket("close-stream");
    };
    const frame = this.framer.flush();
    if (frame === undefined) return finish();
    const state = this.init.engine.hear(frame);
    return isPromise(state) ? state.then((s) => finish(frame, s)) : finish(frame, state);
  }

  // -------------------------------------------------------------------------
  // Output

  private send(message: Unsequenced): void {
    if (this.closing || this.closed) return;
    this.output(message);
  }

  /** Stamps the next `sequence_id`, encodes and writes one message; `rewrite` changes the text (a fault). */
  private write(message: Unsequenced, rewrite?: (text: string) => string): void {
    const text = encodeServerMessage({ ...message, sequence_id: this.sequenceId });
    this.sequenceId += 1;
    this.counters.messagesSent += 1;
    this.ws.send(rewrite === undefined ? text : rewrite(text));
  }

  /** Sends a fatal Error, then a close frame without a status code (observed 1005, reference §3.6). */
  private fatal(reason: string, code: string, description: string): void {
    if (this.closing) return;
    this.inputClosed = true;
    this.queue.length = 0;
    this.send({ type: "Error", code, description });
    this.closeSocket(reason);
  }

  private engineFailed(error: unknown): void {
    this.running = false;
    if (this.closing || this.closed) return;
    this.init.logger.error(
      { err: error instanceof Error ? error.message : String(error) },
      "engine failed",
    );
    this.fatal(
      "engine-error",
      FLUX_ERROR_CODES.internalServerError,
      "The speech engine failed while processing audio.",
    );
  }

  // -------------------------------------------------------------------------
  // Faults (a decorator, installed on first use) and timers

  /** The session's fault injector, installed (output and input decorated) on first use. */
  private faultInjector(): FaultInjector {
    if (this.injector !== undefined) return this.injector;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the target reads live session state
    const session = this;
    const injector = new FaultInjector({
      session,
      logger: this.init.logger,
      get nextSequenceId() {
        return session.sequenceId;
      },
      get audioSeconds() {
        return session.counters.audioSeconds;
      },
      secondsOf: (bytes) => this.framer.secondsOf(bytes),
      get finished() {
        return session.closing || session.closed;
      },
      send: (message) => this.send(message),
      writeRaw: (text) => this.ws.send(text),
      inStreamOrder: (run) => this.enqueue({ kind: "action", run }),
    });
    const write: MessageWriter = (message, rewrite) => this.write(message, rewrite);
    this.output = (message) => injector.send(message, write);
    this.input = (data, isBinary) =>
      injector.receive(data, isBinary, () => this.receive(data, isBinary));
    this.injector = injector;
    return injector;
  }

  /**
   * No audio, text or ping, and no queued work done, for `idleTimeoutMs`: close. Flux documents a "60-second
   * timeout" (SK) but not its close code (reference §4.7 UNKNOWN); we use 1011 with a
   * reason, the code v1 uses for its idle timeout.
   */
  private onIdle(): void {
    if (this.closing) return;
    this.init.logger.info({ idleTimeoutMs: this.init.idleTimeoutMs }, "idle timeout");
    this.closeSocket("idle-timeout", IDLE_CLOSE_CODE, "idle timeout: no audio or ping received");
  }

  /**
   * Starts the close handshake once; the first reason wins. Without `code` the close frame
   * carries no status code, which clients see as 1005 (reference §3.6, §3.7).
   */
  private closeSocket(reason: string, code?: number, text?: string): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.endReason = reason;
    this.inputClosed = true;
    // A socket paused for backlog must be read again, or the client's close frame is never
    // seen and the close waits for ws's 30 s timeout (input is ignored from now on).
    this.resumeReading();
    if (code === undefined) this.ws.close();
    else this.ws.close(code, text);
  }

  private resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.ws.resume();
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    clearTimeout(this.idleTimer);
    const end: SessionEnd = { reason: this.endReason, code, counters: { ...this.counters } };
    const release = async (): Promise<void> => {
      // Let an in-flight engine call settle before closing the engine.
      await this.pending?.catch(() => undefined);
      try {
        await this.init.engine.close();
      } catch (error) {
        this.init.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          "engine close failed",
        );
      }
    };
    void release().finally(() => {
      this.init.logger.info({ reason: end.reason, code, ...end.counters }, "session closed");
      this.resolveEnded(end);
    });
  }

  private thresholds(): TurnStateMachine["thresholds"] {
    const c = this.configuration;
    return {
      eotThreshold: c.eotThreshold,
      eagerEotThreshold: c.eagerEotThreshold,
      eotTimeoutMs: c.eotTimeoutMs,
    };
  }

  private engineConfiguration(): EngineConfiguration {
    const c = this.configuration;
    return { keyterms: c.keyterms, languageHints: c.languageHints, numerals: c.numerals };
  }

  private configureSuccess(): Unsequenced {
    const c = this.configuration;
    return {
      type: "ConfigureSuccess",
      request_id: this.requestId,
      // UNKNOWN how eager is rendered when off (reference §3.3): omitted.
      thresholds: {
        ...(c.eagerEotThreshold !== undefined && { eager_eot_threshold: c.eagerEotThreshold }),
        eot_threshold: c.eotThreshold,
        eot_timeout_ms: c.eotTimeoutMs,
      },
      keyterms: [...c.keyterms],
      // language_hints on multi only (UNKNOWN on -en, reference §3.3).
      ...(this.model === FLUX_MULTILINGUAL_MODEL && { language_hints: [...c.languageHints] }),
      numerals: c.numerals,
    };
  }
}
