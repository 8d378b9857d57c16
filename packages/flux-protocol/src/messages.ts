/**
 * Flux `/v2/listen` messages: types, tolerant parsing and encoding.
 *
 * Wire field names are kept as they are on the wire (snake_case) because these
 * types *are* the wire format; camelCase options live in `settings.ts`.
 * Sources: reference §2 (client → server) and §3 (server → client).
 */
import { z } from "zod";
import { float32 } from "./float32.js";

// ---------------------------------------------------------------------------
// Client → server

/**
 * `Configure`: update settings mid-stream, in order with the audio (reference §2.1).
 * Omitted fields keep their value; `keyterms` replaces the whole list; `language_hints`
 * `[]` clears, `null`/omitted keeps.
 */
export interface ConfigureMessage {
  type: "Configure";
  thresholds?: ConfigureThresholds;
  /** Replaces the whole keyterm list (`[]` clears). The spec also allows a bare string. */
  keyterms?: string[];
  /** `flux-general-multi` only. Non-empty replaces, `[]` clears, `null` keeps. */
  language_hints?: string[] | null;
  /** Numeral formatting for transcripts sent after the update (since Sep 2026). */
  numerals?: boolean;
}

/** Threshold fields of `Configure` and `ConfigureSuccess`. Numbers, never strings (SK 1.7.0). */
export interface ConfigureThresholds {
  eager_eot_threshold?: number;
  eot_threshold?: number;
  /** Milliseconds of streamed silence after speech before a `timeout` EndOfTurn. */
  eot_timeout_ms?: number;
}

/** `ForceEndTurn`: end the open turn now (`trigger: "manual"`, reference §4.5). */
export interface ForceEndTurnMessage {
  type: "ForceEndTurn";
}

/**
 * `CloseStream`: the server decodes the audio already received, sends the matching
 * `Update`s, then closes without a status code (client sees 1005) — no EndOfTurn, no
 * metadata (reference §4.6). CONFLICT: an older close-stream page (D-cs-old) promised final
 * results and a summary; the current page (D-cs) and SK 1.7.0 say Updates only. Chosen: current.
 */
export interface CloseStreamMessage {
  type: "CloseStream";
}

/** A text message a client may send on `/v2/listen`. Audio goes in binary frames. */
export type ClientMessage = ConfigureMessage | ForceEndTurnMessage | CloseStreamMessage;

/**
 * A text frame the server could not accept. The server answers it with a fatal
 * `Error` `UNPARSABLE_CLIENT_MESSAGE` and closes (reference §2, §5).
 */
export interface InvalidClientMessage {
  type: "Invalid";
  /** serde-style description for the `Error` message, e.g. "unknown variant `KeepAlive`, …". */
  description: string;
}

const thresholdsSchema = z
  .object({
    eager_eot_threshold: z.number().optional(),
    eot_threshold: z.number().optional(),
    eot_timeout_ms: z.number().int().nonnegative().optional(),
  })
  .strict();

// Strict objects: the v1 form `{"type":"Configure","features":{…}}` is rejected (SK 1.7.0).
const clientMessageSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("Configure"),
      thresholds: thresholdsSchema.optional(),
      keyterms: z.union([z.array(z.string()), z.string()]).optional(),
      language_hints: z.array(z.string()).nullable().optional(),
      numerals: z.boolean().optional(),
    })
    .strict(),
  z.object({ type: z.literal("ForceEndTurn") }).strict(),
  z.object({ type: z.literal("CloseStream") }).strict(),
]);

const CLIENT_VARIANTS = "expected one of `CloseStream`, `Configure`, `ForceEndTurn`";
const DESERIALIZE = "Could not deserialize last text message";

/**
 * Parses a client text frame. Never throws: anything that is not exactly one of the
 * three v2 messages (including v1's `KeepAlive`/`Finalize`, wrong JSON types such as
 * `numerals: "true"`, and non-JSON) comes back as {@link InvalidClientMessage} whose
 * description follows the real server's wording (JS PR #526, reference §2 notes).
 * A bare-string `keyterms` is normalized to a one-element array.
 */
