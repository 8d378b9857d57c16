import WebSocket from "ws";
import type { FluxError } from "../errors.js";
import { connectError, handshakeError, networkError } from "../errors.js";
import type { Carrier, CarrierConnection } from "./carrier.js";
import { endpointOf } from "./carrier.js";

/** Longest `dg-error` / body text kept from a refused handshake. */
const MAX_ERROR_TEXT = 300;

/**
 * A carrier on plain `ws`. It reads a refused handshake's JSON body as well as its
 * `dg-error` header (the SDK carrier gets only the header), so its errors carry the
 * provider's code and description (flux-protocol.md §1.5).
 */
export const wsCarrier: Carrier = (request, handlers) =>
  new Promise<CarrierConnection>((resolve, reject) => {
    const { endpoint } = endpointOf(request.url);
    const query = request.query.toString();
    const socket = new WebSocket(query ? `${endpoint}?${query}` : endpoint, {
      headers: request.apiKey !== undefined ? { Authorization: `Token ${request.apiKey}` } : {},
      handshakeTimeout: request.connectTimeoutMs,
      perMessageDeflate: false,
    });
    let settled = false;
    const fail = (error: FluxError): void => {
      if (settled) return;
      settled = true;
      request.signal.removeEventListener("abort", onAbort);
      reject(error);
    };
    const onAbort = (): void => {
      fail(networkError("ABORTED", "connection attempt aborted"));
      socket.terminate();
    };
    request.signal.addEventListener("abort", onAbort, { once: true });

    socket.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.length < 16 && chunks.push(c));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        const { code, description } = describeRefusal(
          Buffer.concat(chunks).toString("utf8"),
          res.headers["dg-error"],
        );
        fail(handshakeError(status, code, description));
        socket.terminate();
      });
      res.on("error", () => fail(handshakeError(res.statusCode ?? 0)));
    });
    socket.on("error", (error: Error) => {
      if (!settled) {
        const timeout = /timed out/i.test(error.message);
        fail(
          timeout ? networkError("CONNECT_TIMEOUT", "handshake timed out") : connectError(error),
        );
      }
    });
    socket.on("open", () => {
      if (settled) {
        socket.terminate();
        return;
      }
      settled = true;
      request.signal.removeEventListener("abort", onAbort);
      let closed = false;
      socket.on("message", (data, isBinary) => {
        if (!isBinary) handlers.onMessage((data as Buffer).toString("utf8"));
      });
      socket.on("close", (code, reason) => {
        if (closed) return;
        closed = true;
        handlers.onClose({ code, reason: reason.toString("utf8") });
      });
      resolve({
        sendBinary(data) {
          socket.send(data, { binary: true });
        },
        sendControl(message) {
          socket.send(JSON.stringify(message), { binary: false });
        },
        ping() {
          socket.ping();
        },
        close() {
          if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
            socket.close(1000);
          }
        },
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
      });
    });
  });

/**
 * Reads a refusal's provider code and description from the body (one of the
 * three shapes Deepgram uses: `err_code/err_msg`, `code/description`,
 * `category/message`) or the `dg-error` header.
 */
function describeRefusal(
  body: string,
  dgError: string | string[] | undefined,
): { code: string | undefined; description: string | undefined } {
  let code: string | undefined;
  let description: string | undefined;
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    code = str(json.err_code) ?? str(json.code) ?? str(json.category);
    description = str(json.err_msg) ?? str(json.description) ?? str(json.message);
  } catch {
    // not JSON: fall back to the header
  }
  description ??= Array.isArray(dgError) ? dgError[0] : dgError;
  return { code, description: description?.slice(0, MAX_ERROR_TEXT) };
}
