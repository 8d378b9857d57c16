/**
 * `@voxpipe/openai`: LLM services for voxpipe — OpenAI-compatible streaming chat completions
 * (OpenAI, Ollama, vLLM, …) with speculative replies on Flux eager end-of-turn, and an echo
 * service for offline demos.
 */
export { OpenAILLMService } from "./openai-llm.js";
export type { OpenAILLMServiceOptions, OpenAILLMSettings } from "./openai-llm.js";
export { EchoLLMService } from "./echo-llm.js";
export type { EchoLLMServiceOptions, EchoLLMSettings } from "./echo-llm.js";
export { SpeculativeLLMService } from "./speculative.js";
export type { SpeculativeLLMServiceEvents, SpeculativeLLMServiceOptions } from "./speculative.js";
