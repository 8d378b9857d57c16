import type { DeepgramFluxSTTService, FluxEndOfTurnEvent, FluxTurnEvent } from "@voxpipe/deepgram";
import { PipelineRunner } from "@voxpipe/core";
import type { ErrorFrame, PipelineTask, PipelineTaskResult, SignalSource } from "@voxpipe/core";
import type { CliIO } from "./io.js";
import { note } from "./io.js";
import type { TranscriptViewEvent, TurnEvent } from "./view/turn-event.js";

function turnEvent(e: FluxTurnEvent | FluxEndOfTurnEvent): TurnEvent {
  return {
    event: e.type,
    turnIndex: e.turnIndex,
    transcript: e.transcript,
    words: e.words.map((w) => ({ word: w.word, confidence: w.confidence })),
    audioWindowStart: e.audioWindowStart,
    audioWindowEnd: e.audioWindowEnd,
    ...(e.endOfTurnConfidence !== undefined && { endOfTurnConfidence: e.endOfTurnConfidence }),
    ...(e.languages !== undefined && { languages: e.languages }),
  };
}

/**
 * Feeds `show` every turn event the STT service reports (Flux `StartOfTurn`, `Update` with a
 * transcript, `EagerEndOfTurn`, `TurnResumed`, `EndOfTurn`), each `Connected` (with its
 * `request_id`), its reconnects, and every error
 * that reaches the task. `minConfidence` marks finals the service dropped.
 */
export function watchTurnEvents(
  stt: DeepgramFluxSTTService,
  task: PipelineTask,
  show: (event: TranscriptViewEvent) => void,
): void {
  stt.on("startOfTurn", (e) => show(turnEvent(e)));
  stt.on("update", (e) => {
    if (e.transcript !== "") show(turnEvent(e));
  });
  stt.on("eagerEndOfTurn", (e) => show(turnEvent(e)));
  stt.on("turnResumed", (e) => show(turnEvent(e)));
  stt.on("endOfTurn", (e) => {
    const min = stt.settings.minConfidence;
    const dropped =
      min !== undefined &&
      min > 0 &&
      e.transcript !== "" &&
      !(e.confidence !== undefined && e.confidence > min);
    show({
      ...turnEvent(e),
      trigger: e.trigger,
      ...(dropped && { droppedBelowMinConfidence: true }),
    });
  });
  stt.on("reconnecting", (e) =>
    show({ event: "Reconnecting", attempt: e.attempt, reason: e.error.message }),
  );
  stt.on("connected", (e) => {
    show({ event: "Connected", requestId: e.requestId, connection: e.connection });
    if (e.connection > 1) show({ event: "Reconnected", attempt: e.connection - 1 });
  });
  task.on("error", (frame: ErrorFrame) => {
    const code = (frame.cause as { code?: unknown } | undefined)?.code;
    show({
      event: "Error",
      message: frame.error,
      fatal: frame.fatal,
      ...(typeof code === "string" && { code }),
    });
  });
}

/**
 * Runs a Flux task as a command: SIGINT/SIGTERM end it gracefully (the runner), and the first
 * one also stops Flux connection attempts at once ("stopping…": a run that cannot reach
 * Flux fails now, naming the cause, instead of retrying); a second one cancels.
 * @returns the task's result and the exit code: 0 ended, 1 a fatal error ended the run
 *   (Flux never reached, a refused key, retries used up: said in one `voxpipe: error:`
 *   line on stderr), 130 cancelled by a second interrupt.
 */
export async function runFluxTask(
  task: PipelineTask,
  stt: DeepgramFluxSTTService,
  io: CliIO,
  signals: SignalSource = process,
): Promise<{ result: PipelineTaskResult; code: number }> {
  let interrupted = false;
  const onInterrupt = (): void => {
    if (interrupted) return;
    interrupted = true;
    note(io, "stopping…");
    stt.flux?.stopReconnecting();
  };
  signals.on("SIGINT", onInterrupt);
  signals.on("SIGTERM", onInterrupt);
  try {
    const result = await new PipelineRunner({ signals }).run(task);
    if (result.reason === "error") {
      io.stderr.write(`voxpipe: error: ${result.error?.error ?? "the run failed"}\n`);
      return { result, code: 1 };
    }
    return { result, code: result.reason === "cancel" ? 130 : 0 };
  } finally {
    signals.off("SIGINT", onInterrupt);
    signals.off("SIGTERM", onInterrupt);
  }
}
