import { PassThrough } from "node:stream";
import { constants as h2, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { getChunkedStream } from "@smithy/core/event-streams";
import { eventStreamPayloadHandlerProvider } from "@aws-sdk/eventstream-handler-node";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import type { AwsCredentialIdentity } from "@smithy/types";
import { FluxError, networkError, type Carrier, type CarrierConnection } from "@voxpipe/deepgram";
import {
  codec,
  encodePayloadPart,
  EVENT_STREAM_CONTENT_TYPE,
  parseJsonObject,
  readResponseEvent,
} from "./event-stream.js";
import {
  configError,
  resolveSageMakerTarget,
  SIGNING_SERVICE,
  type SageMakerTarget,
  type SageMakerTargetOptions,
} from "./config.js";
import { credentialsError, openError, streamError } from "./errors.js";
import { SessionPool } from "./session-pool.js";

/** SageMaker caps a bidirectional stream at 30 minutes (Deepgram's SageMaker tooling). */
export const SAGEMAKER_MAX_STREAM_MS = 30 * 60_000;

/** AWS's `EndpointName` pattern (SageMaker API reference, CreateEndpoint / EndpointSummary). */
const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/**
 * Checks an endpoint name against AWS's pattern.
 * @returns `undefined` when valid, else a message naming the value and what is allowed.
 */
export function endpointNameProblem(name: string): string | undefined {
  return ENDPOINT_NAME.test(name)
    ? undefined
    : `endpoint name ${JSON.stringify(name.slice(0, 80))}: must be 1–63 letters, digits or hyphens, starting and ending with a letter or digit`;
}

/** After `close()`, how long the response may take to end before the stream is reset. */
const CLOSE_GRACE_MS = 2_000;

/** Options of {@link sagemakerCarrier}. */
export interface SageMakerCarrierOptions extends SageMakerTargetOptions {
  /** The SageMaker endpoint serving Flux (its engine config has `listen_v2 = true`). */
  readonly endpointName: string;
  /** Production variant to route to (`X-Amzn-SageMaker-Target-Variant`). Default: SageMaker's choice. */
  readonly targetVariant?: string;
  /** Container path (`X-Amzn-SageMaker-Model-Invocation-Path`). Default `v2/listen` (Flux). */
  readonly invocationPath?: string;
  /**
   * The provider's cap on one stream, ms. Default {@link SAGEMAKER_MAX_STREAM_MS} (30 min).
   * The client renews the stream at the first turn boundary after `maxStreamMs − renewMarginMs`.
   */
  readonly maxStreamMs?: number;
  /** How long before the cap the client may renew at a turn boundary, ms. Default 120000 (2 min). */
  readonly renewMarginMs?: number;
  /** Streams multiplexed on one HTTP/2 connection before another is opened. Default 100. */
  readonly maxStreamsPerConnection?: number;
}

/** A carrier with its own HTTP/2 connection pool. */
export type SageMakerCarrier = Carrier & {
  readonly target: string;
  /** Closes the pooled HTTP/2 connections (open streams are reset). */
  destroy(): void;
};

/**
 * A `FluxClient` carrier over Amazon SageMaker's **InvokeEndpointWithBidirectionalStream**:
 * `POST {endpoint}/endpoints/{EndpointName}/invocations-bidirectional-stream` over HTTP/2,
 * SigV4-signed (service `sagemaker`), with the Flux query in
 * `X-Amzn-SageMaker-Model-Query-String` (spaces as `%20`, never `+`) and
 * `X-Amzn-SageMaker-Model-Invocation-Path: v2/listen`. Audio goes out as `PayloadPart`
 * events with `DataType: BINARY`, control messages (`Configure`, `ForceEndTurn`,
 * `CloseStream`) as `UTF8` parts; each event is signed by `@aws-sdk/eventstream-handler-node`
 * (the signing stream AWS's own clients use: `:date`, `:chunk-signature`, chained from the
 * request's signature). Flux's messages come back as `PayloadPart`s.
 *
 * Everything else is `FluxClient`'s, as on the WebSocket carriers: `Connected` wait, 80 ms
 * chunks, watchdog, classified errors, loss-free reconnect with replay. On this path:
 * - no WebSocket ping exists, so the connection has no `ping`: the client keeps an idle
 *   stream alive with a little silence on its audio timeline;
 * - `renewAfterMs` tells the client to renew the stream at a turn boundary before SageMaker's
 *   30-minute cap;
 * - errors: 424 `ModelError`, 429, 5xx and the `ModelStreamError` / `InternalStreamFailure`
 *   events are retryable; 400 and 403 (credentials, signature) are permanent.
 *
 * The Deepgram `url` and API key of the client are not used ({@link SageMakerCarrier.target}
 * is set): AWS credentials sign the request.
 *
 * @example
 * ```ts
 * const carrier = sagemakerCarrier({ endpointName: "flux-endpoint", region: "us-east-1" });
 * const stt = new DeepgramFluxSTTService({ carrier });
 * ```
 * @throws FluxError (`input`, `INVALID_ENDPOINT_NAME`) for a name AWS would reject.
 */
export function sagemakerCarrier(options: SageMakerCarrierOptions): SageMakerCarrier {
  const problem = endpointNameProblem(options.endpointName);
  if (problem !== undefined) throw configError("INVALID_ENDPOINT_NAME", problem);
  const maxStreamMs = options.maxStreamMs ?? SAGEMAKER_MAX_STREAM_MS;
  const renewAfterMs = Math.max(0, maxStreamMs - (options.renewMarginMs ?? 120_000));
  const pool = new SessionPool(options.maxStreamsPerConnection);
  let target: Promise<SageMakerTarget> | undefined;

  const open: Carrier = async (request, handlers) => {
    target ??= resolveSageMakerTarget(options);
    let resolved: SageMakerTarget;
    try {
      resolved = await target;
    } catch (error) {
      target = undefined;
      throw error;
    }
    let credentials: AwsCredentialIdentity;
    try {
      credentials = await resolved.credentials();
    } catch (error) {
      throw credentialsError(error);
    }
    request.signal.throwIfAborted();
    const headers: Record<string, string> = {
      "content-type": EVENT_STREAM_CONTENT_TYPE,
      // The body is an event stream whose events are signed one by one (SigV4 event signing).
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-EVENTS",
      "x-amzn-sagemaker-model-invocation-path": options.invocationPath ?? "v2/listen",
    };
    const query = modelQueryString(request.query);
    if (query !== "") headers["x-amzn-sagemaker-model-query-string"] = query;
    if (options.targetVariant !== undefined) {
      headers["x-amzn-sagemaker-target-variant"] = options.targetVariant;
    }
    const signer = new SignatureV4({
      service: SIGNING_SERVICE,
      region: resolved.region,
      credentials,
      sha256: Hash.bind(null, "sha256"),
    });
    return openStream({
      target: resolved,
      signer,
      credentials,
      path: `/endpoints/${encodeURIComponent(options.endpointName)}/invocations-bidirectional-stream`,
      headers,
      pool,
      renewAfterMs,
      signal: request.signal,
      handlers,
    });
  };
  return Object.assign(open, {
    target: `sagemaker:${options.endpointName}`,
    destroy: () => pool.destroy(),
  });
}

/**
 * The Flux query as SageMaker wants it in `X-Amzn-SageMaker-Model-Query-String`:
 * `URLSearchParams` writes spaces as `+`, which SageMaker's validation rejects, so they
 * become `%20` (a literal `+` is already `%2B`).
 */
export function modelQueryString(query: URLSearchParams): string {
  return query.toString().replace(/\+/g, "%20");
}

interface StreamRequest {
  readonly target: SageMakerTarget;
  readonly signer: SignatureV4;
  readonly credentials: AwsCredentialIdentity;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly pool: SessionPool;
  readonly renewAfterMs: number;
  readonly signal: AbortSignal;
  readonly handlers: Parameters<Carrier>[1];
}

/** Signs and opens one stream; resolves once SageMaker answered 200. */
async function openStream(req: StreamRequest): Promise<CarrierConnection> {
  const url = req.target.endpointUrl;
  const unsigned = new HttpRequest({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== "" ? { port: Number(url.port) } : {}),
    path: req.path,
    headers: { ...req.headers, host: url.host },
  });
  const signed = (await req.signer.sign(unsigned)) as HttpRequest;
  // The unsigned events go in here; the official event signing stream wraps each in a
  // signed message, chained from the request's signature.
  const input = new PassThrough({ objectMode: true });
  signed.body = input;
  const payloadHandler = eventStreamPayloadHandlerProvider({
    messageSigner: () => Promise.resolve(req.signer),
    utf8Encoder: toUtf8,
    utf8Decoder: fromUtf8,
    credentials: () => Promise.resolve(req.credentials),
  });
  return new Promise<CarrierConnection>((resolve, reject) => {
    let settled = false;
    const fail = (error: FluxError): void => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    payloadHandler
      .handle(
        async (args) => {
          const request = args.request as HttpRequest;
          const connection = await sendRequest(req, request, input);
          if (!settled) {
            settled = true;
            resolve(connection);
          } else {
            connection.close();
          }
          return { response: {}, output: {} as never };
        },
        { request: signed, input: {} },
      )
      .catch((error: unknown) => {
        input.destroy();
        fail(error instanceof FluxError ? error : networkError("CONNECT_FAILED", describe(error)));
      });
  });
}

