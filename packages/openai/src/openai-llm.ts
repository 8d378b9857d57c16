import OpenAI from "openai";
import type {
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
} from "openai/resources/chat/completions";
import type { LLMMessage, LLMStreamChunk, LLMToolChoice } from "@voxpipe/core";
import { SpeculativeLLMService } from "./speculative.js";
import type {
  LLMRequest,
  SpeculativeLLMServiceEvents,
  SpeculativeLLMServiceOptions,
} from "./speculative.js";

/** Settings of {@link OpenAILLMService}; change them mid-call with `LLMUpdateSettingsFrame`. */
export interface OpenAILLMSettings {
  /** Model name, e.g. `"gpt-4o-mini"`, `"llama3.2"` (Ollama), a vLLM served model. */
  model: string;
  /** Sampling temperature 0–2 (OpenAI chat completions `temperature`). Server default when unset. */
  temperature?: number | undefined;
  /** Upper bound of generated tokens (`max_completion_tokens`). Server default when unset. */
  maxCompletionTokens?: number | undefined;
}

/** Options of {@link OpenAILLMService}. */
export interface OpenAILLMServiceOptions extends Omit<
  SpeculativeLLMServiceOptions<OpenAILLMSettings>,
  "settings"
> {
  /** Model name (shorthand for `settings.model`). */
  readonly model?: string;
  /** Initial settings; `model` is required here or in `model`. */
  readonly settings?: Partial<OpenAILLMSettings>;
  /**
   * API key. Default: `OPENAI_API_KEY`; servers without auth (Ollama, vLLM, a local fixture)
   * accept any value, so `"unused"` is sent when neither is set. Never logged.
   */
  readonly apiKey?: string;
  /**
   * Base URL of an OpenAI-compatible API, e.g. `http://localhost:11434/v1` (Ollama),
   * `http://localhost:8000/v1` (vLLM). Default: `OPENAI_BASE_URL`, else `https://api.openai.com/v1`.
   */
  readonly baseURL?: string;
  /** Retries of failed requests (connection errors, 408/409/429/5xx) by the `openai` client. Default 2. */
  readonly maxRetries?: number;
  /** Request timeout in ms. Default 30000. */
  readonly timeoutMs?: number;
  /** A preconfigured client (tests, proxies); `apiKey`/`baseURL`/`maxRetries`/`timeoutMs` are then ignored. */
  readonly client?: OpenAI;
}

/** Throws a `RangeError` naming the setting, the value and what is allowed. */
function validateSettings(settings: Partial<OpenAILLMSettings>): void {
  if (
    settings.model !== undefined &&
    (typeof settings.model !== "string" || settings.model.trim() === "")
  ) {
    throw new RangeError(`model must be a non-empty string, got ${JSON.stringify(settings.model)}`);
  }
  const t = settings.temperature;
  if (t !== undefined && !(typeof t === "number" && t >= 0 && t <= 2)) {
    throw new RangeError(`temperature must be a number from 0 to 2, got ${String(t)}`);
  }
  const m = settings.maxCompletionTokens;
  if (m !== undefined && !(Number.isInteger(m) && m > 0)) {
    throw new RangeError(`maxCompletionTokens must be a positive integer, got ${String(m)}`);
  }
}

/**
 * Streaming chat completions from any OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio,
 * …) through the official `openai` package: `POST {baseURL}/chat/completions` with
 * `stream: true`, each `choices[0].delta.content` pushed as an `LLMTextFrame`.
 *
 * Function calling: the context's tools are sent as `tools` (and `tool_choice`);
 * `choices[0].delta.tool_calls[]` fragments (index, id, function name, pieces of the
 * arguments) are handed to the base class, which assembles and runs the calls (see
 * `LLMService`); the reply's tool calls and the results go back as an `assistant` message
 * with `tool_calls` and `tool` messages with `tool_call_id` (OpenAI function calling guide).
 *
 * Driven by the context aggregators (`LLMContextFrame` in, `LLMFullResponseStart/End` and text
 * out). Barge-in: an `InterruptionFrame` aborts the HTTP stream at once. With `context` given,
 * replies start speculatively on Flux `EagerEndOfTurn` (see {@link SpeculativeLLMService}).
 *
 * @example
 * ```ts
 * const { context, user, assistant } = createContextAggregators(new LLMContext([{ role: "system", content: "Be brief." }]));
 * const llm = new OpenAILLMService({ model: "gpt-4o-mini", context });
 * ```
 * @throws {RangeError} on invalid settings (at construction or in an update).
 */
export class OpenAILLMService extends SpeculativeLLMService<
  OpenAILLMSettings,
  SpeculativeLLMServiceEvents<OpenAILLMSettings>
> {
  readonly #client: OpenAI;

  constructor(options: OpenAILLMServiceOptions) {
    const settings = {
      ...options.settings,
      ...(options.model !== undefined && { model: options.model }),
    };
    if (settings.model === undefined)
      throw new RangeError("model is required (options.model or options.settings.model)");
    validateSettings(settings);
    super({ ...options, settings: settings as OpenAILLMSettings });
    this.#client =
      options.client ??
      new OpenAI({
        apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? "unused",
        baseURL: options.baseURL ?? process.env.OPENAI_BASE_URL ?? undefined,
        maxRetries: options.maxRetries ?? 2,
        timeout: options.timeoutMs ?? 30_000,
      });
  }

  protected override applySettings(changed: Partial<OpenAILLMSettings>): void {
    validateSettings(changed);
  }

  protected override async *stream(
    { messages, tools, toolChoice }: LLMRequest,
    signal: AbortSignal,
  ): AsyncGenerator<LLMStreamChunk> {
    const { model, temperature, maxCompletionTokens } = this.settings;
    const completion = await this.#client.chat.completions.create(
      {
        model,
        messages: messages.map(toOpenAIMessage),
        stream: true,
        ...(tools.length > 0 && { tools: tools.map((t) => ({ ...t })) }),
        ...(tools.length > 0 &&
          toolChoice !== undefined && { tool_choice: toToolChoice(toolChoice) }),
        ...(temperature !== undefined && { temperature }),
        ...(maxCompletionTokens !== undefined && { max_completion_tokens: maxCompletionTokens }),
      },
      { signal },
    );
    // On abort the client ends this iteration quietly and closes the HTTP response.
    for await (const chunk of completion) {
      const delta = chunk.choices[0]?.delta;
      if (delta === undefined) continue;
      if (delta.content) yield delta.content;
      // Received leniently: some compatible servers omit `index` (then: position in the list).
      for (const [position, call] of (delta.tool_calls ?? []).entries()) {
        yield {
          index: typeof call.index === "number" ? call.index : position,
          id: call.id ?? undefined,
          name: call.function?.name ?? undefined,
          arguments: call.function?.arguments ?? undefined,
        };
      }
    }
  }
}

/** One context message in the Chat Completions shape. */
function toOpenAIMessage(m: LLMMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case "tool":
      return { role: "tool", tool_call_id: m.toolCallId ?? "", content: m.content };
    case "assistant":
      return m.toolCalls !== undefined && m.toolCalls.length > 0
        ? {
            role: "assistant",
            content: m.content === "" ? null : m.content,
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: "function" as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : { role: "assistant", content: m.content };
    default:
      return { role: m.role, content: m.content };
  }
}

function toToolChoice(choice: LLMToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === "string"
    ? choice
    : { type: "function", function: { name: choice.name } };
}
