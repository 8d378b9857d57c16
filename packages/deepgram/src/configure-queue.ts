import type {
  ConfigureMessage,
  FluxActiveConfiguration,
  FluxSettings,
} from "@voxpipe/flux-protocol";

/** Settings `Configure` can change mid-stream (flux-protocol.md §2.1). */
export const LIVE_KEYS = [
  "eotThreshold",
  "eagerEotThreshold",
  "eotTimeoutMs",
  "keyterms",
  "languageHints",
  "numerals",
] as const;

/** A setting `Configure` can change. */
export type LiveKey = (typeof LIVE_KEYS)[number];

/** Whether `key` can change through `Configure` (otherwise it needs a new connection). */
export function isLiveKey(key: string): key is LiveKey {
  return (LIVE_KEYS as readonly string[]).includes(key);
}

/** Someone waiting for a Configure's outcome. */
export interface ConfigureWaiter {
  resolve(configuration: FluxActiveConfiguration): void;
  reject(error: Error): void;
}

/** A Configure on the wire, awaiting Flux's answer. */
export interface InFlightConfigure {
  /** The fields it carries. */
  readonly keys: ReadonlySet<LiveKey>;
  /**
   * The fields callers asked to change (all of {@link keys}, except in a full configuration
   * sent after a late answer, which carries the rest only to re-align Flux).
   */
  readonly asked: ReadonlySet<LiveKey>;
  /** The values sent, by TS option name. */
  readonly sent: Partial<FluxSettings>;
  /** The message as sent. */
  readonly message: ConfigureMessage;
  /** Who waits for its outcome (callers asking for the same values later join). */
  readonly waiters: ConfigureWaiter[];
  /** `performance.now()` after which it counts as lost (ms). */
  readonly deadline: number;
  /**
   * Its deadline passed: its waiters were rejected and it no longer blocks the next
   * Configure, but Flux may still answer it (a late answer), and that answer is its own.
   */
  expired: boolean;
}

/**
 * Flow control for `Configure`: at most one awaiting its answer in time (Flux caps
 * un-acknowledged Configures, pipecat-design-notes §4.7), later changes coalesced into the
 * next one (built from the latest settings when it is sent), an acknowledgement deadline.
 *
 * Flux answers every Configure once, in the order it received them (it processes them in
 * stream order, flux-protocol.md §2.1), and the answers carry no id: so every Configure
 * sent stays in a FIFO until *its* answer came, even past its deadline. An answer always
 * settles the oldest one, never the next one with the wrong values.
 *
 * Pure bookkeeping: the client sends, and reports answers and time.
 */
export class ConfigureQueue {
  private pending = new Set<LiveKey>();
  private waiting: ConfigureWaiter[] = [];
  /** Sent and unanswered, oldest first (expired ones included). */
  private unanswered: InFlightConfigure[] = [];
  private resyncWanted = false;

  /** @param timeoutMs how long an acknowledgement may take (ms). */
  constructor(private readonly timeoutMs: number) {}

  /** The Configure awaiting its acknowledgement within its deadline, if any. */
  get inFlight(): InFlightConfigure | undefined {
    return this.unanswered.find((c) => !c.expired);
  }

  /**
   * Whether what Flux applied is uncertain: a Configure passed its deadline unanswered, so
   * Flux may have applied it or not.
   */
  get uncertain(): boolean {
    return this.unanswered.some((c) => c.expired);
  }

  /** Whether `key` waits to be sent. */
  isPending(key: LiveKey): boolean {
    return this.pending.has(key);
  }

  /** Queues changed fields; `waiter` settles with the Configure that carries them. */
  add(keys: readonly LiveKey[], waiter: ConfigureWaiter): void {
    for (const k of keys) this.pending.add(k);
    this.waiting.push(waiter);
  }

  /**
   * A caller asks for values already asked for: `waiter` settles with the Configure that
   * carries them (the one waiting to be sent, else the one in flight).
   * @returns `false` when none carries them (they are already confirmed).
   */
  join(keys: readonly LiveKey[], waiter: ConfigureWaiter): boolean {
    if (keys.some((k) => this.pending.has(k))) {
      this.waiting.push(waiter);
      return true;
    }
    const current = this.inFlight;
    if (current !== undefined && keys.some((k) => current.keys.has(k))) {
      current.waiters.push(waiter);
      return true;
    }
    return false;
  }

