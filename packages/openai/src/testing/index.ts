/**
 * Test helpers for `@voxpipe/openai`: a fake, scripted OpenAI-compatible chat-completions
 * server that streams server-sent events, for offline tests of LLM pipelines.
 */
export { startScriptedChatServer } from "./scripted-chat-server.js";
export type {
  ScriptedChatServer,
  ScriptedChatServerOptions,
  ScriptedReply,
  RecordedChatRequest,
  ReceivedChatMessage,
} from "./scripted-chat-server.js";
