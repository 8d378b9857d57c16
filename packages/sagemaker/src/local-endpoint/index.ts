/**
 * @voxpipe/sagemaker/local-endpoint — local stand-ins for Amazon SageMaker, for tests and
 * demos without AWS: the runtime's `InvokeEndpointWithBidirectionalStream` bridged to a local
 * Flux server, and a fake of the control plane's `ListEndpoints`.
 *
 * @packageDocumentation
 */
/** The local SageMaker runtime endpoint (HTTP/2, SigV4-verified, bridged to Flux, faults). */
export {
  LOCAL_TEST_CREDENTIALS,
  startLocalSageMakerEndpoint,
  type LocalSageMakerCounters,
  type LocalSageMakerEndpoint,
  type LocalSageMakerEndpointOptions,
  type StreamFaults,
} from "./server.js";
/** A fake of SageMaker's `ListEndpoints` (awsJson1_1), reached through the endpoint override. */
export {
  startFakeSageMakerControlPlane,
  type FakeControlPlane,
  type FakeControlPlaneOptions,
  type FakeEndpoint,
} from "./control-plane.js";
