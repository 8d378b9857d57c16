import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BotStartedSpeakingFrame,
  FrameProcessor,
  LLMContext,
  MetricsFrame,
  Pipeline,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  TTSStoppedFrame,
  TurnLatencyObserver,
  createContextAggregators,
  functionCallResult,
  latencyPercentiles,
} from "../src/index.js";
import type { Frame, FrameDirection, PipelineTask, TurnLatency } from "../src/index.js";
import {
  ScriptedLLMService,
  ScriptedSTTService,
  ScriptedTTSService,
  SleepFrame,
  abortableSleep,
  runProcessorTest,
  silenceFrames,
} from "../src/testing/index.js";
import type { ScriptedLLMToken, ScriptedTurn } from "../src/testing/index.js";

afterEach(() => {
  vi.useRealTimers();
});

/** Stands in for an output transport: the first audio of a reply is written 20 ms after it arrives. */
class FakeOutput extends FrameProcessor {
  #speaking = false;
  override async process(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof TTSAudioRawFrame && !this.#speaking) {
      await abortableSleep(20, this.signal);
      this.#speaking = true;
      this.push(new BotStartedSpeakingFrame());
    }
    if (frame instanceof TTSStoppedFrame) this.#speaking = false;
    this.push(frame, direction);
  }
  protected override onInterruption(): void {
    this.#speaking = false;
  }
}

/** Audio in real time: a 20 ms frame, then 20 ms of (fake) time, … */
function paced(ms: number): Frame[] {
  return silenceFrames(ms, { frameMs: 20 }).flatMap((f) => [f, new SleepFrame(20)]);
}

async function runTurns(
  turns: ScriptedTurn[],
  audioMs: number,
  replies: ScriptedLLMToken[][],
  setup?: (llm: ScriptedLLMService) => void,
) {
  vi.useFakeTimers();
  const { user } = createContextAggregators(new LLMContext());
  const llm = new ScriptedLLMService({ replies, tokenDelayMs: 300 });
  setup?.(llm);
  const pipeline = new Pipeline([
    new ScriptedSTTService({ turns }),
    user,
    llm,
    new ScriptedTTSService({ chunkDelayMs: 100 }),
    new FakeOutput(),
  ]);
  const reported: TurnLatency[] = [];
  let observer: TurnLatencyObserver | undefined;
  const { down } = await runProcessorTest({
    processor: pipeline,
    framesToSend: paced(audioMs),
    // The task's clock follows fake time (Date is faked), so every stage is exact.
    taskParams: { clock: { now: () => Date.now() } },
    advanceTime: (ms) => vi.advanceTimersByTimeAsync(ms),
    onTask: (task: PipelineTask) => {
      observer = new TurnLatencyObserver(task);
      observer.on("turnLatency", (t) => reported.push(t));
    },
  });
  return { reported, down, observer: observer! };
}

describe("TurnLatencyObserver", () => {
  it("breaks a turn down stage by stage, from frames$ alone", async () => {
    const { reported, down, observer } = await runTurns(
      [{ transcript: "table for two", startAt: 0.2, endAt: 1.6 }],
      3400, // the reply ends at 2.6 s of audio; the run ends after it
      [["Sure. ", "Bye."]],
    );
    expect(reported).toHaveLength(1);
    const [turn] = reported;
    expect(turn?.complete).toBe(true);
    expect(turn?.stages).toEqual({
      stt: 250, // the script's speech end (1.35 s) → EndOfTurn (1.6 s) on real-time audio
      aggregation: 0,
      llm: 300, // first token
      sentence: 300, // "Sure. " is known to be a sentence when the next one starts
      tts: 100,
      output: 20,
    });
    expect(turn?.voiceToVoiceMs).toBe(970);
    expect(turn?.voxpipeMs).toBe(20);
    expect(turn?.speculation).toBeUndefined();
    const metrics = down.filter(
      (f): f is MetricsFrame => f instanceof MetricsFrame && f.data[0]?.type === "turn_latency",
    );
    expect(metrics.map((m) => m.data[0]?.value)).toEqual([970]);
    expect(observer.summary()).toMatchObject({
      turns: 1,
      completeTurns: 1,
      voiceToVoice: { count: 1, p50: 970, p90: 970 },
      stages: { llm: { p50: 300 } },
    });
  });

  it("says when the eager transcript matched (speculation had a head start), and reports unanswered turns as incomplete", async () => {
    const { reported } = await runTurns(
      [
        { transcript: "hello", startAt: 0.1, eagerAt: 0.7, endAt: 1.0 }, // reply out at 1.42 s
        // its reply would go out at 2.42 s, but the user speaks again at 2.1 s
        { transcript: "wait", startAt: 1.6, endAt: 2.0 },
        { transcript: "no", startAt: 2.1, endAt: 2.6 },
      ],
      4000,
      [["Hi there."]],
    );
    expect(reported.map((t) => [t.turnIndex, t.complete])).toEqual([
      [0, true],
      [1, false],
      [2, true],
    ]);
    expect(reported[0]?.speculation).toEqual({ leadMs: 300, matched: true });
    expect(reported[1]?.at.firstAudioOut).toBeUndefined();
  });

  it("counts a reply a function speaks (TTSSpeakFrame, e.g. a goodbye) and the time in function calls", async () => {
    const { reported } = await runTurns(
      [{ transcript: "bye", startAt: 0.1, endAt: 0.6 }],
      2000,
      [[{ toolCall: { name: "end_call" } }]],
      (llm) =>
        llm.registerFunction("end_call", async ({ llm: service }) => {
          await abortableSleep(50);
          service.push(new TTSSpeakFrame({ text: "Goodbye!" }));
          return functionCallResult(null, { runLlm: false });
        }),
    );
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ complete: true, functionCallsMs: 50 });
    // request → the goodbye's text: the call streams as 2 fragments (name, "{}"), 300 ms each, + its 50 ms
    expect(reported[0]?.stages.llm).toBe(650);
  });

  it("computes nearest-rank percentiles", () => {
    expect(latencyPercentiles([5, 1, undefined, 3, 2, 4])).toEqual({
      count: 5,
      p50: 3,
      p90: 5,
      p99: 5,
    });
    expect(latencyPercentiles([])).toEqual({
      count: 0,
      p50: undefined,
      p90: undefined,
      p99: undefined,
    });
  });
});
