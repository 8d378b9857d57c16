/**
 * One error taxonomy for the Flux connection layer: every failure is either
 * **permanent** (retrying cannot help: bad key, bad parameters, a protocol bug)
 * or **retryable** (rate limits, server errors, network drops, stalls).
 *
 * Messages never contain an API key, a keyterm or a URL with its query string:
 * they are built only from status codes, provider codes and provider descriptions.
 */

/** Where an error came from. */
export type FluxErrorSource =
  /** The HTTP upgrade was refused (the status is in {@link FluxError.status}). */
  | "handshake"
  /** The server sent a Flux `Error` message (fatal for the connection). */
  | "server"
  /** The socket failed or closed without a Flux `Error` message. */
  | "network"
  /** Audio flowed but Flux stopped answering (watchdog). */
  | "stall"
  /** Flux rejected a `Configure` (`ConfigureFailure`); the stream continues. */
  | "configure"
  /** A `Configure` acknowledgement did not arrive in time; the stream continues. */
  | "configure-timeout"
  /** The retry budget for one outage was used up. */
  | "exhausted"
  /** Bad input from the caller (settings, audio), rejected before anything was sent. */
  | "input";

/** Whether retrying can help. */
export type FluxErrorKind = "permanent" | "retryable";

/** Constructor fields of {@link FluxError}. */
export interface FluxErrorInit {
  source: FluxErrorSource;
  kind: FluxErrorKind;
  /** Provider code (`UNPARSABLE_CLIENT_MESSAGE`, `INVALID_AUTH`, …) or a voxpipe code. */
  code: string;
  /** Provider description, or ours. Never contains secrets. */
  description: string;
  /** HTTP status of a refused handshake. */
  status?: number;
  /** Whether the error ended the client (no more events follow). */
  fatal?: boolean;
}

/**
 * An error from the Flux connection layer, carrying the provider's `code` and
 * `description` unchanged (flux-protocol.md §3.4, §3.6, §5).
 */
export class FluxError extends Error {
  readonly source: FluxErrorSource;
  readonly kind: FluxErrorKind;
  readonly code: string;
  readonly description: string;
  readonly status: number | undefined;
  /** `true` when the client gave up because of this error. */
  readonly fatal: boolean;

  constructor(init: FluxErrorInit) {
    const status = init.status !== undefined ? ` (HTTP ${init.status})` : "";
    super(`Flux ${init.source} error${status}: ${init.code}: ${init.description}`);
    this.name = "FluxError";
    this.source = init.source;
    this.kind = init.kind;
    this.code = init.code;
    this.description = init.description;
    this.status = init.status;
    this.fatal = init.fatal ?? false;
  }

  /** A copy of this error with `changes` applied (e.g. a redacted description). */
  with(changes: Partial<FluxErrorInit>): FluxError {
    return new FluxError({
      source: this.source,
      kind: this.kind,
      code: this.code,
      description: this.description,
      ...(this.status !== undefined ? { status: this.status } : {}),
      fatal: this.fatal,
      ...changes,
    });
  }

  /** A copy of this error marked as the one that ended the client. */
  asFatal(): FluxError {
    return this.with({ fatal: true });
  }

  get retryable(): boolean {
    return this.kind === "retryable";
  }
}

/**
 * Classifies a refused WebSocket upgrade by HTTP status.
 * 408 and 429 and every 5xx are retryable; every other 4xx is permanent
 * (400 bad parameters, 401 bad key, 402 no credit, 403 no access to the model).
 * Source: flux-protocol.md §1.5 and §5.
 */
export function handshakeError(status: number, code?: string, description?: string): FluxError {
  const retryable = status === 408 || status === 429 || status >= 500;
  return new FluxError({
    source: "handshake",
    kind: retryable ? "retryable" : "permanent",
    status,
    code: code ?? `HTTP_${status}`,
    description: description ?? "the server refused the WebSocket upgrade",
  });
}

/**
 * Server `Error` codes that mean the client sent something Flux cannot accept;
 * sending the same thing again on a new connection would fail the same way.
 */
const PERMANENT_SERVER_CODES = new Set([
  "UNPARSABLE_CLIENT_MESSAGE",
  "INVALID_AUTH",
  "BAD_REQUEST",
]);

/**
 * Classifies a Flux `Error` message (flux-protocol.md §3.6): protocol errors
 * (`UNPARSABLE_CLIENT_MESSAGE`) are permanent, everything else
 * (`INTERNAL_SERVER_ERROR`, unknown codes) is retryable.
 */
export function serverError(code: string, description: string): FluxError {
  return new FluxError({
    source: "server",
    kind: PERMANENT_SERVER_CODES.has(code) ? "permanent" : "retryable",
    code,
    description,
  });
}

/** A network failure or an unexpected close: always retryable. */
export function networkError(code: string, description: string): FluxError {
  return new FluxError({ source: "network", kind: "retryable", code, description });
}

/** TLS failures: retrying cannot fix a certificate (Node's `tls` error codes). */
const TLS_CODES =
  /^(ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY|GET)_)/;
const TLS_TEXT = /certificate|self[- ]signed|altnames|\bTLS\b|\bSSL\b/i;

/**
 * A WebSocket that could not be opened, named by its underlying cause so a user can act
 * on it: the socket error's code and text (`connect ECONNREFUSED 127.0.0.1:1`,
 * `getaddrinfo ENOTFOUND api.deepgram.com`, a TLS certificate error). Node's errno code
 * becomes {@link FluxError.code} (read from the message when a library dropped it, as
 * `@deepgram/sdk` does). TLS errors are permanent; the others retryable.
 */
export function connectError(cause: unknown): FluxError {
  const err = cause instanceof Error ? cause : undefined;
  const message = redactUrls(err?.message ?? String(cause)).slice(0, 300);
  const own = (err as { code?: unknown } | undefined)?.code;
  const code =
    typeof own === "string" && own !== ""
      ? own
      : (/\b(E[A-Z]{3,}|ERR_[A-Z_]+)\b/.exec(message)?.[1] ?? undefined);
  const tls = (code !== undefined && TLS_CODES.test(code)) || TLS_TEXT.test(message);
  if (tls) {
    return new FluxError({
      source: "network",
      kind: "permanent",
      code: code ?? "TLS_ERROR",
      description: `TLS failed: ${message}`,
    });
  }
  return networkError(
    code ?? "CONNECT_FAILED",
    message === "" ? "could not open the WebSocket" : message,
  );
}

/** Bad caller input (settings, audio): permanent, thrown before anything is sent. */
export function inputError(code: string, description: string): FluxError {
  return new FluxError({ source: "input", kind: "permanent", code, description });
}

/**
 * Pulls an HTTP status out of a WebSocket library's handshake error message
 * (`ws` says `Unexpected server response: 401`). Returns `undefined` when the
 * message carries none.
 */
export function statusFromHandshakeMessage(message: string): number | undefined {
  const match = /Unexpected server response: (\d{3})/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** Removes anything after `?` in URLs inside a message, so query strings (keyterms) never leak. */
export function redactUrls(message: string): string {
  return message.replace(/(wss?|https?):\/\/[^\s?]+\?\S*/g, (url) => `${url.split("?")[0]}?…`);
}
