/**
 * @voxpipe/sagemaker — Deepgram Flux on Amazon SageMaker for voxpipe: a carrier for
 * `FluxClient` / `DeepgramFluxSTTService` over SageMaker's InvokeEndpointWithBidirectionalStream
 * (HTTP/2, SigV4, AWS event streams), and `ListEndpoints`. A package of its own so AWS stays
 * out of the default install of `@voxpipe/deepgram`. Local stand-ins for tests:
 * `@voxpipe/sagemaker/local-endpoint`.
 *
 * @packageDocumentation
 */
/** The SageMaker bidirectional-stream carrier. */
export {
  endpointNameProblem,
  modelQueryString,
  SAGEMAKER_MAX_STREAM_MS,
  sagemakerCarrier,
  type SageMakerCarrier,
  type SageMakerCarrierOptions,
} from "./carrier.js";
/** Region, endpoint, credentials and CA resolution (AWS SDK conventions). */
export {
  ENDPOINT_ENV_VARS,
  resolveSageMakerTarget,
  type SageMakerTarget,
  type SageMakerTargetOptions,
} from "./config.js";
/** SageMaker errors in voxpipe's taxonomy. */
export { openError, streamError } from "./errors.js";
/** The event stream shapes of the operation (framing by `@smithy/eventstream-codec`). */
export {
  encodePayloadPart,
  readResponseEvent,
  type PayloadDataType,
  type ResponseEvent,
} from "./event-stream.js";
/** `ListEndpoints` through `@aws-sdk/client-sagemaker`. */
export {
  ENDPOINT_STATUSES,
  listSageMakerEndpoints,
  type ListSageMakerEndpointsOptions,
  type SageMakerEndpointSummary,
} from "./list-endpoints.js";
/** `sagemaker:<endpoint-name>` as a target of `resolveFluxEndpoint`. */
export { parseSageMakerTarget, SAGEMAKER_SCHEME, sagemakerTarget } from "./target.js";
