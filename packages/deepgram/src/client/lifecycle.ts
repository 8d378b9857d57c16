/**
 * The lifecycle of a {@link FluxClient}'s connection as an explicit state machine.
 *
 * {@link LIFECYCLE} is the whole truth: a (state, event) pair that is not in it is a bug in
 * the client, reported (logged at error, counted in {@link Lifecycle.illegal}) and otherwise
 * ignored, never applied. Each transition names the effects the client runs, in order,
 * after the state changed; the client implements every effect once (`FluxClient`'s effect
 * table), so reading this table and `test/lifecycle.test.ts` side by side is enough to
 * check what happens when.
 *
 * @module
 */
import type { Logger } from "@voxpipe/core";
import type { FluxClientState } from "./options.js";

/**
 * What happens to a client.
 * - `start`: `start()` was called.
 * - `connected`: Flux sent `Connected` on a new connection, which the client adopted.
 * - `dropped`: the live connection ended with a retryable error (drop, stall, 5xx close).
 * - `rejected`: the live connection ended with a permanent error (Flux's fatal `Error`, a
 *   protocol error).
 * - `renew`: the client replaces the live connection on purpose, at a turn boundary
 *   (connection-only settings changed, or the carrier's duration cap passed).
 * - `gaveUp`: the client stopped trying to connect (retries used up, the first
 *   connection's deadline passed, quick failures in a row, `stopReconnecting()`, or closed
 *   while not connected), or a connection attempt failed permanently (401, 400).
 * - `close`: `close()` was called (graceful).
 * - `drained`: the graceful close finished (Flux closed, or the close bound passed).
 * - `destroy`: `destroy()` was called (immediate).
 */
export type LifecycleEvent =
  | "start"
  | "connected"
  | "dropped"
  | "rejected"
  | "renew"
  | "gaveUp"
  | "close"
  | "drained"
  | "destroy";

/**
 * What the client does on a transition (in the listed order, after the state changed).
 * - `startWatchdog`: start the periodic checks (silence, stall, pings, Configure deadlines).
 * - `connect`: run the connection loop now (first connection: small budget).
 * - `requeueConfigures`: a Configure in flight on the lost connection is sent again on the next.
 * - `emitReconnecting`: emit the `Reconnecting` event (with the error).
 * - `reconnect`: run the connection loop after the quick-failure backoff, or give up when
 *   too many connections failed before any result.
 * - `resolveStart`: resolve the callers waiting in `start()`.
 * - `wakeClose`: the graceful close waiting for Flux's close goes on.
 * - `endTurnsClosed` / `endTurnsLost`: close the open turn (`trigger: "closed"` /
 *   `"connection-lost"`), so no turn is left open.
 * - `teardown`: stop the watchdog, abort connecting, close the socket, drop the buffer.
 * - `rejectWaiters`: reject pending `start()`/`configure()` calls, wake `whenWritable()`.
 * - `emitFatal`: emit the terminal `Error` event (the error, marked fatal).
 * - `complete`: complete `events$`.
 */
export type LifecycleEffect =
  | "startWatchdog"
  | "connect"
  | "requeueConfigures"
  | "emitReconnecting"
  | "reconnect"
  | "resolveStart"
  | "wakeClose"
  | "endTurnsClosed"
  | "endTurnsLost"
  | "teardown"
  | "rejectWaiters"
  | "emitFatal"
  | "complete";

/** One row of the table: the next state and the effects to run. */
export interface LifecycleTransition {
  readonly to: FluxClientState;
  readonly effects: readonly LifecycleEffect[];
}

/** Effects of every move into `failed`: no turn left open, everyone told once, stream completed. */
const FAIL: LifecycleTransition = {
  to: "failed",
  effects: ["endTurnsLost", "teardown", "rejectWaiters", "emitFatal", "complete"],
};
/** Effects of `destroy()`: no `CloseStream`, no waiting. */
const DESTROY: LifecycleTransition = {
  to: "closed",
  effects: ["teardown", "rejectWaiters", "complete"],
};
/** A request that has nothing left to do in a terminal state (`close()`/`destroy()` are idempotent). */
const STAY_CLOSED: LifecycleTransition = { to: "closed", effects: [] };
const STAY_FAILED: LifecycleTransition = { to: "failed", effects: [] };

