import { setTimeout as sleep } from "node:timers/promises";
import pRetry from "p-retry";
import type { Observable} from "rxjs";
import { Subject } from "rxjs";
import {
  FluxSettingsError,
  buildListenQuery,
  initialActiveConfiguration,
  parseServerMessage,
  parseServerMessageObject,
  validateSettings,
  type ConfigureSuccessMessage,
  type FluxActiveConfiguration,
  type FluxSettings,
  type ServerMessage,
  type TurnInfoMessage,
} from "@voxpipe/flux-protocol";
import { meanWordConfidence, rootLogger, type Logger } from "@voxpipe/core";
import {
  RAW_ENCODINGS,
  chunkBytes,
  sameFormat,
  secondsOf,
  silence,
  type AudioFormat,
  type RawEncoding,
} from "./audio/format.js";
import { AudioChunker } from "./audio/chunker.js";
import { ReplayBuffer, type TimedChunk } from "./audio/replay-buffer.js";
import { endpointOf, isLocalUrl, type Carrier, type CarrierConnection } from "./carriers/carrier.js";
import { sdkCarrier } from "./carriers/sdk.js";
import { FluxError, inputError, networkError, redactUrls, serverError } from "./errors.js";
import { ConfigureQueue, isLiveKey, type ConfigureWaiter, type InFlightConfigure } from "./configure-queue.js";
import type {
  FluxClientMetrics,
  FluxEndOfTurnEvent,
  FluxEndOfTurnTrigger,
  FluxEvent,
  FluxTimedWord,
  FluxTurnFields,
  FluxTurnMetrics,
} from "./events.js";

/** Deepgram's production endpoint. */
export const DEEPGRAM_URL = "wss://api.deepgram.com";

/** Reconnection policy: jittered exponential backoff with a cap. */
export interface FluxReconnectOptions {
  /** Delay before the 2nd attempt of an outage, in ms (the 1st is immediate). Default 100. */
  minDelayMs?: number;
  /** Cap on any delay, in ms. Default 5000. */
  maxDelayMs?: number;
  /** Growth factor per attempt. Default 2. Each delay is multiplied by a random 1–2 (jitter). */
  factor?: number;
  /** Attempts per outage before the client gives up with a fatal `exhausted` error. Default 20. */
  maxAttempts?: number;
}

/** Options of a {@link FluxClient}. Durations in ms. */
export interface FluxClientOptions {
  /**
   * Connection settings (`@voxpipe/flux-protocol` {@link FluxSettings}). Validated before
   * anything connects. `encoding` and `sampleRate` are required and must be a raw
   * encoding (`linear16`, `linear32`, `mulaw`, `alaw`): the client times audio by bytes.
   */
  settings: FluxSettings;
  /** API key. Default: env `DEEPGRAM_API_KEY`. Required unless {@link url} is a loopback address. */
  apiKey?: string;
  /** Deepgram, a regional host, a self-hosted or a local server. Default `wss://api.deepgram.com`. */
  url?: string;
  /** Transport. Default {@link sdkCarrier} (`@deepgram/sdk` `listen.v2`, SDK reconnection off). */
  carrier?: Carrier;
  /** Logger (pino). Default: voxpipe's root logger, child `flux-client`. */
  logger?: Logger;
  /** Chunk length sent to Flux. Default 80 (Flux's recommendation, flux-protocol.md §1.4). */
  chunkMs?: number;
  /** Bound on the WebSocket handshake plus Flux's `Connected`. Default 10000. */
  connectTimeoutMs?: number;
  reconnect?: FluxReconnectOptions;
  /** Most audio kept for replay, in seconds of audio. Default 30. */
  replayBufferSeconds?: number;
  /**
   * Audio kept and replayed before the first point Flux has not confirmed (the open
   * turn's first word, else the end of the processed audio), so speech cut by a drop,
   * or not yet detected, is heard whole on the new connection. Default 1000.
   */
  replayMarginMs?: number;
  /**
   * Input gap inside an open turn after which silence is streamed (at least twice the
   * duration of the last input frame, so large, sparse frames are not taken for a gap).
   * Default 500.
   */
  silenceAfterMs?: number;
  /** No message for this long while ≥ 0.5 s of audio went unanswered → stalled, reconnect. Default 5000. */
  stallTimeoutMs?: number;
  /** WebSocket ping after this long without sending anything. Default 10000. */
  pingIntervalMs?: number;
  /** Wait for a Configure acknowledgement. Default 5000. */
  configureTimeoutMs?: number;
  /** Wait for Flux's last result on {@link FluxClient.close}. Default 3000. */
  closeTimeoutMs?: number;
  /** Period of the watchdog (silence, stall, ping, configure timeout). Default 100. */
  watchdogIntervalMs?: number;
}

/** Client states. `failed` and `closed` are final. */
export type FluxClientState = "idle" | "connecting" | "open" | "reconnecting" | "closing" | "closed" | "failed";


/** Audio a silent server must have been sent before the stall timer runs (2 Updates' worth). */
const STALL_MIN_UNANSWERED_SECONDS = 0.5;
/** A connection lost within this many ms of `Connected`, before any result, is a quick failure. */
const QUICK_FAILURE_MS = 5_000;
/** Audio past the replayed range after which a turn that Flux did not re-open is closed by us. */
const RESUME_SLACK_SECONDS = 1;

