/**
 * `STTService`: audio in, turn frames out.
 *
 * Subclasses implement {@link STTService.runStt} (send audio to the provider) and push
 * turn frames from wherever results arrive (a WebSocket receive loop) with
 * `this.push(...)`. Push the turn's frames in provider order — `StartOfTurnFrame`,
 * `InterimTranscriptionFrame`s, `EagerEndOfTurnFrame`/`TurnResumedFrame`, then the final
 * `TranscriptionFrame` **before** its `EndOfTurnFrame`: they all travel in the ordered
 * lane, so downstream sees exactly that order.
 */
import { InputAudioRawFrame, STTMuteFrame, STTUpdateSettingsFrame } from "../frames.js";
import type { Frame } from "../frames.js";
import type { FrameDirection } from "../processor.js";
import { AIService } from "./ai-service.js";
import type { AIServiceEvents, AIServiceOptions } from "./ai-service.js";

/** Events of STT services. */
export type STTServiceEvents<TSettings> = AIServiceEvents<TSettings> & {
  /** Mute state changed (`STTMuteFrame`). */
  muted: boolean;
};

/** Constructor options of {@link STTService}. */
export interface STTServiceOptions<TSettings> extends AIServiceOptions<TSettings> {
  /** Forward input audio downstream after feeding it to the provider. Default true. */
  readonly audioPassthrough?: boolean;
  /** Sample rate the provider expects, Hz. Default: the StartFrame's `audioInSampleRate`. */
  readonly sampleRate?: number;
}

/**
 * Base class of speech-to-text services.
 *
 * Handles: `InputAudioRawFrame` → {@link runStt} (unless muted), then forwarded when
 * `audioPassthrough`; `STTMuteFrame` → mute/unmute (consumed); `STTUpdateSettingsFrame`
 * addressed to it → {@link updateSettings} (consumed; a rejected update becomes an
 * `ErrorFrame`). Everything else is forwarded.
 */
export abstract class STTService<
  TSettings extends object,
  TEvents extends STTServiceEvents<TSettings> = STTServiceEvents<TSettings>,
> extends AIService<TSettings, TEvents> {
  readonly #audioPassthrough: boolean;
  readonly #sampleRate: number | undefined;
  #muted = false;

  constructor(options: STTServiceOptions<TSettings>) {
    super(options);
    this.#audioPassthrough = options.audioPassthrough ?? true;
    this.#sampleRate = options.sampleRate;
  }

  /** Whether audio is currently withheld from the provider. */
  get muted(): boolean {
    return this.#muted;
  }

  /** Input sample rate in Hz (option, else StartFrame, else 16000). */
  get sampleRate(): number {
    return this.#sampleRate ?? this.startFrame?.audioInSampleRate ?? 16000;
  }

  /**
   * Send one chunk of audio (PCM s16le at {@link sampleRate}) to the provider. Called in
   * order, one at a time (if it returns a promise the next chunk waits for it).
   * Results are pushed separately, as they arrive.
   */
  protected abstract runStt(audio: Uint8Array, frame: InputAudioRawFrame): void | Promise<void>;

  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame instanceof InputAudioRawFrame) {
      const result = this.#muted ? undefined : this.runStt(frame.audio, frame);
      if (!this.#audioPassthrough) return result;
      if (result === undefined) {
        this.push(frame, direction);
        return;
      }
      return result.then(() => this.push(frame, direction));
    }
    if (frame instanceof STTMuteFrame) {
      if (this.#muted !== frame.mute) {
        this.#muted = frame.mute;
        this.emit("muted", frame.mute);
      }
      return;
    }
    if (frame instanceof STTUpdateSettingsFrame && this.isForThisService(frame)) {
      return this.handleSettingsFrame(frame as STTUpdateSettingsFrame<TSettings>);
    }
    this.push(frame, direction);
  }
}
