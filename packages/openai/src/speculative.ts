import { EagerEndOfTurnFrame, LLMService, StartOfTurnFrame, TurnResumedFrame } from "@voxpipe/core";
import type {
  Frame,
  FrameDirection,
  LLMContext,
  LLMMessage,
  LLMServiceEvents,
  LLMServiceOptions,
} from "@voxpipe/core";

/** Events of {@link SpeculativeLLMService}, on top of the LLM service events. */
export type SpeculativeLLMServiceEvents<TSettings> = LLMServiceEvents<TSettings> & {
  /** A speculative reply started on `EagerEndOfTurn` (transcript at debug level only in logs). */
  speculationStarted: { readonly turnIndex: number };
  /** A speculative reply was thrown away: the turn resumed, another turn started, or the final context differed. */
  speculationDiscarded: {
    readonly turnIndex: number;
    readonly reason: "resumed" | "mismatch" | "interrupted" | "superseded";
  };
  /** A speculative reply became the real reply (the final transcript matched the eager one). */
  speculationCommitted: { readonly turnIndex: number; readonly bufferedChunks: number };
};

/** Options of {@link SpeculativeLLMService}. */
export interface SpeculativeLLMServiceOptions<TSettings> extends LLMServiceOptions<TSettings> {
  /**
   * The conversation the context aggregators maintain (from `createContextAggregators`).
   * Needed to speculate: on `EagerEndOfTurn` the reply is generated for these messages plus
   * the eager transcript, before the user aggregator sends the final context.
   */
  readonly context?: LLMContext | undefined;
  /**
   * Generate replies speculatively on `EagerEndOfTurnFrame`. Default: true when `context` is
   * given. It only has an effect when the STT emits eager ends of turn, i.e. when Flux's
   * `eagerEotThreshold` is set — so by default speculation is on exactly when eager mode is.
   */
  readonly speculative?: boolean | undefined;
}

/** A reply being generated ahead of the end of the turn; its chunks are buffered until committed. */
class SpeculativeReply {
  readonly controller = new AbortController();
  readonly chunks: string[] = [];
  done = false;
  error: Error | undefined = undefined;
  #wake: (() => void) | undefined;

  constructor(
    readonly turnIndex: number,
    /** The exact messages the reply answers; a commit requires the final context to be equal. */
    readonly key: string,
  ) {}

  add(chunk: string): void {
    this.chunks.push(chunk);
    this.#notify();
  }

  finish(error?: unknown): void {
    this.done = true;
    this.error =
      error === undefined || error instanceof Error
        ? error
        : new Error("speculative generation failed", { cause: error });
    this.#notify();
  }