interface Connection {
  readonly id: number;
  /** Set once the carrier opened the socket. */
  carrier: CarrierConnection | undefined;
  /** `Connected` arrived before the carrier finished opening (same TCP segment). */
  pendingConnected: string | undefined;
  /** The attempt was abandoned: ignore anything this connection still reports. */
  dead: boolean;
  readonly format: AudioFormat;
  readonly settings: FluxSettings;
  /** Continuous-timeline start of the first byte sent on this connection. */
  offset: number;
  /** Continuous-timeline end of the audio sent on this connection. */
  sentUntil: number;
  turnIndexOffset: number;
  requestId: string;
  ready: boolean;
  lastSentAt: number;
  /** Seconds of audio sent since the last message. */
  unanswered: number;
  /** When {@link unanswered} crossed the stall minimum. */
  stallSince: number | undefined;
  gotTurnInfo: boolean;
  /** `performance.now()` when `Connected` arrived. */
  readyAt: number;
  /** Set while a turn open before the drop waits for Flux to re-open it. */
  resumeUntil: number | undefined;
  /** The fatal `Error` message Flux sent before closing, if any. */
  serverError: FluxError | undefined;
  onReady: (() => void) | undefined;
  onLost: ((error: FluxError) => void) | undefined;
  closeRequested: boolean;
}

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

/**
 * The Flux connection layer, usable on its own (no pipeline needed): send audio,
 * receive typed turn events as an RxJS `Observable` ({@link events$}) or an async
 * iterator, change settings live, force the end of a turn, close gracefully.
 *
 * It owns the connection's state machine: waits for `Connected`, re-chunks audio
 * to 80 ms, keeps recent audio and replays what Flux has not confirmed on a new
 * connection, keeps audio time and turn indices continuous across connections,
 * classifies errors (permanent → one fatal error; retryable → jittered
 * exponential backoff, the first connection included), and runs a watchdog
 * (silence inside an open turn when input stops, stall detection, WebSocket pings).
 *
 * Never logs the API key, keyterms or a URL with its query string.
 */
export class FluxClient {
  private readonly subject = new Subject<FluxEvent>();
  /** Turn, connection, configure, warning and non-fatal error events. Errors with the fatal {@link FluxError}; completes on close. */
  readonly events$: Observable<FluxEvent> = this.subject.asObservable();

  private readonly log: Logger;
  private readonly carrier: Carrier;
  private readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly opts: Required<
    Omit<FluxClientOptions, "settings" | "apiKey" | "url" | "carrier" | "logger" | "reconnect">
  > & { reconnect: Required<FluxReconnectOptions> };

  private stateValue: FluxClientState = "idle";
  /** Settings in force on the current connection (what Flux has confirmed). */
  private applied: FluxSettings;
  /** Settings the caller asked for (validated); differ from {@link applied} while a change is pending. */
  private desired: FluxSettings;
  private active: FluxActiveConfiguration;
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

  private turn: OpenTurn | undefined;
  private lastFinalIndex = -1;
  private lastFinalEnd = 0;
  private processedUntil = 0;
  private forceEndPending = false;

  private readonly configures: ConfigureQueue;
  private switchPending = false;
  private switchWaiters: ConfigureWaiter[] = [];

  private lastInputAt = performance.now();
  /** Duration of the last `sendAudio` call (ms): big, sparse frames must not look like silence. */
  private lastInputMs = 0;
  private lastSilenceAt = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private lastTickAt = performance.now();
  private closing: Promise<void> | undefined;

  private readonly counters: FluxClientMetrics = {
    audioSecondsSent: 0,
    audioSecondsReplayed: 0,
    silenceSecondsInjected: 0,
    audioSecondsDropped: 0,
    bufferedSeconds: 0,
    reconnects: 0,
    turns: 0,
    lastTurn: undefined,
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
    const r = options.reconnect ?? {};
    this.opts = {
      chunkMs: options.chunkMs ?? 80,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      replayBufferSeconds: options.replayBufferSeconds ?? 30,
      replayMarginMs: options.replayMarginMs ?? 1000,
      silenceAfterMs: options.silenceAfterMs ?? 500,
      stallTimeoutMs: options.stallTimeoutMs ?? 5_000,
      pingIntervalMs: options.pingIntervalMs ?? 10_000,
      configureTimeoutMs: options.configureTimeoutMs ?? 5_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 3_000,
      watchdogIntervalMs: options.watchdogIntervalMs ?? 100,
      reconnect: {
        minDelayMs: r.minDelayMs ?? 100,
        maxDelayMs: r.maxDelayMs ?? 5_000,
        factor: r.factor ?? 2,
        maxAttempts: r.maxAttempts ?? 20,
      },
    };
    this.carrier = options.carrier ?? sdkCarrier;
    this.log = options.logger ?? rootLogger().child({ component: "flux-client" });
    this.applied = settings;
    this.desired = settings;
    this.active = initialActiveConfiguration(settings);
    this.chunker = new AudioChunker(chunkBytes(this.inputFormat, this.opts.chunkMs));
    this.buffer = new ReplayBuffer(this.opts.replayBufferSeconds);
    this.configures = new ConfigureQueue(this.opts.configureTimeoutMs);
  }