export function parseClientMessage(text: string): ClientMessage | InvalidClientMessage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { type: "Invalid", description: `${DESERIALIZE}: expected a JSON object` };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { type: "Invalid", description: `${DESERIALIZE}: expected a JSON object` };
  }
  const type = (data as { type?: unknown }).type;
  if (typeof type !== "string") {
    return { type: "Invalid", description: `${DESERIALIZE}: missing field \`type\`` };
  }
  if (type !== "Configure" && type !== "ForceEndTurn" && type !== "CloseStream") {
    return {
      type: "Invalid",
      description: `${DESERIALIZE}: unknown variant \`${truncate(type, 64)}\`, ${CLIENT_VARIANTS}`,
    };
  }
  const result = clientMessageSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join(".") ?? "";
    const what =
      issue?.code === "unrecognized_keys"
        ? `unknown field \`${issue.keys.join("`, `")}\``
        : `invalid value for \`${path}\`: ${issue?.message ?? "invalid"}`;
    return { type: "Invalid", description: `${DESERIALIZE}: ${what} in \`${type}\`` };
  }
  const message = result.data;
  if (message.type === "Configure" && typeof message.keyterms === "string") {
    return { ...message, keyterms: [message.keyterms] };
  }
  return message as ClientMessage;
}

/** Encodes a client message as the JSON text frame Flux expects. */
export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

// ---------------------------------------------------------------------------
// Server → client

/** TurnInfo events (reference §3.2). The wire enum is open; unknown ones parse as {@link UnknownServerMessage}. */
export const TURN_EVENTS = [
  "Update",
  "StartOfTurn",
  "EagerEndOfTurn",
  "TurnResumed",
  "EndOfTurn",
] as const;
/** A TurnInfo event name. */
export type TurnEvent = (typeof TURN_EVENTS)[number];

/** Causes of an EndOfTurn (reference §4.2 rule 9). Open enum on the wire. */
export const END_OF_TURN_TRIGGERS = ["model", "manual", "timeout"] as const;
/** A known EndOfTurn trigger. Unknown strings are kept as they are. */
export type EndOfTurnTrigger = (typeof END_OF_TURN_TRIGGERS)[number];

/** `Connected`: always the first message, `sequence_id` 0 (reference §3.1). */
export interface ConnectedMessage {
  type: "Connected";
  request_id: string;
  sequence_id: number;
}

/** One recognized word. `word` is punctuated and cased; times in seconds of stream audio. */
export interface FluxWord {
  word: string;
  /** 0–1. */
  confidence: number;
  /** Seconds since stream start; may be omitted on the wire. */
  start?: number;
  /** Seconds since stream start; may be omitted on the wire. */
  end?: number;
}

/** `TurnInfo`: the turn state after some audio (reference §3.2). */
export interface TurnInfoMessage {
  type: "TurnInfo";
  request_id: string;
  sequence_id: number;
  event: TurnEvent;
  /** Current turn, from 0; rises right after EndOfTurn. */
  turn_index: number;
  /** Seconds of stream audio where this turn's transcribed range starts. */
  audio_window_start: number;
  /** Seconds of stream audio processed so far. */
  audio_window_end: number;
  /** Full text of the current turn so far: replace, do not append. */
  transcript: string;
  words: FluxWord[];
  /**
   * 0–1. Required by the spec; optional here because a live capture omitted it
   * (reference §8) and losing an EndOfTurn over it would be worse than a missing number.
   */
  end_of_turn_confidence?: number;
  /** On every EndOfTurn and only there (since 2026-08-28). Open enum. */
  trigger?: EndOfTurnTrigger | (string & {});
  /** `flux-general-multi` only: detected languages by word count, descending. */
  languages?: string[];
  /**
   * `flux-general-multi` only: hints active for this turn. CONFLICT: AS says "only present
   * when hints are configured"; D-lang/D-state say every multi TurnInfo carries it (maybe
   * `[]`). Chosen: every multi TurnInfo (the docs, and the live capture, show it).
   */
  languages_hinted?: string[];
}

