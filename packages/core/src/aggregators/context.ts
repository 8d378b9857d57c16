/**
 * The conversation an LLM sees: an ordered list of chat messages, and the tools the LLM
 * may call.
 *
 * Deliberately small, in the OpenAI chat-completions shape (text content only): the user
 * aggregator appends what the user said, the assistant aggregator appends what the bot
 * said, the LLM service appends its tool calls and their results, and LLM services
 * translate `messages` and `tools` to their provider's format.
 */

/** Chat roles (OpenAI chat-completions names; `tool` carries a function's result). */
export type LLMRole = "system" | "user" | "assistant" | "tool";

/**
 * One function call the LLM asked for (OpenAI `message.tool_calls[]` with `type: "function"`).
 */
export interface LLMToolCall {
  /** The provider's id of the call (OpenAI `tool_calls[].id`); tool results refer to it. */
  readonly id: string;
  /** Function name (OpenAI `function.name`). */
  readonly name: string;
  /** Arguments as the JSON text the model produced (OpenAI `function.arguments`), unparsed. */
  readonly arguments: string;
}

/**
 * One chat message.
 *
 * - `assistant` messages may carry `toolCalls` (the calls the model made in that reply).
 * - `tool` messages carry the result of one call as text (usually JSON) and its
 *   `toolCallId`; they follow the assistant message that made the call (an OpenAI rule).
 */
export interface LLMMessage {
  readonly role: LLMRole;
  readonly content: string;
  /** `assistant` only: function calls made in this reply (OpenAI `tool_calls`). */
  readonly toolCalls?: readonly LLMToolCall[] | undefined;
  /** `tool` only: the call this message answers (OpenAI `tool_call_id`). */
  readonly toolCallId?: string | undefined;
}

/**
 * A tool the LLM may call: OpenAI's function tool schema
 * (https://platform.openai.com/docs/guides/function-calling), sent as `tools[]`.
 * Build one from a zod schema with `functionSchema` (`@voxpipe/core`).
 */
export interface LLMTool {
  readonly type: "function";
  readonly function: {
    /** `^[a-zA-Z0-9_-]{1,64}$` (OpenAI's rule). */
    readonly name: string;
    /** What the function does and when to call it; the model reads this. */
    readonly description?: string | undefined;
    /** JSON Schema of the arguments object. */
    readonly parameters?: Readonly<Record<string, unknown>> | undefined;
    /** OpenAI structured outputs for the arguments (`strict`). */
    readonly strict?: boolean | undefined;
  };
}

/** How the model may use the tools (OpenAI `tool_choice`). */
export type LLMToolChoice = "auto" | "none" | "required" | { readonly name: string };

/** Content of a tool message whose function is still running (Pipecat's placeholder). */
export const FUNCTION_CALL_IN_PROGRESS = "IN_PROGRESS";
/** Content of a tool message whose function was cancelled by an interruption (Pipecat's). */
export const FUNCTION_CALL_CANCELLED = "CANCELLED";

/** What OpenAI accepts as a function name: `^[a-zA-Z0-9_-]{1,64}$`. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

function copyMessage(m: LLMMessage): LLMMessage {
  return {
    role: m.role,
    content: m.content,
    ...(m.toolCalls !== undefined && { toolCalls: m.toolCalls.map((c) => ({ ...c })) }),
    ...(m.toolCallId !== undefined && { toolCallId: m.toolCallId }),
  };
}

/**
 * Throws a `TypeError` naming the tool and what is wrong (OpenAI's name rule, `type`).
 * @throws {TypeError}
 */
export function validateTools(tools: readonly LLMTool[]): void {
  const seen = new Set<string>();
  for (const [i, tool] of tools.entries()) {
    if (tool?.type !== "function") {
      throw new TypeError(`tools[${i}].type must be "function", got ${JSON.stringify(tool?.type)}`);
    }
    const name = tool.function?.name;
    if (typeof name !== "string" || !TOOL_NAME_PATTERN.test(name)) {
      throw new TypeError(
        `tools[${i}].function.name must match ${String(TOOL_NAME_PATTERN)} (OpenAI's rule), got ${JSON.stringify(name)}`,
      );
    }
    if (seen.has(name)) throw new TypeError(`tools[${i}]: duplicate function name "${name}"`);
    seen.add(name);
  }
}

/** A mutable conversation shared by the aggregators and the LLM service of one pipeline. */
export class LLMContext {
  #messages: LLMMessage[];
  #tools: readonly LLMTool[];
  #toolChoice: LLMToolChoice | undefined;

  /**
   * @param messages initial messages (e.g. a system prompt); copied.
   * @param tools functions the LLM may call (OpenAI tool schema); checked with {@link validateTools}.
   * @throws {TypeError} on an invalid tool.
   */
  constructor(
    messages: readonly LLMMessage[] = [],
    tools: readonly LLMTool[] = [],
    toolChoice?: LLMToolChoice,
  ) {
    this.#messages = messages.map(copyMessage);
    validateTools(tools);
    this.#tools = [...tools];
    this.#toolChoice = toolChoice;
  }

  /** A snapshot of the messages (later changes to the context don't affect it). */
  get messages(): readonly LLMMessage[] {
    return [...this.#messages];
  }

  /** Number of messages. */
  get length(): number {
    return this.#messages.length;
  }

  /** The tools the LLM may call (empty: none). */
  get tools(): readonly LLMTool[] {
    return this.#tools;
  }

  /** `tool_choice` sent with the tools; `undefined`: the provider's default (`auto`). */
  get toolChoice(): LLMToolChoice | undefined {
    return this.#toolChoice;
  }

  /**
   * Replace the tools (and optionally the tool choice).
   * @throws {TypeError} on an invalid tool.
   */
  setTools(tools: readonly LLMTool[], toolChoice?: LLMToolChoice): void {
    validateTools(tools);
    this.#tools = [...tools];
    if (toolChoice !== undefined) this.#toolChoice = toolChoice;
  }

  /** Append a message. */
  addMessage(message: LLMMessage): void {
    this.#messages.push(copyMessage(message));
  }

  /** Append several messages. */
  addMessages(messages: Iterable<LLMMessage>): void {
    for (const m of messages) this.addMessage(m);
  }

  /** Replace all messages. */
  setMessages(messages: readonly LLMMessage[]): void {
    this.#messages = messages.map(copyMessage);
  }

  /**
   * Set the content of the `tool` message answering `toolCallId` (the LLM service writes
   * {@link FUNCTION_CALL_IN_PROGRESS} when a call starts and the result when it ends, so
   * the message keeps its place right after the call even if the user spoke meanwhile).
   * @returns false when no such tool message exists (e.g. the messages were replaced).
   */
  setToolResult(toolCallId: string, content: string): boolean {
    const i = this.#messages.findIndex((m) => m.role === "tool" && m.toolCallId === toolCallId);
    if (i === -1) return false;
    this.#messages[i] = { role: "tool", content, toolCallId };
    return true;
  }

  /** The last message, if any. */
  get lastMessage(): LLMMessage | undefined {
    return this.#messages.at(-1);
  }
}
