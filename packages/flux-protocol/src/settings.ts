/**
 * Flux connection settings (camelCase TS options ↔ snake_case wire names) and their
 * validation. One set of rules serves the handshake (query), `Configure`, and clients
 * that validate before connecting. Sources: reference §1.3, §2.1, §5.
 */
import {
  DEFAULT_EOT_THRESHOLD,
  DEFAULT_EOT_TIMEOUT_MS,
  EAGER_EOT_THRESHOLD_RANGE,
  EOT_THRESHOLD_RANGE,
  EOT_TIMEOUT_MS_RANGE,
  FLUX_ENCODINGS,
  FLUX_LANGUAGES,
  FLUX_MODELS,
  FLUX_MULTILINGUAL_MODEL,
  FLUX_REDACT_VALUES,
  FLUX_SAMPLE_RATES,
  MAX_KEYTERM_LENGTH,
  MAX_KEYTERM_TOKENS,
  MAX_KEYTERMS,
  type FluxEncoding,
  type FluxModel,
  type FluxRange,
  type FluxRedact,
} from "./constants.js";

/**
 * Settings of one Flux connection, as TS options. Each maps to the query parameter
 * named in its doc. Lists become repeated query keys.
 */
export interface FluxSettings {
  /** `model` (required). */
  model: FluxModel;
  /** `encoding`; required for raw audio, omitted for containerized audio (WAV, Ogg, WebM). */
  encoding?: FluxEncoding;
  /** `sample_rate` in Hz; required with `encoding`, omitted for containers. */
  sampleRate?: number;
  /** `eot_threshold`, 0.5–1.0, default 0.7. 1.0 disables model-triggered EndOfTurn. */
  eotThreshold?: number;
  /** `eager_eot_threshold`, 0.3–0.9 and ≤ `eotThreshold`. Setting it turns eager mode on. */
  eagerEotThreshold?: number;
  /** `eot_timeout_ms`: ms of streamed silence after speech that force an EndOfTurn; 500–60000, default 5000. */
  eotTimeoutMs?: number;
  /** `keyterm` (repeated): ≤100 plain terms, each 1–100 characters, ≤500 tokens in total. */
  keyterms?: readonly string[];
  /** `language_hint` (repeated): `flux-general-multi` only; base codes from {@link FLUX_LANGUAGES}. */
  languageHints?: readonly string[];
  /** `numerals`. Default false. */
  numerals?: boolean;
  /** `profanity_filter`. Default false. */
  profanityFilter?: boolean;
  /** `redact`: `numbers` or `aggressive_numbers`. */
  redact?: FluxRedact;
  /** `mip_opt_out`: opt out of the Model Improvement Program. Default false. */
  mipOptOut?: boolean;
  /** `tag` (repeated): usage-reporting labels. */
  tags?: readonly string[];
}

/** Wire name of each {@link FluxSettings} field. */
export const FLUX_QUERY_PARAMETERS = {
  model: "model",
  encoding: "encoding",
  sampleRate: "sample_rate",
  eotThreshold: "eot_threshold",
  eagerEotThreshold: "eager_eot_threshold",
  eotTimeoutMs: "eot_timeout_ms",
  keyterms: "keyterm",
  languageHints: "language_hint",
  numerals: "numerals",
  profanityFilter: "profanity_filter",
  redact: "redact",
  mipOptOut: "mip_opt_out",
  tags: "tag",
} as const satisfies Record<keyof FluxSettings, string>;

/** A query parameter name Flux accepts. */
export type FluxQueryParameter = (typeof FLUX_QUERY_PARAMETERS)[keyof typeof FLUX_QUERY_PARAMETERS];

/**
 * Error codes for refused settings.
 * - `INVALID_QUERY_PARAMETER`: unknown parameter name (third-party measurements: `language_hints` → 400 with this code).
 * - `INVALID_PARAMETER`: a known parameter with a bad value or combination (D-lang example).
 * - `INVALID_THRESHOLD`: the only documented `ConfigureFailure` code (D-conf), used for threshold problems in Configure.
 */
