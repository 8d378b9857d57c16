import {
  applyConfigure,
  FluxSettingsError,
  initialActiveConfiguration,
  validateSettings,
  type ConfigureSuccessMessage,
  type Received,
  type FluxActiveConfiguration,
  type FluxSettings,
} from "@voxpipe/flux-protocol";
import type { AudioFormat } from "../audio/format.js";
import { LIVE_KEYS, type InFlightConfigure, type LiveKey } from "../configure-queue.js";
import { rawFormat } from "./options.js";

/**
 * The settings of a Flux client: what Flux confirmed (`applied`, and the mid-stream
 * `active` configuration), what the caller asked for (`desired`), and whether a
 * change needs a new connection (`switchPending`). Pure bookkeeping: the client sends
 * `Configure`s and opens connections.
 */
export class SettingsState {
  /**
   * Settings in force on the current connection (what Flux has confirmed): the connection's
   * settings, live fields reconciled from each `ConfigureSuccess` echo ({@link confirm}).
   */
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

  /**
   * Flux acknowledged a Configure (`ConfigureSuccess` `m`, which echoes the full active
   * configuration, flux-protocol.md §3.3): the confirmed settings become what the echo says.
   * Received leniently: a field the echo leaves out (the D-conf example prints only some)
   * takes the value the Configure sent, else keeps its confirmed value. An eager threshold
   * the echo leaves out stays as it was (whether Flux omits it or sends `null` when eager
   * mode is off is UNKNOWN, §3.3; a Configure cannot turn eager mode off anyway).
   * @param done the Configure this answer belongs to.
   */
  confirm(done: InFlightConfigure, m: Received<ConfigureSuccessMessage>): FluxActiveConfiguration {
    // What the Configure asked for, by the protocol's own rules (omitted fields keep theirs).
    const asked = applyConfigure(this.active, done.message, this.applied.model);
    const said = asked.ok ? asked.configuration : this.active;
    const pick = <K extends keyof FluxActiveConfiguration>(
      key: K,
      echoed: FluxActiveConfiguration[K] | undefined,
    ): FluxActiveConfiguration[K] => echoed ?? said[key];
    this.active = {
      eotThreshold: pick("eotThreshold", m.thresholds.eot_threshold),
      eagerEotThreshold: pick("eagerEotThreshold", m.thresholds.eager_eot_threshold),
      eotTimeoutMs: pick("eotTimeoutMs", m.thresholds.eot_timeout_ms),
      keyterms: pick("keyterms", m.keyterms),
      languageHints: pick("languageHints", m.language_hints),
      numerals: pick("numerals", m.numerals),
    };
    this.applied = reconcile(this.applied, this.active, this.desired);
    return this.active;
  }

  /**
   * A Configure was refused or timed out: {@link desired} rolls back to the confirmed
   * values, for the fields its callers asked for and nobody changed again since
   * (`isPending`, or a different value). The rest of a full configuration was only sent to
   * re-align Flux: what was asked for stays asked for.
   */
  rollback(done: InFlightConfigure, isPending: (key: LiveKey) => boolean): void {
    const desired = { ...this.desired } as Record<string, unknown>;
    for (const k of done.asked) {
      if (!isPending(k) && sameValue(desired[k], done.sent[k])) desired[k] = this.applied[k];
    }
    this.desired = desired as unknown as FluxSettings;
  }

  /** Whether what Flux confirmed ({@link active}) is the desired live configuration. */
  get confirmedAsDesired(): boolean {
    const asked = initialActiveConfiguration(this.desired);
    return LIVE_KEYS.every((k) => sameValue(asked[k], this.active[k]));
  }

  /**
   * The desired settings with Flux's default filled in for every live field left unset, so
   * a full configuration restores defaults too.
   */
  get desiredWithDefaults(): FluxSettings {
    const defaults = initialActiveConfiguration(this.desired);
    const out = { ...this.desired } as Record<string, unknown>;
    for (const k of LIVE_KEYS) if (out[k] === undefined) out[k] = defaults[k];
    return out as unknown as FluxSettings;
  }

  /** Keyterms of the desired and the applied settings: never to appear in logs or errors. */
  get keyterms(): readonly string[] {
    return [...(this.desired.keyterms ?? []), ...(this.applied.keyterms ?? [])];
  }
}

/**
 * `settings` with its live fields made to match `active` (what Flux confirmed). A field
 * whose effective value matches what was asked for (`desired`) or already confirmed keeps
 * that spelling (left unset for a default, `en-US` for `en`), so the confirmed settings
 * read like the ones asked for; any other value is Flux's.
 */
function reconcile(
  settings: FluxSettings,
  active: FluxActiveConfiguration,
  desired: FluxSettings,
): FluxSettings {
  const implied = initialActiveConfiguration(settings);
  const asked = initialActiveConfiguration(desired);
  const out = { ...settings } as Record<string, unknown>;
  for (const key of LIVE_KEYS) {
    const value = sameValue(asked[key], active[key])
      ? desired[key]
      : sameValue(implied[key], active[key])
        ? settings[key]
        : active[key];
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out as unknown as FluxSettings;
}

/** Equal values; numbers as Flux prints them (float32, flux-protocol.md §3), lists item by item. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return Math.fround(a) === Math.fround(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  return a === b;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
