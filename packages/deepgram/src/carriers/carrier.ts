/**
 * The carrier is the only part of the Flux client that touches the network:
 * open one connection, send binary and text, ping, close, and report what
 * arrives. It never reconnects; {@link FluxClient} owns the connection's state
 * machine (reconnect, backoff, replay) for every carrier alike.
 *
 * Implementations: {@link sdkCarrier} (`@deepgram/sdk` `listen.v2`, the default)
 * and {@link wsCarrier} (plain `ws`) here; `sagemakerCarrier` (Amazon SageMaker
 * bidirectional streams) in `@voxpipe/sagemaker`, so AWS stays out of this package.
 */
import { inputError, type FluxError } from "../errors.js";
import type { ClientMessage as ControlMessage } from "@voxpipe/flux-protocol";

/** What a carrier needs to open one `/v2/listen` connection. */
export interface CarrierOpenRequest {
  /**
   * Where to connect: a base URL such as `wss://api.deepgram.com` or
   * `ws://127.0.0.1:8080`, or the full endpoint `…/v2/listen`. Never contains a query.
   */
  readonly url: string;
  /** The query (model, encoding, thresholds, keyterms, …), built by `@voxpipe/flux-protocol`. */
  readonly query: URLSearchParams;
  /** API key for `Authorization: Token <key>`; `undefined` connects without auth (local servers). */
  readonly apiKey: string | undefined;
  /** Give up on the handshake after this many ms. */
  readonly connectTimeoutMs: number;
  /** Aborts the attempt (the promise rejects). */
  readonly signal: AbortSignal;
}

/** How a connection ended. */
export interface CarrierClose {
  /** WebSocket close code (1005 = no status, 1006 = abnormal). */
  readonly code: number;
  readonly reason: string;
  /**
   * Why, when the carrier knows better than a close code (e.g. SageMaker's
   * `ModelStreamError` event, already classified). Default: a retryable `CONNECTION_CLOSED`.
   */
  readonly error?: FluxError;
}

/** Callbacks a carrier calls for one connection. They never throw. */
export interface CarrierHandlers {
  /**
   * A text frame from the server. Carriers that parse JSON themselves (the SDK
   * does) pass the parsed value; others pass the raw text.
   */
  onMessage(message: unknown): void;
  /** The connection ended (called once, after the connection was open). */
  onClose(close: CarrierClose): void;
}

/** One open connection. */
export interface CarrierConnection {
  /** Sends a binary frame (audio). Throws if the socket is not open. */
  sendBinary(data: Uint8Array): void;
  /** Sends a control message as a JSON text frame. Throws if the socket is not open. */
  sendControl(message: ControlMessage): void;
  /**
   * Sends a WebSocket ping frame (the v2 keep-alive; never a JSON `KeepAlive`). Absent on
   * carriers with no ping (SageMaker bidirectional streams): the client then keeps an idle
   * connection alive by streaming a short stretch of silence on its audio timeline.
   */
  ping?(): void;
  /**
   * This connection must be replaced after this many ms from open (a provider's cap on a
   * stream's duration: SageMaker's 30 minutes, minus a margin). The client reconnects at
   * the first turn boundary after it, replaying unconfirmed audio; absent = no cap.
   */
  readonly renewAfterMs?: number;
  /** Closes the connection (code 1000). Idempotent. `onClose` still fires once. */
  close(): void;
  /**
   * Bytes queued but not yet written to the network (0 if the carrier cannot tell). The
   * client's backpressure bounds it, and its stall timer counts audio only once it has left
   * this buffer.
   */
  readonly bufferedAmount: number;
}

/**
 * Opens one connection. Resolves once the WebSocket is open (before Flux's
 * `Connected` message, which the client waits for itself). Rejects with a
 * {@link FluxError}: `handshake` (with the HTTP status) when the upgrade is
 * refused, `network` when the server cannot be reached or the timeout passes.
 *
 * A carrier that knows its own destination and authentication (SageMaker: an endpoint
 * name and AWS credentials) sets {@link Carrier.target}; the client's `url` and API key
 * are then neither required nor used.
 */
export type Carrier = ((
  request: CarrierOpenRequest,
  handlers: CarrierHandlers,
) => Promise<CarrierConnection>) & {
  /** Where this carrier connects, for logs (e.g. `sagemaker:my-endpoint`); never a secret. */
  readonly target?: string;
};

/**
 * Splits a user URL into the WebSocket base and the `/v2/listen` endpoint.
 * Accepts `ws(s)://host[:port]`, `…/v2/listen`, or `http(s)://` (mapped to ws(s)).
 * @throws FluxError (`input`) if the URL is not a valid ws/wss/http/https URL or carries a query.
 */
export function endpointOf(url: string): { base: string; endpoint: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the URL: it may carry a key in userinfo.
    throw inputError(
      "INVALID_URL",
      "url: not a valid URL (expected ws://, wss://, http:// or https://)",
    );
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw inputError(
      "INVALID_URL",
      `url: protocol ${parsed.protocol} is not allowed (expected ws:, wss:, http: or https:)`,
    );
  }
  if (parsed.search !== "") {
    throw inputError("INVALID_URL", "url: must not carry a query string; pass settings as options");
  }
  const path = parsed.pathname.replace(/\/+$/, "").replace(/\/v2\/listen$/, "");
  const base = `${parsed.protocol}//${parsed.host}${path}`;
  return { base, endpoint: `${base}/v2/listen` };
}

/** Whether `url` points at this machine (loopback), where connecting without an API key is allowed. */
export function isLocalUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
  } catch {
    return false;
  }
}
