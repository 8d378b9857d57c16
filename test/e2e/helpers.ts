/**
 * Helpers of the end-to-end tests: synthetic "utterances" (tones the scripted Flux engine
 * hears as speech), loud-segment detection in a recorded WAV, and the agent pipeline as an
 * application would build it.
 */
import { writeFile } from "node:fs/promises";
import {
  LLMContext,
  Pipeline,
  PipelineTask,
  createContextAggregators,
  encodeWav,
  pcmToInt16,
} from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { DeepgramFluxSTTService } from "@voxpipe/deepgram";
import { OpenAILLMService } from "@voxpipe/openai";
import { EspeakTTSService } from "@voxpipe/speech-local/tts";
import { WavFileInputTransport, WavFileOutputTransport } from "@voxpipe/transports";

/** A segment of the call: speech (a tone the scripted engine segments as speech) or silence. */
export type Segment = { speechMs: number } | { silenceMs: number };

/** Writes a 16 kHz WAV of the segments; returns the user turns' times (s). */
export async function writeCall(
  path: string,
  segments: Segment[],
): Promise<{ start: number; end: number }[]> {
  const parts: Uint8Array[] = [];
  const turns: { start: number; end: number }[] = [];
  let t = 0;
  for (const s of segments) {
    const ms = "speechMs" in s ? s.speechMs : s.silenceMs;
    if ("speechMs" in s) turns.push({ start: t / 1000, end: (t + ms) / 1000 });
    parts.push(
      "speechMs" in s ? tonePcm(300, ms, 16000, 0.3) : new Uint8Array((ms * 16000 * 2) / 1000),
    );
    t += ms;
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((off, p) => (all.set(p, off), off + p.byteLength), 0);
  await writeFile(path, encodeWav(all, 16000));
  return turns;
}

/** Loud stretches of PCM (|sample| > 1000), merged across gaps shorter than `minGapS`; times in s. */
export function loudSegments(
  audio: Uint8Array,
  sampleRate: number,
  minGapS = 0.3,
): { start: number; end: number }[] {
  const samples = pcmToInt16(audio);
  const window = Math.round(sampleRate * 0.02);
  const segments: { start: number; end: number }[] = [];
  for (let i = 0; i < samples.length; i += window) {
    let peak = 0;
    for (let j = i; j < Math.min(i + window, samples.length); j++)
      peak = Math.max(peak, Math.abs(samples[j]));
    if (peak < 1000) continue;
    const t = i / sampleRate;
    const last = segments.at(-1);
    if (last && t - last.end <= minGapS) last.end = t + window / sampleRate;
    else segments.push({ start: t, end: t + window / sampleRate });
  }
  return segments;
}

/** The agent of the README: WAV in → Flux → context → OpenAI-compatible LLM → espeak-ng → WAV out. */
export function buildAgent(options: {
  inputPath: string;
  outputPath: string;
  fluxUrl: string;
  llmBaseURL: string;
}) {
  const { context, user, assistant } = createContextAggregators(
    new LLMContext([{ role: "system", content: "Be brief." }]),
  );
  const stt = new DeepgramFluxSTTService({ url: options.fluxUrl, settings: { sampleRate: 16000 } });
  const llm = new OpenAILLMService({
    model: "fixture",
    baseURL: options.llmBaseURL,
    apiKey: "unused",
    context,
  });
  const tts = new EspeakTTSService({ settings: { wordsPerMinute: 220 } });
  const output = new WavFileOutputTransport({ path: options.outputPath, sampleRate: 16000 });
  const input = new WavFileInputTransport({ path: options.inputPath });
  const task = new PipelineTask(new Pipeline([input, stt, user, llm, tts, output, assistant]), {
    audioInSampleRate: 16000,
    audioOutSampleRate: 16000,
    idleTimeoutMs: null,
  });
  return { task, context, stt, llm, tts, output, assistant };
}