  /**
   * Flux's state is unknown after a late answer: the next Configure carries every live
   * setting (the full desired configuration), not only the changed ones.
   */
  resync(): void {
    this.resyncWanted = true;
  }

  /**
   * The next Configure to send, from `settings`' current values, now marked in flight;
   * `undefined` while one is in flight (within its deadline) or nothing is pending.
   * @param keysForResync the live keys a full configuration carries (the model decides
   *   whether language hints are allowed).
   */
  take(
    settings: FluxSettings,
    now: number,
    keysForResync: readonly LiveKey[] = LIVE_KEYS,
  ): ConfigureMessage | undefined {
    if (this.inFlight !== undefined) return undefined;
    if (this.pending.size === 0 && !this.resyncWanted) return undefined;
    const asked = new Set(this.pending);
    const keys = new Set(this.resyncWanted ? [...asked, ...keysForResync] : asked);
    this.pending.clear();
    this.resyncWanted = false;
    const sent: Partial<FluxSettings> = {};
    for (const k of keys) (sent as Record<string, unknown>)[k] = settings[k];
    const message = configureMessage(keys, sent);
    this.unanswered.push({
      keys,
      asked,
      sent,
      message,
      waiters: this.waiting.splice(0),
      deadline: now + this.timeoutMs,
      expired: false,
    });
    return message;
  }

  /**
   * Flux answered (`ConfigureSuccess`/`ConfigureFailure`): returns the oldest unanswered
   * Configure, which the answer belongs to (`expired` if it came after its deadline;
   * `undefined`: a stray answer).
   */
  settle(): InFlightConfigure | undefined {
    return this.unanswered.shift();
  }

  /** The in-flight Configure, if its deadline passed (now {@link InFlightConfigure.expired}). */
  expired(now: number): InFlightConfigure | undefined {
    const current = this.inFlight;
    if (current === undefined || now <= current.deadline) return undefined;
    current.expired = true;
    return current;
  }

  /**
   * The connection dropped: what was in flight is sent again on the next one (with its
   * waiters first); expired Configures will get no answer (their waiters already know).
   */
  requeue(): void {
    const lost = this.inFlight;
    this.unanswered = [];
    if (lost === undefined) return;
    for (const k of lost.keys) this.pending.add(k);
    this.waiting.unshift(...lost.waiters);
  }

  /** Rejects every waiter (the client closed or failed) and forgets everything. */
  rejectAll(error: Error): void {
    const waiters = [
      ...this.unanswered.flatMap((c) => (c.expired ? [] : c.waiters)),
      ...this.waiting,
    ];
    this.unanswered = [];
    this.waiting = [];
    this.pending.clear();
    this.resyncWanted = false;
    for (const w of waiters) w.reject(error);
  }
}

/** The `Configure` message for `keys` (flux-protocol.md §2.1): numbers as numbers, lists replaced whole. */
export function configureMessage(
  keys: ReadonlySet<LiveKey>,
  values: Partial<FluxSettings>,
): ConfigureMessage {
  const message: ConfigureMessage = { type: "Configure" };
  const thresholds: NonNullable<ConfigureMessage["thresholds"]> = {};
  if (keys.has("eotThreshold") && values.eotThreshold !== undefined)
    thresholds.eot_threshold = values.eotThreshold;
  if (keys.has("eagerEotThreshold") && values.eagerEotThreshold !== undefined) {
    thresholds.eager_eot_threshold = values.eagerEotThreshold;
  }
  if (keys.has("eotTimeoutMs") && values.eotTimeoutMs !== undefined)
    thresholds.eot_timeout_ms = values.eotTimeoutMs;
  if (Object.keys(thresholds).length > 0) message.thresholds = thresholds;
  if (keys.has("keyterms")) message.keyterms = [...(values.keyterms ?? [])];
  if (keys.has("languageHints")) message.language_hints = [...(values.languageHints ?? [])];
  if (keys.has("numerals") && values.numerals !== undefined) message.numerals = values.numerals;
  return message;
}
