/** Frames: lifecycle, audio, speech state, Flux turns, LLM, TTS, settings, metrics. */
export * from "./frames.js";
/** `FrameProcessor`: two lanes, interruption, lifecycle, events, metrics. */
export * from "./processor.js";
/** Monotonic clocks (ms). */
export * from "./clock.js";
/** Errors the pipeline throws (setup, StartFrame not forwarded, aborts). */
export * from "./errors.js";
/** Structured logging (pino) shared by every package. */
export * from "./logger.js";
/** The Debian/Ubuntu packages voxpipe needs, for install hints. */
export * from "./system/packages.js";
/** `LLMContext`: the conversation an LLM sees. */
export * from "./aggregators/context.js";
/** `Pipeline` and `ParallelPipeline`. */
export * from "./pipeline/pipeline.js";
/** `PipelineTask`: runs a pipeline; `frames$` observation, idle timeout, metrics. */
export * from "./pipeline/task.js";
/** Per-turn latency breakdown from `frames$` (voice-to-voice, per stage, voxpipe's share). */
export * from "./observers/turn-latency.js";
/** `PipelineRunner`: SIGINT/SIGTERM end a task gracefully, a second signal cancels. */
export * from "./pipeline/runner.js";
/** Context aggregators: user transcriptions in, assistant replies (even cut ones) out. */
export * from "./aggregators/llm-response.js";
/** Base of services with typed, updatable settings. */
export * from "./services/ai-service.js";
/** `STTService`: audio in, turn frames out; settings and mute. */
export * from "./services/stt.js";
/** `LLMService`: context in, streamed reply and function calls out; aborted by interruptions. */
export * from "./services/llm.js";
/** Function calling: tool-call deltas, handlers, results (`registerFunction`). */
export * from "./services/functions.js";
/** `functionSchema`: an OpenAI function tool from a zod schema. */
export * from "./services/function-schema.js";
/** `TTSService`: text aggregated into sentences, synthesized, stopped at once on interruption. */
export * from "./services/tts.js";
/** Audio utilities on libraries: WAV, resampling, s16/float, μ-law and A-law. */
export * from "./audio/index.js";
