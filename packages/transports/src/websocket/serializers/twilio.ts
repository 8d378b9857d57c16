import type { CallInfo, InboundMessage, WireMessage } from "../serializer.js";
import { objectField, stringField, stringRecord, toBase64, wireEncoding } from "../serializer.js";
import { TelephonySerializer } from "./telephony.js";

/**
 * Twilio Media Streams (bidirectional, `<Connect><Stream>`). Source: Twilio, "Media Streams —
 * WebSocket Messages" (twilio.com/docs/voice/media-streams/websocket-messages).
 *
 * Receives `connected`, `start` (`streamSid`, `start.callSid`, `start.accountSid`,
 * `start.customParameters`, `start.mediaFormat` = `audio/x-mulaw` 8000 Hz mono), `media`
 * (`media.payload` base64 μ-law), `dtmf` (`dtmf.digit`), `mark` (`mark.name`, echoed when the
 * audio sent before it has played — or when a `clear` dropped it), `stop`.
 * Sends `{"event":"media","streamSid","media":{"payload"}}`, `{"event":"mark","streamSid",
 * "mark":{"name"}}` and `{"event":"clear","streamSid"}`.
 */
export class TwilioFrameSerializer extends TelephonySerializer {
  readonly protocol = "twilio";

  protected parseEvent(event: string, message: Record<string, unknown>): InboundMessage {
    const streamSid = stringField(message, "streamSid");
    switch (event) {
      case "start": {
        const start = objectField(message, "start");
        const format = objectField(start, "mediaFormat");
        const id = streamSid ?? stringField(start, "streamSid");
        if (id === undefined)
          return { type: "ignored", reason: "start without streamSid", error: true };
        const call: CallInfo = {
          streamId: id,
          callId: stringField(start, "callSid"),
          accountId: stringField(start, "accountSid"),
          customParameters: stringRecord(start.customParameters),
          inputFormat: {
            encoding: wireEncoding(stringField(format, "encoding"), "mulaw"),
            sampleRate: Number(stringField(format, "sampleRate") ?? 8000) || 8000,
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
      streamSid: this.streamId,
      media: { payload: toBase64(this.encodeAudio(pcm)) },
    });
  }

  serializeClear(): WireMessage {
    return JSON.stringify({ event: "clear", streamSid: this.streamId });
  }

  serializeMark(name: string): WireMessage {
    return JSON.stringify({ event: "mark", streamSid: this.streamId, mark: { name } });
  }
}