/** `ConfigureSuccess`: echoes the full active configuration (reference §3.3, SK 1.7.0). */
export interface ConfigureSuccessMessage {
  type: "ConfigureSuccess";
  request_id: string;
  sequence_id: number;
  thresholds: ConfigureThresholds;
  /** Always sent by Flux; optional when received (a client reconciles what is there). */
  keyterms?: string[];
  /** Present on `flux-general-multi`. */
  language_hints?: string[];
  numerals?: boolean;
}

/** `ConfigureFailure`: nothing was applied; the stream continues (reference §3.4). */
export interface ConfigureFailureMessage {
  type: "ConfigureFailure";
  request_id: string;
  sequence_id: number;
  /** Since REF (Sep 2026); `@deepgram/sdk` 5.13 does not type it. */
  code?: string;
  description?: string;
}

/** `Warning`: non-fatal, the socket stays open (reference §3.5). */
export interface WarningMessage {
  type: "Warning";
  request_id: string;
  sequence_id: number;
  code: string;
  description: string;
}

/** `Error`: fatal, the server closes afterwards. Has no `request_id` (reference §3.6). */
export interface ErrorMessage {
  type: "Error";
  sequence_id: number;
  code: string;
  description: string;
}

/** A server message this package understands. */
export type KnownServerMessage =
  | ConnectedMessage
  | TurnInfoMessage
  | ConfigureSuccessMessage
  | ConfigureFailureMessage
  | WarningMessage
  | ErrorMessage;

/**
 * A server frame that is not a known message: an unknown `type`, an unknown TurnInfo
 * `event`, a known type with missing/mistyped fields, or not JSON at all. Clients log
 * and skip it (RS maps unknown values to `Unknown`; PY #792 shows what crashing costs).
 */
export interface UnknownServerMessage {
  type: "Unknown";
  reason: "unknown-type" | "unknown-event" | "malformed" | "not-json";
  /** The frame's `type` field, if it had one. */
  wireType?: string;
  /** The TurnInfo `event`, for `unknown-event`. */
  event?: string;
  /** `sequence_id`, if present: it still counts in the sequence. */
  sequence_id?: number;
  /** What was wrong, for logs. Never contains the frame's text. */
  detail: string;
  /** The parsed JSON (or the raw text for `not-json`). */
  raw: unknown;
}

/**
 * A known server message as a client receives it: `sequence_id` may be missing and
 * `request_id` is `""` when the server left it out (the docs' own examples omit both on
 * several types, reference §8). Strict checks on them belong to the sequence checker.
 */
export type Received<M extends KnownServerMessage> = M extends KnownServerMessage
  ? Omit<M, "sequence_id"> & { sequence_id?: number }
  : never;

/** Any server frame after parsing (lenient: see {@link Received}). */
export type ServerMessage = Received<KnownServerMessage> | UnknownServerMessage;

const wordSchema = z.object({
  word: z.string(),
  confidence: z.number(),
  start: z.number().optional(),
  end: z.number().optional(),
});

const strings = z.array(z.string());

// Receive leniently (reference §3, §8): a message is parsed by the fields a client uses.
// `request_id` and `sequence_id` may be missing (docs examples omit them), and so may
// `trigger`, `languages*`, `end_of_turn_confidence`, word times and the optional parts of
// the Configure answers; extra fields are ignored. The sequence checker stays strict.
const requestId = z.string().default("");
const sequenceId = z.number().optional();

