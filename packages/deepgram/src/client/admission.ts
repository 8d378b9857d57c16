/**
 * Reconnection admission: a network blip, a load balancer restart or a starved host can cut
 * hundreds of sessions of one process at the same instant. Reconnected all at once, each
 * replaying the audio Flux had not confirmed, they would hit the endpoint with a burst of
 * handshakes and seconds of audio apiece — exactly when it is least able to take them. So the
 * clients of one process that talk to one endpoint share a small number of handshake slots:
 * reconnects are admitted a few at a time, a lone reconnect never waits.
 *
 * A semaphore of our own rather than `p-limit`: a reconnect waiting for its turn must leave
 * the queue when its client closes (an `AbortSignal`), which `p-limit` cannot do.
 */

/** Handshake slots shared by every client of the process for one endpoint. */
export class Admission {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  /** @param limit handshakes in flight at once (≥ 1). */
  constructor(readonly limit: number) {}

  /** Handshakes holding a slot now. */
  get active(): number {
    return this.#active;
  }

  /** Handshakes waiting for a slot now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for a slot.
   * @returns the slot's release (idempotent); call it once the handshake settled.
   * @throws the signal's reason (an Error) when `signal` aborts while waiting (nothing is held then).
   */
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.#active < this.limit) this.#active += 1;
    else {
      // A release hands its slot straight to the first waiter (#active unchanged), so no
      // newcomer can slip in between.
      await new Promise<void>((resolve, reject) => {
        const admit = (): void => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const at = this.#waiting.indexOf(admit);
          if (at >= 0) this.#waiting.splice(at, 1);
          const reason: unknown = signal.reason;
          reject(reason instanceof Error ? reason : new Error(String(reason)));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        this.#waiting.push(admit);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active -= 1;
    };
  }
}

const shared = new Map<string, Admission>();

/** The process-wide {@link Admission} for `endpoint` with `limit` slots. */
export function admissionFor(endpoint: string, limit: number): Admission {
  const key = `${limit} ${endpoint}`;
  let admission = shared.get(key);
  if (admission === undefined) {
    admission = new Admission(limit);
    shared.set(key, admission);
  }
  return admission;
}
