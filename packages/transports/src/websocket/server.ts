import { EventEmitter } from "node:events";
import { createServer } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
// Namespace import: `.default` names the interface under NodeNext and Bundler alike (TS2702).
import type * as TypedEmitter from "typed-emitter";
import { WebSocketServer } from "ws";
import { rootLogger } from "@voxpipe/core";
import type { Logger } from "@voxpipe/core";
import type { CallHangUp } from "./hangup.js";
import type { CallInfo, FrameSerializer } from "./serializer.js";
import { WebSocketSession } from "./session.js";
import type { WebSocketSessionOptions } from "./session.js";

/** Options of {@link WebSocketServerTransport}. */
export interface WebSocketServerTransportOptions extends Omit<
  WebSocketSessionOptions,
  "hangUp" | "logger"
> {
  /**
   * A new serializer for each connection (it keeps the stream's state); `request` is the
   * upgrade request, so one server can speak several protocols by path.
   */
  readonly serializer: (request: IncomingMessage) => FrameSerializer;
  /** The provider's REST hang-up for a call, if the pipeline may end calls. */
  readonly hangUp?:
    ((call: CallInfo, session: WebSocketSession) => CallHangUp | undefined) | undefined;
  /**
   * Most sessions at once; the next connection is accepted and closed with 1013 ("try again
   * later", RFC 6455 §7.4.1). Default: unlimited.
   */
  readonly maxSessions?: number | undefined;
  /** Logger (default: voxpipe's root logger). */
  readonly logger?: Logger | undefined;
}

/** Events of {@link WebSocketServerTransport}. */
export type WebSocketServerTransportEvents = {
  /** A session started (its protocol's `start` arrived): build and run its pipeline now. */
  session: (session: WebSocketSession) => void;
  /** A connection was refused (capacity or draining). */
  refused: (reason: "capacity" | "draining") => void;
};

/**
 * A WebSocket server transport on `ws`: one {@link WebSocketSession} — one pipeline — per
 * connection, many connections per process. It does not own an HTTP server unless
 * {@link listen} is used: hand it upgrades from yours with {@link handleUpgrade} (that is how
 * `voxpipe serve` routes `/twilio`, `/telnyx`, `/plivo`, `/exotel` and `/ws` on one port).
 *
 * @example
 * ```ts
 * const server = new WebSocketServerTransport({ serializer: () => new TwilioFrameSerializer() });
 * server.on("session", (session) => {
 *   const task = new PipelineTask(new Pipeline([session.input, stt, user, llm, tts, session.output, assistant]),
 *     { audioInSampleRate: 16000 });
 *   void new PipelineRunner({ handleSignals: false }).run(task);
 * });
 * await server.listen({ port: 8080, path: "/twilio" });
 * ```
 */
export class WebSocketServerTransport extends (EventEmitter as new () => TypedEmitter.default<WebSocketServerTransportEvents>) {
  readonly #options: WebSocketServerTransportOptions;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  readonly #sessions = new Set<WebSocketSession>();
  readonly #logger: Logger;
  #draining = false;
  #http: Server | undefined;

  constructor(options: WebSocketServerTransportOptions) {
    super();
    const max = options.maxSessions;
    if (max !== undefined && !(Number.isInteger(max) && max >= 1))
      throw new RangeError(`maxSessions must be an integer ≥ 1, got ${String(max)}`);
    this.#options = options;
    this.#logger = options.logger ?? rootLogger();
  }

  /** Live sessions (connections not yet closed). */
  get sessions(): ReadonlySet<WebSocketSession> {
    return this.#sessions;
  }

  /** Whether a new connection would be refused (capacity reached or draining). */
  get full(): boolean {
    const max = this.#options.maxSessions;
    return this.#draining || (max !== undefined && this.#sessions.size >= max);
  }

  /** Takes over an HTTP upgrade request (from your server's `upgrade` event). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      if (this.full) {
        const reason = this.#draining ? "draining" : "capacity";
        this.#logger.warn({ reason, sessions: this.#sessions.size }, "connection refused");
        this.emit("refused", reason);
        ws.close(1013, reason === "draining" ? "server draining" : "server at capacity");
        return;
      }
      const serializer = this.#options.serializer(request);
      const hangUpFor = this.#options.hangUp;
      const ref: { session?: WebSocketSession } = {};
      const hangUp: CallHangUp = {
        provider: serializer.protocol,
        hangUp: (call, signal) => {
          const h = ref.session && hangUpFor?.(call, ref.session);
          return h ? h.hangUp(call, signal) : Promise.resolve("already-ended" as const);
        },
      };
      const { input, output, startTimeoutMs } = this.#options;
      const live = new WebSocketSession(ws, serializer, {
        input,
        output,
        startTimeoutMs,
        request,
        logger: this.#logger,
        ...(hangUpFor !== undefined && { hangUp }),
      });
      ref.session = live;
      this.#sessions.add(live);
      live.once("closed", () => this.#sessions.delete(live));
      const announce = (): void => {
        try {
          this.emit("session", live);
        } catch (err) {
          // One call's setup failing never takes down the server.
          this.#logger.error(
            { err: err instanceof Error ? err.message : String(err) },
            "session setup failed",
          );
          live.close(1011, "session setup failed");
        }
      };
      if (live.call !== undefined) announce();
      else live.once("start", announce);
    });
  }

  /** Stop accepting new sessions (live ones go on): the first step of a graceful shutdown. */
  drain(): void {
    this.#draining = true;
  }

  /** Resolves when every live session has closed. */
  async idle(): Promise<void> {
    await Promise.all([...this.#sessions].map((s) => s.closed));
  }

  /**
   * Convenience: an HTTP server of its own on `port` that upgrades requests to `path`
   * (any path when omitted). Returns the bound port.
   */
  async listen(options: { port?: number; host?: string; path?: string } = {}): Promise<number> {
    const http = createServer((_req, res) => res.writeHead(426).end("WebSocket only\n"));
    http.on("upgrade", (req, socket, head) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (options.path !== undefined && path !== options.path) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
        return;
      }
      this.handleUpgrade(req, socket, head);
    });
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
    });
    this.#http = http;
    const address = http.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /** Closes every session (1001 "going away") and the server. */
  async close(): Promise<void> {
    this.#draining = true;
    for (const s of this.#sessions) s.close(1001, "server shutting down");
    await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 3000).unref())]);
    this.#wss.close();
    const http = this.#http;
    if (http) await new Promise<void>((resolve) => http.close(() => resolve()));
  }
}