const serverSchemas = {
  Connected: z.object({
    type: z.literal("Connected"),
    request_id: requestId,
    sequence_id: sequenceId,
  }),
  TurnInfo: z.object({
    type: z.literal("TurnInfo"),
    request_id: requestId,
    sequence_id: sequenceId,
    event: z.enum(TURN_EVENTS),
    turn_index: z.number(),
    audio_window_start: z.number(),
    audio_window_end: z.number(),
    transcript: z.string(),
    words: z.array(wordSchema),
    end_of_turn_confidence: z.number().optional(),
    trigger: z.string().optional(),
    languages: strings.optional(),
    languages_hinted: strings.optional(),
  }),
  ConfigureSuccess: z.object({
    type: z.literal("ConfigureSuccess"),
    request_id: requestId,
    sequence_id: sequenceId,
    thresholds: z
      .object({
        eager_eot_threshold: z.number().nullable().optional(),
        eot_threshold: z.number().optional(),
        eot_timeout_ms: z.number().optional(),
      })
      .default({}),
    keyterms: strings.optional(),
    language_hints: strings.optional(),
    numerals: z.boolean().optional(),
  }),
  ConfigureFailure: z.object({
    type: z.literal("ConfigureFailure"),
    request_id: requestId,
    sequence_id: sequenceId,
    code: z.string().optional(),
    description: z.string().optional(),
  }),
  Warning: z.object({
    type: z.literal("Warning"),
    request_id: requestId,
    sequence_id: sequenceId,
    code: z.string().default("UNKNOWN_WARNING"),
    description: z.string().default(""),
  }),
  // A fatal Error must never be skipped over a missing field: it ends the connection.
  Error: z.object({
    type: z.literal("Error"),
    sequence_id: sequenceId,
    code: z.string().default("UNKNOWN_ERROR"),
    description: z.string().default(""),
  }),
} as const;

/**
 * Parses one server text frame. Never throws: unknown types, unknown TurnInfo events,
 * malformed known messages and non-JSON come back as {@link UnknownServerMessage}.
 * Known messages keep only their documented fields; what a client does not need may be
 * missing (see {@link Received}), so a server that omits `request_id`, `sequence_id`,
 * `trigger` or `languages` (as the docs' examples do) is still understood.
 */
export function parseServerMessage(text: string): ServerMessage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { type: "Unknown", reason: "not-json", detail: "frame is not JSON", raw: text };
  }
  return parseServerMessageObject(data);
}

/** Like {@link parseServerMessage}, for a value already decoded from JSON. */
export function parseServerMessageObject(data: unknown): ServerMessage {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return {
      type: "Unknown",
      reason: "malformed",
      detail: "frame is not a JSON object",
      raw: data,
    };
  }
  const record = data as Record<string, unknown>;
  const wireType = typeof record.type === "string" ? record.type : undefined;
  const sequence_id = typeof record.sequence_id === "number" ? record.sequence_id : undefined;
  const base = {
    type: "Unknown" as const,
    raw: data,
    ...(wireType !== undefined && { wireType }),
    ...(sequence_id !== undefined && { sequence_id }),
  };
  if (wireType === undefined || !Object.hasOwn(serverSchemas, wireType)) {
    return {
      ...base,
      reason: "unknown-type",
      detail: `unknown message type ${JSON.stringify(wireType ?? null)}`,
    };
  }
  if (
    wireType === "TurnInfo" &&
    typeof record.event === "string" &&
    !(TURN_EVENTS as readonly string[]).includes(record.event)
  ) {
    return {
      ...base,
      reason: "unknown-event",
      event: record.event,
      detail: `unknown TurnInfo event ${JSON.stringify(record.event)}`,
    };
  }
  const schema = serverSchemas[wireType as keyof typeof serverSchemas];
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    return {
      ...base,
      reason: "malformed",
      detail: `${wireType}: field \`${issue?.path.join(".") ?? ""}\` ${issue?.message ?? "invalid"}`,
    };
  }
  const message = result.data;
  if (message.type === "ConfigureSuccess" && message.thresholds.eager_eot_threshold === null) {
    const { eager_eot_threshold: _omit, ...thresholds } = message.thresholds;
    return { ...message, thresholds };
  }
  return message as ServerMessage;
}

