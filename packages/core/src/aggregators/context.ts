/**
 * The conversation an LLM sees: an ordered list of chat messages.
 *
 * Deliberately small (OpenAI chat shape, text content only): the user aggregator
 * appends what the user said, the assistant aggregator appends what the bot said,
 * and LLM services translate `messages` to their provider's format.
 */

/** Chat roles (OpenAI chat-completions names). */
export type LLMRole = "system" | "user" | "assistant";

/** One chat message. */
export interface LLMMessage {
  readonly role: LLMRole;
  readonly content: string;
}

/** A mutable conversation shared by the user and assistant aggregators of one pipeline. */
export class LLMContext {
  #messages: LLMMessage[];

  /** @param messages initial messages (e.g. a system prompt); copied. */
  constructor(messages: readonly LLMMessage[] = []) {
    this.#messages = [...messages];
  }

  /** A snapshot of the messages (later changes to the context don't affect it). */
  get messages(): readonly LLMMessage[] {
    return [...this.#messages];
  }

  /** Number of messages. */
  get length(): number {
    return this.#messages.length;
  }

  /** Append a message. */
  addMessage(message: LLMMessage): void {
    this.#messages.push({ role: message.role, content: message.content });
  }

  /** Append several messages. */
  addMessages(messages: Iterable<LLMMessage>): void {
    for (const m of messages) this.addMessage(m);
  }

  /** Replace all messages. */
  setMessages(messages: readonly LLMMessage[]): void {
    this.#messages = messages.map((m) => ({ role: m.role, content: m.content }));
  }

  /** The last message, if any. */
  get lastMessage(): LLMMessage | undefined {
    return this.#messages.at(-1);
  }
}