/** Sends the signed request on a pooled HTTP/2 session and wires the stream to the carrier. */
function sendRequest(
  req: StreamRequest,
  signed: HttpRequest,
  input: PassThrough,
): Promise<CarrierConnection> {
  const { session, release } = req.pool.acquire(req.target.endpointUrl.origin, req.target.ca);
  const { host, ...headers } = signed.headers;
  const stream = session.request({
    ":method": "POST",
    ":path": req.path,
    ":authority": host,
    ...headers,
  });
  stream.on("close", release);
  // Signed events (Uint8Arrays) → the HTTP/2 request body, with backpressure.
  const signedBody = signed.body as PassThrough;
  signedBody.pipe(stream);

  return new Promise<CarrierConnection>((resolve, reject) => {
    let opened = false;
    const onAbort = (): void => {
      stream.close(h2.NGHTTP2_CANCEL);
      reject(networkError("ABORTED", "connection attempt aborted"));
    };
    req.signal.addEventListener("abort", onAbort, { once: true });
    stream.once("error", (error: NodeJS.ErrnoException) => {
      if (opened) return;
      req.signal.removeEventListener("abort", onAbort);
      reject(
        networkError(
          "CONNECT_FAILED",
          `could not open the SageMaker stream (${error.code ?? error.message})`,
        ),
      );
    });
    stream.once("response", (responseHeaders: IncomingHttpHeaders) => {
      req.signal.removeEventListener("abort", onAbort);
      const status = Number(responseHeaders[":status"]);
      if (status !== 200) {
        void readRefusal(stream).then((body) => {
          const json = parseJsonObject(body);
          const errorType =
            headerValue(responseHeaders["x-amzn-errortype"])?.split(":")[0] ??
            (typeof json.__type === "string" ? json.__type.split("#").pop() : undefined);
          const message =
            (typeof json.message === "string" && json.message) ||
            (typeof json.Message === "string" && json.Message) ||
            (typeof json.OriginalMessage === "string" && json.OriginalMessage) ||
            "";
          input.end();
          reject(openError(status, errorType, message));
        });
        return;
      }
      opened = true;
      resolve(connectionOn(stream, input, req));
    });
  });
}

