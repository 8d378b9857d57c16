import type { Observable } from "rxjs";
import { Subject } from "rxjs";
import {
  FLUX_MULTILINGUAL_MODEL,
  parseServerMessage,
  parseServerMessageObject,
  type ConfigureSuccessMessage,
  type FluxActiveConfiguration,
  type Received,
  type FluxSettings,
  type ServerMessage,
  type TurnInfoMessage,
} from "@voxpipe/flux-protocol";
import { abortableSleep, rootLogger, type Logger } from "@voxpipe/core";
import { chunkBytes, sameFormat, secondsOf, silence, type AudioFormat } from "./audio/format.js";
import { AudioChunker } from "./audio/chunker.js";
import { ReplayBuffer, type TimedChunk } from "./audio/replay-buffer.js";
import type { Carrier } from "./carriers/carrier.js";
import { sdkCarrier } from "./carriers/sdk.js";
import { FluxError, inputError, networkError, redactUrls, serverError } from "./errors.js";
import {
  ConfigureQueue,
  isLiveKey,
  LIVE_KEYS,
  type ConfigureWaiter,
  type InFlightConfigure,
} from "./configure-queue.js";
import type { FluxClientMetrics, FluxEvent } from "./events.js";
import {
  DEEPGRAM_URL,
  rawFormat,
  resolveOptions,
  validateClientOptions,
  type FluxClientOptions,
  type FluxClientState,
  type ResolvedFluxClientOptions,
} from "./client/options.js";
import { Connection } from "./client/connection.js";
import { observableIterator } from "./client/event-iterator.js";
import { SafeObservable } from "./client/safe-observable.js";
import { RESUME_SLACK_SECONDS, TurnTracker } from "./client/turn-tracker.js";
import { Watchdog } from "./client/watchdog.js";
import { SettingsState } from "./client/settings-state.js";
import { asFluxError, backoffDelay, connectWithRetry, exhaustedError } from "./client/reconnect.js";
import { Lifecycle, type LifecycleEffect } from "./client/lifecycle.js";
import { admissionFor } from "./client/admission.js";

/** Options, defaults and the Deepgram URL (re-exported where FluxClient is). */
export {
  DEEPGRAM_URL,
  type FluxClientOptions,
  type FluxClientState,
  type FluxReconnectOptions,
} from "./client/options.js";

/** What a lifecycle event carries to its effects. */
interface LifecycleInput {
  /**
   * The cause: the lost connection's error (`dropped`, `renew`), the fatal error, already
   * marked fatal (`rejected`, `gaveUp`), or the `CLOSED` error pending calls are rejected
   * with (`drained`, `destroy`).
   */
  readonly error?: FluxError;
}

/** A connection lost within this many ms of `Connected`, before any result, is a quick failure. */
const QUICK_FAILURE_MS = 5_000;

/** Flux sends a `TurnInfo` `Update` every 240 ms of audio (flux-protocol.md §4.2). */
const FLUX_UPDATE_INTERVAL_MS = 240;

/**
 * On close, a Flux that keeps answering may take this many times the duration of the
 * audio it has not answered yet (a busy local engine running at a third of real time).
 */
const CLOSE_LAG_FACTOR = 3;

/** The error a lifecycle effect reports (every event that needs one carries one). */
function causeOf(error: FluxError | undefined): FluxError {
  return error ?? networkError("CONNECTION_CLOSED", "the connection closed");
}

/**
 * The Flux connection layer, usable on its own (no pipeline needed): send audio,
 * receive typed turn events as an RxJS `Observable` ({@link events$}) or an async
 * iterator, change settings live, force the end of a turn, close gracefully.
 *
 * It owns the connection's state machine (the transition table in `client/lifecycle.ts`:
 * {@link state} moves only through it): waits for `Connected`, re-chunks audio
 * to 80 ms, keeps recent audio and replays what Flux has not confirmed on a new
 * connection, keeps audio time and turn indices continuous across connections
 * ({@link TurnTracker}), classifies errors (permanent → one fatal error; retryable →
 * jittered exponential backoff, the first connection included), and runs a
 * {@link Watchdog} (silence inside an open turn when input stops, stall detection,
 * WebSocket pings).
 *
 * Never logs the API key, keyterms or a URL with its query string.
 */
export class FluxClient {
  private readonly subject = new Subject<FluxEvent>();
  /**
   * Turn, connection, configure, warning and error events. Never errors: a fatal error
   * (a permanent failure, or retries used up) is the last event, `Error` with
   * `error.fatal === true`, then the stream completes; a graceful close completes it.
   * An exception thrown by a subscriber is logged and ignored (never crashes the host).
   */
  readonly events$: Observable<FluxEvent>;

  private readonly log: Logger;
  private readonly carrier: Carrier;
  private readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly opts: ResolvedFluxClientOptions;

  /** The connection's state machine (transition table in `client/lifecycle.ts`). */
  private readonly lifecycle: Lifecycle<LifecycleInput>;
  private readonly settingsState: SettingsState;
  private inputFormat: AudioFormat;
  private chunker: AudioChunker;
  private readonly buffer: ReplayBuffer;
  /** End of the continuous timeline (seconds of audio accepted so far). */
  private timeline = 0;

