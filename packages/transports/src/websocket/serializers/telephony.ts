/**
 * The shared shape of the four telephony protocols: JSON text messages, base64 audio at
 * 8 kHz, a `start` that carries the call, `media`/`dtmf`/`stop`, and outbound media, clear and
 * marks. Each provider's class says only how its fields are named (sources cited there).
 */
import { pcmToAlaw, pcmToMulaw } from "@voxpipe/core";
import type {
  CallInfo,
  FrameSerializer,
  InboundMessage,
  WireAudioFormat,
  WireMessage,
} from "../serializer.js";
import {
  base64Field,
  keypadEntry,
  objectField,
  parseJsonObject,
  stringField,
} from "../serializer.js";

/** Options every telephony serializer takes. */
export interface TelephonySerializerOptions {
  /** Largest message accepted, bytes. Default 64 KiB (a 20 ms media message is ~250 bytes). */
  readonly maxMessageBytes?: number | undefined;
}

/** Telephony audio: 8 kHz G.711 μ-law, what every one of these providers streams by default. */
export const TELEPHONY_MULAW_8K: WireAudioFormat = { sampleRate: 8000, encoding: "mulaw" };

/**
 * Base of the telephony serializers: parses JSON leniently, dispatches on `event`, encodes
 * outbound audio in the call's format (μ-law/A-law with `alawmulaw` through core, or PCM).
 */
export abstract class TelephonySerializer implements FrameSerializer {
  abstract readonly protocol: string;
  readonly expectsStart = true;
  readonly maxMessageBytes: number;
  /** The call, once `start` has arrived. */
  call: CallInfo | undefined;

  constructor(options: TelephonySerializerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
  }

  /** Outbound audio format: the call's (providers play back what they stream). */
  get outputFormat(): WireAudioFormat {
    return this.call?.inputFormat ?? TELEPHONY_MULAW_8K;
  }

  deserialize(data: WireMessage): InboundMessage {
    const parsed = parseJsonObject(data);
    if (!parsed.ok) return { type: "ignored", reason: parsed.reason, error: true };
    const message = parsed.value;
    const event = message.event;
    if (typeof event !== "string")
      return { type: "ignored", reason: "message has no event", error: true };
    const inbound = this.parseEvent(event, message);
    if (inbound.type === "start") this.call = inbound.call;
    return inbound;
  }

  /** Maps one parsed message by its `event`. */
  protected abstract parseEvent(event: string, message: Record<string, unknown>): InboundMessage;

  /** The common `media` → audio mapping (`media.payload`, base64). */
  protected media(message: Record<string, unknown>, streamId: string | undefined): InboundMessage {
    const audio = base64Field(objectField(message, "media"));
    if (audio === undefined)
      return { type: "ignored", reason: "media without a base64 payload", error: true };
    return { type: "audio", audio, streamId };
  }

  /**
   * The events Twilio's Media Streams protocol defined and Telnyx and Exotel kept:
   * `connected`, `media`, `dtmf`, `mark` (`mark.name`, echoed once played) and `stop`; any
   * other event is ignored and named. Each provider handles its own `start` before this.
   */
  protected mediaStreamsEvent(
    event: string,
    message: Record<string, unknown>,
    streamId: string | undefined,
  ): InboundMessage {
    switch (event) {
      case "connected":
        return { type: "connected" };
      case "media":
        return this.media(message, streamId);
      case "dtmf":
        return this.dtmf(message, streamId);
      case "mark": {
        const name = stringField(objectField(message, "mark"), "name");
        return name === undefined
          ? { type: "ignored", reason: "mark without a name" }
          : { type: "mark", name, streamId };
      }
      case "stop":
        return { type: "stop" };
      default:
        return { type: "ignored", reason: `unknown event ${JSON.stringify(event)}` };
    }
  }

  /** The common `dtmf` → key mapping (`dtmf.digit`). */
  protected dtmf(message: Record<string, unknown>, streamId: string | undefined): InboundMessage {
    const button = keypadEntry(objectField(message, "dtmf").digit);
    if (button === undefined) return { type: "ignored", reason: "dtmf without a keypad digit" };
    return { type: "dtmf", button, streamId };
  }

  /** The outbound payload bytes for PCM s16le at the output rate. */
  protected encodeAudio(pcm: Uint8Array): Uint8Array {
    const encoding = this.outputFormat.encoding;
    if (encoding === "mulaw") return pcmToMulaw(pcm);
    if (encoding === "alaw") return pcmToAlaw(pcm);
    return pcm;
  }

  /** Stream id for outbound messages. */
  protected get streamId(): string {
    return this.call?.streamId ?? "";
  }

  abstract serializeAudio(pcm: Uint8Array): WireMessage;
  abstract serializeClear(): WireMessage | undefined;
  abstract serializeMark(name: string): WireMessage;
}
