import {
  constants as h2,
  createSecureServer,
  createServer,
  type Http2Server,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { getChunkedStream } from "@smithy/core/event-streams";
import { toUtf8 } from "@smithy/util-utf8";
import type { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import { rootLogger, type Logger } from "@voxpipe/core";
import {
  codec,
  encodeException,
  encodePayloadPart,
  EVENT_STREAM_CONTENT_TYPE,
  stringHeader,
} from "../event-stream.js";
import { SIGNING_SERVICE } from "../config.js";
import { verifyEvent, verifyRequest } from "./sigv4.js";
import { generateLocalCertificate } from "./certificate.js";

/** Test credentials the local endpoints accept by default. Not secret: for tests and demos only. */
export const LOCAL_TEST_CREDENTIALS: AwsCredentialIdentity = {
  accessKeyId: "AKIAVOXPIPELOCALTEST",
  secretAccessKey: "voxpipe-local-sagemaker-test-secret",
};

/** Faults for one stream (fault injection for tests). Times in ms from the stream's open. */
export interface StreamFaults {
  /** Refuse the stream: 424 `ModelError` (the container refused), 500 or 503. */
  readonly refuse?: 424 | 500 | 503;
  /** Send a `ModelStreamError` event, then end the stream, after this long. */
  readonly modelStreamErrorAfterMs?: number;
  /** Reset the HTTP/2 stream (`RST_STREAM` INTERNAL_ERROR) after this long. */
  readonly resetAfterMs?: number;
  /** Read the request body slowly: wait this long before reading each event. */
  readonly slowReadMs?: number;
}

/** Options of {@link startLocalSageMakerEndpoint}. */
export interface LocalSageMakerEndpointOptions {
  /** Base URL of the Flux server to bridge to, e.g. `ws://127.0.0.1:8787` (no path). */
  readonly fluxUrl: string;
  /** Port to listen on. Default 0 (a free port). */
  readonly port?: number;
  /** Interface. Default `127.0.0.1`. */
  readonly host?: string;
  /** The one key pair accepted. Default {@link LOCAL_TEST_CREDENTIALS}. */
  readonly credentials?: AwsCredentialIdentity;
  /** Region requests must be signed for. Default `us-east-1`. */
  readonly region?: string;
  /**
   * `true` (default): HTTPS with a certificate generated at start for `localhost`/`127.0.0.1`
   * ({@link LocalSageMakerEndpoint.ca} to trust it). `false`: h2c (HTTP/2 without TLS).
   */
  readonly tls?: boolean;
  /** Endpoint names served. Default: any name. Others get 400 `InputValidationError`. */
  readonly endpointNames?: readonly string[];
  /** Faults for the i-th stream (0-based, counting every request that reached verification). */
  readonly streamFaults?: (index: number) => StreamFaults | undefined;
  /** End every stream after this long (ms), as SageMaker's 30-minute cap does. Default: none. */
  readonly maxStreamMs?: number;
  /** Logger. Default: voxpipe's root logger, child `sagemaker-endpoint`. */
  readonly logger?: Logger;
}

/** Counters of a {@link LocalSageMakerEndpoint}. */
export interface LocalSageMakerCounters {
  /** Requests that reached the endpoint route. */
  requests: number;
  /** Streams answered 200 and bridged. */
  opened: number;
  /** Requests refused (signature, validation, injected faults, container refusal). */
  refused: number;
  /** Client events whose signature verified. */
  eventsVerified: number;
  /** Client events refused for a bad signature. */
  eventsRejected: number;
}

/** A running local SageMaker runtime endpoint. */
export interface LocalSageMakerEndpoint {
  /** Base URL for `endpointUrl` / `AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`, e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  readonly port: number;
  /** The generated certificate (PEM) to trust, or `undefined` for h2c. */
  readonly ca: string | undefined;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  /** Totals so far. */
  counters(): LocalSageMakerCounters;
  /** Stops accepting, resets open streams and closes their Flux connections. Idempotent. */
  close(): Promise<void>;
}

const ROUTE = /^\/endpoints\/([^/]+)\/invocations-bidirectional-stream$/;
/** SageMaker's limit on `X-Amzn-SageMaker-Model-Query-String`. */
const MAX_QUERY_LENGTH = 2048;

/**
 * A local stand-in for SageMaker's runtime `InvokeEndpointWithBidirectionalStream`, for tests
 * and demos without AWS: an HTTP/2 server that verifies the SigV4 signature of each request
 * and of each event (chained from the request's), decodes the event stream, and bridges each
 * stream to a Flux server's WebSocket at `/<X-Amzn-SageMaker-Model-Invocation-Path>?<query>`
 * as SageMaker bridges to the model container: `BINARY` parts become binary frames, `UTF8`
 * parts text frames, Flux's text frames come back as `UTF8` `PayloadPart`s, the end of the
 * input closes the WebSocket, and the WebSocket's close ends the response. A container that
 * refuses the WebSocket gives 424 `ModelError` ("Failed to establish WebSocket connection"),
 * as reported by Deepgram's SageMaker tooling. Fault injection: {@link StreamFaults}.
 *
 * @throws Error when the port cannot be bound.
 */
export async function startLocalSageMakerEndpoint(
  options: LocalSageMakerEndpointOptions,
): Promise<LocalSageMakerEndpoint> {
  const log = options.logger ?? rootLogger().child({ component: "sagemaker-endpoint" });
  const credentials = options.credentials ?? LOCAL_TEST_CREDENTIALS;
  const region = options.region ?? "us-east-1";
  const fluxUrl = options.fluxUrl.replace(/\/+$/, "");
  const useTls = options.tls ?? true;
  const cert = useTls ? await generateLocalCertificate() : undefined;
  const server: Http2Server | Http2SecureServer = cert
    ? createSecureServer({ key: cert.key, cert: cert.cert })
    : createServer();
  const counters: LocalSageMakerCounters = {
    requests: 0,
    opened: 0,
    refused: 0,
    eventsVerified: 0,
    eventsRejected: 0,
  };
  const live = new Set<() => void>();
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  let index = 0;

  const refuse = (
    stream: ServerHttp2Stream,
    status: number,
    type: string,
    body: Record<string, unknown>,
  ): void => {
    counters.refused++;
    if (stream.closed || stream.destroyed) return;
    stream.respond({
      ":status": status,
      "content-type": "application/json",
      "x-amzn-errortype": type,
    });
    stream.end(JSON.stringify(body));
  };

  server.on("stream", (stream, headers) => {
    stream.on("error", () => {}); // a client reset is reported through close
    void handle(stream, headers).catch((error: unknown) => {
      log.error({ err: error }, "local sagemaker endpoint: stream failed");
      if (!stream.closed) stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    });
  });

  async function handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const path = String(headers[":path"] ?? "");
    const route = ROUTE.exec(path);
    if (headers[":method"] !== "POST" || route === null) {
      refuse(stream, 404, "UnknownOperationException", { message: "Unknown operation" });
      return;
    }
    counters.requests++;
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) {
      if (!k.startsWith(":") && v !== undefined) flat[k] = Array.isArray(v) ? v.join(",") : v;
    }
    flat.host = String(headers[":authority"] ?? "");
    const verified = await verifyRequest(
      { method: "POST", path, headers: flat },
      { credentials, region, service: SIGNING_SERVICE },
    );
    if (!("signer" in verified)) {
      log.warn({ type: verified.type }, "local sagemaker endpoint: request signature refused");
      refuse(stream, verified.status, verified.type, { message: verified.message });
      return;
    }
    const endpointName = decodeURIComponent(route[1]);
    if (options.endpointNames !== undefined && !options.endpointNames.includes(endpointName)) {
      refuse(stream, 400, "InputValidationError", {
        Message: `Endpoint ${endpointName} not found.`,
        ErrorCode: "ValidationError",
      });
      return;
    }
    const invocationPath = flat["x-amzn-sagemaker-model-invocation-path"] ?? "";
    const query = flat["x-amzn-sagemaker-model-query-string"] ?? "";
    // SageMaker validates the query: bounded length, no '+', no empty values.
    if (query.length > MAX_QUERY_LENGTH || query.includes("+") || /(^|&)[^=&]+=(&|$)/.test(query)) {
      refuse(stream, 400, "InputValidationError", {
        Message: "X-Amzn-SageMaker-Model-Query-String failed validation",
        ErrorCode: "ValidationError",
      });
      return;
    }
    const faults = options.streamFaults?.(index++) ?? {};
    if (faults.refuse !== undefined) {
      refuse(
        stream,
        faults.refuse,
        faults.refuse === 424
          ? "ModelError"
          : faults.refuse === 503
            ? "ServiceUnavailableError"
            : "InternalServerError",
        faults.refuse === 424
          ? {
              Message: "Failed to establish WebSocket connection",
              OriginalStatusCode: 503,
              OriginalMessage: "injected fault",
              ErrorCode: "ModelError",
            }
          : { Message: "injected fault", ErrorCode: "InternalFailure" },
      );
      return;
    }
    const ws = await openContainer(
      `${fluxUrl}/${invocationPath.replace(/^\/+/, "")}${query ? `?${query}` : ""}`,
    );
    if ("status" in ws) {
      refuse(stream, 424, "ModelError", {
        Message: "Failed to establish WebSocket connection",
        OriginalStatusCode: ws.status,
        OriginalMessage: ws.body.slice(0, 300),
        ErrorCode: "ModelError",
      });
      return;
    }
    if (stream.closed || stream.destroyed) {
      ws.socket.terminate();
      return;
    }
    counters.opened++;
    stream.respond({
      ":status": 200,
      "content-type": EVENT_STREAM_CONTENT_TYPE,
      "x-amzn-invoked-production-variant": "AllTraffic",
    });
    bridge(stream, ws, verified.signer, verified.signature, faults);
  }

  function bridge(
    stream: ServerHttp2Stream,
    container: Container,
    signer: SignatureV4,
    seed: string,
    faults: StreamFaults,
  ): void {
    const { socket } = container;
    const timers: NodeJS.Timeout[] = [];
    let ended = false;
    const end = (how: "end" | "reset", last?: Uint8Array): void => {
      if (ended) return;
      ended = true;
      for (const t of timers) clearTimeout(t);
      live.delete(stop);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close(1000);
      }
      if (stream.closed || stream.destroyed) return;
      if (how === "reset") stream.close(h2.NGHTTP2_INTERNAL_ERROR);
      else stream.end(last);
    };
    const stop = (): void => end("reset");
    live.add(stop);
    const after = (ms: number | undefined, action: () => void): void => {
      if (ms !== undefined) timers.push(setTimeout(action, ms));
    };
    after(faults.modelStreamErrorAfterMs, () =>
      end(
        "end",
        encodeException("ModelStreamError", {
          Message: "injected fault: the model container stream failed",
          ErrorCode: "ModelStreamError",
        }),
      ),
    );
    after(faults.resetAfterMs, () => end("reset"));
    after(options.maxStreamMs, () => end("end"));

    const forward = (data: Buffer, isBinary: boolean): void => {
      if (ended || stream.closed) return;
      stream.write(encodePayloadPart(data, isBinary ? "BINARY" : "UTF8"));
    };
    socket.removeAllListeners("message");
    for (const m of container.early.splice(0)) forward(m.data, m.isBinary);
    socket.on("message", (data, isBinary) => forward(data as Buffer, isBinary));
    socket.on("close", () => end("end"));
    socket.on("error", () => end("end"));
    stream.on("close", () => end("reset"));

    void (async () => {
      let prior = seed;
      for await (const raw of getChunkedStream(stream as AsyncIterable<Uint8Array>)) {
        if (faults.slowReadMs !== undefined) await sleep(faults.slowReadMs);
        if (ended) return;
        const outer = codec.decode(raw);
        const date = outer.headers[":date"];
        const signature = outer.headers[":chunk-signature"];
        const next =
          date?.type === "timestamp" && signature?.type === "binary"
            ? await verifyEvent(signer, prior, date.value, signature.value, outer.body)
            : undefined;
        if (next === undefined) {
          counters.eventsRejected++;
          log.warn("local sagemaker endpoint: event signature refused");
          end(
            "end",
            codec.encode({
              headers: {
                ":message-type": { type: "string", value: "error" },
                ":error-code": { type: "string", value: "InvalidSignatureException" },
                ":error-message": {
                  type: "string",
                  value: "The event signature does not match the signature chain.",
                },
              },
              body: new Uint8Array(0),
            }),
          );
          return;
        }
        counters.eventsVerified++;
        prior = next;
        if (outer.body.length === 0) continue; // an empty signed event marks the end of input
        const inner = codec.decode(outer.body);
        if (stringHeader(inner.headers, ":event-type") !== "PayloadPart") continue;
        if (socket.readyState !== WebSocket.OPEN) continue;
        if (stringHeader(inner.headers, "DataType") === "UTF8") socket.send(toUtf8(inner.body));
        else socket.send(inner.body, { binary: true });
      }
      // The input ended: SageMaker closes the container's WebSocket; its close ends the response.
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
    })().catch(() => end("reset"));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl =
    options.host === undefined || options.host === "127.0.0.1" ? "127.0.0.1" : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${useTls ? "https" : "http"}://${hostForUrl}:${port}`,
    port,
    ca: cert?.cert,
    region,
    credentials,
    counters: () => ({ ...counters }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const stop of [...live]) stop();
        server.close(() => resolve());
        // Pooled client sessions would keep close() waiting: end them.
        for (const session of sessions) session.close();
      });
      return closing;
    },
  };
}

/** An open container WebSocket and the messages that arrived before the bridge took over. */
interface Container {
  readonly socket: WebSocket;
  readonly early: { data: Buffer; isBinary: boolean }[];
}

/**
 * Opens the container's WebSocket; a refused upgrade resolves with its status and body.
 * Messages are collected from the first moment: Flux's `Connected` can arrive in the same
 * read as the upgrade response, before the bridge is wired.
 */
function openContainer(url: string): Promise<Container | { status: number; body: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const early: Container["early"] = [];
    const collect = (data: Buffer, isBinary: boolean): void => {
      early.push({ data, isBinary });
    };
    socket.on("message", collect);
    socket.once("open", () => resolve({ socket, early }));
    socket.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      socket.terminate();
    });
    socket.once("error", () =>
      resolve({ status: 502, body: "the model container is unreachable" }),
    );
  });
}
