/**
 * SageMaker failures in voxpipe's one error taxonomy (`FluxError`: permanent vs retryable).
 * Sources: the operation's modelled errors (aws-sdk-js-v3
 * `clients/client-sagemaker-runtime-http2`: 400 `InputValidationError`, 424 `ModelError`,
 * 500 `InternalServerError`, 503 `ServiceUnavailableError`; stream events `ModelStreamError`,
 * `InternalStreamFailure`), AWS's common errors (403 for bad credentials or signatures,
 * 429 throttling), and Deepgram's SageMaker tooling (a 424 is the container refusing the
 * WebSocket, usually transient under burst load: retried like 429).
 */
import { FluxError } from "@voxpipe/deepgram";

/** Longest provider text kept in an error. */
const MAX_TEXT = 300;

/**
 * Classifies a refused `InvokeEndpointWithBidirectionalStream` by HTTP status and the
 * `x-amzn-errortype` / body `__type`: 424, 429 and 5xx are retryable; every other 4xx
 * (400 validation or unknown endpoint, 403 credentials/signature/permission) is permanent.
 * The description says what to do for the common permanent cases.
 */
export function openError(
  status: number,
  errorType: string | undefined,
  message: string,
): FluxError {
  const retryable = status === 424 || status === 429 || status >= 500;
  const code = errorType ?? `HTTP_${status}`;
  const text = message.slice(0, MAX_TEXT) || "SageMaker refused the stream";
  return new FluxError({
    source: "handshake",
    kind: retryable ? "retryable" : "permanent",
    status,
    code,
    description: `${text}${hint(status, code)}`,
  });
}

function hint(status: number, code: string): string {
  if (status === 403 || /signature|token|credential|accessdenied/i.test(code)) {
    return " — check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and that they may call sagemaker:InvokeEndpointWithBidirectionalStream";
  }
  if (status === 424) {
    return " — the model container refused the stream (for Flux, the endpoint's engine config needs listen_v2 = true)";
  }
  return "";
}

/**
 * A response stream exception: `ModelStreamError` and `InternalStreamFailure` are retryable
 * (the stream ended; a new one can succeed); an event-stream `error` message about the
 * signature or credentials is permanent.
 */
export function streamError(
  type: string,
  message: string,
  errorCode: string | undefined,
): FluxError {
  const permanent = /signature|credential|token|accessdenied/i.test(type);
  return new FluxError({
    source: "server",
    kind: permanent ? "permanent" : "retryable",
    code: type,
    description: `${message.slice(0, MAX_TEXT) || "the stream failed"}${errorCode ? ` (ErrorCode ${errorCode})` : ""}`,
  });
}

/** Credentials could not be resolved: permanent, says what to set. */
export function credentialsError(cause: unknown): FluxError {
  const name = cause instanceof Error ? cause.name : "Error";
  return new FluxError({
    source: "input",
    kind: "permanent",
    code: "NO_AWS_CREDENTIALS",
    description: `no AWS credentials could be loaded (${name}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass credentials`,
  });
}
