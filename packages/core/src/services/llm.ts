/**
 * `LLMService`: context in, streamed text out.
 */
import type { LLMContext } from "../aggregators/context.js";
import {
  LLMContextFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  LLMUpdateSettingsFrame,
} from "../frames.js";
import type { Frame } from "../frames.js";
import type { FrameDirection } from "../processor.js";
import { AIService } from "./ai-service.js";
import type { AIServiceEvents, AIServiceOptions } from "./ai-service.js";

/** Events of LLM services. */
export type LLMServiceEvents<TSettings> = AIServiceEvents<TSettings>;

/** Constructor options of {@link LLMService}. */
export type LLMServiceOptions<TSettings> = AIServiceOptions<TSettings>;

/**
 * Base class of LLM services. On an `LLMContextFrame` it pushes
 * `LLMFullResponseStartFrame`, one `LLMTextFrame` per chunk yielded by {@link generate},
 * and `LLMFullResponseEndFrame`. Metrics: TTFB = context received → first chunk;
 * processing = whole response.
 *
 * Interruption: `generate` receives the processor's current signal; an
 * `InterruptionFrame` aborts it, nothing more is pushed for that response (no end frame:
 * downstream already saw the interruption), and the next frames are processed at once.
 * A generation error is reported upstream (non-fatal) and the response is closed with
 * `LLMFullResponseEndFrame`. `LLMUpdateSettingsFrame` → {@link updateSettings}.
 */
export abstract class LLMService<
  TSettings extends object,
  TEvents extends LLMServiceEvents<TSettings> = LLMServiceEvents<TSettings>,
> extends AIService<TSettings, TEvents> {
  /**
   * Stream the reply to `context` as text chunks (with their own spacing). Must stop
   * promptly when `signal` aborts (pass it to `fetch`/the SDK).
   */
  protected abstract generate(context: LLMContext, signal: AbortSignal): AsyncIterable<string>;

  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame instanceof LLMContextFrame && direction === "downstream") {
      return this.runInference(frame.context);
    }
    if (frame instanceof LLMUpdateSettingsFrame && this.isForThisService(frame)) {
      return this.handleSettingsFrame(frame as LLMUpdateSettingsFrame<TSettings>);
    }
    this.push(frame, direction);
  }

  /** Run one inference and stream its frames (see the class doc). */
  protected async runInference(context: LLMContext): Promise<void> {
    const signal = this.signal;
    this.push(new LLMFullResponseStartFrame());
    this.startTtfbMetrics();
    this.startProcessingMetrics();
    let first = true;
    try {
      for await (const text of this.generate(context, signal)) {
        if (signal.aborted) return;
        if (first) {
          this.stopTtfbMetrics();
          first = false;
        }
        if (text !== "") this.push(new LLMTextFrame({ text }));
      }
    } catch (err) {
      if (signal.aborted) return; // interrupted: exit silently
      this.pushError(
        `${this.name}: generation failed: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
    if (signal.aborted) return;
    this.stopProcessingMetrics();
    this.push(new LLMFullResponseEndFrame());
  }
}
