/**
 * Context aggregators: the user's final transcriptions become `user` messages and an
 * `LLMContextFrame`; the bot's streamed reply becomes an `assistant` message.
 *
 * Place the user aggregator after the STT service and the assistant aggregator after
 * the output transport (so it records what actually went out):
 * `[input, stt, user, llm, tts, output, assistant]`.
 */
import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  EndOfTurnFrame,
  FunctionCallInProgressFrame,
  LLMContextFrame,
  LLMMessagesAppendFrame,
  LLMMessagesUpdateFrame,
  LLMRunFrame,
  LLMSetToolsFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  StartOfTurnFrame,
  TranscriptionFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
} from "../frames.js";
import type { Frame, InterruptionFrame } from "../frames.js";
import { FrameProcessor } from "../processor.js";
import type { FrameDirection, FrameProcessorEvents, FrameProcessorOptions } from "../processor.js";
import { LLMContext } from "./context.js";

/** Events of {@link LLMUserContextAggregator}. */
export type LLMUserAggregatorEvents = FrameProcessorEvents & {
  /** A user message was added to the context (transcript at debug level only in logs). */
  userMessage: { readonly text: string; readonly turnIndex: number | undefined };
};

/** What an {@link InterruptionStrategy} decides on: a user turn just started. */
export interface UserTurnStart {
  /** The frame that started the turn (`StartOfTurnFrame` from Flux, or `UserStartedSpeakingFrame`). */
  readonly frame: StartOfTurnFrame | UserStartedSpeakingFrame;
  /** Whether the bot is speaking (between `BotStartedSpeakingFrame` and `BotStoppedSpeakingFrame`). */
  readonly botSpeaking: boolean;
}

/**
 * Decides whether a user turn start interrupts the bot (Pipecat's user-turn strategies,
 * reduced to one hook). Called once per user turn.
 */
export type InterruptionStrategy = (start: UserTurnStart) => boolean;

/**
 * An {@link InterruptionStrategy}: every user turn start interrupts the bot — its speech,
 * and also a reply still being generated for an earlier turn (before any of it is heard).
 */
export const interruptOnEveryUserTurn: InterruptionStrategy = () => true;

/**
 * The default {@link InterruptionStrategy}: a user turn interrupts the bot only while it
 * speaks (barge-in, between `BotStartedSpeakingFrame` and `BotStoppedSpeakingFrame`), as
 * Flux's `StartOfTurn` during bot speech is meant to (voxpipe issue #10). A user turn that
 * starts while a reply is still being generated lets that reply go on.
 */
export const interruptWhileBotSpeaks: InterruptionStrategy = (start) => start.botSpeaking;

/** Options of {@link LLMUserContextAggregator}. */
export interface LLMUserAggregatorOptions extends FrameProcessorOptions {
  /**
   * Whether user turns may interrupt the bot at all. `false` never interrupts. Default true.
   */
  readonly interruptOnUserTurnStart?: boolean;
  /**
   * When a user turn start interrupts the bot (one `InterruptionFrame` per barge-in, pushed
   * here and nowhere else; only if the run allows interruptions). Default
   * {@link interruptWhileBotSpeaks} (barge-in only: a reply being generated finishes when
   * the user starts a turn before the bot speaks); {@link interruptOnEveryUserTurn} also
   * cancels that reply.
   */
  readonly interruptionStrategy?: InterruptionStrategy;
}

/**
 * Collects the final `TranscriptionFrame`s of a user turn; at the turn's end
 * (`EndOfTurnFrame`, or `UserStoppedSpeakingFrame` for STTs without turn frames) adds
 * them as one `user` message and pushes an `LLMContextFrame`. Interim and eager
 * transcriptions are ignored (forwarded).
 *
 * Conversation control (Pipecat's frames; consumed here, the owner of the context):
 * `LLMMessagesAppendFrame` appends, `LLMMessagesUpdateFrame` replaces the messages,
 * `LLMSetToolsFrame` replaces the tools (each runs the LLM when `runLlm`), and
 * `LLMRunFrame` runs the LLM on the context as it is (e.g. a greeting). Invalid tools are
 * reported as an error and leave the context unchanged. Every other frame is forwarded.
 *
 * The ordering guarantee of the ordered lane is what makes this correct: the turn's
 * `TranscriptionFrame` always arrives before its `EndOfTurnFrame`.
 */