  /**
   * Checks options the way the constructor does, without creating a client: settings
   * (with `@voxpipe/flux-protocol`), raw encoding, URL, API key (option, else env
   * `DEEPGRAM_API_KEY`; not needed for a loopback URL).
   * @returns the API key to use (`undefined`: connect without auth).
   * @throws FluxSettingsError naming each bad field, its value and the allowed range.
   * @throws FluxError (`input`) for a non-raw encoding, a bad URL or a missing API key.
   */
  static validate(options: Pick<FluxClientOptions, "settings" | "url" | "apiKey">): { apiKey: string | undefined } {
    const issues = validateSettings(options.settings);
    if (issues.length > 0) throw new FluxSettingsError(issues);
    rawFormat(options.settings);
    const url = options.url ?? DEEPGRAM_URL;
    endpointOf(url);
    const key = options.apiKey ?? process.env.DEEPGRAM_API_KEY;
    const apiKey = key === "" ? undefined : key;
    if (apiKey === undefined && !isLocalUrl(url)) {
      throw inputError("MISSING_API_KEY", "apiKey: required for a non-local url; pass apiKey or set DEEPGRAM_API_KEY");
    }
    return { apiKey };
  }

  /** Current state. */
  get state(): FluxClientState {
    return this.stateValue;
  }

  /** Settings in force (confirmed by Flux). */
  get settings(): Readonly<FluxSettings> {
    return this.applied;
  }

  /** The active mid-stream configuration, as Flux last confirmed it. */
  get configuration(): FluxActiveConfiguration {
    return this.active;
  }

  /** Whether a turn is open (between `StartOfTurn` and `EndOfTurn`). */
  get turnOpen(): boolean {
    return this.turn !== undefined;
  }

  /** A snapshot of the counters. */
  get metrics(): FluxClientMetrics {
    return { ...this.counters, bufferedSeconds: this.buffer.seconds };
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
    if (this.stateValue !== "idle") {
      return this.stateValue === "failed" || this.stateValue === "closed"
        ? Promise.reject(inputError("CLOSED", "the client is closed"))
        : this.whenOpen();
    }
    this.stateValue = "connecting";
    this.lastTickAt = performance.now();
    this.watchdog = setInterval(() => this.tick(), this.opts.watchdogIntervalMs);
    const ready = this.whenOpen();
    this.runLoop(0);
    return ready;
  }

  /**
   * Queues audio (bytes in the configured encoding and sample rate, mono; PCM is
   * s16le for `linear16`). Re-chunked to {@link FluxClientOptions.chunkMs}; sent
   * at once when connected, otherwise buffered and replayed. Never throws.
   * @returns `false` if the client is closing, closed or failed (nothing was queued).
   */
  sendAudio(audio: Uint8Array): boolean {
    if (this.stateValue === "closing" || this.stateValue === "closed" || this.stateValue === "failed") {
      return false;
    }
    this.lastInputAt = performance.now();
    this.lastInputMs = secondsOf(this.inputFormat, audio.length) * 1000;
    for (const bytes of this.chunker.push(audio)) this.enqueue(bytes, this.inputFormat);
    return true;
  }

