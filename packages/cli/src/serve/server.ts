/**
 * The server behind `voxpipe serve`: one HTTP port with the telephony WebSocket routes
 * (`/twilio`, `/telnyx`, `/plivo`, `/exotel`), the browser's `/ws`, the TwiML/XML each
 * provider fetches to connect a call to its stream, the browser page at `/`, health
 * endpoints for load balancers, and graceful drain. One pipeline per call, built by the
 * caller's `pipeline` function, so the same server runs any agent.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { EndFrame, rootLogger } from "@voxpipe/core";
import type { Logger, PipelineTask } from "@voxpipe/core";
import {
  BrowserFrameSerializer,
  ExotelFrameSerializer,
  PlivoFrameSerializer,
  TelnyxFrameSerializer,
  TwilioFrameSerializer,
  WebSocketServerTransport,
} from "@voxpipe/transports";
import type { CallHangUp, CallInfo, FrameSerializer, WebSocketSession } from "@voxpipe/transports";
import { LatencyStats } from "./latency.js";

/** The WebSocket routes and their protocols. */
export const ROUTES = {
  "/twilio": "twilio",
  "/telnyx": "telnyx",
  "/plivo": "plivo",
  "/exotel": "exotel",
  "/ws": "browser",
} as const;

/** A protocol `voxpipe serve` speaks. */
export type ServeProtocol = (typeof ROUTES)[keyof typeof ROUTES];

/** What the per-call pipeline factory gets. */
export interface CallContext {
  readonly protocol: ServeProtocol;
  readonly session: WebSocketSession;
  readonly call: CallInfo;
  /** Records `EndOfTurn → first outbound audio` for this call (see {@link LatencyStats}). */
  readonly latency: LatencyStats;
}

/** Options of {@link startVoxpipeServer}. */
export interface VoxpipeServerOptions {
  /** Port (0: a free one). Default 8080. */
  readonly port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /**
   * Public base URL the providers reach this server at (e.g. `https://agent.example.com`);
   * the TwiML/XML stream URLs use its `wss://` form. Default: from each request
   * (`X-Forwarded-Proto`/`X-Forwarded-Host` behind a proxy, else `Host`).
   */
  readonly publicUrl?: string | undefined;
  /** Most calls at once (all routes); the next is refused (1013, or a busy TwiML/XML). Default unlimited. */
  readonly maxCalls?: number | undefined;
  /** Pass telephony μ-law straight to the STT (no decode/resample). Default true. */
  readonly passthrough?: boolean;
  /** Builds and returns the (not yet running) task for one call. Throwing refuses that call only. */
  readonly pipeline: (context: CallContext) => PipelineTask | Promise<PipelineTask>;
  /** The REST hang-up for a protocol's calls, if credentials are configured. */
  readonly hangUp?: (protocol: ServeProtocol, call: CallInfo) => CallHangUp | undefined;
  /** Logger. Default voxpipe's root logger. */
  readonly logger?: Logger | undefined;
}

/** A running server. */
export interface VoxpipeServer {
  /** `http://HOST:PORT`. */
  readonly url: string;
  readonly port: number;
  /** Live calls. */
  readonly calls: number;
  /** Latency of every call so far. */
  readonly latency: LatencyStats;
  /**
   * Graceful shutdown: stop accepting calls (health turns 503 so load balancers move on),
   * wait up to `timeoutMs` for live calls to end, then end the rest gracefully (their
   * pipelines flush and hang up), and close. Resolves with the number of calls ended by force.
   */
  drain(timeoutMs: number): Promise<number>;
  /** Closes at once (calls get 1001). */
  close(): Promise<void>;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/mic-worklet.js": { file: "mic-worklet.js", type: "text/javascript; charset=utf-8" },
};

function serializerFor(protocol: ServeProtocol): FrameSerializer {
  switch (protocol) {
    case "twilio":
      return new TwilioFrameSerializer();
    case "telnyx":
      return new TelnyxFrameSerializer();
    case "plivo":
      return new PlivoFrameSerializer();
    case "exotel":
      return new ExotelFrameSerializer();
    case "browser":
      return new BrowserFrameSerializer();
  }
}

