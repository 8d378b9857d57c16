/**
 * Fault injection: what a test can make one session do wrong. Faults are chosen per
 * session by the server's `sessionPlan` hook (at the handshake) or applied live through
 * a {@link FluxSession} handle (`server.sessions`, the `"session"` event).
 */
import type { IncomingHttpHeaders } from "node:http";
import type { FluxSettings } from "@voxpipe/flux-protocol";

/**
 * When a fault fires. Give one field; if several are given, the first reached wins.
 */
export interface FaultTrigger {
  /** Wall-clock milliseconds after the 101 (the only wall-clock trigger: for tests of timers). */
  afterMs?: number;
  /** Seconds of audio received (audio time) — deterministic for tests that stream quickly. */
  afterAudioSeconds?: number;
  /** Just before the server message with this `sequence_id` would be sent (0 = instead of Connected). */
  atMessage?: number;
}

/** A handshake refusal: the HTTP status and, optionally, the JSON body fields. */
export interface HandshakeRefusal {
  /** e.g. 401, 429, 500 (or 400/402/403 to emulate other answers). */
  status: number;
  /** `dg-error` header and body message; a sensible default per status otherwise. */
  message?: string;
}

/** Faults of one session. All optional; an empty plan is a healthy session. */
export interface FaultPlan {
  /** Refuse the upgrade with this status (and `dg-request-id`/`dg-error` headers and a JSON body). */
  refuseHandshake?: HandshakeRefusal;
  /** Drop the TCP connection without a close frame (the client sees 1006). */
  drop?: FaultTrigger;
  /** Stop sending anything (keep reading audio and answering pings), like a hung server. */
  stall?: FaultTrigger;
  /** Send a fatal `Error` (default code `INTERNAL_SERVER_ERROR`), then close without a status code. */
  fatalError?: FaultTrigger & { code?: string; description?: string };
  /** Send one text frame that is not valid JSON (a truncated TurnInfo). */
  malformedMessage?: FaultTrigger;
  /** Delay each `ConfigureSuccess`/`ConfigureFailure` by this many wall-clock ms (the settings still apply in stream order). */
  configureDelayMs?: number;
  /** Answer every `Configure` with this `ConfigureFailure` (nothing applied). */
  configureRefusal?: { code: string; description: string };
  /**
   * Leave out `request_id`, `sequence_id` and `trigger` from every message, as several of
   * the Flux docs' own examples do (reference §8): a client must still understand them.
   */
  omitOptionalFields?: boolean;
}

/** What the `sessionPlan` hook sees of a connection attempt. */
export interface HandshakeInfo {
  /** 0 for the first upgrade request this server received, then 1, 2, … (count reconnects). */
  readonly index: number;
  /** The `request_id` / `dg-request-id` this attempt gets. */
  readonly requestId: string;
  /** Request headers (may include `authorization`: do not log them). */
  readonly headers: IncomingHttpHeaders;
  /** The parsed query settings when valid, `undefined` otherwise. */
  readonly settings: FluxSettings | undefined;
}

/** What a test decides for one session. */
export interface SessionPlan {
  /** Faults for this session. */
  faults?: FaultPlan;
  /** Per-session engine options (e.g. a scripted engine's `turns`), merged over the server's `engineOptions`. */
  engineOptions?: Readonly<Record<string, unknown>>;
}

/** Default `dg-error` messages and body shapes for refusals (reference §1.5). */
export function refusalBody(
  status: number,
  requestId: string,
  message?: string,
): { message: string; body: Record<string, string> } {
  switch (status) {
    case 401: {
      // REST-style body, "likely the same" on v2 (reference §1.5, SK).
      const text = message ?? "Invalid credentials.";
      return {
        message: text,
        body: { err_code: "INVALID_AUTH", err_msg: text, request_id: requestId },
      };
    }
    case 429: {
      const text = message ?? "Too many concurrent requests. Please try again later.";
      return {
        message: text,
        body: { err_code: "TOO_MANY_REQUESTS", err_msg: text, request_id: requestId },
      };
    }
    default: {
      const text = message ?? (status >= 500 ? "Internal server error." : "Bad request.");
      const code =
        status >= 500
          ? "INTERNAL_SERVER_ERROR"
          : status === 400
            ? "INVALID_PARAMETER"
            : `HTTP_${status}`;
      return { message: text, body: { code, description: text, request_id: requestId } };
    }
  }
}
