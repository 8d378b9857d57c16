import {
  EagerEndOfTurnFrame,
  LLMService,
  StartOfTurnFrame,
  ToolCallAccumulator,
  TurnResumedFrame,
  parseToolArguments,
} from "@voxpipe/core";
import type {
  AdoptedFunctionCall,
  Frame,
  FrameDirection,
  FunctionCallOutcome,
  LLMContext,
  LLMMessage,
  LLMServiceEvents,
  LLMServiceOptions,
  LLMStreamChunk,
  LLMTool,
  LLMToolChoice,
} from "@voxpipe/core";

/** What one completion is asked for: the conversation and the tools the model may call. */
export interface LLMRequest {
  readonly messages: readonly LLMMessage[];
  /** Empty: no tools are sent. */
  readonly tools: readonly LLMTool[];
  readonly toolChoice: LLMToolChoice | undefined;
}

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
  /**
   * A speculative reply ended in function calls. `started`: the calls that ran ahead of
   * `EndOfTurn` (registered `speculative: true`); `held`: the calls that wait for the commit.
   */
  speculationFunctionCalls: {
    readonly turnIndex: number;
    readonly started: readonly string[];
    readonly held: readonly string[];
  };
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
  readonly chunks: LLMStreamChunk[] = [];
  /** Calls of functions safe to run speculatively, started before the commit (by tool-call id). */
  readonly started = new Map<string, AdoptedFunctionCall>();
  done = false;
  error: Error | undefined = undefined;
  #wake: (() => void) | undefined;

  constructor(
    readonly turnIndex: number,
    /** The exact messages the reply answers; a commit requires the final context to be equal. */
    readonly key: string,
  ) {}

  add(chunk: LLMStreamChunk): void {
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

  /**
   * Yields the buffered chunks, then the rest as they arrive; throws what generation threw.
   * `signal` aborting (an interruption) also stops the generation. Its listener lives only
   * while draining: `signal` is the processor's long-lived one, shared by every reply.
   */
  async *drain(signal: AbortSignal): AsyncGenerator<LLMStreamChunk> {
    const onAbort = (): void => {
      this.controller.abort(signal.reason);
      this.#notify();
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
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

/** The request a reply answers, as a comparable key. */
function keyOf(request: LLMRequest): string {
  return JSON.stringify([
    request.messages.map((m) => [m.role, m.content.trim(), m.toolCalls, m.toolCallId]),
    request.tools.map((t) => t.function.name),
  ]);
}

function requestOf(context: LLMContext, messages = context.messages): LLMRequest {
  return { messages, tools: context.tools, toolChoice: context.toolChoice };
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
 * - Function calls: a speculative reply never runs a function with side effects before
 *   `EndOfTurn`. It stops at the call; the call runs when the reply is committed. Functions
 *   registered with `speculative: true` (lookups) start as soon as the speculative reply
 *   asks for them, and the committed reply uses their result; a discarded reply aborts them.
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
  /** The committed reply being streamed: its started calls are adopted by the base class. */
  #committed: SpeculativeReply | undefined;

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
   * Stream one completion for `request`: text chunks (with their own spacing) and tool-call
   * fragments. Must stop promptly when `signal` aborts.
   */
  protected abstract stream(
    request: LLMRequest,
    signal: AbortSignal,
  ): AsyncIterable<LLMStreamChunk>;

  protected override generate(
    context: LLMContext,
    signal: AbortSignal,
  ): AsyncIterable<LLMStreamChunk> {
    const request = requestOf(context);
    const pending = this.#pending;
    this.#pending = undefined;
    // Calls a previous committed reply started but that reply never adopted (interrupted).
    for (const left of this.#committed?.started.values() ?? []) left.controller.abort();
    this.#committed = undefined;
    if (pending !== undefined) {
      if (pending.key === keyOf(request)) {
        this.#committed = pending;
        this.emit("speculationCommitted", {
          turnIndex: pending.turnIndex,
          bufferedChunks: pending.chunks.length,
        });
        return pending.drain(signal);
      }
      this.#discard(pending, "mismatch");
    }
    return this.stream(request, signal);
  }

  protected override adoptFunctionCall(toolCallId: string): AdoptedFunctionCall | undefined {
    const started = this.#committed?.started.get(toolCallId);
    this.#committed?.started.delete(toolCallId);
    return started;
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
    super.onInterruption();
    this.#discardPending("interrupted");
  }

  protected override onCleanup(): void {
    this.#discardPending("interrupted");
  }

  #speculate(frame: EagerEndOfTurnFrame): void {
    this.#discardPending("superseded");
    const transcript = frame.transcript.trim();
    if (transcript === "" || this.#context === undefined) return;
    const context = this.#context;
    const request = requestOf(context, [
      ...context.messages,
      { role: "user", content: transcript },
    ]);
    const reply = new SpeculativeReply(frame.turnIndex, keyOf(request));
    this.#pending = reply;
    this.logger.debug({ turnIndex: frame.turnIndex, transcript }, "speculative reply started");
    this.emit("speculationStarted", { turnIndex: frame.turnIndex });
    void this.createTask("speculative-reply", async (lifetime) => {
      const signal = AbortSignal.any([lifetime, reply.controller.signal]);
      try {
        for await (const chunk of this.stream(request, signal)) {
          if (signal.aborted) break;
          reply.add(chunk);
        }
        if (!signal.aborted) this.#startSafeCalls(reply, context);
        reply.finish();
      } catch (err) {
        // Kept for the commit: a failed speculation reports its error only if it is used.
        reply.finish(signal.aborted ? undefined : err);
      }
    });
  }

  /** Start the calls of functions registered as safe to run speculatively; hold the rest. */
  #startSafeCalls(reply: SpeculativeReply, context: LLMContext): void {
    const calls = new ToolCallAccumulator();
    for (const chunk of reply.chunks) if (typeof chunk !== "string") calls.add(chunk);
    if (calls.size === 0) return;
    const started: string[] = [];
    const held: string[] = [];
    for (const call of calls.calls()) {
      let args: Record<string, unknown>;
      try {
        args = parseToolArguments(call);
      } catch {
        held.push(call.name); // reported when the reply is committed
        continue;
      }
      if (this.functionRegistration(call.name)?.speculative !== true) {
        held.push(call.name);
        continue;
      }
      const controller = new AbortController();
      const outcome: Promise<FunctionCallOutcome> = this.executeFunctionCall(
        { functionName: call.name, toolCallId: call.id, arguments: args, context },
        AbortSignal.any([controller.signal, this.lifetimeSignal]),
        true,
      );
      reply.started.set(call.id, { outcome, controller });
      started.push(call.name);
    }
    this.logger.debug({ turnIndex: reply.turnIndex, started, held }, "speculative function calls");
    this.emit("speculationFunctionCalls", { turnIndex: reply.turnIndex, started, held });
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
    const abortReason = new DOMException(`speculative reply discarded: ${reason}`, "AbortError");
    reply.controller.abort(abortReason);
    for (const started of reply.started.values()) started.controller.abort(abortReason);
    reply.started.clear();
    this.logger.debug({ turnIndex: reply.turnIndex, reason }, "speculative reply discarded");
    this.emit("speculationDiscarded", { turnIndex: reply.turnIndex, reason });
  }
}
