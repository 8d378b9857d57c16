import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  FrameProcessor,
  InterimTranscriptionFrame,
  StartOfTurnFrame,
  TurnResumedFrame,
} from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import type { TurnEvent } from "@voxpipe/flux-protocol";

/** A turn frame reached the end of the pipeline. */
export interface DeliveredFrame {
  /** The Flux event the frame stands for. */
  event: TurnEvent;
  /** The frame's `result`: the raw Flux `TurnInfo` message it was made from (identity, for matching). */
  result: unknown;
  /** `performance.now()` when the frame reached the probe. */
  deliveredAt: number;
}

/**
 * The last processor of a stress connection's pipeline: notes when each Flux turn frame
 * (`StartOfTurnFrame`, `InterimTranscriptionFrame`, `EagerEndOfTurnFrame`, `TurnResumedFrame`,
 * `EndOfTurnFrame`) is delivered — the end of the message-to-frame path — and forwards every
 * frame. The final `TranscriptionFrame` is not noted: its `EndOfTurnFrame` follows it.
 */
export class StressProbe extends FrameProcessor {
  readonly #onFrame: (frame: DeliveredFrame) => void;

  /** @param onFrame called synchronously for every turn frame, in pipeline order. */
  constructor(onFrame: (frame: DeliveredFrame) => void, name?: string) {
    super(name !== undefined ? { name } : {});
    this.#onFrame = onFrame;
  }

  override process(frame: Frame, direction: FrameDirection): void {
    if (direction === "downstream") {
      const event = turnEventName(frame);
      if (event !== undefined) {
        this.#onFrame({
          event,
          result: (frame as EndOfTurnFrame).result,
          deliveredAt: performance.now(),
        });
      }
    }
    this.push(frame, direction);
  }
}

function turnEventName(frame: Frame): TurnEvent | undefined {
  if (frame instanceof InterimTranscriptionFrame) return "Update";
  if (frame instanceof StartOfTurnFrame) return "StartOfTurn";
  if (frame instanceof EagerEndOfTurnFrame) return "EagerEndOfTurn";
  if (frame instanceof TurnResumedFrame) return "TurnResumed";
  if (frame instanceof EndOfTurnFrame) return "EndOfTurn";
  return undefined;
}
