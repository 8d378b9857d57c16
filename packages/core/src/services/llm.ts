/**
 * `LLMService`: context in, streamed text out — and the function calls the reply asks for.
 */
import type { LLMContext, LLMToolCall } from "../aggregators/context.js";
import {
  FUNCTION_CALL_CANCELLED,
  FUNCTION_CALL_IN_PROGRESS,
  TOOL_NAME_PATTERN,
} from "../aggregators/context.js";
import {
  FunctionCallCancelFrame,
  FunctionCallInProgressFrame,
  FunctionCallResultFrame,
  FunctionCallsStartedFrame,
  LLMContextFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  LLMUpdateSettingsFrame,
} from "../frames.js";
import type { Frame, FunctionCallFromLLM } from "../frames.js";
import type { FrameDirection } from "../processor.js";
import { AIService } from "./ai-service.js";
import type { AIServiceEvents, AIServiceOptions } from "./ai-service.js";
import {
  ToolCallAccumulator,
  executeFunctionCall,
  parseToolArguments,
  toolMessageContent,
} from "./functions.js";
import type {
  FunctionCallHandler,
  FunctionCallOutcome,
  FunctionRegistration,
  LLMStreamChunk,
  RegisterFunctionOptions,
} from "./functions.js";

/** Events of LLM services. */
export type LLMServiceEvents<TSettings> = AIServiceEvents<TSettings>;

/** Constructor options of {@link LLMService}. */
export interface LLMServiceOptions<TSettings> extends AIServiceOptions<TSettings> {
  /** Run the LLM again when the calls of a reply are done (a result can override it). Default true. */
  readonly runLlmAfterFunctionCalls?: boolean | undefined;
  /** Default timeout of a function handler, ms (Pipecat: 10 s). Default 10000. */
  readonly functionCallTimeoutMs?: number | undefined;
  /**
   * Most replies in a row that call functions before the service stops re-running the LLM
   * for results (a model stuck calling tools); the stop is reported as an error. Default 8.
   */
  readonly maxFunctionCallRounds?: number | undefined;
}

/** A function call pre-started elsewhere (a speculative reply) that a reply may adopt. */
export interface AdoptedFunctionCall {
  readonly outcome: Promise<FunctionCallOutcome>;
  /** Cancels it (interruption). */
  readonly controller: AbortController;
}

interface RunningCall {
  readonly call: FunctionCallFromLLM;
  readonly cancelOnInterruption: boolean;
  readonly controller: AbortController;
  cancelled: boolean;
}

/**
 * Base class of LLM services. On an `LLMContextFrame` it pushes
 * `LLMFullResponseStartFrame`, one `LLMTextFrame` per text chunk yielded by {@link generate},
 * and `LLMFullResponseEndFrame`. Metrics: TTFB = context received → first chunk;
 * processing = whole response.
 *
 * **Function calling** (Pipecat's model). Tools are declared in the `LLMContext`;
 * handlers are registered with {@link registerFunction}. `generate` yields tool-call
 * fragments ({@link LLMToolCallDelta}, OpenAI's streaming shape) next to text; they are
 * assembled by index. When a reply ends with calls, the service:
 * 1. records the reply in the context — one `assistant` message with its text and
 *    `toolCalls`, then one `tool` message per call holding `IN_PROGRESS` (so the results
 *    keep their place after the call even if the user speaks meanwhile);
 * 2. pushes `FunctionCallsStartedFrame`, one `FunctionCallInProgressFrame` per call and
 *    closes the reply (`LLMFullResponseEndFrame`);
 * 3. runs the handlers in parallel, each with its own timeout and `AbortSignal`; a result
 *    replaces the placeholder and a `FunctionCallResultFrame` is pushed; an error, timeout,
 *    unknown function or bad JSON arguments is sent to the LLM as `{ error }`;
 * 4. when all are done, runs the LLM again on the updated context (unless
 *    `runLlmAfterFunctionCalls: false` or every result says `runLlm: false`).
 *
 * **Interruption**: `generate` receives the processor's current signal; an
 * `InterruptionFrame` aborts it, nothing more is pushed for that response (no end frame:
 * downstream already saw the interruption). Running calls registered with
 * `cancelOnInterruption` (the default) are cancelled: their signal aborts, a
 * `FunctionCallCancelFrame` is pushed and the context records `CANCELLED`. The others
 * finish and their result is recorded, but the LLM is not re-run for them (the user has
 * the floor; the next reply sees the result). A generation error is reported upstream
 * (non-fatal) and the response is closed with `LLMFullResponseEndFrame`.
 * `LLMUpdateSettingsFrame` → {@link updateSettings}.
 */
export abstract class LLMService<
  TSettings extends object,
  TEvents extends LLMServiceEvents<TSettings> = LLMServiceEvents<TSettings>,
