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
  MaybePromise,
  RecognitionState,
  TurnEngine,
  TurnEngineFactory,
  TurnEngineProvider,
} from "./engine.js";
export {
  startFluxServer,
  type FluxServer,
  type FluxServerEvents,
  type FluxServerOptions,
  type ServerCounters,
} from "./server.js";
export { FluxSession, type SessionCounters, type SessionEnd } from "./session.js";
export type {
  FaultPlan,
  FaultTrigger,
  HandshakeInfo,
  HandshakeRefusal,
  SessionPlan,
} from "./faults.js";
export { ENGINE_REGISTRY, engineNames, loadEngine } from "./engines/index.js";
export {
  createScriptedEngine,
  scriptedEngineOptionsSchema,
  type ScriptedEngineInput,
  type ScriptedEngineOptions,
} from "./engines/scripted.js";
export { TurnStateMachine, type TurnThresholds, type TurnUpdate } from "./turn-state.js";
export {
  AudioFramer,
  SUPPORTED_ENCODINGS,
  isSupportedEncoding,
  type SupportedEncoding,
} from "./audio.js";
