import {
  FluxSettingsError,
  initialActiveConfiguration,
  validateSettings,
  type ConfigureSuccessMessage,
  type Received,
  type FluxActiveConfiguration,
  type FluxSettings,
} from "@voxpipe/flux-protocol";
import type { AudioFormat } from "../audio/format.js";
import type { InFlightConfigure, LiveKey } from "../configure-queue.js";
import { rawFormat } from "./options.js";

/**
 * The settings of a Flux client: what Flux confirmed (`applied`, and the mid-stream
 * `active` configuration), what the caller asked for (`desired`), and whether a
 * change needs a new connection (`switchPending`). Pure bookkeeping: the client sends
 * `Configure`s and opens connections.
 */
export class SettingsState {
  /** Settings in force on the current connection (what Flux has confirmed). */
  applied: FluxSettings;
  /** Settings the caller asked for (validated); differ from {@link applied} while a change is pending. */
  desired: FluxSettings;
  /** The mid-stream configuration, as Flux last confirmed it. */
  active: FluxActiveConfiguration;
  /** A connection-only setting changed: the next connection must use {@link desired}. */
  switchPending = false;

  constructor(settings: FluxSettings) {
    this.applied = settings;
    this.desired = settings;
    this.active = initialActiveConfiguration(settings);
  }

  /** What the next connection opens with. */
  get forConnection(): FluxSettings {
    return this.switchPending ? this.desired : this.applied;
  }

  /**
   * Merges `changes` into {@link desired} (`undefined` values are ignored).
   * @returns the keys whose value changed, and the audio format of the merged settings.
   * @throws FluxSettingsError when the merged settings are invalid; FluxError (`input`)
   *   for a non-raw encoding. Nothing changes then.
   */
  request(changes: Partial<FluxSettings>): {
    changed: (keyof FluxSettings)[];
    format: AudioFormat;
  } {
    const next: FluxSettings = { ...this.desired, ...stripUndefined(changes) };
    const issues = validateSettings(next);
    if (issues.length > 0) throw new FluxSettingsError(issues);
    const format = rawFormat(next);
    const changed = (Object.keys(changes) as (keyof FluxSettings)[]).filter(
      (k) => changes[k] !== undefined && !sameValue(changes[k], this.desired[k]),
    );
    this.desired = next;
    return { changed, format };
  }

  /** Nothing is connected yet: the desired settings apply as they are. */
  applyDesired(): void {
    this.applied = this.desired;
    this.active = initialActiveConfiguration(this.desired);
  }

  /**
   * A connection opened with `settings` is ready. It completes a pending switch when it
   * carries the latest desired settings (one opened before the latest change does not).
   * @returns whether it completed the switch.
   */
  adopt(settings: FluxSettings): boolean {
    if (!this.switchPending || settings !== this.desired) return false;
    this.applied = settings;
    this.active = initialActiveConfiguration(settings);
    this.switchPending = false;
    return true;
  }

  /** Flux acknowledged the Configure that carried `sent` (`ConfigureSuccess` `m`). */
  confirm(
    sent: Partial<FluxSettings>,
    m: Received<ConfigureSuccessMessage>,
  ): FluxActiveConfiguration {
    this.applied = { ...this.applied, ...sent };
    this.active = {
      eotThreshold: m.thresholds.eot_threshold ?? this.active.eotThreshold,
      eagerEotThreshold: m.thresholds.eager_eot_threshold ?? this.active.eagerEotThreshold,
      eotTimeoutMs: m.thresholds.eot_timeout_ms ?? this.active.eotTimeoutMs,
      keyterms: m.keyterms ?? this.active.keyterms,
      languageHints: m.language_hints ?? this.active.languageHints,
      numerals: m.numerals ?? this.active.numerals,
    };
    return this.active;
  }

  /**
   * A Configure was refused or timed out: {@link desired} rolls back to the confirmed
   * values, for the fields nobody changed again since (`isPending`, or a different value).
   */
  rollback(done: InFlightConfigure, isPending: (key: LiveKey) => boolean): void {
    const desired = { ...this.desired } as Record<string, unknown>;
    for (const k of done.keys) {
      if (!isPending(k) && sameValue(desired[k], done.sent[k])) desired[k] = this.applied[k];
    }
    this.desired = desired as unknown as FluxSettings;
  }

  /** Keyterms of the desired and the applied settings: never to appear in logs or errors. */
  get keyterms(): readonly string[] {
    return [...(this.desired.keyterms ?? []), ...(this.applied.keyterms ?? [])];
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  return a === b;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