> extends AIService<TSettings, TEvents> {
  readonly #functions = new Map<string | null, FunctionRegistration>();
  readonly #running = new Map<string, RunningCall>();
  readonly #runLlmAfterCalls: boolean;
  readonly #timeoutMs: number;
  readonly #maxRounds: number;

  constructor(options: LLMServiceOptions<TSettings>) {
    super(options);
    const timeoutMs = options.functionCallTimeoutMs ?? 10_000;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new RangeError(
        `functionCallTimeoutMs must be a positive number of ms, got ${String(timeoutMs)}`,
      );
    }
    const rounds = options.maxFunctionCallRounds ?? 8;
    if (!(Number.isInteger(rounds) && rounds >= 1)) {
      throw new RangeError(`maxFunctionCallRounds must be an integer ≥ 1, got ${String(rounds)}`);
    }
    this.#runLlmAfterCalls = options.runLlmAfterFunctionCalls ?? true;
    this.#timeoutMs = timeoutMs;
    this.#maxRounds = rounds;
  }

  /**
   * Stream the reply to `context`: text chunks (with their own spacing) and tool-call
   * fragments. Must stop promptly when `signal` aborts (pass it to `fetch`/the SDK).
   */
  protected abstract generate(
    context: LLMContext,
    signal: AbortSignal,
  ): AsyncIterable<LLMStreamChunk>;

  /**
   * Register the handler of function `name` (Pipecat `register_function`); `null` registers
   * the catch-all for calls with no handler of their own. Replaces an earlier registration.
   *
   * @example
   * ```ts
   * llm.registerFunction("check_availability", async ({ arguments: args, signal }) =>
   *   fetch(`https://…?date=${String(args.date)}`, { signal }).then((r) => r.json()),
   *   { speculative: true, timeoutMs: 5000 });
   * ```
   * @throws {TypeError} on a name OpenAI would refuse (`^[a-zA-Z0-9_-]{1,64}$`) or a non-function handler.
   * @throws {RangeError} on a timeout that is not a positive number of ms.
   */
  registerFunction(
    name: string | null,
    handler: FunctionCallHandler,
    options: RegisterFunctionOptions = {},
  ): void {
    if (name !== null && (typeof name !== "string" || !TOOL_NAME_PATTERN.test(name))) {
      throw new TypeError(
        `registerFunction: name must match ${String(TOOL_NAME_PATTERN)} or be null (catch-all), got ${JSON.stringify(name)}`,
      );
    }
    if (typeof handler !== "function") {
      throw new TypeError(`registerFunction(${JSON.stringify(name)}): handler must be a function`);
    }
    const t = options.timeoutMs;
    if (t !== undefined && !(Number.isFinite(t) && t > 0)) {
      throw new RangeError(
        `registerFunction(${JSON.stringify(name)}): timeoutMs must be a positive number of ms, got ${String(t)}`,
      );
    }
    this.#functions.set(name, {
      handler,
      cancelOnInterruption: options.cancelOnInterruption ?? true,
      timeoutMs: t,
      speculative: options.speculative ?? false,
    });
  }

  /** Remove the handler of `name` (`null`: the catch-all). */
  unregisterFunction(name: string | null): void {
    this.#functions.delete(name);
  }

  /** Whether a call of `name` has a handler (its own or the catch-all). */
  hasFunction(name: string): boolean {
    return this.functionRegistration(name) !== undefined;
  }

  /** Tool-call ids of the calls running now. */
  get runningFunctionCalls(): readonly string[] {
    return [...this.#running.keys()];
  }

  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame instanceof LLMContextFrame && direction === "downstream") {
      return this.runInference(frame.context);
    }
    if (frame instanceof LLMUpdateSettingsFrame && this.isForThisService(frame)) {
      return this.handleSettingsFrame(frame as LLMUpdateSettingsFrame<TSettings>);
    }
    this.push(frame, direction);
  }

  /** Run one inference and stream its frames, then its function calls (see the class doc). */
  protected async runInference(context: LLMContext, round = 1): Promise<void> {
    const signal = this.signal;
    this.push(new LLMFullResponseStartFrame());
    this.startTtfbMetrics();
    this.startProcessingMetrics();
    let first = true;
    let text = "";
    const toolCalls = new ToolCallAccumulator();
    let failed = false;
    try {
      for await (const chunk of this.generate(context, signal)) {
        if (signal.aborted) return;
        if (first) {
          this.stopTtfbMetrics();
          first = false;
        }
        if (typeof chunk !== "string") toolCalls.add(chunk);
        else if (chunk !== "") {
          text += chunk;
          this.push(new LLMTextFrame({ text: chunk }));
        }
      }
    } catch (err) {
      if (signal.aborted) return; // interrupted: exit silently
      failed = true;
      this.pushError(
        `${this.name}: generation failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    if (signal.aborted) return;
    this.stopProcessingMetrics();
    // A reply cut by an error never runs its (possibly incomplete) calls.
    const calls = failed || toolCalls.size === 0 ? [] : toolCalls.calls();
    const pending = calls.length === 0 ? [] : this.#startFunctionCalls(context, text, calls);
    this.push(new LLMFullResponseEndFrame());
    if (pending.length === 0) return;
    const outcomes = await Promise.all(pending);
    if (signal.aborted) return; // interrupted: the user has the floor
    const done = outcomes.filter((o): o is FunctionCallOutcome => o !== undefined);
    if (!done.some((o) => o.runLlm ?? this.#runLlmAfterCalls)) return;
    if (round >= this.#maxRounds) {
      this.pushError(
        `${this.name}: the LLM called functions in ${round} replies in a row; not running it again (maxFunctionCallRounds)`,
      );
      return;
    }
    await this.runInference(context, round + 1);
  }

  /** The registration that handles calls of `name`: its own, else the catch-all. */
  protected functionRegistration(name: string): FunctionRegistration | undefined {
    return this.#functions.get(name) ?? this.#functions.get(null);
  }

  /** Run one call with the service's defaults (no frames, no context changes). */
  protected executeFunctionCall(
    call: FunctionCallFromLLM,
    signal: AbortSignal,
    speculative: boolean,
  ): Promise<FunctionCallOutcome> {
    return executeFunctionCall(call, this.functionRegistration(call.functionName), {
      llm: this,
      signal,
      timeoutMs: this.#timeoutMs,
      speculative,
    });
  }

  /**
   * Hook: a call already started elsewhere for `toolCallId` (a speculative reply ran a
   * function declared safe to run speculatively). Default: none.
   */
  protected adoptFunctionCall(_toolCallId: string): AdoptedFunctionCall | undefined {
    return undefined;
  }

  protected override onInterruption(): void {
    for (const running of this.#running.values()) {
      if (!running.cancelOnInterruption) continue;
      const { call } = running;
      running.cancelled = true;
      running.controller.abort(
        new DOMException(`${call.functionName} cancelled by an interruption`, "AbortError"),
      );
      this.#running.delete(call.toolCallId);
      call.context.setToolResult(call.toolCallId, FUNCTION_CALL_CANCELLED);
      this.push(
        new FunctionCallCancelFrame({
          functionName: call.functionName,
          toolCallId: call.toolCallId,
        }),
      );
    }
  }

  /** Steps 1–3 of the class doc; each promise resolves to the outcome, or undefined when cancelled. */
  #startFunctionCalls(
    context: LLMContext,
    text: string,
    toolCalls: readonly LLMToolCall[],
  ): Promise<FunctionCallOutcome | undefined>[] {
    context.addMessage({ role: "assistant", content: text, toolCalls });
    for (const c of toolCalls) {
      context.addMessage({ role: "tool", toolCallId: c.id, content: FUNCTION_CALL_IN_PROGRESS });
    }
    const parsed = toolCalls.map((c) => {
      try {
        return { call: c, args: parseToolArguments(c), error: undefined };
      } catch (err) {
        return { call: c, args: {}, error: (err as Error).message };
      }
    });
    const functionCalls: FunctionCallFromLLM[] = parsed.map(({ call, args }) => ({
      functionName: call.name,
      toolCallId: call.id,
      arguments: args,
      context,
    }));
    this.push(new FunctionCallsStartedFrame({ functionCalls }));
    return functionCalls.map((call, i) => {
      const registration = this.functionRegistration(call.functionName);
      const cancelOnInterruption = registration?.cancelOnInterruption ?? true;
      this.push(new FunctionCallInProgressFrame({ ...call, cancelOnInterruption }));
      const adopted = this.adoptFunctionCall(call.toolCallId);
      const controller = adopted?.controller ?? new AbortController();
      const running: RunningCall = { call, cancelOnInterruption, controller, cancelled: false };
      this.#running.set(call.toolCallId, running);
      const error = parsed[i]?.error;
      const outcome =
        error !== undefined
          ? Promise.resolve<FunctionCallOutcome>({
              result: { error },
              runLlm: undefined,
              failed: true,
            })
          : (adopted?.outcome ??
            this.executeFunctionCall(
              call,
              AbortSignal.any([controller.signal, this.lifetimeSignal]),
              false,
            ));
      return outcome.then((o) => this.#finishCall(running, o));
    });
  }

  #finishCall(running: RunningCall, outcome: FunctionCallOutcome): FunctionCallOutcome | undefined {
    if (running.cancelled || this.lifetimeSignal.aborted) return undefined;
    const { call } = running;
    this.#running.delete(call.toolCallId);
    if (outcome.failed) {
      this.logger.warn(
        { function: call.functionName, result: outcome.result },
        "function call failed",
      );
    }
    call.context.setToolResult(call.toolCallId, toolMessageContent(outcome.result));
    this.push(
      new FunctionCallResultFrame({
        functionName: call.functionName,
        toolCallId: call.toolCallId,
        arguments: call.arguments,
        result: outcome.result,
        runLlm: outcome.runLlm ?? this.#runLlmAfterCalls,
      }),
    );
    return outcome;
  }
}