  /** Yields the buffered chunks, then the rest as they arrive; throws what generation threw. */
  async *drain(signal: AbortSignal): AsyncGenerator<string> {
    const onAbort = (): void => this.#notify();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      let next = 0;
      for (;;) {
        while (next < this.chunks.length) yield this.chunks[next++];
        if (this.done) {
          if (this.error !== undefined && !signal.aborted) throw this.error;
          return;
        }
        if (signal.aborted) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** The messages a reply answers, as a comparable key. */
function keyOf(messages: readonly LLMMessage[]): string {
  return JSON.stringify(messages.map((m) => [m.role, m.content.trim()]));
}

/**
 * An LLM service that can answer **speculatively** with Flux eager end-of-turn
 * (Deepgram Flux docs, "Eager end-of-turn": `EagerEndOfTurn` → start the LLM; `TurnResumed` →
 * cancel it; `EndOfTurn` → use it, the transcript being the same as the eager one):
 *
 * - `EagerEndOfTurnFrame`: starts generating for `context.messages` + the eager transcript as a
 *   user message, in the background; chunks are buffered, nothing is pushed yet.
 * - `TurnResumedFrame` (or a new `StartOfTurnFrame`, or an interruption): aborts it.
 * - The final `LLMContextFrame` (sent by the user aggregator after `EndOfTurnFrame`): if its
 *   messages equal the speculated ones, the buffered chunks are pushed at once and the stream
 *   continues — the reply starts up to the eager-to-final gap earlier. Otherwise the
 *   speculation is dropped and a normal request is made.
 *
 * Subclasses implement {@link stream} (one streamed completion for a list of messages).
 */
export abstract class SpeculativeLLMService<
  TSettings extends object,
  TEvents extends SpeculativeLLMServiceEvents<TSettings> = SpeculativeLLMServiceEvents<TSettings>,
> extends LLMService<TSettings, TEvents> {
  readonly #context: LLMContext | undefined;
  readonly #speculative: boolean;
  #pending: SpeculativeReply | undefined;

  constructor(options: SpeculativeLLMServiceOptions<TSettings>) {
    super(options);
    this.#context = options.context;
    this.#speculative = options.speculative ?? options.context !== undefined;
    if (this.#speculative && this.#context === undefined) {
      throw new TypeError(
        `${this.name}: speculative replies need the conversation: pass options.context`,
      );
    }
  }

  /** Whether speculative replies are enabled. */
  get speculative(): boolean {
    return this.#speculative;
  }

  /**
   * Stream one completion for `messages` as text chunks (with their own spacing). Must stop
   * promptly when `signal` aborts.
   */
  protected abstract stream(
    messages: readonly LLMMessage[],
    signal: AbortSignal,
  ): AsyncIterable<string>;

  protected override generate(context: LLMContext, signal: AbortSignal): AsyncIterable<string> {
    const messages = context.messages;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) {
      if (pending.key === keyOf(messages)) {
        this.emit("speculationCommitted", {
          turnIndex: pending.turnIndex,
          bufferedChunks: pending.chunks.length,
        });
        const abort = (): void => pending.controller.abort(signal.reason);
        signal.addEventListener("abort", abort, { once: true });
        return pending.drain(signal);
      }
      this.#discard(pending, "mismatch");
    }
    return this.stream(messages, signal);
  }

  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === "downstream" && this.#speculative) {
      if (frame instanceof EagerEndOfTurnFrame) this.#speculate(frame);
      else if (frame instanceof TurnResumedFrame) this.#discardPending("resumed");
      else if (frame instanceof StartOfTurnFrame) this.#discardPending("superseded");
    }
    return super.process(frame, direction);
  }

  protected override onInterruption(): void {
    this.#discardPending("interrupted");
  }

  protected override onCleanup(): void {
    this.#discardPending("interrupted");
  }

  #speculate(frame: EagerEndOfTurnFrame): void {
    this.#discardPending("superseded");
    const transcript = frame.transcript.trim();
    if (transcript === "" || this.#context === undefined) return;
    const messages: LLMMessage[] = [
      ...this.#context.messages,
      { role: "user", content: transcript },
    ];
    const reply = new SpeculativeReply(frame.turnIndex, keyOf(messages));
    this.#pending = reply;
    this.logger.debug({ turnIndex: frame.turnIndex, transcript }, "speculative reply started");
    this.emit("speculationStarted", { turnIndex: frame.turnIndex });
    void this.createTask("speculative-reply", async (lifetime) => {
      const signal = AbortSignal.any([lifetime, reply.controller.signal]);
      try {
        for await (const chunk of this.stream(messages, signal)) {
          if (signal.aborted) break;
          reply.add(chunk);
        }
        reply.finish();
      } catch (err) {
        // Kept for the commit: a failed speculation reports its error only if it is used.
        reply.finish(signal.aborted ? undefined : err);
      }
    });
  }

  #discardPending(reason: "resumed" | "mismatch" | "interrupted" | "superseded"): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    this.#discard(pending, reason);
  }

  #discard(
    reply: SpeculativeReply,
    reason: "resumed" | "mismatch" | "interrupted" | "superseded",
  ): void {
    reply.controller.abort(
      new DOMException(`speculative reply discarded: ${reason}`, "AbortError"),
    );
    this.logger.debug({ turnIndex: reply.turnIndex, reason }, "speculative reply discarded");
    this.emit("speculationDiscarded", { turnIndex: reply.turnIndex, reason });
  }
}
