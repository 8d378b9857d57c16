/**
 * @voxpipe/deepgram — Deepgram Flux speech-to-text for voxpipe:
 * {@link FluxClient}, the connection layer (usable without a pipeline), and
 * `DeepgramFluxSTTService`, the pipeline processor on top of it.
 *
 * @packageDocumentation
 */
export {
  FluxClient,
  DEEPGRAM_URL,
  type FluxClientOptions,
  type FluxClientState,
  type FluxReconnectOptions,
} from "./flux-client.js";
/**
 * Where Flux runs: an explicit URL, else Deepgram with `DEEPGRAM_API_KEY`, else an embedded
 * local server (`@voxpipe/flux-server`) — a list of targets others can extend.
 */
export {
  resolveFluxEndpoint,
  FLUX_TARGETS,
  explicitUrlTarget,
  deepgramTarget,
  embeddedServerTarget,
  FluxEndpointError,
  type FluxEndpoint,
  type FluxEndpointOptions,
  type FluxEndpointRequest,
  type FluxTarget,
} from "./endpoint.js";
/** FluxClient's typed events, on a timeline continuous across connections. */
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
/** One error taxonomy: permanent vs retryable, with the provider code and description. */
export {
  FluxError,
  handshakeError,
  networkError,
  serverError,
  type FluxErrorInit,
  type FluxErrorKind,
  type FluxErrorSource,
} from "./errors.js";
/** The carrier seam: the only part of the client that touches the network. */
export type {
  Carrier,
  CarrierClose,
  CarrierConnection,
  CarrierHandlers,
  CarrierOpenRequest,
} from "./carriers/carrier.js";
/** Default carrier: `@deepgram/sdk` `listen.v2`, with the SDK's own reconnection off. */
export { sdkCarrier } from "./carriers/sdk.js";
/** Second carrier: a plain `ws` WebSocket (reads refused handshakes' JSON bodies). */
export { wsCarrier } from "./carriers/ws.js";
/** Re-chunks audio to fixed 80 ms chunks (flux-protocol.md §1.4). */
export { AudioChunker } from "./audio/chunker.js";
/** Bounded recent audio, keyed by audio time, replayed after a reconnect. */
export { ReplayBuffer, type TimedChunk } from "./audio/replay-buffer.js";
/** Raw audio formats Flux accepts and their byte arithmetic. */
export {
  RAW_ENCODINGS,
  bytesPerSecond,
  chunkBytes,
  type AudioFormat,
  type RawEncoding,
} from "./audio/format.js";
/** The pipeline processor: Flux turn events as voxpipe turn frames. */
export {
  DeepgramFluxSTTService,
  STTForceEndTurnFrame,
  type DeepgramFluxSTTServiceEvents,
  type DeepgramFluxSTTServiceOptions,
  type DeepgramFluxSettings,
} from "./service.js";