export type FluxSettingsErrorCode =
  "INVALID_QUERY_PARAMETER" | "INVALID_PARAMETER" | "INVALID_THRESHOLD";

/** One refused setting: which field, which value, what is allowed. */
export interface FluxSettingsIssue {
  code: FluxSettingsErrorCode;
  /** Wire name, e.g. `eot_threshold` (or `thresholds.eot_threshold` in Configure). */
  field: string;
  /**
   * The offending value. Keyterm values are never included (they may be private);
   * for keyterm issues this is a description such as `"term #3 (120 characters)"`.
   */
  value: unknown;
  /** What is allowed, e.g. `"a number from 0.5 to 1"`. ASCII only: it may travel in an HTTP header (`dg-error`). */
  allowed: string;
  /** One readable sentence naming field, value and allowed values. */
  message: string;
}

/**
 * Thrown by {@link assertValidSettings} (and usable by clients) when settings are refused.
 * `message` lists every issue; `issues` has them as data.
 */
export class FluxSettingsError extends Error {
  override readonly name = "FluxSettingsError";
  constructor(readonly issues: readonly FluxSettingsIssue[]) {
    super(`invalid Flux settings: ${issues.map((i) => i.message).join("; ")}`);
  }
}

function issue(
  code: FluxSettingsErrorCode,
  field: string,
  value: unknown,
  allowed: string,
  problem?: string,
): FluxSettingsIssue {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  return {
    code,
    field,
    value,
    allowed,
    message: `${field}=${shown} ${problem ?? "is not allowed"}: allowed ${allowed}`,
  };
}

function rangeText(range: FluxRange): string {
  return `from ${range.min} to ${range.max}`;
}

function checkRange(
  issues: FluxSettingsIssue[],
  field: string,
  value: unknown,
  range: FluxRange,
  integer: boolean,
  code: FluxSettingsErrorCode,
): void {
  if (value === undefined) return;
  const allowed = `${integer ? "an integer " : "a number "}${rangeText(range)}`;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value))
  ) {
    issues.push(issue(code, field, value, allowed, "is not valid"));
  } else if (value < range.min || value > range.max) {
    issues.push(issue(code, field, value, allowed, "is out of range"));
  }
}

/**
 * Checks thresholds: ranges and eager ≤ eot (D-cfg: a larger eager threshold "will result
 * in an error"). Shared by connection settings and Configure.
 */
function checkThresholds(
  issues: FluxSettingsIssue[],
  t: { eotThreshold?: unknown; eagerEotThreshold?: unknown; eotTimeoutMs?: unknown },
  prefix: string,
  code: FluxSettingsErrorCode,
): void {
  checkRange(issues, `${prefix}eot_threshold`, t.eotThreshold, EOT_THRESHOLD_RANGE, false, code);
  checkRange(
    issues,
    `${prefix}eager_eot_threshold`,
    t.eagerEotThreshold,
    EAGER_EOT_THRESHOLD_RANGE,
    false,
    code,
  );
  checkRange(issues, `${prefix}eot_timeout_ms`, t.eotTimeoutMs, EOT_TIMEOUT_MS_RANGE, true, code);
  const eot = typeof t.eotThreshold === "number" ? t.eotThreshold : DEFAULT_EOT_THRESHOLD;
  if (typeof t.eagerEotThreshold === "number" && t.eagerEotThreshold > eot) {
    issues.push(
      issue(
        code,
        `${prefix}eager_eot_threshold`,
        t.eagerEotThreshold,
        `a value <= eot_threshold (${eot})`,
        "is greater than eot_threshold",
      ),
    );
  }
}

