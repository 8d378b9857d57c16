import { buildListenQuery, type FluxSettings } from "@voxpipe/flux-protocol";
import type { AudioFormat } from "../audio/format.js";
import type { TimedChunk } from "../audio/replay-buffer.js";
import type { Carrier, CarrierClose, CarrierConnection } from "../carriers/carrier.js";
import { FluxError, connectError, networkError } from "../errors.js";

/** Audio a silent server must have been sent before the stall timer runs (2 Updates' worth). */
const STALL_MIN_UNANSWERED_SECONDS = 0.5;

/** One connection attempt and, once Flux sent `Connected`, one live connection. */
export interface Connection {
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
  /** Added to Flux's `turn_index` (which restarts at 0 on every connection). */
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

/**
 * Opens one connection and waits until its client adopted it (`conn.onReady`, called
 * when Flux sent `Connected`). Rejects with a {@link FluxError}: the one passed to
 * `conn.onLost`, `CONNECT_TIMEOUT`, `ABORTED`, or one naming the socket's cause (`connectError`);
 * the socket is closed then.
 */
export async function openConnection(
  request: ConnectionRequest,
  handlers: ConnectionHandlers,
): Promise<Connection> {
  const conn: Connection = {
    id: request.id,
    carrier: undefined,
    pendingConnected: undefined,
    dead: false,
    format: request.format,
    settings: request.settings,
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
  request.signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(
    () =>
      giveUp(
        networkError("CONNECT_TIMEOUT", `not connected within ${request.connectTimeoutMs} ms`),
      ),
    request.connectTimeoutMs,
  );
  try {
    conn.carrier = await request.carrier(
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
    if (conn.dead) throw networkError("ABORTED", "the attempt was abandoned");
    if (conn.pendingConnected !== undefined) handlers.onConnected(conn, conn.pendingConnected);
    await ready;
    return conn;
  } catch (error) {
    conn.dead = true;
    conn.onLost = undefined;
    conn.onReady = undefined;
    conn.carrier?.close();
    throw error instanceof FluxError ? error : connectError(error);
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Writes one chunk to the socket and accounts for it on the connection (and the chunk's
 * `sentAt`). Starts the stall timer once enough audio went unanswered.
 * @returns `false` when the socket died (its close event drives the reconnect and the replay).
 */
export function sendChunk(conn: Connection, chunk: TimedChunk): boolean {
  try {
    conn.carrier?.sendBinary(chunk.bytes);
  } catch {
    return false;
  }
  const now = performance.now();
  chunk.sentAt = now;
  conn.lastSentAt = now;
  conn.sentUntil = chunk.start + chunk.duration;
  conn.unanswered += chunk.duration;
  if (conn.stallSince === undefined && conn.unanswered >= STALL_MIN_UNANSWERED_SECONDS) {
    conn.stallSince = now;
  }
  return true;
}

/** Sends a control message; a dead socket is ignored (its close event drives the reconnect, the message is resent or moot). */
export function sendControl(
  conn: Connection,
  message: Parameters<CarrierConnection["sendControl"]>[0],
): void {
  try {
    conn.carrier?.sendControl(message);
    conn.lastSentAt = performance.now();
  } catch {
    // see above
  }
}

/** Any message from Flux answers the audio sent so far: the stall timer stops. */
export function markAnswered(conn: Connection): void {
  conn.unanswered = 0;
  conn.stallSince = undefined;
}
