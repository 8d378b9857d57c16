/**
 * `@voxpipe/core/testing`: the test kit — a harness that runs a processor in a real
 * task and checks what comes out, synthetic frame builders, a manual clock, and scripted
 * (fake) LLM/TTS services.
 */
export * from "./harness.js";
/** Synthetic frames: silence, tones, WAV audio, transcripts, whole Flux turns. */
export * from "./builders.js";
/** A manual clock for time-based logic. */
export * from "./clock.js";
/** Scripted (fake) LLM and TTS services. */
export * from "./scripted.js";