/**
 * Encodes a server message as Flux prints it: keys in wire order (reference §3 "Common
 * rules": `type, request_id, event, turn_index, audio_window_start, audio_window_end,
 * transcript, words, [languages, languages_hinted], end_of_turn_confidence, [trigger],
 * sequence_id`) and every float rounded through float32 ({@link float32}).
 * Optional fields that are `undefined` are left out.
 */
export function encodeServerMessage(message: KnownServerMessage): string {
  switch (message.type) {
    case "Connected":
      return JSON.stringify({
        type: message.type,
        request_id: message.request_id,
        sequence_id: message.sequence_id,
      });
    case "TurnInfo":
      return encodeTurnInfo(message);
    case "ConfigureSuccess":
      return JSON.stringify({
        type: message.type,
        request_id: message.request_id,
        thresholds: {
          eager_eot_threshold: optionalFloat32(message.thresholds.eager_eot_threshold),
          eot_threshold: optionalFloat32(message.thresholds.eot_threshold),
          eot_timeout_ms: message.thresholds.eot_timeout_ms,
        },
        keyterms: message.keyterms,
        language_hints: message.language_hints,
        numerals: message.numerals,
        sequence_id: message.sequence_id,
      });
    case "ConfigureFailure":
    case "Warning":
      return JSON.stringify({
        type: message.type,
        request_id: message.request_id,
        sequence_id: message.sequence_id,
        code: message.code,
        description: message.description,
      });
    case "Error":
      return JSON.stringify({
        type: message.type,
        sequence_id: message.sequence_id,
        code: message.code,
        description: message.description,
      });
  }
}

/**
 * TurnInfo is most of the traffic (one per 240 ms per stream), so it is written directly
 * as text, without the intermediate objects `JSON.stringify` would need. Same output as
 * stringifying the object in wire order: strings through `JSON.stringify`, numbers through
 * {@link float32}, `undefined` fields left out.
 */
function encodeTurnInfo(m: TurnInfoMessage): string {
  let text =
    `{"type":"TurnInfo","request_id":${JSON.stringify(m.request_id)},"event":${JSON.stringify(m.event)}` +
    `,"turn_index":${jsonNumber(m.turn_index)}` +
    `,"audio_window_start":${jsonNumber(float32(m.audio_window_start))}` +
    `,"audio_window_end":${jsonNumber(float32(m.audio_window_end))}` +
    `,"transcript":${JSON.stringify(m.transcript)},"words":[`;
  for (let i = 0; i < m.words.length; i++) {
    const w = m.words[i];
    text += `${i === 0 ? "" : ","}{"word":${JSON.stringify(w.word)},"confidence":${jsonNumber(float32(w.confidence))}`;
    if (w.start !== undefined) text += `,"start":${jsonNumber(float32(w.start))}`;
    if (w.end !== undefined) text += `,"end":${jsonNumber(float32(w.end))}`;
    text += "}";
  }
  text += "]";
  if (m.languages !== undefined) text += `,"languages":${JSON.stringify(m.languages)}`;
  if (m.languages_hinted !== undefined)
    text += `,"languages_hinted":${JSON.stringify(m.languages_hinted)}`;
  if (m.end_of_turn_confidence !== undefined) {
    text += `,"end_of_turn_confidence":${jsonNumber(float32(m.end_of_turn_confidence))}`;
  }
  if (m.trigger !== undefined) text += `,"trigger":${JSON.stringify(m.trigger)}`;
  return `${text},"sequence_id":${jsonNumber(m.sequence_id)}}`;
}

/** A number as JSON writes it (`null` for NaN and infinities). */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : "null";
}

function optionalFloat32(value: number | undefined): number | undefined {
  return value === undefined ? undefined : float32(value);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
