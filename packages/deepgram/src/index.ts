/**
 * @voxpipe/deepgram — Deepgram Flux speech-to-text for voxpipe:
 * {@link FluxClient}, the connection layer (usable without a pipeline), and
 * `DeepgramFluxSTTService`, the pipeline processor on top of it.
 *
 * @packageDocumentation
 */
export { FluxClient, DEEPGRAM_URL } from "./flux-client.js";
export type { FluxClientOptions, FluxClientState, FluxReconnectOptions } from "./flux-client.js";
export type {
  FluxClientMetrics,
  FluxConfiguredEvent,
  FluxConnectedEvent,
  FluxEndOfTurnEvent,
  FluxEndOfTurnTrigger,
  FluxErrorEvent,
  FluxEvent,
  FluxReconnectingEvent,
  FluxTimedWord,
  FluxTurnEvent,
  FluxTurnFields,
  FluxTurnMetrics,
  FluxWarningEvent,
} from "./events.js";
export {
  FluxError,
  handshakeError,
  networkError,
  serverError,
  type FluxErrorInit,
  type FluxErrorKind,
  type FluxErrorSource,
} from "./errors.js";
export type {
  Carrier,
  CarrierClose,
  CarrierConnection,
  CarrierHandlers,
  CarrierOpenRequest,
} from "./carriers/carrier.js";
export { sdkCarrier } from "./carriers/sdk.js";
export { wsCarrier } from "./carriers/ws.js";
export { AudioChunker } from "./audio/chunker.js";
export { ReplayBuffer, type TimedChunk } from "./audio/replay-buffer.js";
export {
  RAW_ENCODINGS,
  bytesPerSecond,
  chunkBytes,
  type AudioFormat,
  type RawEncoding,
} from "./audio/format.js";
export {
  DeepgramFluxSTTService,
  STTForceEndTurnFrame,
  type DeepgramFluxSTTServiceEvents,
  type DeepgramFluxSTTServiceOptions,
  type DeepgramFluxSettings,
} from "./service.js";
