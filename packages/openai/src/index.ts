/**
 * `@voxpipe/openai`: LLM services for voxpipe — OpenAI-compatible streaming chat completions
 * (OpenAI, Ollama, vLLM, …) with speculative replies on Flux eager end-of-turn, and an echo
 * service for offline demos.
 */
export {
  OpenAILLMService,
  type OpenAILLMServiceOptions,
  type OpenAILLMSettings,
} from "./openai-llm.js";
/** An LLM stand-in that replies with what it heard (offline demos). */
export { EchoLLMService, type EchoLLMServiceOptions, type EchoLLMSettings } from "./echo-llm.js";
/** Speculative replies on Flux `EagerEndOfTurn`, shared by both services. */
export {
  SpeculativeLLMService,
  type LLMRequest,
  type SpeculativeLLMServiceEvents,
  type SpeculativeLLMServiceOptions,
} from "./speculative.js";
