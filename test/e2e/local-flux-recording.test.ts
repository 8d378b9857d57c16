/**
 * End to end on real human speech: a multi-turn LibriVox recording (Debian's
 * pocketsphinx-testdata, joined by test/fixtures/make-fixtures.ts) streamed through the input
 * transport, Deepgram's Flux STT service and the user context aggregator, against the local
 * Flux server running the `local` engine (pocketsphinx + Silero VAD + turn-end estimator).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMContext, Pipeline, PipelineTask, createContextAggregators } from "@voxpipe/core";
import { DeepgramFluxSTTService } from "@voxpipe/deepgram";
import { startFluxServer } from "@voxpipe/flux-server";
import type { FluxServer } from "@voxpipe/flux-server";
import { InputFlowControl, WavFileInputTransport } from "@voxpipe/transports";
import { ensureFixtures } from "../fixtures/make-fixtures.js";
import type { LabelledFile } from "../fixtures/make-fixtures.js";
import { normalizeWords, wordErrors } from "@voxpipe/cli/eval";

/** The local engine's WER target on LibriVox (`pnpm eval:local`: `voxpipe eval` on the labelled set). */
const LOCAL_ENGINE_WER_BOUND_LIBRIVOX = 0.4;

let server: FluxServer;
let recording: LabelledFile;
beforeAll(async () => {
  const files = await ensureFixtures();
  recording = files.find((f) => f.name === "librivox_conversation")!;
  server = await startFluxServer({ engine: "local" });
}, 120_000);
afterAll(async () => {
  await server?.close();
});

describe("a real multi-turn recording through the full pipeline (local Flux server)", () => {
  it("yields one final transcript per spoken turn, within the engine's WER bound", async () => {
    const flow = new InputFlowControl();
    // Fast input, flow-controlled by the audio Flux has answered; its pauses are not silence.
    const input = new WavFileInputTransport({
      path: recording.path,
      realtime: false,
      backpressure: flow.backpressure,
    });
    const stt = new DeepgramFluxSTTService({
      url: server.url,
      silenceAfterMs: 3_600_000,
      closeTimeoutMs: 10_000,
    });
    for (const name of ["update", "startOfTurn", "endOfTurn"] as const)
      stt.on(name, (e) => flow.answered(e.audioWindowEnd));
    const { context, user } = createContextAggregators(new LLMContext());
    const ends: { transcript: string; at: number }[] = [];
    stt.on("endOfTurn", (e) => ends.push({ transcript: e.transcript, at: e.audioWindowEnd }));
    const task = new PipelineTask(new Pipeline([input, stt, user]), {
      audioInSampleRate: 16000,
      idleTimeoutMs: null,
    });
    const result = await task.run();

    expect(result.reason).toBe("end"); // the end of the file ended the run gracefully
    expect(ends).toHaveLength(recording.turns.length);
    // Each EndOfTurn falls after its turn's speech and before the next turn starts.
    recording.turns.forEach((turn, i) => {
      expect(ends[i].at).toBeGreaterThanOrEqual(turn.end);
      expect(ends[i].at).toBeLessThan(recording.turns[i + 1]?.start ?? Infinity);
    });
    // The last turn's transcript was not lost to the end of input.
    expect(context.messages.map((m) => m.role)).toEqual(recording.turns.map(() => "user"));
    const reference = recording.turns.flatMap((t) => normalizeWords(t.text));
    const hypothesis = ends.flatMap((e) => normalizeWords(e.transcript));
    const wer = wordErrors(reference, hypothesis) / reference.length;
    expect(wer).toBeLessThanOrEqual(LOCAL_ENGINE_WER_BOUND_LIBRIVOX);
  }, 90_000);
});
