import { randomUUID } from "node:crypto";
import type {
  FrameSerializer,
  InboundMessage,
  WireAudioFormat,
  WireMessage,
} from "../serializer.js";
import { parseJsonObject, stringField } from "../serializer.js";

/** Options of {@link BrowserFrameSerializer}. */
export interface BrowserSerializerOptions {
  /** Rate of the bot audio sent to the page, Hz. Default 16000. */
  readonly outputSampleRate?: number | undefined;
  /** Largest message accepted, bytes. Default 64 KiB. */
  readonly maxMessageBytes?: number | undefined;
}

/**
 * The protocol of voxpipe's browser page (`voxpipe serve`'s `/ws`), small on purpose:
 *
 * - page → server: first `{"type":"start","sampleRate":16000}` (text), then binary messages of
 *   microphone audio, PCM s16le mono at that rate; `{"type":"mark","name"}` when playback
 *   reaches a mark.
 * - server → page: binary bot audio (PCM s16le mono at {@link outputFormat}'s rate, sent in
 *   real time); `{"type":"clear"}` on barge-in (stop playback now); `{"type":"mark","name"}`
 *   before each sentence; `{"type":"event",…}` turn events for the live view.
 */
export class BrowserFrameSerializer implements FrameSerializer {
  readonly protocol = "browser";
  readonly expectsStart = true;
  readonly maxMessageBytes: number;
  readonly outputFormat: WireAudioFormat;
  #inputRate = 16000;

  constructor(options: BrowserSerializerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
    this.outputFormat = { sampleRate: options.outputSampleRate ?? 16000, encoding: "linear16" };
  }

  deserialize(data: WireMessage): InboundMessage {
    if (typeof data !== "string") {
      if (data.byteLength % 2 !== 0)
        return { type: "ignored", reason: "odd-length PCM s16le message", error: true };
      return { type: "audio", audio: data };
    }
    const parsed = parseJsonObject(data);
    if (!parsed.ok) return { type: "ignored", reason: parsed.reason, error: true };
    const message = parsed.value;
    switch (message.type) {
      case "start": {
        const rate = Number(message.sampleRate ?? 16000);
        if (!(Number.isInteger(rate) && rate >= 8000 && rate <= 48000))
          return {
            type: "ignored",
            reason: `start.sampleRate must be an integer of Hz from 8000 to 48000, got ${JSON.stringify(message.sampleRate)}`,
            error: true,
          };
        this.#inputRate = rate;
        return {
          type: "start",
          call: {
            streamId: randomUUID(),
            customParameters: {},
            inputFormat: { sampleRate: this.#inputRate, encoding: "linear16" },
          },
        };
      }
      case "mark": {
        const name = stringField(message, "name");
        return name === undefined
          ? { type: "ignored", reason: "mark without a name" }
          : { type: "mark", name };
      }
      case "stop":
        return { type: "stop" };
      default:
        return { type: "ignored", reason: `unknown type ${JSON.stringify(message.type)}` };
    }
  }

  serializeAudio(pcm: Uint8Array): WireMessage {
    return pcm;
  }

  serializeClear(): WireMessage {
    return JSON.stringify({ type: "clear" });
  }

  serializeMark(name: string): WireMessage {
    return JSON.stringify({ type: "mark", name });
  }

  serializeEvent(event: object): WireMessage {
    return JSON.stringify({ type: "event", ...event });
  }
}