export class LLMUserContextAggregator extends FrameProcessor<LLMUserAggregatorEvents> {
  readonly context: LLMContext;
  readonly #interrupt: boolean;
  #parts: string[] = [];
  #turnIndex: number | undefined;
  #userTurnOpen = false;
  #botSpeaking = false;
  readonly #strategy: InterruptionStrategy | undefined;

  constructor(context: LLMContext, options: LLMUserAggregatorOptions = {}) {
    super(options);
    this.context = context;
    this.#interrupt = options.interruptOnUserTurnStart ?? true;
    this.#strategy = this.#interrupt
      ? (options.interruptionStrategy ?? interruptWhileBotSpeaks)
      : undefined;
  }

  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof BotStartedSpeakingFrame) this.#botSpeaking = true;
    else if (frame instanceof BotStoppedSpeakingFrame) this.#botSpeaking = false;
    if (direction === "upstream") {
      this.push(frame, direction);
      return;
    }
    if (frame instanceof StartOfTurnFrame || frame instanceof UserStartedSpeakingFrame) {
      // STTs may send both for one turn start (Flux: StartOfTurn + UserStartedSpeaking):
      // decide once per turn.
      if (
        !this.#userTurnOpen &&
        this.#strategy?.({ frame, botSpeaking: this.#botSpeaking }) === true
      ) {
        this.pushInterruption();
      }
      this.#userTurnOpen = true;
      this.push(frame, direction);
      return;
    }
    if (
      frame instanceof LLMMessagesAppendFrame ||
      frame instanceof LLMMessagesUpdateFrame ||
      frame instanceof LLMSetToolsFrame ||
      frame instanceof LLMRunFrame
    ) {
      this.#control(frame);
      return;
    }
    if (frame instanceof TranscriptionFrame) {
      if (frame.text.trim() !== "") this.#parts.push(frame.text.trim());
      this.#turnIndex = frame.turnIndex;
      this.push(frame, direction);
      return;
    }
    this.push(frame, direction);
    if (frame instanceof EndOfTurnFrame || frame instanceof UserStoppedSpeakingFrame) {
      this.#userTurnOpen = false;
      this.#commit();
    }
  }

  protected override onInterruption(): void {
    // The user's words are never dropped by an interruption (they are not bot output).
  }

  #control(
    frame: LLMMessagesAppendFrame | LLMMessagesUpdateFrame | LLMSetToolsFrame | LLMRunFrame,
  ): void {
    if (frame instanceof LLMMessagesAppendFrame) this.context.addMessages(frame.messages);
    else if (frame instanceof LLMMessagesUpdateFrame) this.context.setMessages(frame.messages);
    else if (frame instanceof LLMSetToolsFrame) {
      try {
        this.context.setTools(frame.tools, frame.toolChoice);
      } catch (err) {
        this.pushError(`${this.name}: LLMSetToolsFrame refused: ${(err as Error).message}`, {
          cause: err,
        });
      }
      return;
    }
    if (frame instanceof LLMRunFrame || frame.runLlm) {
      this.push(new LLMContextFrame({ context: this.context }));
    }
  }

  #commit(): void {
    const text = this.#parts.join(" ");
    this.#parts = [];
    if (text === "") return;
    this.context.addMessage({ role: "user", content: text });
    this.logger.debug({ text }, "user message");
    this.emit("userMessage", { text, turnIndex: this.#turnIndex });
    this.push(new LLMContextFrame({ context: this.context }));
  }
}

/** Events of {@link LLMAssistantContextAggregator}. */
export type LLMAssistantAggregatorEvents = FrameProcessorEvents & {
  /** An assistant message was added; `interrupted` when the reply was cut short. */
  assistantMessage: { readonly text: string; readonly interrupted: boolean };
};

