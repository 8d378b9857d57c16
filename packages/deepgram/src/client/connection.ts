import { buildListenQuery, type FluxSettings } from "@voxpipe/flux-protocol";
import type { AudioFormat } from "../audio/format.js";
import type { TimedChunk } from "../audio/replay-buffer.js";
import type { Carrier, CarrierClose, CarrierConnection } from "../carriers/carrier.js";
import { FluxError, connectError, networkError } from "../errors.js";
import type { TurnTimeline } from "./turn-tracker.js";

/** Audio a silent server must have been sent before the stall timer runs (2 Updates' worth). */
const STALL_MIN_UNANSWERED_SECONDS = 0.5;

/**
 * One connection attempt and, once Flux sent `Connected`, one live connection: its socket,
 * where its audio sits on the client's continuous timeline, and its stall accounting.
 * Every change goes through a method here (the client, the turn tracker and the watchdog
 * read it; only this class writes it).
 */
export class Connection implements TurnTimeline {
  /** Set once the carrier opened the socket. */
  private socket: CarrierConnection | undefined;
  /** `Connected` arrived before the carrier finished opening (same TCP segment). */
  private earlyConnected: string | undefined;
  private isDead = false;
  private isReady = false;
  private replaceRequested = false;
  private flux = "";
  private startOffset = 0;
  private sentEnd = 0;
  private indexOffset = 0;
  private lastSent = performance.now();
  private unansweredSeconds = 0;
  private stallStart: number | undefined;
  /** Audio bytes handed to the socket so far. */
  private handedBytes = 0;
  /**
   * Audio handed to the socket that may still sit in its local buffer, oldest first: the
   * byte count handed up to each chunk's end, and its duration (seconds).
   */
  private unwritten: { end: number; duration: number }[] = [];
  private heardTurnInfo = false;
  private readySince = 0;
  private resumeEnd: number | undefined;
  private fatal: FluxError | undefined;
  private onReady: (() => void) | undefined;
  private onLost: ((error: FluxError) => void) | undefined;

  private constructor(
    readonly id: number,
    readonly format: AudioFormat,
    readonly settings: FluxSettings,
  ) {}

  /**
   * Opens one connection and waits until its client adopted it ({@link adopt}, called when
   * Flux sent `Connected`). Rejects with a {@link FluxError}: the one passed to {@link lose}
   * before that, `CONNECT_TIMEOUT`, `ABORTED`, or one naming the socket's cause
   * (`connectError`); the socket is closed then.
   */
  static async open(request: ConnectionRequest, handlers: ConnectionHandlers): Promise<Connection> {
    const conn = new Connection(request.id, request.format, request.settings);
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
    request.signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(
      () =>
        giveUp(
          networkError("CONNECT_TIMEOUT", `not connected within ${request.connectTimeoutMs} ms`),
        ),
      request.connectTimeoutMs,
    );
    try {
      conn.socket = await request.carrier(
        {
          url: request.url,
          query: new URLSearchParams(buildListenQuery(request.settings)),
          apiKey: request.apiKey,
          connectTimeoutMs: request.connectTimeoutMs,
          signal: attempt.signal,
        },
        {
          onMessage: (message) => handlers.onMessage(conn, message),
          onClose: (close) => handlers.onClose(conn, close),
        },
      );
      if (conn.isDead) throw networkError("ABORTED", "the attempt was abandoned");
      if (conn.earlyConnected !== undefined) handlers.onConnected(conn, conn.earlyConnected);
      await ready;
      return conn;
    } catch (error) {
      conn.onLost = undefined;
      conn.onReady = undefined;
      conn.close();
      throw error instanceof FluxError ? error : connectError(error);
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", onAbort);
    }
  }

