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

/** The Configure on the wire. */
export interface InFlightConfigure {
  readonly keys: ReadonlySet<LiveKey>;
  /** The values sent, by TS option name. */
  readonly sent: Partial<FluxSettings>;
  readonly waiters: readonly ConfigureWaiter[];
  /** `performance.now()` after which it counts as lost (ms). */
  readonly deadline: number;
}

/**
 * Flow control for `Configure`: at most one in flight (Flux caps un-acknowledged
 * Configures, pipecat-design-notes §4.7), later changes coalesced into the next one
 * (built from the latest settings when it is sent), an acknowledgement deadline.
 * Pure bookkeeping: the client sends, and reports acknowledgements and time.
 */
export class ConfigureQueue {
  private pending = new Set<LiveKey>();
  private waiting: ConfigureWaiter[] = [];
  private current: InFlightConfigure | undefined;

  /** @param timeoutMs how long an acknowledgement may take (ms). */
  constructor(private readonly timeoutMs: number) {}

  /** The Configure awaiting its acknowledgement, if any. */
  get inFlight(): InFlightConfigure | undefined {
    return this.current;
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
   * The next Configure to send, from `settings`' current values, now marked in flight;
   * `undefined` while one is in flight or nothing is pending.
   */
  take(settings: FluxSettings, now: number): ConfigureMessage | undefined {
    if (this.current !== undefined || this.pending.size === 0) return undefined;
    const keys = new Set(this.pending);
    this.pending.clear();
    const sent: Partial<FluxSettings> = {};
    for (const k of keys) (sent as Record<string, unknown>)[k] = settings[k];
    this.current = { keys, sent, waiters: this.waiting.splice(0), deadline: now + this.timeoutMs };
    return configureMessage(keys, sent);
  }

  /** Flux answered (`ConfigureSuccess`/`ConfigureFailure`): returns what was in flight (`undefined`: a stray answer). */
  settle(): InFlightConfigure | undefined {
    const done = this.current;
    this.current = undefined;
    return done;
  }

  /** The in-flight Configure, if its deadline passed (it is no longer in flight). */
  expired(now: number): InFlightConfigure | undefined {
    return this.current !== undefined && now > this.current.deadline ? this.settle() : undefined;
  }

  /** The connection dropped: what was in flight is sent again on the next one. */
  requeue(): void {
    const lost = this.settle();
    if (lost === undefined) return;
    for (const k of lost.keys) this.pending.add(k);
    this.waiting.unshift(...lost.waiters);
  }

  /** Rejects every waiter (the client closed or failed) and forgets everything. */
  rejectAll(error: Error): void {
    const waiters = [...(this.current?.waiters ?? []), ...this.waiting];
    this.current = undefined;
    this.waiting = [];
    this.pending.clear();
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
