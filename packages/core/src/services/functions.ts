/**
 * Function calling, provider-independent: tool-call deltas assembled into calls, handler
 * registration, and running one call (timeout, errors as results). `LLMService` uses these
 * to run the calls a reply asks for; the vocabulary is Pipecat's (`register_function`,
 * `cancel_on_interruption`, `FunctionCallResultProperties.run_llm`).
 */
import type { LLMContext, LLMToolCall } from "../aggregators/context.js";
import type { FunctionCallFromLLM } from "../frames.js";
import type { FrameProcessor } from "../processor.js";

/**
 * A fragment of a streamed tool call, as OpenAI streams them
 * (`choices[0].delta.tool_calls[]`: the first fragment of a call has its `index`, `id` and
 * `function.name`, later ones add pieces of `function.arguments` for the same `index`).
 * `LLMService.generate` yields these next to text chunks.
 */
export interface LLMToolCallDelta {
  /** Which call of the reply this fragment belongs to (parallel calls have 0, 1, …). */
  readonly index: number;
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  /** A piece of the arguments' JSON text. */
  readonly arguments?: string | undefined;
}

/** What `LLMService.generate` yields: a text chunk or a tool-call fragment. */
export type LLMStreamChunk = string | LLMToolCallDelta;

/**
 * Assembles streamed tool-call fragments into whole calls, by `index` (receives leniently:
 * a missing id gets a generated one; a name sent again in full is not doubled).
 */
export class ToolCallAccumulator {
  readonly #calls = new Map<number, { id: string; name: string; arguments: string }>();

  /** Number of calls seen so far. */
  get size(): number {
    return this.#calls.size;
  }

  /** Add one fragment. */
  add(delta: LLMToolCallDelta): void {
    let call = this.#calls.get(delta.index);
    if (call === undefined) {
      call = { id: "", name: "", arguments: "" };
      this.#calls.set(delta.index, call);
    }
    if (delta.id !== undefined && delta.id !== "") call.id = delta.id;
    if (delta.name !== undefined && delta.name !== call.name) call.name += delta.name;
    if (delta.arguments !== undefined) call.arguments += delta.arguments;
  }

  /** The calls, in index order. */
  calls(): LLMToolCall[] {
    return [...this.#calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => ({
        id: c.id === "" ? `call_voxpipe_${index}` : c.id,
        name: c.name,
        arguments: c.arguments,
      }));
  }
}

/**
 * Parse a call's JSON arguments: `""` → `{}`.
 * @throws {SyntaxError} naming the function when they are not a JSON object.
 */