/** Keyterm limits (reference §1.3): count, per-term length, total tokens. Values never leak into messages. */
function checkKeyterms(
  issues: FluxSettingsIssue[],
  field: string,
  keyterms: unknown,
  code: FluxSettingsErrorCode,
): void {
  if (keyterms === undefined) return;
  if (!Array.isArray(keyterms)) {
    issues.push({
      code,
      field,
      value: typeof keyterms,
      allowed: "a list of strings",
      message: `${field} must be a list of strings`,
    });
    return;
  }
  if (keyterms.length > MAX_KEYTERMS) {
    issues.push({
      code,
      field,
      value: `${keyterms.length} terms`,
      allowed: `at most ${MAX_KEYTERMS} terms`,
      message: `${field} has ${keyterms.length} terms: allowed at most ${MAX_KEYTERMS}`,
    });
  }
  let tokens = 0;
  keyterms.forEach((term: unknown, index) => {
    const allowed = `1 to ${MAX_KEYTERM_LENGTH} characters, not blank`;
    if (typeof term !== "string") {
      issues.push({
        code,
        field,
        value: `term #${index + 1} (${typeof term})`,
        allowed,
        message: `${field} term #${index + 1} is not a string: allowed ${allowed}`,
      });
      return;
    }
    if (term.trim().length === 0 || term.length > MAX_KEYTERM_LENGTH) {
      issues.push({
        code,
        field,
        value: `term #${index + 1} (${term.length} characters)`,
        allowed,
        message: `${field} term #${index + 1} has ${term.trim().length === 0 ? "no text" : `${term.length} characters`}: allowed ${allowed}`,
      });
    }
    tokens += term.split(/\s+/).filter(Boolean).length;
  });
  if (tokens > MAX_KEYTERM_TOKENS) {
    issues.push({
      code,
      field,
      value: `${tokens} tokens`,
      allowed: `at most ${MAX_KEYTERM_TOKENS} tokens in total`,
      message: `${field} has ${tokens} tokens in total: allowed at most ${MAX_KEYTERM_TOKENS}`,
    });
  }
}

/**
 * Normalizes one language hint: lower case, locale subtag folded to the base code
 * (`en-GB` → `en`, D-lang). Returns the input unchanged if it is not a string.
 */
export function normalizeLanguageHint(hint: string): string {
  return hint.trim().toLowerCase().split(/[-_]/, 1)[0] ?? "";
}

/**
 * Language hints: only on `flux-general-multi` (D-lang: any other model → 400), never
 * empty (AS), only supported codes.
 * CONFLICT: an unsupported code is a 400 per D-lang but silently echoed per third-party
 * measurements. Chosen: **refuse** (D-lang is the documented behaviour). A comma-joined
 * `en,ru` is therefore refused too, which is what a user who meant two hints needs to know.
 */
function checkLanguageHints(
  issues: FluxSettingsIssue[],
  field: string,
  model: unknown,
  hints: unknown,
  code: FluxSettingsErrorCode,
): void {
  if (hints === undefined || hints === null) return;
  if (!Array.isArray(hints)) {
    issues.push(issue(code, field, hints, "a list of language codes"));
    return;
  }
  if (hints.length > 0 && model !== FLUX_MULTILINGUAL_MODEL) {
    issues.push({
      code,
      field,
      value: hints.join(","),
      allowed: `only with model=${FLUX_MULTILINGUAL_MODEL}`,
      message: `${field} is not supported for model ${String(model)}: allowed only with model=${FLUX_MULTILINGUAL_MODEL}`,
    });
    return;
  }
  for (const hint of hints) {
    if (
      typeof hint !== "string" ||
      !(FLUX_LANGUAGES as readonly string[]).includes(normalizeLanguageHint(hint))
    ) {
      issues.push(
        issue(
          code,
          field,
          hint,
          `one of ${FLUX_LANGUAGES.join(", ")} (locale subtags fold to the base code)`,
          "is not a supported language",
        ),
      );
    }
  }
}

function checkEnum(
  issues: FluxSettingsIssue[],
  field: string,
  value: unknown,
  values: readonly (string | number)[],
): void {
  if (value !== undefined && !values.includes(value as string | number)) {
    issues.push(issue("INVALID_PARAMETER", field, value, `one of ${values.join(", ")}`));
  }
}

function checkBoolean(issues: FluxSettingsIssue[], field: string, value: unknown): void {
  if (value !== undefined && typeof value !== "boolean")
    issues.push(issue("INVALID_PARAMETER", field, value, "true or false"));
}