  private conn: Connection | undefined;
  private connections = 0;
  private readyConnections = 0;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lostAt: number | undefined;
  private quickFailures = 0;
  private startWaiters: { resolve(): void; reject(e: Error): void }[] = [];
  private writableWaiters: (() => void)[] = [];
  /** The last failed connection attempt of the current outage (for a give-up's message). */
  private lastConnectError: FluxError | undefined;

  private readonly turns: TurnTracker;
  private forceEndPending = false;

  private readonly configures: ConfigureQueue;
  private switchWaiters: ConfigureWaiter[] = [];

  private readonly watchdog: Watchdog<Connection>;
  private closing: Promise<void> | undefined;
  private closeWake: (() => void) | undefined;
  /** Set while closing: Flux answered, so its last result may still come (re-arms the close bound). */
  private closeProgress: (() => void) | undefined;

  private readonly counters: Omit<FluxClientMetrics, "bufferedSeconds" | "turns" | "lastTurn"> = {
    audioSecondsSent: 0,
    audioSecondsReplayed: 0,
    silenceSecondsInjected: 0,
    audioSecondsDropped: 0,
    reconnects: 0,
    unknownMessages: 0,
  };

  /**
   * Validates everything before any connection: settings (with
   * `@voxpipe/flux-protocol`), URL, API key, raw encoding.
   * @throws FluxSettingsError naming each bad field, its value and the allowed range.
   * @throws FluxError (`input`) for a bad URL, a missing API key or a non-raw encoding.
   */
  constructor(options: FluxClientOptions) {
    const { apiKey } = FluxClient.validate(options);
    const settings = { ...options.settings };
    this.inputFormat = rawFormat(settings);
    this.url = options.url ?? DEEPGRAM_URL;
    this.apiKey = apiKey;
    this.opts = resolveOptions(options);
    this.carrier = options.carrier ?? sdkCarrier;
    this.log = options.logger ?? rootLogger().child({ component: "flux-client" });
    const subject = this.subject;
    this.events$ = new SafeObservable<FluxEvent>(this.log, (subscriber) =>
      subject.subscribe(subscriber),
    );
    this.lifecycle = new Lifecycle<LifecycleInput>(
      (effect, input) => this.effects[effect](input),
      this.log,
    );
    this.settingsState = new SettingsState(settings);
    this.chunker = new AudioChunker(chunkBytes(this.inputFormat, this.opts.chunkMs));
    this.buffer = new ReplayBuffer(this.opts.replayBufferSeconds);
    this.configures = new ConfigureQueue(this.opts.configureTimeoutMs);
    this.turns = new TurnTracker({
      emit: (event) => this.emit(event),
      sentAt: (time) => this.buffer.at(time)?.sentAt,
      log: this.log,
    });
    this.watchdog = new Watchdog(
      {
        intervalMs: this.opts.watchdogIntervalMs,
        silenceAfterMs: this.opts.silenceAfterMs,
        caughtUpMarginSeconds: (this.opts.chunkMs + FLUX_UPDATE_INTERVAL_MS) / 1000,
        stallTimeoutMs: this.opts.stallTimeoutMs,
        pingIntervalMs: this.opts.pingIntervalMs,
      },
      {
        connection: () => this.conn,
        wantsSilence: () => this.turns.isOpen && this.lifecycle.state === "open",
        answeredUntil: () => this.turns.processedUntil,
        injectSilence: (ms) => this.injectSilence(ms),
        keepAlive: () => this.keepAlive(),
        stalled: (conn, error) => {
          this.log.warn(
            { connection: conn.id, unansweredSeconds: conn.unanswered },
            "flux stalled; reconnecting",
          );
          this.onConnectionLost(conn, error);
        },
        tick: (now) => {
          this.expireConfigure(now);
          this.maybeSwitch();
          this.checkWritable();
        },
      },
    );
  }

  /**
   * Checks options the way the constructor does, without creating a client: settings
   * (with `@voxpipe/flux-protocol`), raw encoding, URL, API key (option, else env
   * `DEEPGRAM_API_KEY`; not needed for a loopback URL).
   * @returns the API key to use (`undefined`: connect without auth).
   * @throws FluxSettingsError naming each bad field, its value and the allowed range.
   * @throws FluxError (`input`) for a non-raw encoding, a bad URL or a missing API key.
   */
  static validate(options: Pick<FluxClientOptions, "settings" | "url" | "apiKey" | "carrier">): {
    apiKey: string | undefined;
  } {
    return validateClientOptions(options);
  }

  /** Current state (see {@link FluxClientState} for how it moves). */
  get state(): FluxClientState {
    return this.lifecycle.state;
  }

  /**
   * Settings in force, as Flux confirmed them: the connection's settings, with the live
   * ones (thresholds, keyterms, language hints, numerals) reconciled from each
   * `ConfigureSuccess`, which echoes Flux's full active configuration. A change not yet
   * confirmed (or refused, or unanswered) is not here; see {@link desiredSettings}.
   */
  get settings(): Readonly<FluxSettings> {
    return this.settingsState.applied;
  }

  /**
   * Settings as asked for: {@link settings} plus the changes not confirmed yet (a
   * `Configure` in flight, a new connection at the next turn boundary). A change Flux
   * refused, or did not acknowledge in time, is rolled back here too.
   */
  get desiredSettings(): Readonly<FluxSettings> {
    return this.settingsState.desired;
  }

