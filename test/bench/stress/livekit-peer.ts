import { initializeLogger, stt } from "@livekit/agents";
import { STTv2 } from "@livekit/agents-plugin-deepgram";
import { AudioFrame } from "@livekit/rtc-node";

/** A Flux TurnInfo event name, or undefined for LiveKit events that do not map to one event. */
export type FluxEventName = "StartOfTurn" | "EagerEndOfTurn" | "EndOfTurn" | "Update";

/**
 * LiveKit speech events that correspond one-to-one to a Flux TurnInfo event in
 * `@livekit/agents-plugin-deepgram` 1.9.0 `stt_v2.ts`: StartOfTurn → START_OF_SPEECH (then an
 * interim), EagerEndOfTurn → PREFLIGHT_TRANSCRIPT, EndOfTurn → FINAL_TRANSCRIPT (then
 * END_OF_SPEECH). Interims come from Update, StartOfTurn and TurnResumed alike, so they are
 * counted but not matched to a message.
 */
export function fluxEventOf(type: stt.SpeechEventType): FluxEventName | undefined {
  switch (type) {
    case stt.SpeechEventType.START_OF_SPEECH:
      return "StartOfTurn";
    case stt.SpeechEventType.PREFLIGHT_TRANSCRIPT:
      return "EagerEndOfTurn";
    case stt.SpeechEventType.FINAL_TRANSCRIPT:
      return "EndOfTurn";
    case stt.SpeechEventType.INTERIM_TRANSCRIPT:
      return "Update";
    default:
      return undefined;
  }
}

/** Settings of the LiveKit peer sessions. */
export interface LiveKitPeerOptions {
  /** Flux endpoint, e.g. `ws://127.0.0.1:PORT/v2/listen` (STTv2 `endpointUrl`). */
  url: string;
  /** Hz. */
  sampleRate: number;
  /** Samples per pushed frame. */
  samplesPerFrame: number;
  eotThreshold?: number;
  eagerEotThreshold?: number;
}

/**
 * One LiveKit Flux stream: `STTv2.stream()` fed with `pushFrame`, its speech events read in a loop
 * and handed to `onEvent` with the time they were delivered.
 */
export class LiveKitPeerSession {
  readonly #stream: stt.SpeechStream;
  readonly #reader: Promise<void>;
  readonly #samplesPerFrame: number;
  readonly #sampleRate: number;

  constructor(
    engine: STTv2,
    options: LiveKitPeerOptions,
    onEvent: (event: stt.SpeechEvent, at: number) => void,
  ) {
    this.#sampleRate = options.sampleRate;
    this.#samplesPerFrame = options.samplesPerFrame;
    const stream = engine.stream();
    this.#stream = stream;
    this.#reader = (async () => {
      for await (const event of stream) onEvent(event, performance.now());
    })();
  }

  /** Pushes one frame of audio. LiveKit sends a frame's whole `ArrayBuffer`, so each frame owns one. */
  push(samples: Int16Array): void {
    const data = new Int16Array(this.#samplesPerFrame);
    data.set(samples.subarray(0, this.#samplesPerFrame));
    this.#stream.pushFrame(new AudioFrame(data, this.#sampleRate, 1, this.#samplesPerFrame));
  }

  /** Ends the input (the plugin sends CloseStream) and waits up to `timeoutMs` for the events to end. */
  async close(timeoutMs: number): Promise<void> {
    this.#stream.endInput();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.#reader.catch(() => undefined), timeout]);
    clearTimeout(timer);
    this.#stream.close();
    await this.#reader.catch(() => undefined);
  }
}

/**
 * Creates the shared `STTv2` instance pointed at `options.url`. The local server accepts any
 * token; the plugin refuses to start without one, so a placeholder key is passed.
 */
export function createLiveKitFlux(options: LiveKitPeerOptions): STTv2 {
  initializeLogger({ pretty: false, level: "error" });
  return new STTv2({
    apiKey: "local-benchmark",
    endpointUrl: options.url,
    sampleRate: options.sampleRate,
    ...(options.eotThreshold !== undefined ? { eotThreshold: options.eotThreshold } : {}),
    ...(options.eagerEotThreshold !== undefined
      ? { eagerEotThreshold: options.eagerEotThreshold }
      : {}),
  });
}
