import { WebSocket } from "ws";
import type { ClientOptions } from "ws";
import type { CallInfo, FrameSerializer, WireMessage } from "./serializer.js";
import { WebSocketSession } from "./session.js";
import type { WebSocketSessionOptions } from "./session.js";

/** Options of {@link connectWebSocketTransport}. */
export interface WebSocketClientTransportOptions extends WebSocketSessionOptions {
  /** The serializer of the server's protocol. */
  readonly serializer: FrameSerializer;
  /** The audio this side receives (the server's output format), and the session's identity. */
  readonly call: CallInfo;
  /** Messages sent right after the socket opens (e.g. the protocol's `start`). */
  readonly hello?: readonly WireMessage[] | undefined;
  /** `ws` client options (headers, subprotocols…). */
  readonly ws?: ClientOptions | undefined;
  /** Connect timeout, ms. Default 10000. */
  readonly connectTimeoutMs?: number | undefined;
}

/**
 * The WebSocket client transport: connects a pipeline to a WebSocket server that speaks
 * `serializer`'s protocol (a voxpipe server's `/ws`, or any service with the same shape).
 * Resolves with a started {@link WebSocketSession} whose `input` (audio from the server) and
 * `output` (audio to the server) go at the pipeline's ends, exactly as on the server side.
 * @throws {Error} naming the URL's origin (never its query) when the connection fails.
 */
export async function connectWebSocketTransport(
  url: string,
  options: WebSocketClientTransportOptions,
): Promise<WebSocketSession> {
  const socket = new WebSocket(url, {
    handshakeTimeout: options.connectTimeoutMs ?? 10_000,
    ...options.ws,
  });
  const origin = new URL(url).origin;
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", (err) =>
      reject(new Error(`WebSocket connection to ${origin} failed: ${err.message}`, { cause: err })),
    );
    socket.once("unexpected-response", (_req, res) =>
      reject(new Error(`WebSocket connection to ${origin} refused: HTTP ${res.statusCode}`)),
    );
  });
  const session = new WebSocketSession(socket, options.serializer, options);
  for (const m of options.hello ?? []) session.send(m);
  return session;
}
