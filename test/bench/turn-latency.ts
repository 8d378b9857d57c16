/**
 * Per-turn latency benchmark (`pnpm bench:latency`): voxpipe's own share of voice-to-voice
 * latency, measured by `TurnLatencyObserver` on a full agent pipeline.
 *
 * Pipeline: input (20 ms frames, paced at `BENCH_SPEED`× real time) → ScriptedSTTService (one
 * turn per 2 s of audio, no socket: the STT's own time is not voxpipe's) → user aggregator
 * → OpenAILLMService over real HTTP + SSE against the scripted OpenAI-compatible server (each
 * turn: a `check_availability` function call, then a two-sentence answer) → ScriptedTTSService
 * (instant tone audio) → WavFileOutputTransport (real time, 24 kHz, resampled from 16 kHz) →
 * assistant aggregator.
 *
 * voxpipe's share per turn = `aggregation` (EndOfTurn → LLM request) + `output` (TTS audio →
 * first audio written): everything that is not Flux, the LLM or the TTS. Target (issue 15):
 * p99 ≤ 5 ms. Figures depend on the machine and its load (printed).
 */
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  LLMContext,
  Pipeline,
  PipelineTask,
  TURN_LATENCY_STAGES,
  TurnLatencyObserver,
  createContextAggregators,
  latencyPercentiles,
} from "@voxpipe/core";
import type { LLMTool, LatencyPercentiles } from "@voxpipe/core";
import { ScriptedSTTService, ScriptedTTSService, silenceFrames } from "@voxpipe/core/testing";
import type { ScriptedTurn } from "@voxpipe/core/testing";
import { OpenAILLMService } from "@voxpipe/openai";
import { startScriptedChatServer } from "@voxpipe/openai/testing";
import { WavFileOutputTransport } from "@voxpipe/transports";

const TURNS = Number(process.env.BENCH_TURNS ?? 150);
const SPEED = Number(process.env.BENCH_SPEED ?? 2);
/** One turn per 2 s of audio: 0.8 s of speech, then 1.2 s for the bot to answer. */
const TURN_SECONDS = 2;

const checkAvailability: LLMTool = {
  type: "function",
  function: {
    name: "check_availability",
    description: "Is a table free?",
    parameters: { type: "object", properties: { time: { type: "string" } }, required: ["time"] },
  },
};

async function main(): Promise<void> {
  const server = await startScriptedChatServer({
    reply: (r) =>
      r.messages.at(-1)?.role === "tool"
        ? "We have a table at seven. Shall I book it?"
        : { tokens: [{ toolCall: { name: "check_availability", arguments: { time: "19:00" } } }] },
  });
  const turns: ScriptedTurn[] = Array.from({ length: TURNS }, (_, i) => ({
    transcript: `a table for two at seven number ${i}`,
    startAt: i * TURN_SECONDS + 0.1,
    endAt: i * TURN_SECONDS + 0.9,
  }));
  const { user, assistant } = createContextAggregators(
    new LLMContext([{ role: "system", content: "You book tables." }], [checkAvailability]),
  );
  const llm = new OpenAILLMService({
    model: "scripted",
    baseURL: server.baseURL,
    apiKey: "unused",
    speculative: false,
  });
  llm.registerFunction("check_availability", () => ({ available: true }), { speculative: true });
  const output = new WavFileOutputTransport({ path: join(tmpdir(), "voxpipe-bench-latency.wav") });
  const task = new PipelineTask(
    new Pipeline([
      new ScriptedSTTService({ turns }),
      user,
      llm,
      new ScriptedTTSService({ chunksPerSentence: 2, chunkMs: 20 }),
      output,
      assistant,
    ]),
    { idleTimeoutMs: null, audioInSampleRate: 16000, audioOutSampleRate: 24000 },
  );
  const latency = new TurnLatencyObserver(task, { metricsFrames: false });
  const running = task.run();

  const frames = silenceFrames(TURNS * TURN_SECONDS * 1000 + 500, { frameMs: 20 });
  const frameMs = 20 / SPEED;
  const t0 = performance.now();
  for (const [i, frame] of frames.entries()) {
    // Paced on an absolute schedule so timer drift does not accumulate.
    const wait = t0 + i * frameMs - performance.now();
    if (wait > 1) await sleep(wait);
    task.queueFrame(frame);
  }
  task.stopWhenDone();
  await running;
  await server.close();

  const s = latency.summary();
  const row = (name: string, p: LatencyPercentiles) =>
    `| ${name.padEnd(16)} | ${fmt(p.p50)} | ${fmt(p.p90)} | ${fmt(p.p99)} |`;
  const complete = latency.turns.filter((t) => t.complete);
  const voxpipe = complete.map((t) => t.voxpipeMs ?? 0);
  console.log(
    `turns: ${s.turns} (${s.completeTurns} answered), input ${SPEED}× real time, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (${process.env.BENCH_NOTE ?? "shared machine"})`,
  );
  console.log("| stage (ms)       |     p50 |     p90 |     p99 |");
  console.log("|------------------|---------|---------|---------|");
  for (const stage of TURN_LATENCY_STAGES) console.log(row(stage, s.stages[stage]));
  console.log(row("function calls", latencyPercentiles(complete.map((t) => t.functionCallsMs))));
  console.log(row("voice-to-voice*", s.voiceToVoice));
  console.log(row("voxpipe's share", s.voxpipe));
  console.log(
    `voxpipe's share: max ${fmt(Math.max(...voxpipe))} ms; target p99 ≤ 5 ms: ${(s.voxpipe.p99 ?? Infinity) <= 5 ? "met" : "MISSED"}`,
  );
  console.log(
    `* no real STT/LLM/TTS here: stt is the script's 250 ms of audio from speech end to EndOfTurn (${(250 / SPEED).toFixed(0)} ms at ${SPEED}×),\n  llm is HTTP + SSE to the local scripted server, a function call, and a second request.`,
  );
  if (s.completeTurns < TURNS) process.exitCode = 1;
}

function fmt(x: number | undefined): string {
  return (x === undefined ? "–" : x.toFixed(2)).padStart(7);
}

await main();
