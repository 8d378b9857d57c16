/**
 * The local Flux-compatible `/v2/listen` server: an `http` server whose upgrade handler
 * validates the handshake (so refusals are real HTTP answers with JSON bodies and
 * `dg-request-id`/`dg-error` headers) and hands accepted sockets to `ws` (`noServer`).
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, STATUS_CODES, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { rootLogger, type Logger } from "@voxpipe/core";
// A namespace import names typed-emitter's interface as `.default` under both NodeNext
// (the package is CommonJS-typed) and Bundler resolution; a default import would need
// `.default` under NodeNext only (TS2702 for Bundler consumers).
import type * as TypedEmitter from "typed-emitter";
import { WebSocketServer } from "ws";
import {
  FLUX_LISTEN_PATH,
  parseListenQuery,
  initialActiveConfiguration,
} from "@voxpipe/flux-protocol";
import { SUPPORTED_ENCODINGS, isSupportedEncoding } from "./audio.js";
import type { TurnEngine, TurnEngineFactory } from "./engine.js";
import { loadEngine } from "./engines/index.js";
import { refusalBody, type HandshakeInfo, type SessionPlan } from "./faults.js";
import { FluxSession, type SessionEnd } from "./session.js";

/**
 * Options of {@link startFluxServer}. Flat and JSON-friendly so a CLI can map flags onto
 * them (`--port`, `--host`, `--engine`, `--api-key`, `--idle-timeout-ms`, `--max-sessions`).
 */
export interface FluxServerOptions {
  /** TCP port; 0 (default) lets the OS choose. The CLI's default is 8787. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1` (local use). */
  host?: string;
  /** A registered engine name (`"scripted"`, `"local"` once registered) or a factory. Default `"scripted"`. */
  engine?: string | TurnEngineFactory;
  /** Options for a named engine's provider (e.g. the scripted engine's `transcripts`). */
  engineOptions?: Readonly<Record<string, unknown>>;
  /**
   * When set, clients must authenticate with `Authorization: Token <apiKey>` or the
   * `token, <apiKey>` subprotocol pair (reference §1.2); anything else gets 401. Default:
   * auth off (local use).
   */
  apiKey?: string;
  /** When set, `Authorization: Bearer <accessToken>` (or `bearer, <token>`) is also accepted. */
  accessToken?: string;
  /**
   * Close a session after this many ms without audio, text or ping from the client and
   * without the engine working through queued audio. Default 60000 (SK: "60-second timeout").
   */
  idleTimeoutMs?: number;
  /** Refuse upgrades beyond this many concurrent sessions with 429 (reference §1.5). Default: unlimited. */
  maxSessions?: number;
  /** pino logger; sessions log through children with their `requestId`. Default: voxpipe's root logger (warnings and errors, stderr; `@voxpipe/core` `setRootLogger`). */
  logger?: Logger;
  /** Per-connection test hook: faults and engine options for the session, decided at the handshake. */
  sessionPlan?: (info: HandshakeInfo) => SessionPlan | undefined;
}

/** Totals across all sessions of a server. */
export interface ServerCounters {
  /** Sessions accepted (101 sent). */
  sessions: number;
  /** Upgrades refused (4xx/5xx). */
  refused: number;
  /** Seconds of audio received by ended sessions plus live ones. */
  audioSeconds: number;
  messagesSent: number;
  turns: number;
}

/** Events of a {@link FluxServer}. */
export type FluxServerEvents = {
  /** A session was accepted (after the 101, before `Connected` is sent). */
  session: (session: FluxSession) => void;
  /** A session ended and its engine was released. */
  sessionEnded: (session: FluxSession, end: SessionEnd) => void;
};

