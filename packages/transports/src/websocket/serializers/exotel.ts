import type { CallInfo, InboundMessage, WireMessage } from "../serializer.js";
import { objectField, stringField, stringRecord, toBase64 } from "../serializer.js";
import { TelephonySerializer } from "./telephony.js";

/**
 * Exotel AgentStream, Voicebot applet (bidirectional). Source: Exotel, "WebSocket protocol"
 * (developer.exotel.com/docs/agentstream/websocket-protocol) and Pipecat's
 * `serializers/exotel.py`.
 *
 * Receives `connected`, `start` (`stream_sid`, `start.call_sid`, `start.account_sid`,
 * `start.custom_parameters`, `start.media_format` = `audio/x-raw` 16-bit PCM, 8000 Hz by
 * default, 16000/24000 when configured), `media` (`media.payload`, base64 PCM s16le), `dtmf`,
 * `mark`, `stop`. Sends `{"event":"media","stream_sid","media":{"payload"}}`,
 * `{"event":"mark","stream_sid","mark":{"name"}}` and `{"event":"clear","stream_sid"}`.
 * Exotel has no G.711 on this socket, so there is no μ-law passthrough: PCM is resampled.
 */
export class ExotelFrameSerializer extends TelephonySerializer {
  readonly protocol = "exotel";

  protected parseEvent(event: string, message: Record<string, unknown>): InboundMessage {
    const streamSid = stringField(message, "stream_sid");
    switch (event) {
      case "start": {
        const start = objectField(message, "start");
        const format = objectField(start, "media_format");
        const id = streamSid ?? stringField(start, "stream_sid");
        if (id === undefined)
          return { type: "ignored", reason: "start without stream_sid", error: true };
        const call: CallInfo = {
          streamId: id,
          callId: stringField(start, "call_sid"),
          accountId: stringField(start, "account_sid"),
          customParameters: stringRecord(start.custom_parameters),
          inputFormat: {
            encoding: "linear16",
            sampleRate: Number(stringField(format, "sample_rate") ?? 8000) || 8000,
          },
        };
        return { type: "start", call };
      }
      default:
        return this.mediaStreamsEvent(event, message, streamSid);
    }
  }

  serializeAudio(pcm: Uint8Array): WireMessage {
    return JSON.stringify({
      event: "media",
      stream_sid: this.streamId,
      media: { payload: toBase64(pcm) },
    });
  }

  serializeClear(): WireMessage {
    return JSON.stringify({ event: "clear", stream_sid: this.streamId });
  }

  serializeMark(name: string): WireMessage {
    return JSON.stringify({ event: "mark", stream_sid: this.streamId, mark: { name } });
  }
}
