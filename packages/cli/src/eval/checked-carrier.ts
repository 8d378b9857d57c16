import { sdkCarrier } from "@voxpipe/deepgram";
import type { Carrier } from "@voxpipe/deepgram";
import {
  parseServerMessage,
  parseServerMessageObject,
  TurnSequenceChecker,
} from "@voxpipe/flux-protocol";

/** A carrier whose connections are checked against Flux's guarantees, and their checkers. */
export interface CheckedCarrier {
  /** Use in place of the wrapped carrier (same target, same connections). */
  readonly carrier: Carrier;
  /** One checker per connection opened so far, in opening order. */
  readonly checkers: readonly TurnSequenceChecker[];
}

/**
 * Wraps a carrier (default: the `@deepgram/sdk` one, as `FluxClient` would use) so that
 * every message each connection receives also goes, in arrival order, to that connection's
 * own {@link TurnSequenceChecker}. The checker needs the whole stream: `Connected` opens it
 * with `sequence_id` 0 and every message counts in the sequence — a `Warning` such as the
 * `FORCE_END_TURN_NO_ACTIVE_TURN` a client's closing `ForceEndTurn` may earn (protocol
 * reference §4.5) included — whereas the client's events hold only the turn messages. One
 * checker per connection because `sequence_id` and `turn_index` restart with each one (§1.4).
 */
export function checkedCarrier(inner: Carrier = sdkCarrier): CheckedCarrier {
  const checkers: TurnSequenceChecker[] = [];
  const carrier: Carrier = Object.assign(
    (...[request, handlers]: Parameters<Carrier>) => {
      const checker = new TurnSequenceChecker();
      checkers.push(checker);
      return inner(request, {
        onMessage: (message) => {
          // Parsed as the client parses it: carriers pass either the text or the decoded JSON.
          checker.push(
            typeof message === "string"
              ? parseServerMessage(message)
              : parseServerMessageObject(message),
          );
          handlers.onMessage(message);
        },
        onClose: (close) => handlers.onClose(close),
      });
    },
    // A carrier that names its own target (SageMaker) must keep doing so: the client then needs no URL.
    inner.target !== undefined ? { target: inner.target } : {},
  );
  return { carrier, checkers };
}
