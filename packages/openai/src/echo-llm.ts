import { setTimeout as sleep } from "node:timers/promises";
import { SpeculativeLLMService } from "./speculative.js";
import type {
  LLMRequest,
  SpeculativeLLMServiceEvents,
  SpeculativeLLMServiceOptions,
} from "./speculative.js";

/** Settings of {@link EchoLLMService}. */
export interface EchoLLMSettings {
  /** Text put before the echoed words. Default `"You said: "`. */
  prefix: string;
  /** Delay between streamed words, ms (imitates token streaming). Default 0. */
  tokenDelayMs: number;
  /** Delay before the first word, ms (imitates an LLM's time to first token). Default 0. */
  firstTokenDelayMs: number;
}

/** Options of {@link EchoLLMService}. */
export interface EchoLLMServiceOptions extends Omit<
  SpeculativeLLMServiceOptions<EchoLLMSettings>,
  "settings"
> {
  readonly settings?: Partial<EchoLLMSettings>;
}

/**
 * Not a language model: replies with what it heard (`"You said: <last user message>."`),
 * streamed word by word. For offline demos and tests of the agent pipeline, where no LLM
 * server is available; it takes part in speculation and interruption like a real LLM service.
 */
export class EchoLLMService extends SpeculativeLLMService<
  EchoLLMSettings,
  SpeculativeLLMServiceEvents<EchoLLMSettings>
> {
  constructor(options: EchoLLMServiceOptions = {}) {
    super({
      ...options,
      settings: {
        prefix: "You said: ",
        tokenDelayMs: 0,
        firstTokenDelayMs: 0,
        ...options.settings,
      },
    });
  }

  protected override async *stream(
    { messages }: LLMRequest,
    signal: AbortSignal,
  ): AsyncGenerator<string> {
    const lastUser = messages.filter((m) => m.role === "user").at(-1);
    // Without its final punctuation: "…man." + "." would read "man..".
    const heard = (lastUser?.content.trim() ?? "").replace(/[.!?]+$/, "");
    const reply = `${this.settings.prefix}${heard === "" ? "nothing" : heard}.`;
    const { firstTokenDelayMs } = this.settings;
    if (firstTokenDelayMs > 0) await sleep(firstTokenDelayMs, undefined, { signal });
    for (const [i, word] of (reply.match(/\S+\s*/g) ?? []).entries()) {
      if (i > 0 && this.settings.tokenDelayMs > 0)
        await sleep(this.settings.tokenDelayMs, undefined, { signal });
      if (signal.aborted) return;
      yield word;
    }
  }
}