/**
 * Records what the bot said as `assistant` messages.
 *
 * - With a TTS service upstream (a `TTSStartedFrame` came in the reply), the reply is the text
 *   of the `TTSTextFrame`s that got here — one per synthesized sentence; an output
 *   transport forwards each when its audio starts playing, so they are the sentences the
 *   user heard. Without TTS, it is the `LLMTextFrame`s between `LLMFullResponseStartFrame`
 *   and `LLMFullResponseEndFrame`.
 * - A reply ends at `LLMFullResponseEndFrame`; speech outside an LLM response (a
 *   `TTSSpeakFrame`) ends at `TTSStoppedFrame`.
 * - When an `InterruptionFrame` cuts the reply, what reached this processor so far is
 *   stored (what was actually produced), and the event says `interrupted: true`.
 * - A reply that calls functions (a `FunctionCallInProgressFrame` inside it) was recorded by
 *   the LLM service with its tool calls (text and calls must stay one message, followed by
 *   the results): its text is not added again.
 *
 * All frames are forwarded.
 */
export class LLMAssistantContextAggregator extends FrameProcessor<LLMAssistantAggregatorEvents> {
  readonly context: LLMContext;
  #llmText = "";
  #spoken: string[] = [];
  #open = false;
  /** This reply is spoken (TTS): only spoken text counts, the LLM text was not all heard. */
  #tts = false;
  /** The LLM service recorded this reply (it called functions). */
  #recordedByLlm = false;

  constructor(context: LLMContext, options: FrameProcessorOptions = {}) {
    super(options);
    this.context = context;
  }

  override process(frame: Frame, direction: FrameDirection): void {
    if (direction === "downstream") {
      if (frame instanceof LLMFullResponseStartFrame) {
        this.#commit(false);
        this.#open = true;
      } else if (frame instanceof LLMTextFrame) {
        this.#llmText += frame.text;
      } else if (frame instanceof FunctionCallInProgressFrame && this.#open) {
        this.#recordedByLlm = true;
      } else if (frame instanceof TTSStartedFrame) {
        this.#tts = true;
      } else if (frame instanceof TTSTextFrame) {
        this.#spoken.push(frame.text);
      } else if (frame instanceof LLMFullResponseEndFrame) {
        this.#commit(false);
      } else if (frame instanceof TTSStoppedFrame && !this.#open) {
        this.#commit(false);
      }
    }
    this.push(frame, direction);
  }

  protected override onInterruption(_frame: InterruptionFrame): void {
    this.#commit(true);
  }

  #commit(interrupted: boolean): void {
    const spoken = this.#tts || this.#spoken.length > 0;
    const text = (spoken ? this.#spoken.join(" ") : this.#llmText).trim();
    const recorded = this.#recordedByLlm;
    this.#llmText = "";
    this.#spoken = [];
    this.#open = false;
    this.#tts = false;
    this.#recordedByLlm = false;
    if (text === "" || recorded) return;
    this.context.addMessage({ role: "assistant", content: text });
    this.logger.debug({ text, interrupted }, "assistant message");
    this.emit("assistantMessage", { text, interrupted });
  }
}

/**
 * Create the user and assistant aggregators sharing one context.
 *
 * @example
 * ```ts
 * const { context, user, assistant } = createContextAggregators(new LLMContext([{ role: "system", content: "Be brief." }]));
 * new Pipeline([input, stt, user, llm, tts, output, assistant]);
 * ```
 */
export function createContextAggregators(
  context: LLMContext = new LLMContext(),
  options: { user?: LLMUserAggregatorOptions; assistant?: FrameProcessorOptions } = {},
): {
  context: LLMContext;
  user: LLMUserContextAggregator;
  assistant: LLMAssistantContextAggregator;
} {
  return {
    context,
    user: new LLMUserContextAggregator(context, options.user),
    assistant: new LLMAssistantContextAggregator(context, options.assistant),
  };
}