  /** The active mid-stream configuration, as Flux last confirmed it. */
  get configuration(): FluxActiveConfiguration {
    return this.settingsState.active;
  }

  /** Whether a turn is open (between `StartOfTurn` and `EndOfTurn`). */
  get turnOpen(): boolean {
    return this.turns.isOpen;
  }

  /** A snapshot of the counters. */
  get metrics(): FluxClientMetrics {
    return {
      ...this.counters,
      bufferedSeconds: this.buffer.seconds,
      turns: this.turns.turns,
      lastTurn: this.turns.lastTurn,
    };
  }

  /**
   * Whether the caller should hold audio back: more than `maxAheadSeconds` of accepted
   * audio is unanswered by Flux, or the socket's local buffer holds more than
   * `maxBufferedBytes`. Never true once closed or failed.
   */
  get isSaturated(): boolean {
    if (this.lifecycle.terminal) return false;
    const ahead = this.timeline - this.turns.processedUntil;
    const buffered = this.conn?.carrier?.bufferedAmount ?? 0;
    return ahead > this.opts.maxAheadSeconds || buffered > this.opts.maxBufferedBytes;
  }

  /**
   * Resolves when {@link isSaturated} is false: a fast producer (a file read faster than
   * real time) awaits it before each `sendAudio`, so neither the socket's buffer nor Flux's
   * backlog grows without bound. Real-time input need not wait. Re-checked on every Flux
   * answer and watchdog tick; resolves at once on close or failure.
   */
  whenWritable(): Promise<void> {
    if (!this.isSaturated) return Promise.resolve();
    return new Promise<void>((resolve) => this.writableWaiters.push(resolve));
  }

  /** Wakes {@link whenWritable} waiters once writable. */
  private checkWritable(): void {
    if (this.writableWaiters.length === 0 || this.isSaturated) return;
    for (const w of this.writableWaiters.splice(0)) w();
  }

  /** Seconds of audio on the continuous timeline (accepted so far). */
  get audioTime(): number {
    return this.timeline;
  }

  /**
   * Connects. Resolves once Flux sent `Connected`; a failed first connection is
   * retried like any other. Rejects with the fatal {@link FluxError} when the
   * failure is permanent (400/401/403, protocol error) or retries run out.
   * Audio sent before (or while) connecting is buffered and replayed.
   */
  start(): Promise<void> {
    if (this.lifecycle.state !== "idle") {
      return this.lifecycle.terminal
        ? Promise.reject(inputError("CLOSED", "the client is closed"))
        : this.whenOpen();
    }
    const ready = this.whenOpen();
    this.lifecycle.fire("start", {});
    return ready;
  }

  /**
   * Queues audio (bytes in the configured encoding and sample rate, mono; PCM is
   * s16le for `linear16`). Re-chunked to {@link FluxClientOptions.chunkMs}; sent
   * at once when connected, otherwise buffered and replayed. Never throws.
   * @returns `false` if the client is closing, closed or failed (nothing was queued).
   */
  sendAudio(audio: Uint8Array): boolean {
    if (this.lifecycle.state === "closing" || this.lifecycle.terminal) {
      return false;
    }
    this.watchdog.input(secondsOf(this.inputFormat, audio.length) * 1000);
    for (const bytes of this.chunker.push(audio)) this.enqueue(bytes, this.inputFormat);
    return true;
  }

