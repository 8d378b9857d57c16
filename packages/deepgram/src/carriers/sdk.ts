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
 * (`Unexpected server response: 401`); the status is read from it. The
 * response's `dg-error` text is not reachable through the SDK (use
 * {@link wsCarrier} when that matters).
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
  const socket: SdkSocket = await client.listen.v2.connect({
    model,
    queryParams,
    reconnectAttempts: 0,
    shouldReconnect: () => false,
    connectionTimeoutInSeconds: request.connectTimeoutMs / 1000,
    abortSignal: request.signal,
  });
  return openSdkSocket(socket, request, handlers);
};

async function openSdkSocket(
  socket: SdkSocket,
  request: CarrierOpenRequest,
  handlers: CarrierHandlers,
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
    const status = statusFromHandshakeMessage(error.message);
    refusal =
      status !== undefined
        ? handshakeError(status)
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