function protocolOf(req: IncomingMessage): ServeProtocol | undefined {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  return (ROUTES as Record<string, ServeProtocol | undefined>)[path];
}

/** XML-escapes an attribute value or text. */
function xml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
}

/**
 * The document each provider fetches when a call comes in, connecting it to our stream —
 * or refusing it as busy when the server is full or draining:
 * Twilio TwiML `<Connect><Stream>` (bidirectional) / `<Reject reason="busy"/>`;
 * Telnyx TeXML `<Connect><Stream bidirectionalMode="rtp">` / `<Reject reason="busy"/>`;
 * Plivo XML `<Stream bidirectional="true" keepCallAlive="true">` / `<Hangup reason="busy"/>`;
 * Exotel's Voicebot applet fetches `{"url":"wss://…"}` (busy: HTTP 503).
 */
export function connectDocument(
  protocol: Exclude<ServeProtocol, "browser">,
  streamUrl: string,
  full: boolean,
): { type: string; body: string; status: number } {
  const xmlDoc = (inner: string) => ({
    type: "text/xml; charset=utf-8",
    status: 200,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response>${inner}</Response>\n`,
  });
  const url = xml(streamUrl);
  switch (protocol) {
    case "twilio":
      return xmlDoc(full ? `<Reject reason="busy"/>` : `<Connect><Stream url="${url}"/></Connect>`);
    case "telnyx":
      return xmlDoc(
        full
          ? `<Reject reason="busy"/>`
          : `<Connect><Stream url="${url}" bidirectionalMode="rtp"/></Connect>`,
      );
    case "plivo":
      return xmlDoc(
        full
          ? `<Hangup reason="busy"/>`
          : `<Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000">${url}</Stream>`,
      );
    case "exotel":
      return full
        ? { type: "application/json", status: 503, body: '{"error":"busy"}' }
        : { type: "application/json", status: 200, body: JSON.stringify({ url: streamUrl }) };
  }
}

