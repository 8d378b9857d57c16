/**
 * @voxpipe/flux-server — a local Deepgram Flux-compatible `/v2/listen` server with
 * pluggable turn engines and fault injection.
 *
 * @packageDocumentation
 */
export type {
  AudioFrame,
  EngineConfiguration,
  EngineSessionContext,
  EngineWarning,
  MaybePromise,
  RecognitionState,
  TurnEngine,
  TurnEngineFactory,
  TurnEngineProvider,
} from "./engine.js";
/** Warning code of a session started with cheaper settings because the server was overloaded. */
export { REDUCED_SEARCH_WARNING } from "./engine.js";
/** The server: `startFluxServer(options)`. */
export {
  startFluxServer,
  type FluxServer,
  type FluxServerEvents,
  type FluxServerOptions,
  type ServerCounters,
} from "./server.js";
/** One `/v2/listen` connection after the 101. */
export {
  ENGINE_BEHIND_WARNING,
  FluxSession,
  OVERLOAD_UPDATE_EVERY_MS,
  type SessionCounters,
  type SessionEnd,
} from "./session.js";
/** Per-session fault injection for tests. */
export type {
  FaultPlan,
  FaultTrigger,
  HandshakeInfo,
  HandshakeRefusal,
  SessionPlan,
} from "./faults.js";
/** The engine registry (`scripted`, `local`). */
export {
  ENGINE_DESCRIPTIONS,
  ENGINE_REGISTRY,
  EngineNotInstalledError,
  engineNames,
  loadEngine,
} from "./engines/index.js";
/** The scripted engine: deterministic turns for tests and demos (a named fake). */
export {
  createScriptedEngine,
  scriptedEngineOptionsSchema,
  type ScriptedEngineInput,
  type ScriptedEngineOptions,
} from "./engines/scripted.js";
/** The server's turn state machine: engine state → Flux events, by the thresholds. */
export { TurnStateMachine, type TurnThresholds, type TurnUpdate } from "./turn-state.js";
/** Audio intake: decoding linear16/μ-law/A-law and the audio clock. */
export {
  AudioFramer,
  SUPPORTED_ENCODINGS,
  isSupportedEncoding,
  type SupportedEncoding,
} from "./audio.js";
