/**
 * The serializer interface: how one WebSocket protocol (Twilio Media Streams, Telnyx, Plivo,
 * Exotel, the browser page's) maps to voxpipe frames. The WebSocket transports own the
 * socket, pacing, resampling and interruption; a serializer only translates messages, so the
 * same transport carries any protocol (Pipecat's `FrameSerializer`, pipecat-design-notes §5.3).
 */
import type { InputAudioEncoding, KeypadEntry } from "@voxpipe/core";

/** A message to send on the socket: text (JSON) or binary. */
export type WireMessage = string | Uint8Array;

/** Audio format on the wire, one direction. */
export interface WireAudioFormat {
  /** Sample rate, Hz (telephony: 8000). */
  readonly sampleRate: number;
  /** `linear16` (PCM s16le), `mulaw` or `alaw` (G.711, 1 byte per sample). */
  readonly encoding: InputAudioEncoding;
}

/** What a provider's `start` message says about the call. Fields it does not send are absent. */
export interface CallInfo {
  /** The stream's id (`streamSid`, `stream_id`, `streamId`, `stream_sid`). */
  readonly streamId: string;
  /** The call's id for the provider's REST API (`callSid`, `call_control_id`, `callId`, `call_sid`). */
  readonly callId?: string | undefined;
  /** The account (`accountSid`, `accountId`, `account_sid`). */
  readonly accountId?: string | undefined;
  /** Custom parameters passed with the stream (`customParameters`, `custom_parameters`…). */
  readonly customParameters: Readonly<Record<string, string>>;
  /** The caller's audio format, as the provider announced it. */
  readonly inputFormat: WireAudioFormat;
}

/**
 * One received message, understood. Receiving is lenient (design.md): anything not
 * understood is `ignored` with a reason (logged at debug) — never an exception.
 */
export type InboundMessage =
  /** The socket-level hello (Twilio `connected`). */
  | { readonly type: "connected" }
  /** The stream starts; from now on audio, DTMF and marks refer to `call`. */
  | { readonly type: "start"; readonly call: CallInfo }
  /** Caller audio in `call.inputFormat` (raw bytes, base64 already decoded). */
  | { readonly type: "audio"; readonly audio: Uint8Array; readonly streamId?: string | undefined }
  /** A key press. */
  | { readonly type: "dtmf"; readonly button: KeypadEntry; readonly streamId?: string | undefined }
  /** A mark we sent has been played (Twilio/Telnyx/Exotel `mark`, Plivo `playedStream`). */
  | { readonly type: "mark"; readonly name: string; readonly streamId?: string | undefined }
  /** The stream ended (`stop`): the caller hung up or the provider closed the stream. */
  | { readonly type: "stop" }
  /** Not used by voxpipe (unknown event, malformed message); `error` marks a protocol violation. */
  | { readonly type: "ignored"; readonly reason: string; readonly error?: boolean };

/**
 * A WebSocket protocol ↔ frames. One instance per connection (it may keep the stream id).
 *
 * Inbound: {@link deserialize} turns each message into an {@link InboundMessage}; the
 * transport turns audio into `InputAudioRawFrame`s (resampled, or passed through), `dtmf`
 * into `InputDTMFFrame`s, and marks into "this sentence was heard".
 *
 * Outbound: the transport resamples the bot's audio to {@link outputFormat}'s rate, cuts it
 * into chunks paced in real time, and asks for one message per chunk
 * ({@link serializeAudio}); an `InterruptionFrame` becomes {@link serializeClear};
 * sentence boundaries become {@link serializeMark} when the protocol has marks.
 */
export interface FrameSerializer {
  /** Protocol name for logs and errors (`twilio`, `telnyx`, `plivo`, `exotel`, `browser`). */
  readonly protocol: string;
  /**
   * Whether the protocol begins with a `start` message carrying the call (telephony: yes).
   * The transport waits for it before the session is announced.
   */
  readonly expectsStart: boolean;
  /** Largest message accepted, bytes; bigger ones are refused by the transport (close 1009). */
  readonly maxMessageBytes: number;
  /** The audio format the bot's audio must be sent in (known after `start`). */
  readonly outputFormat: WireAudioFormat;
  /** Parses one received message (text or binary). Never throws. */
  deserialize(data: WireMessage): InboundMessage;
  /** One chunk of the bot's audio, PCM s16le at `outputFormat.sampleRate`, as a message. */
  serializeAudio(pcm: Uint8Array): WireMessage;
  /** The message that makes the provider drop audio it has buffered (barge-in). */
  serializeClear(): WireMessage | undefined;
  /** A mark: the provider answers with the same name once the audio sent before it has played. */
  serializeMark?(name: string): WireMessage;
  /** A message for the client that is not audio (the browser page's turn events), or undefined. */
  serializeEvent?(event: object): WireMessage | undefined;
}

/** Parses JSON leniently: an object, or a reason why not. */
export function parseJsonObject(
  data: WireMessage,
): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  if (typeof data !== "string") return { ok: false, reason: "binary message, expected JSON text" };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, reason: "message is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, reason: "message is not a JSON object" };
  return { ok: true, value: value as Record<string, unknown> };
}

/** `value[key]` if it is an object, else an empty object (lenient field access). */
export function objectField(
  value: Readonly<Record<string, unknown>>,
  key: string,
): Record<string, unknown> {
  const v = value[key];
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

/** `value[key]` as a string (numbers are printed), else undefined. */
export function stringField(
  value: Readonly<Record<string, unknown>>,
  key: string,
): string | undefined {
  const v = value[key];
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

/** String-valued entries of an object (custom parameters); other values are printed as JSON. */
export function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

/** Decodes a base64 payload field; undefined when missing or not base64. */
export function base64Field(media: Readonly<Record<string, unknown>>): Uint8Array | undefined {
  const payload = media.payload;
  if (typeof payload !== "string" || payload.length === 0) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) return undefined;
  return new Uint8Array(Buffer.from(payload, "base64"));
}

/** Base64 of bytes (for outbound `media` payloads). */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** A keypad key from a provider's `digit` field, or undefined. */
export function keypadEntry(digit: unknown): KeypadEntry | undefined {
  if (typeof digit !== "string") return undefined;
  const d = digit.toUpperCase();
  return /^[0-9*#A-D]$/.test(d) ? (d as KeypadEntry) : undefined;
}

/**
 * Maps a provider's encoding name to voxpipe's: `audio/x-mulaw`, `PCMU` → `mulaw`;
 * `audio/x-alaw`, `PCMA` → `alaw`; `audio/x-l16`, `audio/x-raw`, `L16` → `linear16`.
 */
export function wireEncoding(name: string | undefined, fallback: InputAudioEncoding) {
  if (name === undefined) return fallback;
  const n = name.toLowerCase();
  if (n.includes("mulaw") || n.includes("pcmu") || n.includes("ulaw")) return "mulaw";
  if (n.includes("alaw") || n.includes("pcma")) return "alaw";
  if (n.includes("l16") || n.includes("raw") || n.includes("linear16") || n.includes("slin"))
    return "linear16";
  return fallback;
}
