import { Agent as HttpAgent, type ClientRequest } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { DeepgramClient } from "@deepgram/sdk";
import {
  FluxError,
  connectError,
  handshakeError,
  networkError,
  statusFromHandshakeMessage,
} from "../errors.js";
import type { Carrier, CarrierConnection, CarrierOpenRequest, CarrierHandlers } from "./carrier.js";
import { endpointOf } from "./carrier.js";
import type { ClientMessage as ControlMessage } from "@voxpipe/flux-protocol";

type SdkSocket = Awaited<ReturnType<DeepgramClient["listen"]["v2"]["connect"]>>;

/**
 * The default carrier: `@deepgram/sdk` 5.x `listen.v2`, with the SDK's own
 * reconnection **turned off** (`reconnectAttempts: 0`, `shouldReconnect: () => false`)
 * so that a drop surfaces here once and {@link FluxClient} decides what to do.
 *
 * The SDK reports a refused upgrade only as an error message
 * (`Unexpected server response: 401`) and drops the response. Its per-connection `agent`
 * option (a Node HTTP agent, `WebSocketAgentArg`) is the one way to see the response: the
 * agent here only watches the upgrade request it is given and keeps the refusal's status
 * and `dg-error` header, so the error carries Flux's text as with {@link wsCarrier}. (The
 * JSON body is not readable this way: the SDK's socket aborts the request on the refusal.)
 */
export const sdkCarrier: Carrier = async (request, handlers) => {
  const { base } = endpointOf(request.url);
  const client = new DeepgramClient(
    request.apiKey !== undefined
      ? { apiKey: request.apiKey, baseUrl: base }
      : { auth: false, baseUrl: base },
  );
  const queryParams: Record<string, string | string[]> = {};
  for (const key of new Set(request.query.keys())) {
    const values = request.query.getAll(key);
    queryParams[key] = values.length === 1 ? values[0] : values;
  }
  const model = request.query.get("model") ?? "";
  delete queryParams.model;

  request.signal.throwIfAborted();
  const watcher = refusalWatcher(new URL(base).protocol === "wss:");
  const socket: SdkSocket = await client.listen.v2.connect({
    model,
    queryParams,
    reconnectAttempts: 0,
    shouldReconnect: () => false,
    connectionTimeoutInSeconds: request.connectTimeoutMs / 1000,
    abortSignal: request.signal,
    agent: watcher.agent,
  });
  return openSdkSocket(socket, request, handlers, watcher);
};

/** Longest `dg-error` text kept from a refused handshake. */
const MAX_ERROR_TEXT = 300;

/** A refused upgrade as the agent saw it. */
interface Refusal {
  status: number;
  dgError: string | undefined;
}

/**
 * A one-connection HTTP(S) agent that records a refused upgrade's status and `dg-error`
 * header. It hooks `addRequest(req, options)`, the method Node's `http.Agent` is handed each
 * request through (what agent libraries such as agent-base build on), to listen for the
 * request's documented `response` event, which fires only for a non-101 answer; the
 * connection itself is made by the stock agent, unchanged.
 */
function refusalWatcher(secure: boolean): { agent: HttpAgent; refusal(): Refusal | undefined } {
  let seen: Refusal | undefined;
  const watch = (req: ClientRequest): void => {
    req.once("response", (res) => {
      const header = res.headers["dg-error"];
      const text = Array.isArray(header) ? header[0] : header;
      seen = { status: res.statusCode ?? 0, dgError: text?.slice(0, MAX_ERROR_TEXT) };
    });
  };
  const agent = secure ? new HttpsAgent() : new HttpAgent();
  const hooked = agent as unknown as { addRequest(req: ClientRequest, options: unknown): void };
  const addRequest = hooked.addRequest.bind(agent);
  hooked.addRequest = (req, options) => {
    watch(req);
    addRequest(req, options);
  };
  return { agent, refusal: () => seen };
}

async function openSdkSocket(
  socket: SdkSocket,
  request: CarrierOpenRequest,
  handlers: CarrierHandlers,
  watcher: { refusal(): Refusal | undefined },
): Promise<CarrierConnection> {
  let opened = false;
  let closed = false;
  let failOpen: (error: FluxError) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    failOpen = reject;
  });
  failed.catch(() => {}); // observed through the race below; never unhandled

  let refusal: FluxError | undefined;
  const finish = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    if (opened) {
      handlers.onClose({ code, reason });
      return;
    }
    // The SDK fires `close` just before `error` for a refused upgrade; let the error
    // (which carries the HTTP status) be read first.
    queueMicrotask(() =>
      failOpen(
        refusal ?? networkError("CONNECTION_CLOSED", `closed during the handshake (code ${code})`),
      ),
    );
  };

  socket.on("message", (message) => handlers.onMessage(message));
  socket.on("error", (error: Error) => {
    if (opened) return;
    const seen = watcher.refusal();
    const status = seen?.status ?? statusFromHandshakeMessage(error.message);
    refusal =
      status !== undefined
        ? handshakeError(status, undefined, seen?.dgError)
        : error.message === "TIMEOUT"
          ? networkError("CONNECT_TIMEOUT", "handshake timed out")
          : connectError(error);
    failOpen(refusal);
  });
  socket.on("close", (event: { code: number; reason?: string }) =>
    finish(event.code, event.reason ?? ""),
  );
  const onAbort = (): void => {
    if (!opened) {
      closed = true;
      failOpen(networkError("ABORTED", "connection attempt aborted"));
      socket.close();
    }
  };
  request.signal.addEventListener("abort", onAbort, { once: true });

  try {
    socket.connect();
    // waitForOpen() also rejects on the error event, which the handler above turns into a FluxError.
    await Promise.race([socket.waitForOpen(), failed]);
    if (closed) await failed;
    opened = true;
  } catch (error) {
    socket.close();
    throw error instanceof FluxError ? error : connectError(error);
  } finally {
    request.signal.removeEventListener("abort", onAbort);
  }

  const raw = socket.socket;
  return {
    sendBinary(data) {
      socket.sendMedia(data);
    },
    sendControl(message: ControlMessage) {
      switch (message.type) {
        case "Configure": {
          // `null` language_hints means "keep" on the wire; the SDK type only knows omission.
          const { language_hints, ...rest } = message;
          socket.sendConfigure(language_hints === null ? rest : { ...rest, language_hints });
          break;
        }
        case "ForceEndTurn":
          socket.sendForceEndTurn(message);
          break;
        case "CloseStream":
          socket.sendCloseStream(message);
          break;
      }
    },
    ping() {
      // The SDK wrapper adds ping() at runtime (Node only); it is not in the typings.
      (socket as unknown as { ping(): void }).ping();
    },
    close() {
      if (closed) return;
      socket.close();
    },
    get bufferedAmount() {
      return raw.bufferedAmount;
    },
  };
}
