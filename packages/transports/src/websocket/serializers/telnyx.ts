import type { CallInfo, InboundMessage, WireMessage } from "../serializer.js";
import { objectField, stringField, stringRecord, toBase64, wireEncoding } from "../serializer.js";
import { TelephonySerializer } from "./telephony.js";

/**
 * Telnyx Media Streaming (bidirectional, `stream_bidirectional_mode: "rtp"`). Source: Telnyx,
 * "Stream call media over WebSocket" (developers.telnyx.com/api-reference/websockets/…) and
 * Pipecat's `serializers/telnyx.py`.
 *
 * Receives `connected`, `start` (`stream_id`, `start.call_control_id`,
 * `start.media_format.encoding` = `PCMU`/`PCMA`, `start.media_format.sample_rate`,
 * `start.custom_parameters` when set), `media` (`media.payload`, base64 RTP payload), `dtmf`
 * (`dtmf.digit`), `mark`, `stop`. Sends `{"event":"media","media":{"payload"}}`,
 * `{"event":"mark","mark":{"name"}}` and `{"event":"clear"}` (Telnyx takes no stream id on
 * outbound messages). L16 streams (big-endian PCM) are refused as unsupported.
 */
export class TelnyxFrameSerializer extends TelephonySerializer {
  readonly protocol = "telnyx";

  protected parseEvent(event: string, message: Record<string, unknown>): InboundMessage {
    const streamId = stringField(message, "stream_id");
    switch (event) {
      case "start": {
        const start = objectField(message, "start");
        const format = objectField(start, "media_format");
        if (streamId === undefined)
          return { type: "ignored", reason: "start without stream_id", error: true };
        const encodingName = stringField(format, "encoding");
        if (encodingName !== undefined && /l16/i.test(encodingName))
          return {
            type: "ignored",
            reason: "media_format.encoding L16 is not supported; stream PCMU or PCMA",
            error: true,
          };
        const call: CallInfo = {
          streamId,
          callId: stringField(start, "call_control_id"),
          customParameters: stringRecord(start.custom_parameters ?? start.client_state),
          inputFormat: {
            encoding: wireEncoding(encodingName, "mulaw"),
            sampleRate: Number(stringField(format, "sample_rate") ?? 8000) || 8000,
          },
        };
        return { type: "start", call };
      }
      case "error":
        return {
          type: "ignored",
          reason: `Telnyx error: ${JSON.stringify(message.payload ?? {})}`,
        };
      default:
        return this.mediaStreamsEvent(event, message, streamId);
    }
  }

  serializeAudio(pcm: Uint8Array): WireMessage {
    return JSON.stringify({ event: "media", media: { payload: toBase64(this.encodeAudio(pcm)) } });
  }

  serializeClear(): WireMessage {
    return JSON.stringify({ event: "clear" });
  }

  serializeMark(name: string): WireMessage {
    return JSON.stringify({ event: "mark", mark: { name } });
  }
}