/** A running server. */
export interface FluxServer {
  /** Base URL for clients, e.g. `ws://127.0.0.1:8787` (append `/v2/listen?…`). */
  readonly url: string;
  readonly port: number;
  /** Live sessions by `request_id`. */
  readonly sessions: ReadonlyMap<string, FluxSession>;
  /** `session` / `sessionEnded` events. */
  readonly events: TypedEmitter.default<FluxServerEvents>;
  /** Totals so far. */
  counters(): ServerCounters;
  /** Stops accepting, closes live sessions (close code 1001), releases the engine. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** How long `close()` waits for clients to finish their close handshakes (ms). */
const SHUTDOWN_GRACE_MS = 2000;

/**
 * Starts a Flux-compatible server.
 * @throws Error when the engine name is unknown or its options are invalid, or when the port cannot be bound.
 */
export async function startFluxServer(options: FluxServerOptions = {}): Promise<FluxServer> {
  const engine = options.engine ?? "scripted";
  const factory =
    typeof engine === "string" ? await loadEngine(engine, options.engineOptions) : engine;
  const logger = options.logger ?? rootLogger().child({ component: "flux-server" });
  const instance = new FluxServerInstance(options, factory, logger.child({ engine: factory.name }));
  try {
    await instance.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  } catch (error) {
    await factory.close?.();
    throw error;
  }
  return instance;
}

class FluxServerInstance implements FluxServer {
  readonly events = new EventEmitter() as TypedEmitter.default<FluxServerEvents>;
  readonly sessions = new Map<string, FluxSession>();
  private readonly http = createServer((req, res) => {
    // Plain HTTP: /v2/listen needs an upgrade.
    const status =
      new URL(req.url ?? "/", "http://localhost").pathname === FLUX_LISTEN_PATH ? 426 : 404;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        code: status === 426 ? "UPGRADE_REQUIRED" : "NOT_FOUND",
        description: `use a WebSocket upgrade on ${FLUX_LISTEN_PATH}`,
      }),
    );
  });
  private readonly wss: WebSocketServer;
  private readonly handshakes = new Set<Promise<void>>();
  private readonly requestIds = new WeakMap<IncomingMessage, string>();
  private readonly totals = { sessions: 0, refused: 0, audioSeconds: 0, messagesSent: 0, turns: 0 };
  private upgrades = 0;
  private closing: Promise<void> | undefined;
  url = "";
  port = 0;

  constructor(
    private readonly options: FluxServerOptions,
    private readonly factory: TurnEngineFactory,
    private readonly logger: Logger,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      // Echo the first offered subprotocol (`token`/`bearer`, never the key that follows it):
      // browsers and `ws` clients fail a handshake that selects none (reference §1.2).
      handleProtocols: (protocols) => [...protocols][0] ?? false,
    });
    this.wss.on("headers", (headers, req) => {
      const id = this.requestIds.get(req);
      if (id !== undefined) headers.push(`dg-request-id: ${id}`);
    });
    this.http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      const handshake = this.upgrade(req, socket, head).catch((error: unknown) => {
        this.logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          "upgrade failed",
        );
        socket.destroy();
      });
      this.handshakes.add(handshake);
      void handshake.finally(() => this.handshakes.delete(handshake));
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => {
        this.http.off("error", reject);
        const address = this.http.address() as AddressInfo;
        this.port = address.port;
        this.url = `ws://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
        this.logger.info({ url: this.url }, "flux server listening");
        resolve();
      });
    });
  }

  counters(): ServerCounters {
    const live = { audioSeconds: 0, messagesSent: 0, turns: 0 };
    for (const session of this.sessions.values()) {
      live.audioSeconds += session.counters.audioSeconds;
      live.messagesSent += session.counters.messagesSent;
      live.turns += session.counters.turns;
    }
    return {
      sessions: this.totals.sessions,
      refused: this.totals.refused,
      audioSeconds: this.totals.audioSeconds + live.audioSeconds,
      messagesSent: this.totals.messagesSent + live.messagesSent,
      turns: this.totals.turns + live.turns,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    await Promise.allSettled([...this.handshakes]);
    const sessions = [...this.sessions.values()];
    for (const session of sessions) session.shutdown();
    const allEnded = Promise.all(sessions.map((session) => session.ended));
    // A client that never answers the close frame must not hold the shutdown.
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<"timeout">(
      (resolve) => (timer = setTimeout(() => resolve("timeout"), SHUTDOWN_GRACE_MS)),
    );
    if ((await Promise.race([allEnded, grace])) === "timeout")
      for (const session of sessions) session.terminate();
    clearTimeout(timer);
    await allEnded;
    this.wss.close();
    this.http.closeAllConnections();
    await httpClosed;
    await this.factory.close?.();
    this.logger.info(this.counters(), "flux server closed");
  }

  /** Validates one upgrade request and either refuses it or starts a session. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const index = this.upgrades++;
    const requestId = randomUUID();
    const refuse = (status: number, message?: string, body?: Record<string, string>): void => {
      this.totals.refused += 1;
      const answer = refusalBody(status, requestId, message);
      this.logger.info({ requestId, status, error: answer.message }, "handshake refused");
      writeRefusal(socket, status, requestId, answer.message, body ?? answer.body);
    };
    if (this.closing !== undefined) return refuse(503, "Server is shutting down.");
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== FLUX_LISTEN_PATH)
      return refuse(404, `Unknown path ${url.pathname}: use ${FLUX_LISTEN_PATH}.`);
    const parsed = parseListenQuery(url.searchParams);
    const plan =
      this.options.sessionPlan?.({
        index,
        requestId,
        headers: req.headers,
        settings: parsed.ok ? parsed.settings : undefined,
      }) ?? {};
    const faults = plan.faults ?? {};
    if (faults.refuseHandshake !== undefined)
      return refuse(faults.refuseHandshake.status, faults.refuseHandshake.message);
    if (!this.authorized(req)) return refuse(401);
    if (
      this.options.maxSessions !== undefined &&
      this.sessions.size + this.handshakes.size >= this.options.maxSessions
    )
      return refuse(429);
    if (!parsed.ok) {
      const first = parsed.issues[0];
      const description = parsed.issues.map((i) => i.message).join("; ");
      // Body shape for v2 400s is UNKNOWN (reference §1.5); we use D-lang's {code, description}.
      return refuse(400, description, {
        code: first?.code ?? "INVALID_PARAMETER",
        description,
        request_id: requestId,
      });
    }
    const settings = parsed.settings;
    const { encoding, sampleRate } = settings;
    if (!isSupportedEncoding(encoding) || sampleRate === undefined) {
      const description =
        encoding === undefined
          ? `containerized audio (no encoding) is not supported by this local server: set encoding to one of ${SUPPORTED_ENCODINGS.join(", ")} and sample_rate`
          : `encoding=${JSON.stringify(encoding)} is not supported by this local server: allowed ${SUPPORTED_ENCODINGS.join(", ")}`;
      return refuse(400, description, {
        code: "INVALID_PARAMETER",
        description,
        request_id: requestId,
      });
    }

    const sessionLogger = this.logger.child({ requestId });
    const configuration = initialActiveConfiguration(settings);
    let engine: TurnEngine;
    try {
      engine = await this.factory.createSession({
        requestId,
        model: settings.model,
        sampleRate,
        configuration: {
          keyterms: configuration.keyterms,
          languageHints: configuration.languageHints,
          numerals: configuration.numerals,
        },
        options: plan.engineOptions ?? {},
        logger: sessionLogger,
        serverOverloaded: [...this.sessions.values()].some((session) => session.behind),
      });
    } catch (error) {
      this.logger.error(
        { requestId, err: error instanceof Error ? error.message : String(error) },
        "engine could not start a session",
      );
      return refuse(500, "The speech engine could not start a session.");
    }
    if (socket.destroyed || this.closing !== undefined) {
      await engine.close();
      if (!socket.destroyed) refuse(503, "Server is shutting down.");
      return;
    }
    this.requestIds.set(req, requestId);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new FluxSession(ws, {
        requestId,
        settings: { ...settings, encoding, sampleRate },
        engine,
        engineName: this.factory.name,
        faults,
        idleTimeoutMs: this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
        logger: sessionLogger,
      });
      this.totals.sessions += 1;
      this.sessions.set(requestId, session);
      void session.ended.then((end) => {
        this.sessions.delete(requestId);
        this.totals.audioSeconds += end.counters.audioSeconds;
        this.totals.messagesSent += end.counters.messagesSent;
        this.totals.turns += end.counters.turns;
        this.events.emit("sessionEnded", session, end);
      });
      this.events.emit("session", session);
      session.start();
    });
  }

  /** Auth per reference §1.2: `Token <key>`, `Bearer <token>` (access token only), or the subprotocol pair. */
  private authorized(req: IncomingMessage): boolean {
    const { apiKey, accessToken } = this.options;
    if (apiKey === undefined && accessToken === undefined) return true;
    let scheme: string | undefined;
    let credential: string | undefined;
    const header = req.headers.authorization;
    if (header !== undefined) {
      const space = header.indexOf(" ");
      scheme = header.slice(0, Math.max(space, 0)).toLowerCase();
      credential = header.slice(space + 1).trim();
    } else {
      const protocols = (req.headers["sec-websocket-protocol"] ?? "")
        .split(",")
        .map((p) => p.trim());
      scheme = protocols[0]?.toLowerCase();
      credential = protocols[1];
    }
    if (credential === undefined) return false;
    // A Bearer API key is a 401: API keys must use Token (SK).
    if (scheme === "token") return apiKey !== undefined && safeEqual(credential, apiKey);
    if (scheme === "bearer") return accessToken !== undefined && safeEqual(credential, accessToken);
    return false;
  }
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Writes a complete HTTP refusal on the raw upgrade socket and closes it. */
function writeRefusal(
  socket: Duplex,
  status: number,
  requestId: string,
  message: string,
  body: Record<string, string>,
): void {
  if (socket.destroyed) return;
  const payload = JSON.stringify(body);
  // Header values must be one latin1 line.
  const dgError = message.replace(/[^\x20-\x7e]/g, "?");
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(payload)}\r\n` +
      `dg-request-id: ${requestId}\r\n` +
      `dg-error: ${dgError}\r\n` +
      "Connection: close\r\n\r\n" +
      payload,
  );
}