  /**
   * Changes settings mid-stream.
   * - Thresholds, keyterms, language hints, numerals go out as one `Configure`
   *   (one in flight; later calls coalesce into the next). Resolves with the
   *   configuration Flux confirmed (its `ConfigureSuccess` echo; {@link settings} then
   *   shows it); rejects with a non-fatal {@link FluxError} (`configure`: Flux's code and
   *   description; `configure-timeout` after `configureTimeoutMs`) and the previous
   *   settings stay in force. Should the acknowledgement of a timed-out Configure come
   *   later after all, the full desired configuration is sent again so that stays true.
   *   Asking again for values already on their way waits for the same answer.
   * - Model, encoding, sample rate (and the other connection-only settings) need
   *   a new connection: it opens at the next turn boundary and the audio Flux had
   *   not confirmed is replayed on it, so nothing is lost. For an encoding or
   *   sample-rate change, keep sending audio in the old format until the returned
   *   promise resolves, then switch (audio in the old format is not replayed on the
   *   new connection).
   * @throws (rejects) FluxSettingsError before anything is sent when the merged settings are invalid.
   */
  configure(changes: Partial<FluxSettings>): Promise<FluxActiveConfiguration> {
    if (this.lifecycle.state === "closing" || this.lifecycle.terminal) {
      return Promise.reject(inputError("CLOSED", "the client is closed"));
    }
    const settings = this.settingsState;
    let request: ReturnType<SettingsState["request"]>;
    try {
      request = settings.request(changes);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const { changed, format } = request;
    if (changed.length === 0) return this.whenConfirmed(changes);
    if (this.lifecycle.state === "idle") {
      // Nothing connected yet: the first connection simply uses the new settings.
      settings.applyDesired();
      if (!sameFormat(format, this.inputFormat)) this.switchInputFormat(format);
      return Promise.resolve(settings.active);
    }
    const needsConnection = changed.some((k) => !isLiveKey(k));
    return new Promise<FluxActiveConfiguration>((resolve, reject) => {
      if (needsConnection) {
        this.settingsState.switchPending = true;
        this.switchWaiters.push({ resolve, reject });
        this.maybeSwitch();
        return;
      }
      this.configures.add(changed.filter(isLiveKey), { resolve, reject });
      this.maybeSendConfigure();
    });
  }

  /**
   * Resolves when values already asked for (and not changed by `changes`) are confirmed:
   * at once when they are, else with the Configure or new connection that carries them.
   */
  private whenConfirmed(changes: Partial<FluxSettings>): Promise<FluxActiveConfiguration> {
    const asked = (Object.keys(changes) as (keyof FluxSettings)[]).filter(
      (k) => changes[k] !== undefined,
    );
    return new Promise<FluxActiveConfiguration>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.settingsState.switchPending && asked.some((k) => !isLiveKey(k))) {
        this.switchWaiters.push(waiter);
      } else if (!this.configures.join(asked.filter(isLiveKey), waiter)) {
        resolve(this.settingsState.active);
      }
    });
  }

  /**
   * Asks Flux to end the open turn now (`ForceEndTurn`; the `EndOfTurn` follows with
   * `trigger: "manual"`). Does nothing when no turn is open. While reconnecting, it
   * is sent as soon as the new connection is ready.
   */
  forceEndTurn(): void {
    if (!this.turns.isOpen) return;
    const conn = this.conn;
    if (conn?.ready) conn.sendControl({ type: "ForceEndTurn" });
    else this.forceEndPending = true;
  }

  /**
   * Graceful close: flushes buffered audio, sends `ForceEndTurn` if a turn is open,
   * then `CloseStream`, and waits (bounded by `closeTimeoutMs`) for Flux's last
   * result and close. A turn Flux did not end is closed with `trigger: "closed"`.
   * Completes {@link events$}. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeGracefully();
    return this.closing;
  }

  /**
   * Stops connecting now (a user pressed Ctrl-C while Flux cannot be reached): a client that
   * is (re)connecting fails at once with the last attempt's cause (its terminal `Error`
   * event is emitted, `start()` rejects). A connected client is not affected.
   * @returns whether the client gave up.
   */
  stopReconnecting(): boolean {
    if (this.connected) return false;
    const state = this.lifecycle.state;
    if (state !== "connecting" && state !== "reconnecting" && state !== "closing") return false;
    this.fail(this.gaveUp("stopped by the caller"));
    return true;
  }

  /** Immediate close: no `CloseStream`, no waiting. Completes {@link events$}. */
  destroy(): void {
    this.lifecycle.fire("destroy", { error: inputError("CLOSED", "the client was destroyed") });
  }

  /**
   * Events as an async iterator. Subscribes when called, so call it before
   * sending audio. Ends when the client closes or fails (a failure's last event is
   * `Error` with `error.fatal === true`).
   */
  [Symbol.asyncIterator](): AsyncIterator<FluxEvent> {
    return observableIterator(this.events$);
  }

  // ---------------------------------------------------------------- audio path

  /** Puts one chunk on the timeline and the replay buffer, and sends it if possible. */
  private enqueue(bytes: Uint8Array, format: AudioFormat): void {
    const duration = secondsOf(format, bytes.length);
    const chunk: TimedChunk = { start: this.timeline, duration, bytes, format, sentAt: undefined };
    this.timeline += duration;
    const lost = this.buffer.push(chunk);
    if (lost > 0) this.reportDropped(lost);
    const conn = this.conn;
    if (conn?.ready && !conn.closeRequested && sameFormat(conn.format, format)) {
      this.sendChunk(conn, chunk);
    }
  }

  private sendChunk(conn: Connection, chunk: TimedChunk): boolean {
    if (!conn.sendAudio(chunk)) return false;
    this.counters.audioSecondsSent += chunk.duration;
    return true;
  }

  private reportDropped(seconds: number): void {
    this.counters.audioSecondsDropped += seconds;
    this.emit({
      type: "Error",
      error: new FluxError({
        source: "input",
        kind: "retryable",
        code: "AUDIO_DROPPED",
        description: `replay buffer full (${this.opts.replayBufferSeconds} s): dropped ${seconds.toFixed(2)} s of the oldest audio`,
      }),
    });
  }

  /** The sample format of `sendAudio` input changes now (encoding / sample-rate switch). */
  private switchInputFormat(format: AudioFormat): void {
    const rest = this.chunker.flush();
    if (rest) this.enqueue(rest, this.inputFormat);
    this.inputFormat = format;
    this.chunker = new AudioChunker(chunkBytes(format, this.opts.chunkMs));
  }

  /** Streams `ms` of silence through the chunker (the watchdog's input-gap filler). */
  private injectSilence(ms: number): void {
    const bytes = chunkBytes(this.inputFormat, ms);
    if (bytes <= 0) return;
    this.counters.silenceSecondsInjected += secondsOf(this.inputFormat, bytes);
    for (const chunk of this.chunker.push(silence(this.inputFormat, bytes))) {
      this.enqueue(chunk, this.inputFormat);
    }
  }

  /**
   * Keep-alive on a carrier without pings (SageMaker): flushes what the chunker holds, then
   * streams `keepAliveSilenceMs` of silence, both on the timeline so Flux's times stay aligned.
   */
  private keepAlive(): void {
    const rest = this.chunker.flush();
    if (rest) this.enqueue(rest, this.inputFormat);
    const bytes = chunkBytes(this.inputFormat, this.opts.keepAliveSilenceMs);
    if (bytes <= 0) return;
    this.counters.silenceSecondsInjected += secondsOf(this.inputFormat, bytes);
    this.enqueue(silence(this.inputFormat, bytes), this.inputFormat);
  }

  // ---------------------------------------------------------------- connection loop

  /**
   * Connects, retrying with backoff. Before Flux was ever reached the budget is small
   * (`firstConnectAttempts` within `firstConnectTimeoutMs`): a first connection fails
   * fast, with the last attempt's cause.
   */
  private runLoop(initialDelayMs: number): void {
    this.lastConnectError = undefined;
    const r = this.opts.reconnect;
    const first = this.readyConnections === 0;
    const maxAttempts = first ? Math.min(r.maxAttempts, r.firstConnectAttempts) : r.maxAttempts;
    const deadline = new AbortController();
    const timer = first ? setTimeout(() => deadline.abort(), r.firstConnectTimeoutMs) : undefined;
    const signal = first
      ? AbortSignal.any([this.abort.signal, deadline.signal])
      : this.abort.signal;
    let last: FluxError | undefined;
    let attempts = 0;
    const loop = connectWithRetry((attempt) => this.connectOnce(attempt, signal), {
      policy: { ...r, maxAttempts },
      initialDelayMs,
      signal,
      onFailedAttempt: (error, attempt) => {
        last = error;
        this.lastConnectError = error;
        attempts = attempt;
        this.log.warn(
          { code: error.code, status: error.status, kind: error.kind, attempt },
          "flux connection attempt failed",
        );
        if (error.retryable) this.emit({ type: "Reconnecting", error, attempt });
      },
    })
      .catch((error: unknown) => {
        if (this.abort.signal.aborted) return;
        const fluxError = !deadline.signal.aborted
          ? asFluxError(error)
          : (last ??
            networkError("CONNECT_TIMEOUT", `no answer within ${r.firstConnectTimeoutMs} ms`));
        const why = !first
          ? `${attempts} attempts`
          : deadline.signal.aborted
            ? `${r.firstConnectTimeoutMs / 1000} s without reaching Flux`
            : `${Math.max(attempts, 1)} attempt(s) without reaching Flux`;
        this.fail(
          fluxError.retryable || deadline.signal.aborted
            ? exhaustedError(fluxError, why)
            : fluxError,
        );
      })
      .finally(() => clearTimeout(timer));
    this.loop = loop;
  }

  /** Opens one connection and waits for `Connected`; rejects with a classified {@link FluxError}. */
  private async connectOnce(_attempt: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    // A reconnect waits for a handshake slot shared with the process's other clients of
    // this endpoint (client/admission.ts); a first connection does not.
    const release =
      this.readyConnections > 0
        ? await admissionFor(this.url, this.opts.reconnect.maxConcurrentReconnects).acquire(signal)
        : undefined;
    const settings = this.settingsState.forConnection;
    try {
      await Connection.open(
        {
          id: ++this.connections,
          settings,
          format: rawFormat(settings),
          carrier: this.carrier,
          url: this.url,
          apiKey: this.apiKey,
          connectTimeoutMs: this.opts.connectTimeoutMs,
          signal,
        },
        {
          onMessage: (conn, message) => this.onMessage(conn, message),
          onClose: (conn, close) =>
            this.onConnectionLost(
              conn,
              conn.serverError ??
                (close.error ? this.sanitize(close.error) : undefined) ??
                networkError("CONNECTION_CLOSED", `the connection closed (code ${close.code})`),
              close.code,
            ),
          onConnected: (conn, requestId) => this.onConnected(conn, requestId),
        },
      );
    } catch (error) {
      throw error instanceof FluxError ? this.sanitize(error) : error;
    } finally {
      release?.();
    }
  }

  /** `Connected` arrived: adopt the connection, replay, resend what is pending. */
  private onConnected(conn: Connection, requestId: string): void {
    if (this.abort.signal.aborted) {
      // The client closed while this connection was opening.
      conn.close();
      return;
    }
    const now = performance.now();
    const downtimeMs = this.lostAt === undefined ? 0 : now - this.lostAt;
    this.lostAt = undefined;
    // A connection opened with the settings asked for completes a pending switch (one that
    // started before the change still needs one: maybeSwitch below).
    const switched = this.settingsState.adopt(conn.settings);
    if (switched) {
      if (!sameFormat(conn.format, this.inputFormat)) this.switchInputFormat(conn.format);
    }
    // Replay from the first point Flux has not confirmed (with a margin so a cut word is heard whole).
    const replayFrom = this.turns.replayFrom(this.opts.replayMarginMs / 1000);
    const chunks = this.buffer.from(replayFrom).filter((c) => sameFormat(c.format, conn.format));
    this.conn = conn;
    if (++this.readyConnections > 1) this.counters.reconnects++;
    this.lifecycle.fire("connected", {});
    conn.adopt(requestId, chunks[0]?.start ?? this.timeline, this.turns.nextTurnIndexOffset(), now);
    let replayed = 0;
    for (const chunk of chunks) {
      const wasSent = chunk.sentAt !== undefined;
      if (!this.sendChunk(conn, chunk)) break;
      if (wasSent) replayed += chunk.duration;
    }
    this.counters.audioSecondsReplayed += replayed;
    if (this.turns.isOpen) conn.awaitResume(conn.sentUntil + RESUME_SLACK_SECONDS);
    this.log.info(
      {
        connection: conn.id,
        requestId,
        downtimeMs: Math.round(downtimeMs),
        replayedSeconds: replayed,
      },
      "flux connected",
    );
    this.emit({
      type: "Connected",
      requestId,
      connection: this.readyConnections,
      downtimeMs,
      replayedSeconds: replayed,
    });
    if (switched)
      for (const w of this.switchWaiters.splice(0)) w.resolve(this.settingsState.active);
    if (this.forceEndPending && this.turns.isOpen) conn.sendControl({ type: "ForceEndTurn" });
    this.forceEndPending = false;
    this.maybeSendConfigure();
    this.maybeSwitch();
  }

  /** A connection ended: reconnect, finish a close, or fail. */
  private onConnectionLost(conn: Connection, error: FluxError, code?: number): void {
    if (conn.dead) return;
    if (!conn.ready) {
      // Still waiting for Connected: the connect attempt rejects and pRetry decides.
      conn.lose(error);
      return;
    }
    if (conn !== this.conn) return;
    this.conn = undefined;
    conn.close();
    this.lostAt = performance.now();
    if (conn.closeRequested) {
      // Planned switch to new settings (or the carrier's duration cap): connect right away.
      this.lifecycle.fire("renew", { error });
      return;
    }
    if (!error.retryable) {
      this.lifecycle.fire("rejected", { error: error.asFatal() });
      return;
    }
    this.log.debug(
      { code: error.code, closeCode: code, connection: conn.id },
      "flux connection ended",
    );
    // A connection that died soon and before any result counts as a quick failure (a server
    // that accepts and then fails at once): back off before retrying, and give up eventually.
    const quick = !conn.gotTurnInfo && performance.now() - conn.readyAt < QUICK_FAILURE_MS;
    this.quickFailures = quick ? this.quickFailures + 1 : 0;
    this.lifecycle.fire("dropped", { error });
  }

  /** The `reconnect` effect: back off after quick failures, give up after too many in a row. */
  private reconnectAfterDrop(error: FluxError): void {
    this.log.warn({ code: error.code }, "flux connection lost; reconnecting");
    if (this.quickFailures >= this.opts.reconnect.maxAttempts) {
      this.fail(
        exhaustedError(error, `${this.quickFailures} connections failed before any result`),
      );
      return;
    }
    this.runLoop(
      this.quickFailures > 0 ? backoffDelay(this.opts.reconnect, this.quickFailures) : 0,
    );
  }

  // ---------------------------------------------------------------- messages

  private onMessage(conn: Connection, raw: unknown): void {
    if (conn.dead) return;
    const message: ServerMessage =
      typeof raw === "string" ? parseServerMessage(raw) : parseServerMessageObject(raw);
    conn.answered();
    if (conn === this.conn) this.closeProgress?.();
    switch (message.type) {
      case "Connected":
        if (conn.ready) return;
        if (conn.connectedMessage(message.request_id)) this.onConnected(conn, message.request_id);
        return;
      case "TurnInfo":
        if (conn === this.conn) this.onTurnInfo(conn, message);
        return;
      case "ConfigureSuccess":
        if (conn === this.conn) this.onConfigureAck(message);
        return;
      case "ConfigureFailure":
        if (conn === this.conn) {
          const done = this.configures.settle();
          if (done === undefined) return; // stray
          if (done.expired) {
            // Its caller was told it failed (timeout): Flux kept what it had, which we know.
            this.log.debug({ fields: [...done.keys] }, "late ConfigureFailure");
            this.maybeSendConfigure();
            return;
          }
          this.onConfigureFailed(
            done,
            new FluxError({
              source: "configure",
              kind: "permanent",
              code: message.code ?? "CONFIGURE_FAILURE",
              description: this.redact(message.description ?? "Flux rejected the Configure"),
            }),
          );
        }
        return;
      case "Warning":
        // A ForceEndTurn that met no open turn is expected at shutdown.
        if (message.code === "FORCE_END_TURN_NO_ACTIVE_TURN")
          this.log.debug({ code: message.code }, "flux warning");
        else this.log.warn({ code: message.code }, "flux warning");
        this.emit({ type: "Warning", code: message.code, description: message.description });
        return;
      case "Error":
        {
          const error = serverError(message.code, this.redact(message.description));
          conn.failedWith(error);
          this.log.error({ code: message.code, kind: error.kind }, "flux error message");
          // Flux closes after an Error; don't wait for it.
          this.onConnectionLost(conn, error);
        }
        return;
      case "Unknown":
        // Receive leniently: a newer Flux may send what this client does not know yet.
        this.counters.unknownMessages++;
        this.log.debug(
          { reason: message.reason, wireType: message.wireType, detail: message.detail },
          "unknown flux message skipped",
        );
        return;
    }
  }

  private onTurnInfo(conn: Connection, m: Received<TurnInfoMessage>): void {
    conn.turnInfoReceived();
    this.quickFailures = 0;
    this.turns.onTurnInfo(conn, m);
    // Keep only what a reconnect could need to replay.
    const keepFrom = this.turns.unconfirmedFrom - this.opts.replayMarginMs / 1000;
    this.buffer.trimBefore(Math.max(0, keepFrom));
    this.checkWritable();
    if (!this.turns.isOpen) this.maybeSwitch();
  }

  // ---------------------------------------------------------------- configure

  private maybeSendConfigure(): void {
    const conn = this.conn;
    if (!conn?.ready || conn.closeRequested) return;
    const desired = this.settingsState.desired;
    // A full configuration (after a late answer) carries language hints only where allowed.
    const full = LIVE_KEYS.filter(
      (k) => k !== "languageHints" || desired.model === FLUX_MULTILINGUAL_MODEL,
    );
    const message = this.configures.take(
      this.settingsState.desiredWithDefaults,
      performance.now(),
      full,
    );
    if (message === undefined) return;
    this.log.debug({ fields: [...(this.configures.inFlight?.keys ?? [])] }, "sending Configure");
    conn.sendControl(message);
  }

  /**
   * `ConfigureSuccess`: the confirmed settings become what its echo says. An answer that
   * came after its Configure's deadline (whose caller was told it failed, and whose values
   * were rolled back) leaves Flux in a state nobody asked for: the full desired
   * configuration is sent again.
   */
  private onConfigureAck(m: Received<ConfigureSuccessMessage>): void {
    const done = this.configures.settle();
    if (done === undefined) {
      this.log.debug("ConfigureSuccess with no Configure awaiting it; ignored");
      return;
    }
    const active = this.settingsState.confirm(done, m);
    this.emit({ type: "Configured", configuration: active });
    if (done.expired) {
      // Only if Flux now differs from what was asked: a full configuration whose own answer
      // comes late (a slow Flux) must not start another one.
      if (!this.settingsState.confirmedAsDesired) {
        this.log.warn(
          { fields: [...done.keys] },
          "Configure acknowledged after its timeout; re-sending the full desired configuration",
        );
        this.configures.resync();
        // A Configure cannot turn eager mode off: only a new connection can.
        const desired = this.settingsState.desired;
        if (desired.eagerEotThreshold === undefined && active.eagerEotThreshold !== undefined) {
          this.settingsState.switchPending = true;
          this.maybeSwitch();
        }
      }
    } else {
      for (const w of done.waiters) w.resolve(active);
    }
    this.maybeSendConfigure();
  }

  /** `ConfigureFailure` or no acknowledgement in time: nothing changed, the stream goes on. */
  private onConfigureFailed(done: InFlightConfigure, error: FluxError): void {
    this.settingsState.rollback(done, (k) => this.configures.isPending(k));
    this.log.warn(
      { code: error.code, fields: [...done.keys] },
      "Configure not applied; previous settings stay",
    );
    this.emit({ type: "Error", error });
    for (const w of done.waiters) w.reject(error);
    this.maybeSendConfigure();
  }

  /**
   * Switches to a new connection at a turn boundary: for connection-only settings, or
   * because the carrier caps the connection's duration (`renewAfterMs`: SageMaker's 30
   * minutes) and that time has passed.
   */
  private maybeSwitch(): void {
    const conn = this.conn;
    if (this.turns.isOpen || !conn?.ready || conn.closeRequested) return;
    if (this.lifecycle.state !== "open") return;
    const renewAfterMs = conn.carrier?.renewAfterMs;
    const renew = renewAfterMs !== undefined && performance.now() - conn.readyAt >= renewAfterMs;
    if (!this.settingsState.switchPending && !renew) return;
    this.log.info(
      { connection: conn.id },
      renew
        ? "renewing the connection before its duration cap, at a turn boundary"
        : "reconnecting for new connection settings at a turn boundary",
    );
    conn.requestReplacement();
    this.onConnectionLost(
      conn,
      renew
        ? networkError("CONNECTION_RENEWED", "connection duration cap")
        : networkError("SETTINGS_CHANGED", "new connection settings"),
    );
  }

  /** A Configure whose acknowledgement is overdue counts as failed (checked by the watchdog). */
  private expireConfigure(now: number): void {
    const expired = this.configures.expired(now);
    if (expired === undefined) return;
    this.onConfigureFailed(
      expired,
      new FluxError({
        source: "configure-timeout",
        kind: "retryable",
        code: "CONFIGURE_TIMEOUT",
        description: `no acknowledgement within ${this.opts.configureTimeoutMs} ms`,
      }),
    );
  }

  // ---------------------------------------------------------------- close / fail

  private async closeGracefully(): Promise<void> {
    const closedError = inputError("CLOSED", "the client closed");
    if (this.lifecycle.state === "idle" || this.lifecycle.terminal) {
      this.lifecycle.fire("close", { error: closedError });
      return;
    }
    const rest = this.chunker.flush();
    if (rest) this.enqueue(rest, this.inputFormat);
    this.lifecycle.fire("close", {});
    if (this.conn?.ready !== true) {
      // Still (re)connecting: wait, bounded, so the buffered audio still gets transcribed.
      const bound = new AbortController();
      await Promise.race([
        this.whenOpen().catch(() => {}),
        abortableSleep(this.opts.connectTimeoutMs + this.opts.closeTimeoutMs, bound.signal).catch(
          () => {},
        ),
      ]);
      bound.abort();
      if (this.lifecycle.state !== "closing") return; // failed meanwhile (reported) or destroyed
      if (!this.connected) {
        // Never silent: the audio accepted since the drop was not transcribed.
        this.fail(this.gaveUp("closed while not connected"));
        return;
      }
    }
    const conn = this.conn;
    if (conn?.ready) {
      const closed = new Promise<void>((resolve) => (this.closeWake = resolve));
      // Flux handles control messages in stream order, so a turn it is about to open in
      // audio it has not answered yet is ended too.
      if (this.turns.isOpen || conn.sentUntil - this.turns.processedUntil > 0.1) {
        conn.sendControl({ type: "ForceEndTurn" });
      }
      conn.sendControl({ type: "CloseStream" });
      // Give up after closeTimeoutMs without a message from Flux; a Flux that keeps answering
      // a backlog is waited for, up to CLOSE_LAG_FACTOR times the audio it has not answered.
      const unansweredMs = Math.max(0, conn.sentUntil - this.turns.processedUntil) * 1000;
      const limit = performance.now() + this.opts.closeTimeoutMs + CLOSE_LAG_FACTOR * unansweredMs;
      let timer: NodeJS.Timeout | undefined;
      this.closeProgress = () => {
        clearTimeout(timer);
        const wait = Math.min(this.opts.closeTimeoutMs, limit - performance.now());
        timer = setTimeout(() => this.closeWake?.(), Math.max(0, wait));
      };
      this.closeProgress();
      await closed;
      clearTimeout(timer);
      this.closeProgress = undefined;
      if (this.lifecycle.state !== "closing") return; // destroyed or failed meanwhile
    }
    this.lifecycle.fire("drained", { error: closedError });
  }

  /** The client gives up: the terminal `Error` event, then completion (`gaveUp`). */
  private fail(error: FluxError): void {
    this.lifecycle.fire("gaveUp", { error: error.asFatal() });
  }

  /**
   * How the client carries out each effect of the lifecycle table (`client/lifecycle.ts`),
   * one implementation per effect.
   */
  private readonly effects: Record<LifecycleEffect, (input: LifecycleInput) => void> = {
    startWatchdog: () => this.watchdog.start(),
    connect: () => this.runLoop(0),
    requeueConfigures: () => this.configures.requeue(),
    emitReconnecting: ({ error }) =>
      this.emit({ type: "Reconnecting", error: causeOf(error), attempt: 0 }),
    reconnect: ({ error }) => this.reconnectAfterDrop(causeOf(error)),
    resolveStart: () => {
      for (const w of this.startWaiters.splice(0)) w.resolve();
    },
    wakeClose: () => this.closeWake?.(),
    endTurnsClosed: () => this.turns.closeOpen("closed"),
    endTurnsLost: () => this.turns.closeOpen("connection-lost"),
    teardown: () => this.teardown(),
    rejectWaiters: ({ error }) => this.rejectAllWaiters(causeOf(error)),
    emitFatal: ({ error }) => {
      const fatal = causeOf(error);
      this.log.error(
        { code: fatal.code, status: fatal.status, source: fatal.source },
        "flux client failed",
      );
      // The terminal event: observers that did not ask for errors are never errored into.
      this.emit({ type: "Error", error: fatal });
    },
    complete: () => this.subject.complete(),
  };

  /** Whether a connection is ready (Flux sent `Connected`). A method so TS does not narrow it across awaits. */
  private get connected(): boolean {
    return this.conn?.ready === true;
  }

  /** The fatal error of a client that stopped trying to connect, naming the last cause. */
  private gaveUp(why: string): FluxError {
    const cause =
      this.lastConnectError ?? networkError("NOT_CONNECTED", "no connection attempt finished");
    const reached = this.readyConnections > 0 ? "" : ", Flux was never reached";
    const lost = this.timeline - this.turns.processedUntil;
    return exhaustedError(
      cause,
      `${why}${reached}; ${Math.max(0, lost).toFixed(1)} s of audio not transcribed`,
    );
  }

  private teardown(): void {
    this.watchdog.stop();
    this.abort.abort();
    const conn = this.conn;
    this.conn = undefined;
    conn?.close();
    this.buffer.clear();
  }

  private rejectAllWaiters(error: Error): void {
    for (const w of this.writableWaiters.splice(0)) w();
    for (const w of this.startWaiters.splice(0)) w.reject(error);
    for (const w of this.switchWaiters.splice(0)) w.reject(error);
    this.configures.rejectAll(error);
  }

  private whenOpen(): Promise<void> {
    if (this.lifecycle.state === "open") return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.startWaiters.push({ resolve, reject }));
  }

  private emit(event: FluxEvent): void {
    this.subject.next(event);
  }

  /** A copy of a provider error whose description cannot leak keyterms or query strings. */
  private sanitize(error: FluxError): FluxError {
    const description = this.redact(error.description);
    return description === error.description ? error : error.with({ description });
  }

  /** Removes keyterms and query strings from provider text before it reaches logs or errors. */
  private redact(text: string): string {
    let out = redactUrls(text);
    for (const term of this.settingsState.keyterms) {
      if (term.length > 2) out = out.split(term).join("…");
    }
    return out;
  }
}