/** The open stream as a `CarrierConnection`. */
function connectionOn(
  stream: ClientHttp2Stream,
  input: PassThrough,
  req: StreamRequest,
): CarrierConnection {
  let closed = false;
  let inputEnded = false;
  let closeError: FluxError | undefined;
  const finish = (code: number, reason: string, error?: FluxError): void => {
    if (closed) return;
    closed = true;
    inputEnded = true;
    input.end();
    req.handlers.onClose({ code, reason, ...(error ? { error } : {}) });
  };
  const read = async (): Promise<void> => {
    for await (const raw of getChunkedStream(stream as AsyncIterable<Uint8Array>)) {
      const event = readResponseEvent(codec.decode(raw));
      if (event.kind === "payload") {
        // Received leniently: Flux's JSON arrives as UTF8; JSON typed BINARY is taken as text too.
        if (event.dataType === "UTF8" || event.bytes[0] === 0x7b) {
          req.handlers.onMessage(toUtf8(event.bytes));
        }
      } else if (event.kind === "exception") {
        closeError ??= streamError(event.type, event.message, event.errorCode);
      }
    }
  };
  read().then(
    () =>
      closeError ? finish(1011, closeError.code, closeError) : finish(1000, "the stream ended"),
    (error: unknown) => {
      const rst = stream.rstCode;
      finish(
        1006,
        "stream failed",
        closeError ??
          networkError(
            rst !== undefined && rst !== h2.NGHTTP2_NO_ERROR ? "STREAM_RESET" : "STREAM_FAILED",
            rst !== undefined && rst !== h2.NGHTTP2_NO_ERROR
              ? `the HTTP/2 stream was reset (code ${rst})`
              : `the stream failed (${describe(error)})`,
          ),
      );
    },
  );
  const send = (bytes: Uint8Array, dataType: "UTF8" | "BINARY"): void => {
    if (inputEnded) throw new Error("the SageMaker stream is closed");
    input.write(encodePayloadPart(bytes, dataType));
  };
  return {
    sendBinary: (data) => send(data, "BINARY"),
    sendControl: (message) => send(fromUtf8(JSON.stringify(message)), "UTF8"),
    close() {
      if (inputEnded) return;
      // Ending the input reaches the container as a WebSocket close; the response then ends.
      inputEnded = true;
      input.end();
      const timer = setTimeout(() => {
        if (!stream.closed) stream.close(h2.NGHTTP2_CANCEL);
      }, CLOSE_GRACE_MS);
      timer.unref();
    },
    renewAfterMs: req.renewAfterMs,
    get bufferedAmount() {
      return stream.writableLength + input.readableLength;
    },
  };
}

async function readRefusal(stream: ClientHttp2Stream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (size < 16_384) chunks.push(chunk);
      size += chunk.length;
    }
  } catch {
    // what arrived is enough
  }
  return Buffer.concat(chunks).toString("utf8");
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}
