/**
 * `/v2/listen` query strings: build from {@link FluxSettings} and parse back, strictly.
 * All values travel as strings; lists are repeated keys, never commas (reference §1.3).
 */
import { FLUX_LISTEN_PATH } from "./constants.js";
import {
  FLUX_QUERY_PARAMETERS,
  validateSettings,
  type FluxQueryParameter,
  type FluxSettings,
  type FluxSettingsIssue,
} from "./settings.js";

const LIST_PARAMETERS: ReadonlySet<string> = new Set(["keyterm", "language_hint", "tag"]);
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set(Object.values(FLUX_QUERY_PARAMETERS));

/**
 * Builds the query string (without `?`) for the given settings, in a stable order, with
 * lists as repeated keys and values percent-encoded (`customer%20service`). Does not
 * validate: call {@link validateSettings} first if the input is untrusted.
 */
export function buildListenQuery(settings: FluxSettings): string {
  const parts: string[] = [];
  for (const [option, name] of Object.entries(FLUX_QUERY_PARAMETERS) as [
    keyof FluxSettings,
    FluxQueryParameter,
  ][]) {
    const value = settings[option];
    if (value === undefined) continue;
    const values: readonly unknown[] = Array.isArray(value) ? value : [value];
    for (const v of values) parts.push(`${name}=${encodeURIComponent(String(v))}`);
  }
  return parts.join("&");
}

/**
 * Builds the full `/v2/listen` URL on a base such as `wss://api.deepgram.com` or
 * `ws://127.0.0.1:8787`. Contains keyterms: never log it.
 */
export function buildListenUrl(baseUrl: string, settings: FluxSettings): string {
  return `${baseUrl.replace(/\/+$/, "")}${FLUX_LISTEN_PATH}?${buildListenQuery(settings)}`;
}

/** Outcome of {@link parseListenQuery}. */
export type ParseListenQueryResult =
  { ok: true; settings: FluxSettings } | { ok: false; issues: FluxSettingsIssue[] };

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const INTEGER = /^[+-]?\d+$/;

/**
 * Parses a `/v2/listen` query (with or without the leading `?`) into settings and
 * validates them ({@link validateSettings}). Strict like Flux: an unknown parameter name
 * is refused with `INVALID_QUERY_PARAMETER` (third-party measurements: `language_hints` →
 * 400), a single-valued parameter given twice or a value of the wrong type with
 * `INVALID_PARAMETER`. Never throws. Returned language hints are as given (see
 * `initialActiveConfiguration` for normalization).
 */
export function parseListenQuery(query: string | URLSearchParams): ParseListenQueryResult {
  const params =
    typeof query === "string"
      ? new URLSearchParams(query.startsWith("?") ? query.slice(1) : query)
      : query;
  const issues: FluxSettingsIssue[] = [];
  const grouped = new Map<string, string[]>();
  for (const [name, value] of params) {
    if (!KNOWN_PARAMETERS.has(name)) {
      if (!grouped.has(name)) {
        issues.push({
          code: "INVALID_QUERY_PARAMETER",
          field: name,
          value: undefined,
          allowed: [...KNOWN_PARAMETERS].join(", "),
          message: `unknown query parameter ${JSON.stringify(name)}: allowed ${[...KNOWN_PARAMETERS].join(", ")}`,
        });
      }
    }
    const list = grouped.get(name) ?? [];
    list.push(value);
    grouped.set(name, list);
  }
  const settings: Record<string, unknown> = {};
  for (const [option, name] of Object.entries(FLUX_QUERY_PARAMETERS)) {
    const values = grouped.get(name);
    if (values === undefined) continue;
    if (LIST_PARAMETERS.has(name)) {
      if (name === "language_hint" && values.some((v) => v.trim() === "")) {
        // An empty `language_hint=` is a 400 (AS, third-party measurements).
        issues.push({
          code: "INVALID_PARAMETER",
          field: name,
          value: "",
          allowed: "a language code",
          message: `language_hint="" is empty: allowed a language code`,
        });
      }
      settings[option] = name === "language_hint" ? values.filter((v) => v.trim() !== "") : values;
      continue;
    }
    if (values.length > 1) {
      issues.push({
        code: "INVALID_PARAMETER",
        field: name,
        value: values.join(","),
        allowed: "one value",
        message: `${name} is given ${values.length} times: allowed one value`,
      });
      continue;
    }
    const raw = values[0] ?? "";
    const parsed = parseScalar(name, raw);
    if (parsed.ok) settings[option] = parsed.value;
    else
      issues.push({
        code: "INVALID_PARAMETER",
        field: name,
        value: raw,
        allowed: parsed.allowed,
        message: `${name}=${JSON.stringify(raw)} is not valid: allowed ${parsed.allowed}`,
      });
  }
  const typed = settings as unknown as FluxSettings;
  // Values that failed to parse are absent, so validation does not report them twice.
  const all = [
    ...issues,
    ...validateSettings(typed).filter((i) => !issues.some((p) => p.field === i.field)),
  ];
  return all.length > 0 ? { ok: false, issues: all } : { ok: true, settings: typed };
}

function parseScalar(
  name: string,
  raw: string,
): { ok: true; value: unknown } | { ok: false; allowed: string } {
  switch (name) {
    case "sample_rate":
    case "eot_timeout_ms":
      return INTEGER.test(raw)
        ? { ok: true, value: Number(raw) }
        : { ok: false, allowed: "an integer" };
    case "eot_threshold":
    case "eager_eot_threshold":
      return NUMBER.test(raw)
        ? { ok: true, value: Number(raw) }
        : { ok: false, allowed: "a number" };
    case "numerals":
    case "profanity_filter":
    case "mip_opt_out":
      return raw === "true" || raw === "false"
        ? { ok: true, value: raw === "true" }
        : { ok: false, allowed: "true or false" };
    default:
      return { ok: true, value: raw };
  }
}