  /**
   * Changes settings mid-stream.
   * - Thresholds, keyterms, language hints, numerals go out as one `Configure`
   *   (one in flight; later calls coalesce into the next). Resolves with the
   *   configuration Flux confirmed; rejects with a non-fatal {@link FluxError}
   *   (`configure`: Flux's code and description; `configure-timeout`) and the
   *   previous settings stay in force.
   * - Model, encoding, sample rate (and the other connection-only settings) need
   *   a new connection: it opens at the next turn boundary and the audio Flux had
   *   not confirmed is replayed on it, so nothing is lost. For an encoding or
   *   sample-rate change, keep sending audio in the old format until the returned
   *   promise resolves, then switch (audio in the old format is not replayed on the
   *   new connection).
   * @throws (rejects) FluxSettingsError before anything is sent when the merged settings are invalid.
   */
  configure(changes: Partial<FluxSettings>): Promise<FluxActiveConfiguration> {
    if (this.stateValue === "closing" || this.stateValue === "closed" || this.stateValue === "failed") {
      return Promise.reject(inputError("CLOSED", "the client is closed"));
    }
    const next: FluxSettings = { ...this.desired, ...stripUndefined(changes) };
    const issues = validateSettings(next);
    if (issues.length > 0) return Promise.reject(new FluxSettingsError(issues));
    let format: AudioFormat;
    try {
      format = rawFormat(next);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const changed = (Object.keys(changes) as (keyof FluxSettings)[]).filter(
      (k) => changes[k] !== undefined && !sameValue(changes[k], this.desired[k]),
    );
    this.desired = next;
    if (changed.length === 0) return Promise.resolve(this.active);
    if (this.stateValue === "idle") {
      // Nothing connected yet: the first connection simply uses the new settings.
      this.applied = next;
      this.active = initialActiveConfiguration(next);
      if (!sameFormat(format, this.inputFormat)) this.switchInputFormat(format);
      return Promise.resolve(this.active);
    }
    const needsConnection = changed.some((k) => !isLiveKey(k));
    return new Promise<FluxActiveConfiguration>((resolve, reject) => {
      if (needsConnection) {
        this.switchPending = true;
        this.switchWaiters.push({ resolve, reject });
        this.maybeSwitch();
        return;
      }
      this.configures.add(changed.filter(isLiveKey), { resolve, reject });
      this.maybeSendConfigure();
    });
  }

  /**
   * Asks Flux to end the open turn now (`ForceEndTurn`; the `EndOfTurn` follows with
   * `trigger: "manual"`). Does nothing when no turn is open. While reconnecting, it
   * is sent as soon as the new connection is ready.
   */
  forceEndTurn(): void {
    if (this.turn === undefined) return;
    const conn = this.conn;
    if (conn?.ready) this.sendControl(conn, { type: "ForceEndTurn" });
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

  /** Immediate close: no `CloseStream`, no waiting. Completes {@link events$}. */
  destroy(): void {
    if (this.stateValue === "closed" || this.stateValue === "failed") return;
    this.teardown();
    this.stateValue = "closed";
    this.rejectAllWaiters(inputError("CLOSED", "the client was destroyed"));
    this.subject.complete();
  }

  /**
   * Events as an async iterator. Subscribes when called, so call it before
   * sending audio. Ends when the client closes; throws the fatal error if it fails.
   */
  [Symbol.asyncIterator](): AsyncIterator<FluxEvent> {
    const queue: FluxEvent[] = [];
    let done = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const subscription = this.events$.subscribe({
      next: (e) => {
        queue.push(e);
        wake?.();
      },
      error: (e: unknown) => {
        failure = e instanceof Error ? e : new Error(String(e));
        done = true;
        wake?.();
      },
      complete: () => {
        done = true;
        wake?.();
      },
    });
    return {
      next: async (): Promise<IteratorResult<FluxEvent>> => {
        while (queue.length === 0 && !done) {
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
        const value = queue.shift();
        if (value !== undefined) return { value, done: false };
        if (failure !== undefined) throw failure;
        return { value: undefined, done: true };
      },
      return: (): Promise<IteratorResult<FluxEvent>> => {
        subscription.unsubscribe();
        done = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
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
    if (conn?.ready && !conn.closeRequested && sameFormat(conn.format, format)) this.sendChunk(conn, chunk);
  }

  private sendChunk(conn: Connection, chunk: TimedChunk): boolean {
    try {
      conn.carrier?.sendBinary(chunk.bytes);
    } catch {
      // The socket died under us; its close event drives the reconnect and the replay.
      return false;
    }
    const now = performance.now();
    chunk.sentAt = now;
    conn.lastSentAt = now;
    conn.sentUntil = chunk.start + chunk.duration;
    this.counters.audioSecondsSent += chunk.duration;
    conn.unanswered += chunk.duration;
    if (conn.stallSince === undefined && conn.unanswered >= STALL_MIN_UNANSWERED_SECONDS) conn.stallSince = now;
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

  // ---------------------------------------------------------------- connection loop

  private runLoop(initialDelayMs: number): void {
    const loop = this.connectWithRetry(initialDelayMs).catch((error: unknown) => {
      if (this.abort.signal.aborted) return;
      const fluxError =
        error instanceof FluxError ? error : networkError("CONNECT_FAILED", "could not connect");
      this.fail(
        fluxError.kind === "retryable"
          ? new FluxError({
              source: "exhausted",
              kind: "permanent",
              code: fluxError.code,
              description: `gave up after ${this.opts.reconnect.maxAttempts} attempts: ${fluxError.description}`,
              ...(fluxError.status !== undefined ? { status: fluxError.status } : {}),
            })
          : fluxError,
      );
    });
    this.loop = loop;
  }

  private async connectWithRetry(initialDelayMs: number): Promise<void> {
    const r = this.opts.reconnect;
    if (initialDelayMs > 0) await sleep(initialDelayMs, undefined, { signal: this.abort.signal });
    await pRetry((attempt) => this.connectOnce(attempt), {
      retries: Math.max(0, r.maxAttempts - 1),
      minTimeout: r.minDelayMs,
      maxTimeout: r.maxDelayMs,
      factor: r.factor,
      randomize: true,
      signal: this.abort.signal,
      shouldRetry: ({ error }) => error instanceof FluxError && error.retryable,
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (this.abort.signal.aborted) return;
        const fluxError = error instanceof FluxError ? error : networkError("CONNECT_FAILED", "could not connect");
        this.log.warn(
          { code: fluxError.code, status: fluxError.status, kind: fluxError.kind, attempt: attemptNumber },
          "flux connection attempt failed",
        );
        if (fluxError.retryable) this.emit({ type: "Reconnecting", error: fluxError, attempt: attemptNumber });
      },
    });
  }

  /** Opens one connection and waits for `Connected`; rejects with a classified {@link FluxError}. */
  private async connectOnce(_attempt: number): Promise<void> {
    this.abort.signal.throwIfAborted();
    const settings = this.switchPending ? this.desired : this.applied;
    const conn: Connection = {
      id: ++this.connections,
      carrier: undefined,
      pendingConnected: undefined,
      dead: false,
      format: rawFormat(settings),
      settings,
      offset: 0,
      sentUntil: 0,
      turnIndexOffset: 0,
      requestId: "",
      ready: false,
      lastSentAt: performance.now(),
      unanswered: 0,
      stallSince: undefined,
      gotTurnInfo: false,
      readyAt: 0,
      resumeUntil: undefined,
      serverError: undefined,
      onReady: undefined,
      onLost: undefined,
      closeRequested: false,
    };
    const ready = new Promise<void>((resolve, reject) => {
      conn.onReady = resolve;
      conn.onLost = reject;
    });
    ready.catch(() => {}); // awaited below; a rejection before that point must not be "unhandled"
    const attempt = new AbortController();
    const giveUp = (error: FluxError): void => {
      attempt.abort();
      conn.onLost?.(error);
    };
    const onAbort = (): void => giveUp(networkError("ABORTED", "the client closed"));
    this.abort.signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(
      () => giveUp(networkError("CONNECT_TIMEOUT", `not connected within ${this.opts.connectTimeoutMs} ms`)),
      this.opts.connectTimeoutMs,
    );
    try {
      conn.carrier = await this.carrier(
        {
          url: this.url,
          query: new URLSearchParams(buildListenQuery(settings)),
          apiKey: this.apiKey,
          connectTimeoutMs: this.opts.connectTimeoutMs,
          signal: attempt.signal,
        },
        {
          onMessage: (message) => this.onMessage(conn, message),
          onClose: (close) =>
            this.onConnectionLost(
              conn,
              conn.serverError ?? networkError("CONNECTION_CLOSED", `the connection closed (code ${close.code})`),
              close.code,
            ),
        },
      );
      if (conn.dead) throw networkError("ABORTED", "the attempt was abandoned");
      if (conn.pendingConnected !== undefined) this.onConnected(conn, conn.pendingConnected);
      await ready;
    } catch (error) {
      conn.dead = true;
      conn.onLost = undefined;
      conn.onReady = undefined;
      conn.carrier?.close();
      throw error instanceof FluxError
        ? this.sanitize(error)
        : networkError("CONNECT_FAILED", "could not open the WebSocket");
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener("abort", onAbort);
    }
  }

  /** `Connected` arrived: adopt the connection, replay, resend what is pending. */
  private onConnected(conn: Connection, requestId: string): void {
    if (this.abort.signal.aborted) {
      // The client closed while this connection was opening.
      conn.dead = true;
      conn.carrier?.close();
      return;
    }
    conn.ready = true;
    conn.requestId = requestId;
    const now = performance.now();
    const downtimeMs = this.lostAt === undefined ? 0 : now - this.lostAt;
    this.lostAt = undefined;
    // A connection opened with the settings asked for completes a pending switch (one that
    // started before the change still needs one: maybeSwitch below).
    const switched = this.switchPending && conn.settings === this.desired;
    if (switched) {
      this.applied = conn.settings;
      this.active = initialActiveConfiguration(conn.settings);
      this.switchPending = false;
      if (!sameFormat(conn.format, this.inputFormat)) this.switchInputFormat(conn.format);
    }
    // Replay from the first point Flux has not confirmed (with a margin so a cut word is heard whole).
    const margin = this.opts.replayMarginMs / 1000;
    const anchor = this.turn !== undefined ? this.turn.anchor : this.processedUntil;
    const replayFrom = Math.max(this.lastFinalEnd, anchor - margin, 0);
    const chunks = this.buffer.from(replayFrom).filter((c) => sameFormat(c.format, conn.format));
    conn.offset = chunks[0]?.start ?? this.timeline;
    conn.sentUntil = conn.offset;
    conn.turnIndexOffset = this.turn !== undefined ? this.turn.index : this.lastFinalIndex + 1;
    this.conn = conn;
    conn.readyAt = now;
    if (++this.readyConnections > 1) this.counters.reconnects++;
    if (this.stateValue !== "closing") this.stateValue = "open";
    conn.onReady?.();
    conn.onReady = undefined;
    let replayed = 0;
    for (const chunk of chunks) {
      const wasSent = chunk.sentAt !== undefined;
      if (!this.sendChunk(conn, chunk)) break;
      if (wasSent) replayed += chunk.duration;
    }
    this.counters.audioSecondsReplayed += replayed;
    if (this.turn !== undefined) conn.resumeUntil = conn.sentUntil + RESUME_SLACK_SECONDS;
    this.log.info(
      { connection: conn.id, requestId, downtimeMs: Math.round(downtimeMs), replayedSeconds: replayed },
      "flux connected",
    );
    this.emit({
      type: "Connected",
      requestId,
      connection: this.readyConnections,
      downtimeMs,
      replayedSeconds: replayed,
    });
    if (switched) for (const w of this.switchWaiters.splice(0)) w.resolve(this.active);
    if (this.forceEndPending && this.turn !== undefined) this.sendControl(conn, { type: "ForceEndTurn" });
    this.forceEndPending = false;
    const waiters = this.startWaiters.splice(0);
    for (const w of waiters) w.resolve();
    this.maybeSendConfigure();
    this.maybeSwitch();
  }

  /** A connection ended: reconnect, finish a close, or fail. */
  private onConnectionLost(conn: Connection, error: FluxError, code?: number): void {
    if (conn.dead) return;
    if (!conn.ready) {
      // Still waiting for Connected: the connect attempt rejects and pRetry decides.
      conn.onLost?.(error);
      return;
    }
    if (conn !== this.conn) return;
    this.conn = undefined;
    conn.dead = true;
    conn.carrier?.close();
    if (this.stateValue === "closing") {
      this.closeWake?.();
      return;
    }
    if (this.stateValue === "closed" || this.stateValue === "failed") return;
    if (conn.closeRequested) {
      // Planned switch to new settings: connect right away.
      this.lostAt = performance.now();
      this.stateValue = "reconnecting";
      this.configures.requeue();
      this.runLoop(0);
      return;
    }
    if (!error.retryable) {
      this.fail(error);
      return;
    }
    this.log.warn({ code: error.code, closeCode: code, connection: conn.id }, "flux connection lost; reconnecting");
    this.lostAt = performance.now();
    this.stateValue = "reconnecting";
    this.configures.requeue();
    this.emit({ type: "Reconnecting", error, attempt: 0 });
    // A connection that died soon and before any result counts as a quick failure (a server
    // that accepts and then fails at once): back off before retrying, and give up eventually.
    const quick = !conn.gotTurnInfo && performance.now() - conn.readyAt < QUICK_FAILURE_MS;
    this.quickFailures = quick ? this.quickFailures + 1 : 0;
    if (this.quickFailures >= this.opts.reconnect.maxAttempts) {
      this.fail(
        new FluxError({
          source: "exhausted",
          kind: "permanent",
          code: error.code,
          description: `gave up after ${this.quickFailures} connections failed before any result: ${error.description}`,
        }),
      );
      return;
    }
    this.runLoop(this.quickFailures > 0 ? this.backoffDelay(this.quickFailures) : 0);
  }

  private backoffDelay(failures: number): number {
    const r = this.opts.reconnect;
    return Math.min(r.maxDelayMs, r.minDelayMs * r.factor ** (failures - 1) * (1 + Math.random()));
  }

  // ---------------------------------------------------------------- messages

  private onMessage(conn: Connection, raw: unknown): void {
    if (conn.dead) return;
    const message: ServerMessage = typeof raw === "string" ? parseServerMessage(raw) : parseServerMessageObject(raw);
    conn.unanswered = 0;
    conn.stallSince = undefined;
    switch (message.type) {
      case "Connected":
        if (conn.ready) return;
        if (conn.carrier === undefined) conn.pendingConnected = message.request_id;
        else this.onConnected(conn, message.request_id);
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
        if (message.code === "FORCE_END_TURN_NO_ACTIVE_TURN") this.log.debug({ code: message.code }, "flux warning");
        else this.log.warn({ code: message.code }, "flux warning");
        this.emit({ type: "Warning", code: message.code, description: message.description });
        return;
      case "Error":
        conn.serverError = serverError(message.code, this.redact(message.description));
        this.log.error({ code: message.code, kind: conn.serverError.kind }, "flux error message");
        // Flux closes after an Error; don't wait for it.
        this.onConnectionLost(conn, conn.serverError);
        return;
      case "Unknown":
        this.log.warn({ reason: message.reason, wireType: message.wireType, detail: message.detail }, "unknown flux message skipped");
        return;
    }
  }

  private onTurnInfo(conn: Connection, m: TurnInfoMessage): void {
    conn.gotTurnInfo = true;
    this.quickFailures = 0;
    const fields = this.toTurnFields(conn, m);
    this.processedUntil = Math.max(this.processedUntil, fields.audioWindowEnd);
    const index = fields.turnIndex;
    switch (m.event) {
      case "StartOfTurn":
        conn.resumeUntil = undefined;
        if (this.turn !== undefined && this.turn.index === index) {
          // Flux re-opened the turn cut by the drop: it continues, no second StartOfTurn.
          this.turn.last = fields;
          this.turn.anchor = Math.min(this.turn.anchor, anchorOf(fields));
          this.emit({ type: "Update", ...fields });
        } else if (index > this.lastFinalIndex) {
          if (this.turn !== undefined) this.endTurn(this.turn.last, "connection-lost", true);
          this.turn = { index, anchor: anchorOf(fields), last: fields, eagerAt: undefined };
          this.emit({ type: "StartOfTurn", ...fields });
        }
        break;
      case "Update":
      case "EagerEndOfTurn":
      case "TurnResumed":
        if (this.turn !== undefined && conn.resumeUntil !== undefined && fields.audioWindowEnd >= conn.resumeUntil) {
          // Flux did not re-open the turn cut by the drop: close it with what we have.
          conn.resumeUntil = undefined;
          conn.turnIndexOffset += 1;
          this.endTurn(this.turn.last, "connection-lost", true);
          break;
        }
        if (this.turn !== undefined && conn.resumeUntil !== undefined) break; // not re-opened (yet)
        if (this.turn !== undefined && this.turn.index === index) {
          this.turn.last = fields;
          if (m.event === "EagerEndOfTurn") this.turn.eagerAt = fields.receivedAt;
          this.emit({ type: m.event, ...fields });
        } else if (m.event === "Update" && this.turn === undefined && index > this.lastFinalIndex) {
          this.emit({ type: "Update", ...fields });
        }
        break;
      case "EndOfTurn": {
        conn.resumeUntil = undefined;
        if (index <= this.lastFinalIndex) break; // already final: never emit a transcript twice
        if (this.turn === undefined || this.turn.index !== index) {
          // EndOfTurn without a known start: open and close it rather than drop it (pipecat #5425).
          if (this.turn !== undefined) this.endTurn(this.turn.last, "connection-lost", true);
          this.turn = { index, anchor: anchorOf(fields), last: fields, eagerAt: undefined };
          this.emit({ type: "StartOfTurn", ...fields });
        }
        this.endTurn(fields, m.trigger ?? "model", false);
        break;
      }
    }
    // Keep only what a reconnect could need to replay.
    const margin = this.opts.replayMarginMs / 1000;
    const keepFrom = (this.turn !== undefined ? this.turn.anchor : this.processedUntil) - margin;
    this.buffer.trimBefore(Math.max(0, keepFrom));
    if (this.turn === undefined) this.maybeSwitch();
  }

  private toTurnFields(conn: Connection, m: TurnInfoMessage): FluxTurnFields {
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

  /** Emits the one `EndOfTurn` of the open turn and closes it. */
  private endTurn(fields: FluxTurnFields, trigger: FluxEndOfTurnTrigger, synthetic: boolean): void {
    const turn = this.turn;
    this.turn = undefined;
    this.lastFinalIndex = Math.max(this.lastFinalIndex, fields.turnIndex);
    this.lastFinalEnd = Math.max(this.lastFinalEnd, fields.audioWindowEnd);
    this.counters.turns++;
    const metrics = this.turnMetrics(fields, turn?.eagerAt);
    this.counters.lastTurn = metrics;
    const event: FluxEndOfTurnEvent = {
      ...fields,
      type: "EndOfTurn",
      trigger,
      confidence: meanWordConfidence(fields.words),
      synthetic,
      metrics,
    };
    this.log.debug({ turnIndex: event.turnIndex, trigger, transcript: event.transcript }, "end of turn");
    this.emit(event);
  }

  private turnMetrics(fields: FluxTurnFields, eagerAt: number | undefined): FluxTurnMetrics {
    const lastWordEnd = fields.words.reduce<number | undefined>(
      (end, w) => (w.end !== undefined && (end === undefined || w.end > end) ? w.end : end),
      undefined,
    );
    const sentAt = lastWordEnd !== undefined ? this.buffer.at(lastWordEnd)?.sentAt : undefined;
    return {
      endOfSpeechToEndOfTurnAudioMs:
        lastWordEnd !== undefined ? Math.max(0, (fields.audioWindowEnd - lastWordEnd) * 1000) : undefined,
      endOfSpeechToEndOfTurnWallMs: sentAt !== undefined ? fields.receivedAt - sentAt : undefined,
      eagerToEndOfTurnMs: eagerAt !== undefined ? fields.receivedAt - eagerAt : undefined,
    };
  }

  // ---------------------------------------------------------------- configure

  private maybeSendConfigure(): void {
    const conn = this.conn;
    if (!conn?.ready || conn.closeRequested) return;
    const message = this.configures.take(this.desired, performance.now());
    if (message === undefined) return;
    this.log.debug({ fields: [...(this.configures.inFlight?.keys ?? [])] }, "sending Configure");
    this.sendControl(conn, message);
  }

  private onConfigureAck(m: ConfigureSuccessMessage): void {
    const done = this.configures.settle();
    if (done === undefined) return; // stray acknowledgement
    this.applied = { ...this.applied, ...done.sent };
    this.active = {
      eotThreshold: m.thresholds.eot_threshold ?? this.active.eotThreshold,
      eagerEotThreshold: m.thresholds.eager_eot_threshold ?? this.active.eagerEotThreshold,
      eotTimeoutMs: m.thresholds.eot_timeout_ms ?? this.active.eotTimeoutMs,
      keyterms: m.keyterms,
      languageHints: m.language_hints ?? this.active.languageHints,
      numerals: m.numerals ?? this.active.numerals,
    };
    this.emit({ type: "Configured", configuration: this.active });
    for (const w of done.waiters) w.resolve(this.active);
    this.maybeSendConfigure();
  }

  /** `ConfigureFailure` or no acknowledgement in time: nothing changed, the stream goes on. */
  private onConfigureFailed(done: InFlightConfigure, error: FluxError): void {
    // Roll `desired` back to the confirmed values, for fields nobody changed again since.
    const desired = { ...this.desired } as Record<string, unknown>;
    for (const k of done.keys) {
      if (!this.configures.isPending(k) && sameValue(desired[k], done.sent[k])) desired[k] = this.applied[k];
    }
    this.desired = desired as unknown as FluxSettings;
    this.log.warn({ code: error.code, fields: [...done.keys] }, "Configure not applied; previous settings stay");
    this.emit({ type: "Error", error });
    for (const w of done.waiters) w.reject(error);
    this.maybeSendConfigure();
  }

  /** Switches to a new connection for connection-only settings, at a turn boundary. */
  private maybeSwitch(): void {
    const conn = this.conn;
    if (!this.switchPending || this.turn !== undefined || !conn?.ready || conn.closeRequested) return;
    if (this.stateValue !== "open") return;
    this.log.info({ connection: conn.id }, "reconnecting for new connection settings at a turn boundary");
    conn.closeRequested = true;
    this.onConnectionLost(conn, networkError("SETTINGS_CHANGED", "new connection settings"));
  }

  // ---------------------------------------------------------------- watchdog

  private tick(): void {
    const now = performance.now();
    const conn = this.conn;
    // After the event loop was blocked, timers run before pending socket reads: time the
    // loop spent blocked is not time Flux stayed silent, so it does not count as a stall.
    const blocked = now - this.lastTickAt - this.opts.watchdogIntervalMs;
    this.lastTickAt = now;
    // Likewise input audio could not arrive while the loop was blocked: not an input gap.
    if (blocked > 20) {
      if (conn?.stallSince !== undefined) conn.stallSince += blocked;
      this.lastInputAt += blocked;
    }
    // Silence: Flux only advances its turn timers on streamed audio (flux-protocol.md §4.3).
    // Silence covers the whole input gap, so audio time keeps pace with wall time.
    if (
      this.turn !== undefined &&
      conn?.ready &&
      this.stateValue === "open" &&
      now - this.lastInputAt >= Math.max(this.opts.silenceAfterMs, 2 * this.lastInputMs)
    ) {
      this.injectSilence(Math.min(now - Math.max(this.lastInputAt, this.lastSilenceAt), 1000));
      this.lastSilenceAt = now;
    }
    if (conn?.ready && !conn.closeRequested) {
      if (conn.stallSince !== undefined && now - conn.stallSince > this.opts.stallTimeoutMs) {
        this.log.warn({ connection: conn.id, unansweredSeconds: conn.unanswered }, "flux stalled; reconnecting");
        this.onConnectionLost(
          conn,
          new FluxError({
            source: "stall",
            kind: "retryable",
            code: "STALLED",
            description: `no message for ${this.opts.stallTimeoutMs} ms while ${conn.unanswered.toFixed(2)} s of audio went unanswered`,
          }),
        );
      } else if (now - conn.lastSentAt >= this.opts.pingIntervalMs) {
        try {
          conn.carrier?.ping();
        } catch {
          // a dead socket reports itself through its close event
        }
        conn.lastSentAt = now;
      }
    }
    const expired = this.configures.expired(now);
    if (expired !== undefined) {
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
  }

  private injectSilence(ms: number): void {
    const bytes = chunkBytes(this.inputFormat, ms);
    if (bytes <= 0) return;
    this.counters.silenceSecondsInjected += secondsOf(this.inputFormat, bytes);
    for (const chunk of this.chunker.push(silence(this.inputFormat, bytes))) this.enqueue(chunk, this.inputFormat);
  }

  // ---------------------------------------------------------------- close / fail

  private closeWake: (() => void) | undefined;

  private async closeGracefully(): Promise<void> {
    if (this.stateValue === "closed" || this.stateValue === "failed") return;
    if (this.stateValue === "idle") {
      this.destroy();
      return;
    }
    const rest = this.chunker.flush();
    if (rest) this.enqueue(rest, this.inputFormat);
    this.stateValue = "closing";
    if (this.conn?.ready !== true) {
      // Still (re)connecting: wait, bounded, so the buffered audio still gets transcribed.
      const bound = new AbortController();
      await Promise.race([
        this.whenOpen().catch(() => {}),
        sleep(this.opts.connectTimeoutMs + this.opts.closeTimeoutMs, undefined, { signal: bound.signal }).catch(() => {}),
      ]);
      bound.abort();
      if (this.stateValue !== "closing") return; // failed meanwhile (reported) or destroyed
    }
    const conn = this.conn;
    if (conn?.ready) {
      const closed = new Promise<void>((resolve) => (this.closeWake = resolve));
      // Flux handles control messages in stream order, so a turn it is about to open in
      // audio it has not answered yet is ended too.
      if (this.turn !== undefined || conn.sentUntil - this.processedUntil > 0.1) {
        this.sendControl(conn, { type: "ForceEndTurn" });
      }
      this.sendControl(conn, { type: "CloseStream" });
      const timer = setTimeout(() => this.closeWake?.(), this.opts.closeTimeoutMs);
      await closed;
      clearTimeout(timer);
    }
    if (this.turn !== undefined) this.endTurn(this.turn.last, "closed", true);
    this.teardown();
    this.stateValue = "closed";
    this.rejectAllWaiters(inputError("CLOSED", "the client closed"));
    this.subject.complete();
  }

  private fail(error: FluxError): void {
    if (this.stateValue === "closed" || this.stateValue === "failed") return;
    const fatal = error.asFatal();
    this.log.error({ code: fatal.code, status: fatal.status, source: fatal.source }, "flux client failed");
    if (this.turn !== undefined) this.endTurn(this.turn.last, "connection-lost", true);
    this.teardown();
    this.stateValue = "failed";
    this.rejectAllWaiters(fatal);
    this.subject.error(fatal);
  }

  private teardown(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.abort.abort();
    const conn = this.conn;
    this.conn = undefined;
    if (conn) conn.dead = true;
    conn?.carrier?.close();
    this.buffer.clear();
  }

  private rejectAllWaiters(error: Error): void {
    for (const w of this.startWaiters.splice(0)) w.reject(error);
    for (const w of this.switchWaiters.splice(0)) w.reject(error);
    this.configures.rejectAll(error);
  }

  private whenOpen(): Promise<void> {
    if (this.stateValue === "open") return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.startWaiters.push({ resolve, reject }));
  }

  private sendControl(conn: Connection, message: Parameters<CarrierConnection["sendControl"]>[0]): void {
    try {
      conn.carrier?.sendControl(message);
      conn.lastSentAt = performance.now();
    } catch {
      // the close event of the dead socket drives the reconnect; the message is resent or moot
    }
  }

  private emit(event: FluxEvent): void {
    this.subject.next(event);
  }

  /** A copy of a provider error whose description cannot leak keyterms or query strings. */
  private sanitize(error: FluxError): FluxError {
    const description = this.redact(error.description);
    if (description === error.description) return error;
    return new FluxError({
      source: error.source,
      kind: error.kind,
      code: error.code,
      description,
      ...(error.status !== undefined ? { status: error.status } : {}),
    });
  }

  /** Removes keyterms and query strings from provider text before it reaches logs or errors. */
  private redact(text: string): string {
    let out = redactUrls(text);
    for (const term of this.desired.keyterms ?? []) if (term.length > 2) out = out.split(term).join("…");
    for (const term of this.applied.keyterms ?? []) if (term.length > 2) out = out.split(term).join("…");
    return out;
  }
}

function rawFormat(settings: FluxSettings): AudioFormat {
  const encoding = settings.encoding;
  if (encoding === undefined || !(RAW_ENCODINGS as readonly string[]).includes(encoding) || settings.sampleRate === undefined) {
    throw inputError(
      "UNSUPPORTED_ENCODING",
      `encoding=${String(encoding)}: the client needs raw audio with a sample rate: allowed ${RAW_ENCODINGS.join(", ")}`,
    );
  }
  return { encoding: encoding as RawEncoding, sampleRate: settings.sampleRate };
}

/** Start of a turn's speech: its first timed word, else the start of its audio window. */
function anchorOf(fields: FluxTurnFields): number {
  const first = fields.words.find((w) => w.start !== undefined)?.start;
  return first !== undefined ? Math.max(fields.audioWindowStart, first) : fields.audioWindowStart;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