/**
 * The transition table: `LIFECYCLE[state][event]`. Anything not listed is illegal.
 *
 * ```
 * idle ──start──▶ connecting ──connected──▶ open ──dropped/renew──▶ reconnecting
 *                     │                      ▲ │                        │
 *                     │                      │ └──────connected─────────┘ (back to open)
 *                     └─gaveUp─▶ failed ◀─rejected── open
 *                                failed ◀─gaveUp─── reconnecting, closing
 * connecting/open/reconnecting ──close──▶ closing ──drained──▶ closed
 * any non-terminal ──destroy──▶ closed
 * ```
 */
export const LIFECYCLE: Readonly<
  Record<FluxClientState, Partial<Record<LifecycleEvent, LifecycleTransition>>>
> = {
  idle: {
    start: { to: "connecting", effects: ["startWatchdog", "connect"] },
    // Nothing was ever sent: a graceful close has nothing to flush.
    close: DESTROY,
    destroy: DESTROY,
  },
  connecting: {
    connected: { to: "open", effects: ["resolveStart"] },
    gaveUp: FAIL,
    close: { to: "closing", effects: [] },
    destroy: DESTROY,
  },
  open: {
    dropped: {
      to: "reconnecting",
      effects: ["requeueConfigures", "emitReconnecting", "reconnect"],
    },
    renew: { to: "reconnecting", effects: ["requeueConfigures", "connect"] },
    rejected: FAIL,
    close: { to: "closing", effects: [] },
    destroy: DESTROY,
  },
  reconnecting: {
    connected: { to: "open", effects: ["resolveStart"] },
    gaveUp: FAIL,
    close: { to: "closing", effects: [] },
    destroy: DESTROY,
  },
  closing: {
    // Closing while (re)connecting waits for the connection to flush the buffered audio.
    connected: { to: "closing", effects: ["resolveStart"] },
    // The connection ended while closing: the close is done either way, nothing to retry.
    dropped: { to: "closing", effects: ["wakeClose"] },
    rejected: { to: "closing", effects: ["wakeClose"] },
    drained: {
      to: "closed",
      effects: ["endTurnsClosed", "teardown", "rejectWaiters", "complete"],
    },
    gaveUp: FAIL,
    destroy: DESTROY,
  },
  closed: { close: STAY_CLOSED, destroy: STAY_CLOSED },
  failed: { close: STAY_FAILED, destroy: STAY_FAILED },
};

/**
 * The current state of one client and the one way to change it ({@link fire}).
 * @typeParam I what an event carries to the effects (the client's error, delay…).
 */
export class Lifecycle<I> {
  private current: FluxClientState = "idle";
  private illegalCount = 0;

  /**
   * @param run runs one effect of a transition (called after the state changed).
   * @param log where transitions (debug) and illegal events (error) are logged.
   */
  constructor(
    private readonly run: (effect: LifecycleEffect, input: I) => void,
    private readonly log: Logger,
  ) {}

  /** The current state. */
  get state(): FluxClientState {
    return this.current;
  }

  /** Events that arrived in a state with no transition for them (each one a bug). */
  get illegal(): number {
    return this.illegalCount;
  }

  /** Whether the client stopped for good (`closed` or `failed`). */
  get terminal(): boolean {
    return this.current === "closed" || this.current === "failed";
  }

  /**
   * Applies `event`: moves to the table's next state, then runs its effects in order with
   * `input`. An event the table does not list for the current state changes nothing and is
   * logged at error with the state and the event.
   * @returns whether the transition was legal (and applied).
   */
  fire(event: LifecycleEvent, input: I): boolean {
    const from = this.current;
    const transition = LIFECYCLE[from][event];
    if (transition === undefined) {
      this.illegalCount++;
      this.log.error({ state: from, event }, "illegal flux client lifecycle transition (ignored)");
      return false;
    }
    this.current = transition.to;
    this.log.debug({ from, event, to: transition.to }, "flux client lifecycle");
    for (const effect of transition.effects) this.run(effect, input);
    return true;
  }
}
