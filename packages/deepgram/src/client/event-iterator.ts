import type { Observable } from "rxjs";

/**
 * An async iterator over `source`, subscribed when called (values emitted before are
 * not seen). Buffers values until they are read; ends when `source` completes; throws
 * `source`'s error after the values before it. `return()` unsubscribes.
 */
export function observableIterator<T>(source: Observable<T>): AsyncIterator<T> {
  const queue: T[] = [];
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const subscription = source.subscribe({
    next: (e) => {
      queue.push(e);
      wake?.();
    },
    error: (e: unknown) => {
      failure = e instanceof Error ? e : new Error(String(e));
      done = true;
      wake?.();
    },
    complete: () => {
      done = true;
      wake?.();
    },
  });
  return {
    next: async (): Promise<IteratorResult<T>> => {
      while (queue.length === 0 && !done) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      if (queue.length > 0) return { value: queue.shift() as T, done: false };
      if (failure !== undefined) throw failure;
      return { value: undefined, done: true };
    },
    return: (): Promise<IteratorResult<T>> => {
      subscription.unsubscribe();
      done = true;
      queue.length = 0;
      wake?.(); // a pending next() ends now instead of waiting forever
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}