/** Starts the server. @throws when the port cannot be bound (the error names it). */
export async function startVoxpipeServer(options: VoxpipeServerOptions): Promise<VoxpipeServer> {
  const logger = options.logger ?? rootLogger();
  const latency = new LatencyStats();
  const tasks = new Map<WebSocketSession, PipelineTask>();
  const runs = new Set<Promise<unknown>>();
  let draining = false;
  const passthrough = options.passthrough ?? true;
  // How late the event loop runs (every call shares it): above a few ms, calls queue behind
  // each other and their replies are late. Reported on /stats.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const transport = new WebSocketServerTransport({
    serializer: (req) => serializerFor(protocolOf(req) ?? "browser"),
    maxSessions: options.maxCalls,
    input: { passthrough },
    logger,
    hangUp: options.hangUp
      ? (call, session) => options.hangUp?.(session.serializer.protocol as ServeProtocol, call)
      : undefined,
  });

  transport.on("session", (session) => {
    const call = session.call;
    if (call === undefined) return;
    const protocol = session.serializer.protocol as ServeProtocol;
    const run = (async () => {
      let task: PipelineTask;
      try {
        task = await options.pipeline({ protocol, session, call, latency });
      } catch (err) {
        logger.error(
          { protocol, err: err instanceof Error ? err.message : String(err) },
          "could not build the call's pipeline: call refused",
        );
        session.close(1011, "agent unavailable");
        return;
      }
      tasks.set(session, task);
      // A peer that vanished without `stop` still ends the run: the input ends the stream,
      // and a pipeline that does not finish soon after is cancelled.
      session.once("closed", () => {
        setTimeout(() => {
          if (tasks.has(session)) void task.cancel("socket closed");
        }, 5000).unref();
      });
      try {
        const result = await task.run();
        logger.info({ protocol, streamId: call.streamId, reason: result.reason }, "call ended");
      } catch (err) {
        logger.error(
          { protocol, err: err instanceof Error ? err.message : String(err) },
          "call failed",
        );
      } finally {
        tasks.delete(session);
        session.close(1000, "call ended");
      }
    })();
    runs.add(run);
    void run.finally(() => runs.delete(run));
  });

  const publicBase = (req: IncomingMessage): string => {
    if (options.publicUrl !== undefined) return options.publicUrl.replace(/\/$/, "");
    // Behind a proxy or load balancer: the client-facing scheme and host it forwards.
    const first = (h: string | string[] | undefined): string | undefined =>
      h === undefined ? undefined : String(h).split(",")[0].trim();
    const proto = first(req.headers["x-forwarded-proto"]) ?? "http";
    const host = first(req.headers["x-forwarded-host"]) ?? req.headers.host ?? "localhost";
    return `${proto}://${host}`;
  };

  const http: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, "request failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const method = req.method ?? "GET";
    if (path === "/livez") return void res.writeHead(200).end("ok\n");
    if (path === "/healthz") {
      // Readiness: 503 while draining or full, so a load balancer sends calls elsewhere.
      const ready = !draining && !transport.full;
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          status: draining ? "draining" : ready ? "ok" : "full",
          calls: transport.sessions.size,
          maxCalls: options.maxCalls ?? null,
        }),
      );
      return;
    }
    if (path === "/stats" && method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
      res.end(
        JSON.stringify({
          calls: transport.sessions.size,
          latency: latency.summary(),
          eventLoopDelayMs: {
            p50: ms(loopDelay.percentile(50)),
            p99: ms(loopDelay.percentile(99)),
            max: ms(loopDelay.max),
          },
        }),
      );
      return;
    }
    const connect = /^\/(twilio|telnyx|plivo|exotel)\/(twiml|texml|xml|url)$/.exec(path);
    if (connect && (method === "GET" || method === "POST")) {
      const protocol = connect[1] as Exclude<ServeProtocol, "browser">;
      const stream = `${publicBase(req).replace(/^http/, "ws")}/${protocol}`;
      const doc = connectDocument(protocol, stream, draining || transport.full);
      res.writeHead(doc.status, { "content-type": doc.type }).end(doc.body);
      return;
    }
    const asset = ASSETS[path];
    if (asset && method === "GET") {
      const body = await readFile(new URL(`../../assets/${asset.file}`, import.meta.url));
      res.writeHead(200, { "content-type": asset.type, "cache-control": "no-cache" }).end(body);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  }

  http.on("upgrade", (req, socket, head) => {
    if (protocolOf(req) === undefined) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    transport.handleUpgrade(req, socket, head);
  });

  const port = options.port ?? 8080;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    http.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot listen on ${host}:${port}: ${err.code === "EADDRINUSE" ? "the port is in use (choose another with --port)" : err.message}`,
          { cause: err },
        ),
      ),
    );
    http.listen(port, host, resolve);
  });
  const address = http.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;

  async function closeHttp(): Promise<void> {
    loopDelay.disable();
    await transport.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  return {
    url: `http://${host}:${bound}`,
    port: bound,
    get calls() {
      return transport.sessions.size;
    },
    latency,
    async drain(timeoutMs: number): Promise<number> {
      draining = true;
      transport.drain();
      logger.info({ calls: transport.sessions.size }, "draining: waiting for live calls to end");
      await Promise.race([transport.idle(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      const left = [...tasks.values()];
      // End the rest gracefully: each pipeline flushes, hangs up through the provider, closes.
      for (const task of left) task.queueFrame(new EndFrame({ reason: "server draining" }));
      await Promise.race([Promise.all([...runs]), new Promise((r) => setTimeout(r, 5000).unref())]);
      for (const task of tasks.values()) void task.cancel("server draining");
      await closeHttp();
      return left.length;
    },
    async close(): Promise<void> {
      draining = true;
      for (const task of tasks.values()) void task.cancel("server closing");
      await closeHttp();
    },
  };
}
