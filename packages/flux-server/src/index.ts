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
