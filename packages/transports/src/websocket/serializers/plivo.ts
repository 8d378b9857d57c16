import type { CallInfo, InboundMessage, WireMessage } from "../serializer.js";
import { objectField, stringField, stringRecord, toBase64, wireEncoding } from "../serializer.js";
import { TelephonySerializer } from "./telephony.js";

/**
 * Plivo Audio Streaming (`<Stream bidirectional="true">`). Source: Plivo, "Stream Event
 * Protocol" (plivo.com/docs/voice/audio-streaming/audio-streaming) and Pipecat's
 * `serializers/plivo.py`.
 *
 * Receives `start` (`start.streamId`, `start.callId`, `start.accountId`,
 * `start.mediaFormat` = `audio/x-mulaw` 8000 or `audio/x-l16` 8000/16000, `extra_headers`),
 * `media` (`media.payload`), `dtmf` (`dtmf.digit`), `playedStream` (a checkpoint was played),
 * `clearedAudio`. Sends `{"event":"playAudio","media":{"contentType","sampleRate","payload"},
 * "streamId"}`, `{"event":"checkpoint","streamId","name"}` and `{"event":"clearAudio",
 * "streamId"}`. Plivo sends no `stop`: the socket closes when the stream ends.
 */
export class PlivoFrameSerializer extends TelephonySerializer {
  readonly protocol = "plivo";

  protected parseEvent(event: string, message: Record<string, unknown>): InboundMessage {
    const streamId = stringField(message, "streamId");
    switch (event) {
      case "start": {
        const start = objectField(message, "start");
        const format = objectField(start, "mediaFormat");
        const id = stringField(start, "streamId") ?? streamId;
        if (id === undefined)
          return { type: "ignored", reason: "start without streamId", error: true };
        const headers = stringField(message, "extra_headers");
        const call: CallInfo = {
          streamId: id,
          callId: stringField(start, "callId"),
          accountId: stringField(start, "accountId"),
          customParameters: headers === undefined ? {} : parseExtraHeaders(headers),
          inputFormat: {
            encoding: wireEncoding(stringField(format, "encoding"), "mulaw"),
            sampleRate: Number(stringField(format, "sampleRate") ?? 8000) || 8000,
          },
        };
        return { type: "start", call };
      }
      case "media":
        return this.media(message, streamId);
      case "dtmf":
        return this.dtmf(message, streamId);
      case "playedStream": {
        const name = stringField(message, "name");
        return name === undefined
          ? { type: "ignored", reason: "playedStream without a name" }
          : { type: "mark", name, streamId };
      }
      case "clearedAudio":
        return { type: "ignored", reason: "clearedAudio acknowledged" };
      default:
        return { type: "ignored", reason: `unknown event ${JSON.stringify(event)}` };
    }
  }

  serializeAudio(pcm: Uint8Array): WireMessage {
    const { encoding, sampleRate } = this.outputFormat;
    return JSON.stringify({
      event: "playAudio",
      media: {
        contentType: encoding === "mulaw" ? "audio/x-mulaw" : "audio/x-l16",
        sampleRate,
        payload: toBase64(this.encodeAudio(pcm)),
      },
      streamId: this.streamId,
    });
  }

  serializeClear(): WireMessage {
    return JSON.stringify({ event: "clearAudio", streamId: this.streamId });
  }

  serializeMark(name: string): WireMessage {
    return JSON.stringify({ event: "checkpoint", streamId: this.streamId, name });
  }
}

/** Plivo's `extra_headers` (`"a=1;b=2"`, or comma-separated as set in the XML) as a record. */
function parseExtraHeaders(headers: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of headers.split(/[;,]/)) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return stringRecord(out);
}