/**
 * Validates connection settings against the rules of reference §1.3 and §5. Returns every
 * issue found (empty when valid); never throws. Rules and their sources:
 * - `model` required, one of {@link FLUX_MODELS} (AS-old `required: [model]`).
 * - `encoding` and `sample_rate` come together (raw audio) or not at all (containers; SK:
 *   setting them for containerized audio causes errors). Rates: {@link FLUX_SAMPLE_RATES}.
 * - thresholds: see {@link EOT_THRESHOLD_RANGE}, {@link EAGER_EOT_THRESHOLD_RANGE},
 *   {@link EOT_TIMEOUT_MS_RANGE}; eager ≤ eot.
 * - keyterms: ≤100 terms, each non-blank and ≤100 characters, ≤500 tokens.
 *   CONFLICT: a weighted `term:0.15` is "invalid" per AS (Jul 2026) but accepted as a literal
 *   term per REF and NPM. Chosen: **accepted as a literal** (REF, the later source).
 * - language hints: see {@link normalizeLanguageHint}; multi only; supported codes only.
 * - `redact`: `numbers` | `aggressive_numbers` (SK).
 */
export function validateSettings(settings: FluxSettings): FluxSettingsIssue[] {
  const issues: FluxSettingsIssue[] = [];
  const s = settings as Partial<Record<keyof FluxSettings, unknown>>;
  if (s.model === undefined) {
    issues.push({
      code: "INVALID_PARAMETER",
      field: "model",
      value: undefined,
      allowed: FLUX_MODELS.join(", "),
      message: `model is required: allowed ${FLUX_MODELS.join(", ")}`,
    });
  } else {
    checkEnum(issues, "model", s.model, FLUX_MODELS);
  }
  checkEnum(issues, "encoding", s.encoding, FLUX_ENCODINGS);
  checkEnum(issues, "sample_rate", s.sampleRate, FLUX_SAMPLE_RATES);
  if (s.encoding !== undefined && s.sampleRate === undefined) {
    issues.push({
      code: "INVALID_PARAMETER",
      field: "sample_rate",
      value: undefined,
      allowed: FLUX_SAMPLE_RATES.join(", "),
      message: `sample_rate is required with encoding=${JSON.stringify(s.encoding)}: allowed ${FLUX_SAMPLE_RATES.join(", ")}`,
    });
  }
  if (s.encoding === undefined && s.sampleRate !== undefined) {
    issues.push({
      code: "INVALID_PARAMETER",
      field: "encoding",
      value: undefined,
      allowed: FLUX_ENCODINGS.join(", "),
      message: `encoding is required with sample_rate=${JSON.stringify(s.sampleRate)} (omit both for containerized audio): allowed ${FLUX_ENCODINGS.join(", ")}`,
    });
  }
  checkThresholds(issues, s, "", "INVALID_PARAMETER");
  checkKeyterms(issues, "keyterm", s.keyterms, "INVALID_PARAMETER");
  checkLanguageHints(issues, "language_hint", s.model, s.languageHints, "INVALID_PARAMETER");
  checkBoolean(issues, "numerals", s.numerals);
  checkBoolean(issues, "profanity_filter", s.profanityFilter);
  checkBoolean(issues, "mip_opt_out", s.mipOptOut);
  checkEnum(issues, "redact", s.redact, FLUX_REDACT_VALUES);
  if (s.tags !== undefined) {
    if (!Array.isArray(s.tags) || s.tags.some((t) => typeof t !== "string"))
      issues.push(issue("INVALID_PARAMETER", "tag", s.tags, "a list of strings"));
  }
  return issues;
}

/** Validates settings and throws {@link FluxSettingsError} listing every issue. Returns the settings unchanged. */
export function assertValidSettings<T extends FluxSettings>(settings: T): T {
  const issues = validateSettings(settings);
  if (issues.length > 0) throw new FluxSettingsError(issues);
  return settings;
}

// ---------------------------------------------------------------------------
// Active (mid-stream) configuration and Configure

/**
 * The part of the settings `Configure` can change, with defaults applied: what
 * `ConfigureSuccess` echoes (reference §2.1, §3.3).
 */
