/**
 * Errors thrown by the pipeline core. Every message names the processor or field at
 * fault and what is expected instead.
 */

/** A processor received the `StartFrame` but did not forward it downstream. */
export class StartFrameNotForwardedError extends Error {
  override readonly name = "StartFrameNotForwardedError";
  constructor(
    /** Name of the processor that swallowed or stalled the StartFrame. */
    readonly processorName: string,
    detail = "its process() finished without pushing it downstream",
  ) {
    super(
      `StartFrame did not get past processor "${processorName}": ${detail}. ` +
        `Every processor must forward StartFrame (call super.process(frame, direction) or this.push(frame, direction) for frames it does not handle).`,
    );
  }
}

/** `setup()` of one or more processors failed or exceeded the task's `setupTimeoutMs`. */
export class PipelineSetupError extends Error {
  override readonly name = "PipelineSetupError";
}

/** An operation exceeded its time bound. */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** True for errors that mean "work was aborted on purpose" (interruption, cancel). */
export function isAbortError(err: unknown): boolean {
  return (
    (err instanceof Error ||
      (typeof DOMException !== "undefined" && err instanceof DOMException)) &&
    (err.name === "AbortError" || err.name === "InterruptedError")
  );
}

/** The reason used when a processor aborts in-flight work because of an `InterruptionFrame`. */
export function interruptedReason(processorName: string): DOMException {
  return new DOMException(`${processorName}: interrupted`, "AbortError");
}

/** Resolve `promise`, or reject with a {@link TimeoutError} after `ms` (timer cleared either way). */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message: () => string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