  /** The carrier's connection (`undefined` until the socket opened). */
  get carrier(): CarrierConnection | undefined {
    return this.socket;
  }
  /** The attempt was abandoned or the connection closed: ignore anything it still reports. */
  get dead(): boolean {
    return this.isDead;
  }
  /** Flux sent `Connected` and the client adopted this connection. */
  get ready(): boolean {
    return this.isReady;
  }
  /** The client is replacing this connection on purpose ({@link requestReplacement}). */
  get closeRequested(): boolean {
    return this.replaceRequested;
  }
  /** Flux's `request_id` (`""` until `Connected`, or when Flux omitted it). */
  get requestId(): string {
    return this.flux;
  }
  /** Continuous-timeline start of the first byte sent on this connection (seconds). */
  get offset(): number {
    return this.startOffset;
  }
  /** Continuous-timeline end of the audio sent on this connection (seconds). */
  get sentUntil(): number {
    return this.sentEnd;
  }
  /** Added to Flux's `turn_index` (which restarts at 0 on every connection). */
  get turnIndexOffset(): number {
    return this.indexOffset;
  }
  /** Set while a turn open before the drop waits for Flux to re-open it (seconds). */
  get resumeUntil(): number | undefined {
    return this.resumeEnd;
  }
  /** `performance.now()` of the last frame sent (audio, control or ping). */
  get lastSentAt(): number {
    return this.lastSent;
  }
  /** Seconds of audio written to the network since Flux's last message. */
  get unanswered(): number {
    return this.unansweredSeconds;
  }
  /** `performance.now()` since which {@link unanswered} is above the stall minimum. */
  get stallSince(): number | undefined {
    return this.stallStart;
  }
  /** A `TurnInfo` arrived on this connection (it produced a result). */
  get gotTurnInfo(): boolean {
    return this.heardTurnInfo;
  }
  /** `performance.now()` when `Connected` arrived. */
  get readyAt(): number {
    return this.readySince;
  }
  /** The fatal `Error` message Flux sent before closing, if any. */
  get serverError(): FluxError | undefined {
    return this.fatal;
  }

  /**
   * Flux sent `Connected`. Before the carrier finished opening (same TCP segment) it is held
   * and handed to `onConnected` once the socket is there.
   * @returns whether the client may adopt the connection now.
   */
  connectedMessage(requestId: string): boolean {
    if (this.socket !== undefined) return true;
    this.earlyConnected = requestId;
    return false;
  }

  /**
   * The client adopts this connection: its audio starts at `offset` on the continuous
   * timeline (replay included), its turn 0 is the client's `turnIndexOffset`. Resolves
   * {@link open}.
   */
  adopt(requestId: string, offset: number, turnIndexOffset: number, now: number): void {
    this.isReady = true;
    this.flux = requestId;
    this.startOffset = offset;
    this.sentEnd = offset;
    this.indexOffset = turnIndexOffset;
    this.readySince = now;
    this.onReady?.();
    this.onReady = undefined;
  }

  /** A connection attempt failed before it was adopted: {@link open} rejects with `error`. */
  lose(error: FluxError): void {
    this.onLost?.(error);
  }

  /** Flux sent a fatal `Error`: it is this connection's cause of death (Flux closes next). */
  failedWith(error: FluxError): void {
    this.fatal = error;
  }

  /** Marks the connection dead (everything it reports from now on is ignored) and closes its socket. Idempotent. */
  close(): void {
    this.isDead = true;
    this.socket?.close();
  }

  /** The client replaces this connection at a turn boundary (new settings, duration cap). */
  requestReplacement(): void {
    this.replaceRequested = true;
  }

  /**
   * Writes one chunk to the socket and accounts for it (and the chunk's `sentAt`). The
   * stall accounting counts it only once the socket has written it out ({@link countWritten}).
   * @returns `false` when the socket died (its close event drives the reconnect and the replay).
   */
  sendAudio(chunk: TimedChunk): boolean {
    try {
      this.socket?.sendBinary(chunk.bytes);
    } catch {
      return false;
    }
    const now = performance.now();
    chunk.sentAt = now;
    this.lastSent = now;
    this.sentEnd = chunk.start + chunk.duration;
    this.handedBytes += chunk.bytes.length;
    this.unwritten.push({ end: this.handedBytes, duration: chunk.duration });
    this.countWritten(now);
    return true;
  }

