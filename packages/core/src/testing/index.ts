/**
 * `@voxpipe/core/testing`: the test kit — a harness that runs a processor in a real
 * task and checks what comes out, synthetic frame builders, a manual clock, and scripted
 * (fake) LLM/TTS services.
 */
export * from "./harness.js";
export * from "./builders.js";
export * from "./clock.js";
export * from "./scripted.js";
