/**
 * Test helpers for `@voxpipe/openai`: a fake, scripted OpenAI-compatible chat-completions
 * server that streams server-sent events, for offline tests of LLM pipelines.
 */
export {
  startScriptedChatServer,
  type ScriptedChatServer,
  type ScriptedChatServerOptions,
  type ScriptedReply,
  type RecordedChatRequest,
  type ReceivedChatMessage,
} from "./scripted-chat-server.js";