  /**
   * Counts the audio the socket has written out since the last call as unanswered, and
   * starts the stall timer once enough is. Audio still in the socket's local buffer
   * (`bufferedAmount`: a slow uplink, a fast producer) cannot have reached Flux, so its
   * silence about it is no stall. Called on every send and every watchdog tick.
   */
  countWritten(now: number): void {
    const written = this.handedBytes - (this.socket?.bufferedAmount ?? 0);
    let head = this.unwritten[0];
    while (head !== undefined && head.end <= written) {
      this.unansweredSeconds += head.duration;
      this.unwritten.shift();
      head = this.unwritten[0];
    }
    if (this.stallStart === undefined && this.unansweredSeconds >= STALL_MIN_UNANSWERED_SECONDS) {
      this.stallStart = now;
    }
  }

  /** Sends a control message; a dead socket is ignored (its close event drives the reconnect, the message is resent or moot). */
  sendControl(message: Parameters<CarrierConnection["sendControl"]>[0]): void {
    try {
      this.socket?.sendControl(message);
      this.lastSent = performance.now();
    } catch {
      // see above
    }
  }

  /**
   * Keeps an idle connection alive with a WebSocket ping (a dead socket is ignored).
   * @returns `false` when the carrier has no pings: the caller streams a little silence instead.
   */
  ping(): boolean {
    const socket = this.socket;
    this.lastSent = performance.now();
    if (socket === undefined) return true;
    if (socket.ping === undefined) return false;
    try {
      socket.ping();
    } catch {
      // a dead socket reports itself through its close event
    }
    return true;
  }

  /** Any message from Flux answers the audio sent so far: the stall timer stops. */
  answered(): void {
    this.unansweredSeconds = 0;
    this.stallStart = undefined;
  }

  /** A `TurnInfo` arrived: this connection produced a result (not a quick failure). */
  turnInfoReceived(): void {
    this.heardTurnInfo = true;
  }

  /**
   * The event loop was blocked for `ms`: Flux's answers waited unread in the socket, so
   * that time does not count towards a stall.
   */
  excuseBlockedTime(ms: number): void {
    if (this.stallStart !== undefined) this.stallStart += ms;
  }

  /** A turn was open at the drop: wait for Flux to re-open it until `until` (seconds). */
  awaitResume(until: number): void {
    this.resumeEnd = until;
  }

  /** {@inheritDoc TurnTimeline.resumeSettled} */
  resumeSettled(): void {
    this.resumeEnd = undefined;
  }

  /** {@inheritDoc TurnTimeline.cutTurnClosed} */
  cutTurnClosed(): void {
    this.resumeEnd = undefined;
    this.indexOffset += 1;
  }
}

/** What one connection attempt needs. */
export interface ConnectionRequest {
  readonly id: number;
  readonly settings: FluxSettings;
  readonly format: AudioFormat;
  readonly carrier: Carrier;
  readonly url: string;
  readonly apiKey: string | undefined;
  /** Bound on the handshake plus `Connected` (ms). */
  readonly connectTimeoutMs: number;
  /** Aborted when the client closes: the attempt is abandoned. */
  readonly signal: AbortSignal;
}

/** How a connection reports to its client. */
export interface ConnectionHandlers {
  /** A message arrived (text or parsed JSON, as the carrier delivers it). */
  onMessage(conn: Connection, message: unknown): void;
  /** The socket closed. */
  onClose(conn: Connection, close: CarrierClose): void;
  /** `Connected` arrived before the carrier finished opening: adopt the connection now. */
  onConnected(conn: Connection, requestId: string): void;
}
