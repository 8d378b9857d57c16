/**
 * The body of `InvokeEndpointWithBidirectionalStream`, both ways: AWS event stream messages
 * (`application/vnd.amazon.eventstream`: prelude with total and header lengths and a CRC32,
 * typed headers, payload, message CRC32). Framing and CRCs are `@smithy/eventstream-codec`'s
 * (the codec AWS's own clients use); this module only knows SageMaker's event shapes
 * (aws-sdk-js-v3 `clients/client-sagemaker-runtime-http2/src/schemas/schemas_0.ts`):
 *
 * - `RequestPayloadPart` / `ResponsePayloadPart`: `Bytes` is the event payload; `DataType`
 *   (`UTF8` | `BINARY`), `CompletionState` (`PARTIAL` | `COMPLETE`) and `P` (padding) are
 *   string event headers. Missing `DataType` means BINARY, missing `CompletionState` COMPLETE.
 * - Response exceptions: `ModelStreamError {Message, ErrorCode}`, `InternalStreamFailure {Message}`
 *   as `:message-type: exception` events with a JSON payload.
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import type { Message, MessageHeaders } from "@smithy/types";

/** The one codec instance (stateless for `encode`/`decode`). */
export const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** How SageMaker types a payload part: text (JSON control messages) or binary (audio). */
export type PayloadDataType = "UTF8" | "BINARY";

/** The event stream `Content-Type` of both bodies. */
export const EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream";

/**
 * Encodes one `PayloadPart` event (unsigned; the signing stream wraps it).
 * @param bytes the payload: audio bytes, or a UTF-8 JSON message
 */
export function encodePayloadPart(bytes: Uint8Array, dataType: PayloadDataType): Uint8Array {
  return codec.encode({
    headers: {
      ":message-type": { type: "string", value: "event" },
      ":event-type": { type: "string", value: "PayloadPart" },
      ":content-type": { type: "string", value: "application/octet-stream" },
      DataType: { type: "string", value: dataType },
    },
    body: bytes,
  });
}

/**
 * Encodes a response exception event (`ModelStreamError`, `InternalStreamFailure`), as a
 * restJson1 service sends it: `:message-type: exception`, `:exception-type`, JSON payload.
 */
export function encodeException(
  type: "ModelStreamError" | "InternalStreamFailure",
  fields: { Message: string; ErrorCode?: string },
): Uint8Array {
  return codec.encode({
    headers: {
      ":message-type": { type: "string", value: "exception" },
      ":exception-type": { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
    },
    body: fromUtf8(JSON.stringify(fields)),
  });
}

/** What one response message means. Received leniently: unknown events are reported as such. */
export type ResponseEvent =
  | { readonly kind: "payload"; readonly bytes: Uint8Array; readonly dataType: PayloadDataType }
  | {
      readonly kind: "exception";
      /** `ModelStreamError`, `InternalStreamFailure`, or an event stream `error` message's code. */
      readonly type: string;
      readonly message: string;
      readonly errorCode: string | undefined;
    }
  | { readonly kind: "unknown"; readonly type: string };

/** Reads a string header; absent or of another type → `undefined`. */
export function stringHeader(headers: MessageHeaders, name: string): string | undefined {
  const h = headers[name];
  return h?.type === "string" ? h.value : undefined;
}

/** Classifies one decoded response message. */
export function readResponseEvent(message: Message): ResponseEvent {
  const h = message.headers;
  const messageType = stringHeader(h, ":message-type");
  if (messageType === "event") {
    const type = stringHeader(h, ":event-type") ?? "";
    if (type !== "PayloadPart") return { kind: "unknown", type };
    const dataType = stringHeader(h, "DataType") === "UTF8" ? "UTF8" : "BINARY";
    return { kind: "payload", bytes: message.body, dataType };
  }
  if (messageType === "exception") {
    const type = stringHeader(h, ":exception-type") ?? "UnknownException";
    const fields = parseJsonObject(toUtf8(message.body));
    return {
      kind: "exception",
      type,
      message: str(fields.Message) ?? str(fields.message) ?? "",
      errorCode: str(fields.ErrorCode),
    };
  }
  if (messageType === "error") {
    return {
      kind: "exception",
      type: stringHeader(h, ":error-code") ?? "UnknownError",
      message: stringHeader(h, ":error-message") ?? "",
      errorCode: undefined,
    };
  }
  return { kind: "unknown", type: messageType ?? "" };
}

/** Parses a JSON object; anything else → `{}`. */
export function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
