import { Observable, type Operator, type Subscriber, type Subscription } from "rxjs";
import type { Logger } from "@voxpipe/core";

/**
 * An `Observable` that never lets a subscriber's exception reach the host: RxJS reports
 * an exception thrown by a `next`/`complete` handler as an unhandled error on a timer,
 * which kills a Node process. Here each handler is called inside `try`/`catch` and the
 * exception is logged instead. Observables derived with `pipe(...)` keep the guarantee
 * (RxJS 7 operators build them through {@link lift}).
 */
export class SafeObservable<T> extends Observable<T> {
  constructor(
    private readonly log: Logger,
    subscribe?: (this: Observable<T>, subscriber: Subscriber<T>) => void,
  ) {
    super(subscribe);
  }

  /** @internal RxJS 7 operators derive observables through `lift`: keep them safe. */
  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const derived = new SafeObservable<R>(this.log);
    derived.source = this;
    derived.operator = operator;
    return derived;
  }

  override subscribe(
    observerOrNext?:
      | Partial<{
          next: (value: T) => void;
          error: (error: unknown) => void;
          complete: () => void;
        }>
      | ((value: T) => void)
      | null,
  ): Subscription {
    const o = typeof observerOrNext === "function" ? { next: observerOrNext } : observerOrNext;
    if (o === null || o === undefined) return super.subscribe();
    const guard =
      <A extends unknown[]>(what: string, fn: ((...args: A) => void) | undefined) =>
      (...args: A): void => {
        try {
          fn?.apply(o, args);
        } catch (err) {
          this.log.error({ err, handler: what }, "an events$ subscriber threw; ignored");
        }
      };
    return super.subscribe({
      next: guard("next", o.next),
      error: guard("error", o.error),
      complete: guard("complete", o.complete),
    });
  }
}
