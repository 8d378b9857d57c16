/**
 * `AIService`: a processor with typed settings that can change mid-stream.
 *
 * Settings live in two shapes (Pipecat's "store" and "delta" modes, typed): the
 * complete `TSettings` the service runs with, and a `Partial<TSettings>` delta carried by
 * `STT/LLM/TTSUpdateSettingsFrame`. Updates travel as ordered, uninterruptible frames,
 * so they apply exactly between the frames they were queued between and survive
 * interruptions.
 */
import type { ServiceUpdateSettingsFrame } from "../frames.js";
import { FrameProcessor } from "../processor.js";
import type { FrameProcessorEvents, FrameProcessorOptions } from "../processor.js";

/** Payload of the `settingsUpdated` event. */
export interface SettingsUpdate<TSettings> {
  /** The settings now in force. */
  readonly settings: Readonly<TSettings>;
  /** Fields that changed, with their new values. */
  readonly changed: Partial<TSettings>;
  /** The same fields with their previous values. */
  readonly previous: Partial<TSettings>;
}

/** Events of every AI service. */
export type AIServiceEvents<TSettings> = FrameProcessorEvents & {
  /** Settings changed (after `applySettings` accepted them). */
  settingsUpdated: SettingsUpdate<TSettings>;
};

/** Constructor options of {@link AIService}. */
export interface AIServiceOptions<TSettings> extends FrameProcessorOptions {
  /** The complete initial settings. */
  readonly settings: TSettings;
}

/** Base of STT, LLM and TTS services. */
export class AIService<
  TSettings extends object,
  TEvents extends AIServiceEvents<TSettings> = AIServiceEvents<TSettings>,
> extends FrameProcessor<TEvents> {
  #settings: TSettings;

  constructor(options: AIServiceOptions<TSettings>) {
    super(options);
    this.#settings = { ...options.settings };
  }

  /**
   * The settings in force (a frozen snapshot; change them with {@link updateSettings}).
   * A service whose provider confirms changes later may override it with a view of the
   * provider's confirmed state.
   */
  get settings(): Readonly<TSettings> {
    return this.#settings;
  }

  /**
   * Apply a settings delta. Fields equal to the current value (or `undefined`) are
   * ignored. {@link applySettings} runs first and may reject the change by throwing (the
   * settings then stay as they were); on success the settings are merged and
   * `settingsUpdated` is emitted.
   *
   * @returns the previous values of the fields that changed (empty when nothing changed).
   * @throws whatever `applySettings` throws.
   */
  async updateSettings(delta: Partial<TSettings>): Promise<Partial<TSettings>> {
    const changed: Partial<TSettings> = {};
    const previous: Partial<TSettings> = {};
    // Compared with `settings` as the subclass reports them (a provider's confirmed state
    // may differ from what was asked last), so asking again for a refused value is a change.
    const current = this.settings;
    let any = false;
    for (const key of Object.keys(delta) as (keyof TSettings)[]) {
      const value = delta[key];
      if (value === undefined || Object.is(value, current[key])) continue;
      changed[key] = value;
      previous[key] = current[key];
      any = true;
    }
    if (!any) return {};
    await this.applySettings(changed, previous);
    this.#settings = { ...this.#settings, ...changed };
    this.emit("settingsUpdated", { settings: this.settings, changed, previous });
    return previous;
  }

  /**
   * Hook: validate and apply changed settings (send a provider "configure" message,
   * reconnect…). `this.settings` still holds the old values while it runs. Throw an
   * error naming the field, the value and what is allowed to reject the change.
   * Default: accept.
   */
  protected applySettings(
    _changed: Partial<TSettings>,
    _previous: Partial<TSettings>,
  ): void | Promise<void> {}

  /** Whether a settings frame is addressed to this service (untargeted, or targeted at it). */
  protected isForThisService(frame: ServiceUpdateSettingsFrame<unknown>): boolean {
    return frame.service === undefined || frame.service === this;
  }

  /**
   * Apply a settings frame addressed to this service; errors are reported as a
   * (non-fatal) `ErrorFrame` and the old settings stay in force.
   */
  protected async handleSettingsFrame(frame: ServiceUpdateSettingsFrame<TSettings>): Promise<void> {
    try {
      await this.updateSettings(frame.settings);
    } catch (err) {
      this.pushError(
        `${this.name}: settings update rejected: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
}
