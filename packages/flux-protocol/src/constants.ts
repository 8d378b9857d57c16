/**
 * Values and limits of the Flux `/v2/listen` protocol.
 *
 * Every constant names its source (keys of the protocol reference,
 * `shared/reference/flux-protocol.md` §0). Where sources disagree the choice is
 * marked CONFLICT with the reason.
 */

/** Flux models (reference §1.3, AS). Any other value is refused. */
export const FLUX_MODELS = ["flux-general-en", "flux-general-multi"] as const;
/** A Flux model name. */
export type FluxModel = (typeof FLUX_MODELS)[number];

/** The multilingual model: the only one that accepts `language_hint` (D-lang). */
export const FLUX_MULTILINGUAL_MODEL: FluxModel = "flux-general-multi";

/** Raw audio encodings the protocol names (reference §1.4, AS). */
export const FLUX_ENCODINGS = [
  "linear16",
  "linear32",
  "mulaw",
  "alaw",
  "opus",
  "ogg-opus",
] as const;
/** A raw audio encoding. */
export type FluxEncoding = (typeof FLUX_ENCODINGS)[number];

/** Sample rates in Hz accepted for raw audio (reference §1.4, D-qs, D-mig). */
export const FLUX_SAMPLE_RATES = [8000, 16000, 24000, 44100, 48000] as const;
/** A sample rate in Hz. */
export type FluxSampleRate = (typeof FLUX_SAMPLE_RATES)[number];

/** `redact` values (reference §1.3, AS, SK). Anything else is a handshake 400. */
export const FLUX_REDACT_VALUES = ["numbers", "aggressive_numbers"] as const;
/** A `redact` value. */
export type FluxRedact = (typeof FLUX_REDACT_VALUES)[number];

/**
 * Base language codes accepted by `language_hint` on `flux-general-multi` (D-lang).
 * Locale subtags fold to the base code (`en-GB` → `en`).
 */
export const FLUX_LANGUAGES = ["en", "es", "fr", "de", "hi", "ru", "pt", "ja", "it", "nl"] as const;
/** A supported language code. */
export type FluxLanguage = (typeof FLUX_LANGUAGES)[number];

/** Inclusive numeric range with its default. */
export interface FluxRange {
  readonly min: number;
  readonly max: number;
}

/**
 * `eot_threshold` range.
 * CONFLICT: 0.5–0.9 (AS-old, D-cfg, D-conf table) vs 0.5–1.0 (REF, SK, D-qs, D-byo,
 * NPM 5.13). Chosen: **0.5–1.0**, the current documented behaviour; 1.0 switches
 * model-based EndOfTurn off (only `manual` and `timeout` remain, D-byo). The 0.9 cap
 * predates ForceEndTurn (Aug 2026).
 */
export const EOT_THRESHOLD_RANGE: FluxRange = { min: 0.5, max: 1.0 };
/** Default `eot_threshold` (D-cfg). */
export const DEFAULT_EOT_THRESHOLD = 0.7;

/** `eager_eot_threshold` range (D-cfg, REF). Unset by default: eager mode off. */
export const EAGER_EOT_THRESHOLD_RANGE: FluxRange = { min: 0.3, max: 0.9 };

/**
 * `eot_timeout_ms` range in milliseconds.
 * CONFLICT: max 60000 (D-cfg now, D-qs, D-byo, REF, NPM) vs 10000 (D-conf table,
 * older D-cfg). Chosen: **500–60000**, the current documented behaviour.
 */
export const EOT_TIMEOUT_MS_RANGE: FluxRange = { min: 500, max: 60000 };
/** Default `eot_timeout_ms` (D-cfg). */
export const DEFAULT_EOT_TIMEOUT_MS = 5000;

/** At most this many keyterms per connection or Configure (D-conf, SK). */
export const MAX_KEYTERMS = 100;
/** At most this many characters per keyterm (PY #616, pipecat PR #5643). */
export const MAX_KEYTERM_LENGTH = 100;
/**
 * At most this many tokens across all keyterms (D-conf, SK). Deepgram's tokenizer
 * is not public, so tokens are counted as whitespace-separated words: a lower bound.
 */
export const MAX_KEYTERM_TOKENS = 500;

/** Path of the Flux endpoint (AS). */
export const FLUX_LISTEN_PATH = "/v2/listen";

/**
 * Audio per `Update`: Flux sends one TurnInfo per 240 ms of audio (reference §4.2 rule 1,
 * §4.8 step 3: every 3rd 80 ms frame).
 */
export const UPDATE_INTERVAL_MS = 240;
/** Recommended audio chunk length in ms (D-qs, D-mig). */
export const RECOMMENDED_CHUNK_MS = 80;

/** Codes of the fatal `Error` message (reference §3.6). */
export const FLUX_ERROR_CODES = {
  unparsableClientMessage: "UNPARSABLE_CLIENT_MESSAGE",
  internalServerError: "INTERNAL_SERVER_ERROR",
} as const;

/** Code of the only documented Flux STT `Warning` (reference §3.5, SK-api mistake 18). */
export const FORCE_END_TURN_NO_ACTIVE_TURN = "FORCE_END_TURN_NO_ACTIVE_TURN";
