/**
 * Test helpers for code that talks to a Flux server (`@voxpipe/flux-server/testing`):
 * synthetic audio (tone and silence — fakes by design, for the scripted engine's energy
 * segmentation) and a raw WebSocket client that records every server message.
 */
import WebSocket from "ws";
import {
  FLUX_LISTEN_PATH,
  RECOMMENDED_CHUNK_MS,
  buildListenQuery,
  parseServerMessage,
  type ClientMessage,
  type FluxSettings,
  type ServerMessage,
} from "@voxpipe/flux-protocol";

/** Options of {@link tone}. */
export interface ToneOptions {
  /** Hz. Default 440. */
  frequency?: number;
  /** Peak level in dBFS. Default -12. */
  dbfs?: number;
}

/** A sine tone as linear16 (PCM s16le mono) bytes: `ms` milliseconds at `sampleRate` Hz. */
export function tone(ms: number, sampleRate: number, options: ToneOptions = {}): Buffer {
  const samples = Math.round((ms * sampleRate) / 1000);
  const amplitude = 32767 * 10 ** ((options.dbfs ?? -12) / 20);
  const frequency = options.frequency ?? 440;
  const buffer = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    buffer.writeInt16LE(
      Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate)),
      i * 2,
    );
  return buffer;
}

/** Digital silence as linear16 bytes: `ms` milliseconds at `sampleRate` Hz. */
export function silence(ms: number, sampleRate: number): Buffer {
  return Buffer.alloc(Math.round((ms * sampleRate) / 1000) * 2);
}

/** Splits audio into chunks of `ms` (default 80 ms, the recommended size) of `bytesPerSample`-byte samples. */
export function chunks(
  audio: Buffer,
  sampleRate: number,
  ms = RECOMMENDED_CHUNK_MS,
  bytesPerSample = 2,
): Buffer[] {
  const size = Math.round((sampleRate * ms) / 1000) * bytesPerSample;
  const out: Buffer[] = [];
  for (let offset = 0; offset < audio.length; offset += size)
    out.push(audio.subarray(offset, offset + size));
  return out;
}

/** How a recorded connection ended. */
export interface ClosedInfo {
  code: number;
  reason: string;
}

/** Options of {@link FluxTestClient.connect}. */
export interface FluxTestClientOptions {
  headers?: Record<string, string>;
  protocols?: string[];
}

/**
 * A raw `ws` client for `/v2/listen` that parses and records every server message.
 * Opening fails with the HTTP status of a refused handshake ({@link HandshakeRefusedError}).
 */
export class FluxTestClient {
  /** Parsed messages in arrival order. */
  readonly messages: ServerMessage[] = [];
  /** Raw text frames in arrival order. */
  readonly frames: string[] = [];
  /** Resolves when the socket closes. */
  readonly closed: Promise<ClosedInfo>;
  private waiters: {
    predicate: (m: ServerMessage) => boolean;
    resolve: (m: ServerMessage) => void;
  }[] = [];

  private constructor(
    readonly socket: WebSocket,
    /** Headers of the 101 response. */
    readonly responseHeaders: Record<string, string | string[] | undefined>,
  ) {
    this.closed = new Promise((resolve) =>
      socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on("message", (data: Buffer, isBinary) => {
      if (isBinary) return;
      const text = data.toString("utf8");
      this.frames.push(text);
      const message = parseServerMessage(text);
      this.messages.push(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.predicate(message)) return true;
        w.resolve(message);
        return false;
      });
    });
  }

  /** Connects to `${baseUrl}/v2/listen?<query>`; `query` is settings or a raw query string. */
  static connect(
    baseUrl: string,
    query: FluxSettings | string,
    options: FluxTestClientOptions = {},
  ): Promise<FluxTestClient> {
    const search = typeof query === "string" ? query : buildListenQuery(query);
    const socket = new WebSocket(
      `${baseUrl}${FLUX_LISTEN_PATH}?${search}`,
      options.protocols ?? [],
      { headers: options.headers },
    );
    return new Promise((resolve, reject) => {
      let headers: Record<string, string | string[] | undefined> = {};
      socket.once("upgrade", (response) => (headers = response.headers));
      socket.once("open", () => resolve(new FluxTestClient(socket, headers)));
      socket.once("unexpected-response", (_req, response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
        response.on("end", () => {
          reject(new HandshakeRefusedError(response.statusCode ?? 0, response.headers, body));
          socket.terminate();
        });
      });
      // Persistent: an error after the open (e.g. a dropped connection) must never go unhandled.
      socket.on("error", reject);
    });
  }

  /** Sends audio bytes as one binary message. */
  sendAudio(audio: Buffer): void {
    this.socket.send(audio);
  }

  /** Sends audio as 80 ms chunks, as fast as the socket takes them (audio time, not wall time, drives the server). */
  sendChunks(audio: Buffer, sampleRate: number, bytesPerSample = 2): void {
    for (const chunk of chunks(audio, sampleRate, RECOMMENDED_CHUNK_MS, bytesPerSample))
      this.socket.send(chunk);
  }

  /** Sends a control message (or any text, to test refusals). */
  sendText(message: ClientMessage | string): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Resolves with the first message (already received or future) that matches. */
  waitFor(predicate: (message: ServerMessage) => boolean): Promise<ServerMessage> {
    const found = this.messages.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  /** TurnInfo messages received so far with the given event. */
  events(event?: string): ServerMessage[] {
    return this.messages.filter(
      (m) => m.type === "TurnInfo" && (event === undefined || m.event === event),
    );
  }

  /** Closes from the client side and waits for the close. */
  async close(): Promise<ClosedInfo> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
    return this.closed;
  }
}

/** A handshake answered with an HTTP error instead of 101. */
export class HandshakeRefusedError extends Error {
  override readonly name = "HandshakeRefusedError";
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: string,
  ) {
    super(`handshake refused with HTTP ${status}: ${body}`);
  }

  /** The JSON body, parsed. */
  json(): Record<string, unknown> {
    return JSON.parse(this.body) as Record<string, unknown>;
  }
}