export function parseToolArguments(call: LLMToolCall): Record<string, unknown> {
  if (call.arguments.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(call.arguments);
  } catch (err) {
    throw new SyntaxError(
      `arguments of ${call.name} are not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SyntaxError(`arguments of ${call.name} must be a JSON object, got ${call.arguments}`);
  }
  return parsed as Record<string, unknown>;
}

/** What a function handler receives (Pipecat `FunctionCallParams`). */
export interface FunctionCallParams {
  readonly functionName: string;
  readonly toolCallId: string;
  /** Parsed arguments (validate them: they come from the model). */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** The conversation. Change it only through frames or after the call. */
  readonly context: LLMContext;
  /**
   * The LLM service: push frames from the handler, e.g.
   * `llm.push(new TTSSpeakFrame({ text: "One moment." }))` or, to hang up after what is
   * queued has been said, `llm.push(new EndTaskFrame(), "upstream")`.
   */
  readonly llm: FrameProcessor;
  /**
   * Aborted when the call is cancelled: an interruption (unless registered with
   * `cancelOnInterruption: false`), its timeout, a discarded speculative reply, or the end
   * of the run. Pass it to `fetch` and friends.
   */
  readonly signal: AbortSignal;
  /**
   * True when the call runs ahead of the user's `EndOfTurn`, inside a speculative reply
   * (only for functions registered with `speculative: true`); its result may be thrown away.
   */
  readonly speculative: boolean;
}

/** Properties of a result (Pipecat `FunctionCallResultProperties`). */
export interface FunctionCallResultProperties {
  /** Run the LLM again once all calls of the reply are done. Default: the service's `runLlmAfterFunctionCalls`. */
  readonly runLlm?: boolean | undefined;
}

const RESULT = Symbol("voxpipe.functionCallResult");

/** A handler's return value with {@link FunctionCallResultProperties}; make one with {@link functionCallResult}. */
export interface FunctionCallResultWithProperties {
  readonly [RESULT]: true;
  readonly result: unknown;
  readonly properties: FunctionCallResultProperties;
}

/**
 * Return this from a handler to attach properties to its result, e.g. a goodbye that must
 * not make the LLM talk again: `return functionCallResult({ ok: true }, { runLlm: false })`.
 */
export function functionCallResult(
  result: unknown,
  properties: FunctionCallResultProperties,
): FunctionCallResultWithProperties {
  return { [RESULT]: true, result, properties };
}

/**
 * A function handler: returns the result the LLM reads (any JSON value; a string is sent as
 * is) or a {@link functionCallResult}. A thrown error is sent to the LLM as `{ error }`.
 */
export type FunctionCallHandler = (params: FunctionCallParams) => unknown;

/** Options of `LLMService.registerFunction`. */
export interface RegisterFunctionOptions {
  /**
   * A barge-in cancels the call (its `signal` aborts, a `FunctionCallCancelFrame` is pushed
   * and the conversation records `CANCELLED`). `false`: it finishes and its result is
   * recorded, but the LLM does not run again for it. Default true (Pipecat's default).
   */
  readonly cancelOnInterruption?: boolean | undefined;
  /** The handler's own timeout, ms; on expiry its signal aborts and the LLM gets `{ error }`. Default: the service's `functionCallTimeoutMs`. */
  readonly timeoutMs?: number | undefined;
  /**
   * Safe to run speculatively, before the user's turn is confirmed (no side effects: a
   * lookup, not a booking). Only such functions run inside a speculative reply on Flux
   * `EagerEndOfTurn`; for any other, the speculative reply stops at the call and the call
   * runs once `EndOfTurn` commits the reply. Default false.
   */
  readonly speculative?: boolean | undefined;
}

/** A registered function. */
export interface FunctionRegistration {
  readonly handler: FunctionCallHandler;
  readonly cancelOnInterruption: boolean;
  readonly timeoutMs: number | undefined;
  readonly speculative: boolean;
}

/** The outcome of one call: what goes into the `tool` message, and whether to run the LLM again. */
export interface FunctionCallOutcome {
  readonly result: unknown;
  /** `undefined`: the service's default. */
  readonly runLlm: boolean | undefined;
  /** True when the result is an error report (`{ error }`). */
  readonly failed: boolean;
}

/** The `tool` message content for a result: strings as they are, anything else as JSON. */
export function toolMessageContent(result: unknown): string {
  if (typeof result === "string") return result;
  try {
    return JSON.stringify(result ?? null) ?? "null";
  } catch (err) {
    return JSON.stringify({
      error: `result is not JSON-serialisable: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
}

/**
 * Run one call: the handler with a signal aborted by `signal` or its timeout. Never throws:
 * an error, a timeout or a missing handler becomes `{ error: "…" }` for the LLM.
 */
export async function executeFunctionCall(
  call: Omit<FunctionCallFromLLM, "context"> & { readonly context: LLMContext },
  registration: FunctionRegistration | undefined,
  options: {
    readonly llm: FrameProcessor;
    readonly signal: AbortSignal;
    readonly timeoutMs: number;
    readonly speculative: boolean;
  },
): Promise<FunctionCallOutcome> {
  const fail = (error: string): FunctionCallOutcome => ({
    result: { error },
    runLlm: undefined,
    failed: true,
  });
  if (registration === undefined) {
    return fail(`no function named "${call.functionName}" is registered`);
  }
  const timeoutMs = registration.timeoutMs ?? options.timeoutMs;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal.reason);
  options.signal.addEventListener("abort", onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const run = Promise.resolve().then(() =>
      registration.handler({
        functionName: call.functionName,
        toolCallId: call.toolCallId,
        arguments: call.arguments,
        context: call.context,
        llm: options.llm,
        signal: controller.signal,
        speculative: options.speculative,
      }),
    );
    const value = await Promise.race([run, timedOut]);
    if (value === "timeout") {
      controller.abort(new DOMException(`${call.functionName} timed out`, "TimeoutError"));
      run.catch(() => undefined); // its late rejection is expected, not unhandled
      return fail(`${call.functionName} did not finish within ${timeoutMs} ms`);
    }
    if (typeof value === "object" && value !== null && RESULT in value) {
      const r = value as FunctionCallResultWithProperties;
      return { result: r.result, runLlm: r.properties.runLlm, failed: false };
    }
    return { result: value, runLlm: undefined, failed: false };
  } catch (err) {
    return fail(`${call.functionName} failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener("abort", onAbort);
  }
}
