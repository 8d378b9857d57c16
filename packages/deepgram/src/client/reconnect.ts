import pRetry from "p-retry";
import { abortableSleep } from "@voxpipe/core";
import { FluxError, networkError } from "../errors.js";
import type { FluxReconnectOptions } from "./options.js";

/** A reconnection policy with every default filled in. */
export type ReconnectPolicy = Required<FluxReconnectOptions>;

/**
 * Runs `connect` until it succeeds: after `initialDelayMs`, then retried with
 * jittered exponential backoff (`p-retry`: delay × random 1–2, capped) while it fails
 * with a retryable {@link FluxError}, at most `policy.maxAttempts` attempts.
 * `onFailedAttempt` hears every failure (not after `signal` aborted).
 * @throws the last error (a permanent one at once), or an abort error when `signal` aborts.
 */
export async function connectWithRetry(
  connect: (attempt: number) => Promise<void>,
  options: {
    readonly policy: ReconnectPolicy;
    readonly initialDelayMs: number;
    readonly signal: AbortSignal;
    readonly onFailedAttempt: (error: FluxError, attempt: number) => void;
  },
): Promise<void> {
  const { policy: r, signal } = options;
  if (options.initialDelayMs > 0) await abortableSleep(options.initialDelayMs, signal); // fake timers drive it
  await pRetry(connect, {
    retries: Math.max(0, r.maxAttempts - 1),
    minTimeout: r.minDelayMs,
    maxTimeout: r.maxDelayMs,
    factor: r.factor,
    randomize: true,
    signal,
    shouldRetry: ({ error }) => error instanceof FluxError && error.retryable,
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (signal.aborted) return;
      options.onFailedAttempt(asFluxError(error), attemptNumber);
    },
  });
}

/**
 * Delay before reconnecting after `failures` (≥ 1) quick failures in a row, in ms: the
 * same jittered exponential backoff as {@link connectWithRetry}.
 */
export function backoffDelay(policy: ReconnectPolicy, failures: number): number {
  return Math.min(
    policy.maxDelayMs,
    policy.minDelayMs * policy.factor ** (failures - 1) * (1 + Math.random()),
  );
}

/** The permanent `exhausted` error of a client that gave up retrying (`why` says after what). */
export function exhaustedError(cause: FluxError, why: string): FluxError {
  return cause.with({
    source: "exhausted",
    kind: "permanent",
    description: `gave up after ${why}: ${cause.description}`,
  });
}

/** `error` if it is a {@link FluxError}, else a generic retryable `CONNECT_FAILED`. */
export function asFluxError(error: unknown): FluxError {
  return error instanceof FluxError ? error : networkError("CONNECT_FAILED", "could not connect");
}