export interface FluxActiveConfiguration {
  eotThreshold: number;
  /** `undefined`: eager mode off. */
  eagerEotThreshold: number | undefined;
  eotTimeoutMs: number;
  keyterms: readonly string[];
  /** Normalized base codes; `[]` = auto-detect. */
  languageHints: readonly string[];
  numerals: boolean;
}

/** The active configuration a connection starts with (defaults: D-cfg). */
export function initialActiveConfiguration(settings: FluxSettings): FluxActiveConfiguration {
  return {
    eotThreshold: settings.eotThreshold ?? DEFAULT_EOT_THRESHOLD,
    eagerEotThreshold: settings.eagerEotThreshold,
    eotTimeoutMs: settings.eotTimeoutMs ?? DEFAULT_EOT_TIMEOUT_MS,
    keyterms: [...(settings.keyterms ?? [])],
    languageHints: dedupe((settings.languageHints ?? []).map(normalizeLanguageHint)),
    numerals: settings.numerals ?? false,
  };
}

/** Outcome of {@link applyConfigure}. */
export type ConfigureResult =
  | { ok: true; configuration: FluxActiveConfiguration }
  | {
      ok: false;
      /** `ConfigureFailure.code`. */
      code: FluxSettingsErrorCode;
      /** `ConfigureFailure.description`: every issue, one sentence each. */
      description: string;
      issues: FluxSettingsIssue[];
    };

/** The fields of a (schema-valid) Configure message {@link applyConfigure} reads. */
export interface ConfigureFields {
  thresholds?: { eager_eot_threshold?: number; eot_threshold?: number; eot_timeout_ms?: number };
  keyterms?: readonly string[];
  language_hints?: readonly string[] | null;
  numerals?: boolean;
}

/**
 * Applies a Configure to the active configuration, atomically: if any field fails,
 * nothing changes (D-conf). Validation is the connection's (reference §2.1).
 * - `thresholds`: each supplied field replaces its value.
 *   UNKNOWN/choice: D-conf checks eager ≤ eot "when both are present in the message";
 *   what happens when only one is sent is not documented. We check the **resulting**
 *   configuration, so the stream never runs in a state the handshake would refuse.
 * - `keyterms` replaces the list; `[]` clears.
 * - `language_hints`: non-empty replaces, `[]` clears, `null`/omitted keeps.
 *   UNKNOWN/choice: hints on `flux-general-en` → `ConfigureFailure` (the reference's "probably").
 * Codes: `INVALID_THRESHOLD` (D-conf, the only documented one) for threshold issues,
 * `INVALID_PARAMETER` (the handshake's code, D-lang) for the others — those codes are UNKNOWN.
 */
export function applyConfigure(
  active: FluxActiveConfiguration,
  configure: ConfigureFields,
  model: FluxModel,
): ConfigureResult {
  const issues: FluxSettingsIssue[] = [];
  const t = configure.thresholds ?? {};
  const next: FluxActiveConfiguration = {
    eotThreshold: t.eot_threshold ?? active.eotThreshold,
    eagerEotThreshold: t.eager_eot_threshold ?? active.eagerEotThreshold,
    eotTimeoutMs: t.eot_timeout_ms ?? active.eotTimeoutMs,
    keyterms: configure.keyterms !== undefined ? [...configure.keyterms] : active.keyterms,
    languageHints:
      configure.language_hints === undefined || configure.language_hints === null
        ? active.languageHints
        : dedupe(configure.language_hints.map(normalizeLanguageHint)),
    numerals: configure.numerals ?? active.numerals,
  };
  checkThresholds(issues, next, "thresholds.", "INVALID_THRESHOLD");
  checkKeyterms(issues, "keyterms", configure.keyterms, "INVALID_PARAMETER");
  checkLanguageHints(
    issues,
    "language_hints",
    model,
    configure.language_hints,
    "INVALID_PARAMETER",
  );
  if (issues.length > 0) {
    const code = issues.some((i) => i.code === "INVALID_THRESHOLD")
      ? "INVALID_THRESHOLD"
      : "INVALID_PARAMETER";
    return { ok: false, code, description: issues.map((i) => i.message).join("; "), issues };
  }
  return { ok: true, configuration: next };
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}
