import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
// Namespace import: `.default` names the interface under NodeNext and Bundler alike (TS2702).
import type * as TypedEmitter from "typed-emitter";
import type { RawData, WebSocket } from "ws";
import { rootLogger } from "@voxpipe/core";
import type { Logger } from "@voxpipe/core";
import type { CallHangUp } from "./hangup.js";
import type { CallInfo, FrameSerializer, WireMessage } from "./serializer.js";
import { WebSocketInputTransport } from "./ws-input.js";
import type { WebSocketInputOptions } from "./ws-input.js";
import { WebSocketOutputTransport } from "./ws-output.js";
import type { WebSocketOutputOptions } from "./ws-output.js";

/** Options of a {@link WebSocketSession} (shared by the server and client transports). */
export interface WebSocketSessionOptions {
  /** Input transport options (passthrough, pacing, frame size). */
  readonly input?: WebSocketInputOptions | undefined;
  /** Output transport options (marks, lead, chunk size). */
  readonly output?: WebSocketOutputOptions | undefined;
  /** Hangs the call up through the provider's REST API when the pipeline ends it. */
  readonly hangUp?: CallHangUp | undefined;
  /** How long to wait for the protocol's `start`, ms; then the socket is closed (1008). Default 10000. */
  readonly startTimeoutMs?: number | undefined;
  /** Logger (default: voxpipe's root logger). */
  readonly logger?: Logger | undefined;
}

/** Events of a {@link WebSocketSession}. */
export type WebSocketSessionEvents = {
  /** The protocol's `start` arrived: `call` is known, `input`/`output` exist. */
  start: (call: CallInfo) => void;
  /** The socket closed (either side). `byPeer`: the far end ended it (hang-up, `stop`). */
  closed: (info: { code: number; reason: string; byPeer: boolean }) => void;
};

/** Bytes of a ws message. */
function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0);
  return data.byteLength;
}

function toWire(data: RawData, isBinary: boolean): WireMessage {
  const buf = Array.isArray(data)
    ? Buffer.concat(data)
    : data instanceof ArrayBuffer
      ? Buffer.from(data)
      : data;
  return isBinary
    ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    : buf.toString("utf8");
}

/**
 * One call (or browser session) on one WebSocket: the socket, its serializer, and the two
 * processors a pipeline puts at its ends — {@link input} first, {@link output} after the TTS
 * (before the assistant aggregator). Bad messages are logged and ignored; an oversized message
 * closes this call alone (1009); a missing `start` closes it after `startTimeoutMs` (1008).
 */
export class WebSocketSession extends (EventEmitter as new () => TypedEmitter.default<WebSocketSessionEvents>) {
  readonly serializer: FrameSerializer;
  readonly logger: Logger;
  /** The HTTP upgrade request (server side), for headers and the query string. */
  readonly request: IncomingMessage | undefined;
  readonly #socket: WebSocket;
  readonly #options: WebSocketSessionOptions;
  #call: CallInfo | undefined;
  #input: WebSocketInputTransport | undefined;
  #output: WebSocketOutputTransport | undefined;
  #stopped = false;
  #closing = false;
  #startTimer: ReturnType<typeof setTimeout> | undefined;
  #ignored = 0;
  #drainWaiters: { readonly bytes: number; readonly resolve: () => void }[] = [];
  /** ws calls it when a sent message has been handed to the network. */
  readonly #onSent = (): void => this.#checkDrained();
  /** Resolves when the socket is closed. */
  readonly closed: Promise<void>;

  constructor(
    socket: WebSocket,
    serializer: FrameSerializer,
    options: WebSocketSessionOptions & { request?: IncomingMessage; call?: CallInfo } = {},
  ) {
    super();
    this.#socket = socket;
    this.serializer = serializer;
    this.#options = options;
    this.request = options.request;
    this.logger = (options.logger ?? rootLogger()).child({ protocol: serializer.protocol });
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on("error", (err) => this.logger.warn({ err: err.message }, "websocket error"));
    socket.on("close", (code, reason) => {
      clearTimeout(this.#startTimer);
      const byPeer = !this.#closing;
      if (byPeer) this.#stopped = true;
      this.#input?.endOfStream();
      this.#output?.peerGone();
      this.#checkDrained();
      this.emit("closed", { code, reason: reason.toString(), byPeer });
    });
    if (options.call !== undefined) {
      this.#begin(options.call);
    } else if (serializer.expectsStart) {
      this.#startTimer = setTimeout(
        () => this.close(1008, "no start message"),
        options.startTimeoutMs ?? 10_000,
      );
      this.#startTimer.unref();
    }
  }

  /** The call, once started. */
  get call(): CallInfo | undefined {
    return this.#call;
  }

  /** The input transport (first in the pipeline). Available once the session started. */
  get input(): WebSocketInputTransport {
    if (this.#input === undefined) throw new Error("WebSocketSession: input before start");
    return this.#input;
  }

  /** The output transport (after the TTS). Available once the session started. */
  get output(): WebSocketOutputTransport {
    if (this.#output === undefined) throw new Error("WebSocketSession: output before start");
    return this.#output;
  }

  /** Whether the socket is open. */
  get open(): boolean {
    return this.#socket.readyState === this.#socket.OPEN;
  }

  /** Bytes queued on the socket and not yet sent. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /** Sends a message if the socket is open (a closed call drops it: nobody is listening). */
  send(message: WireMessage): void {
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(message, { binary: typeof message !== "string" }, this.#onSent);
  }

  /** Resolves once {@link bufferedAmount} is at most `bytes`, or the socket is closed. */
  whenDrained(bytes: number): Promise<void> {
    if (!this.open || this.bufferedAmount <= bytes) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push({ bytes, resolve }));
  }

  #checkDrained(): void {
    if (this.#drainWaiters.length === 0) return;
    const open = this.open;
    const buffered = this.bufferedAmount;
    this.#drainWaiters = this.#drainWaiters.filter((w) => {
      if (open && buffered > w.bytes) return true;
      w.resolve();
      return false;
    });
  }

  /** A serializer event for the client (the browser page's turn view); no-op for telephony. */
  sendEvent(event: object): void {
    const message = this.serializer.serializeEvent?.(event);
    if (message !== undefined) this.send(message);
  }

  /** Closes the socket (1000 by default). */
  close(code = 1000, reason = ""): void {
    if (this.#closing) return;
    this.#closing = true;
    if (
      this.#socket.readyState === this.#socket.OPEN ||
      this.#socket.readyState === this.#socket.CONNECTING
    )
      this.#socket.close(code, reason);
    // A peer that never answers the close handshake must not keep the call alive.
    setTimeout(() => this.#socket.terminate(), 2000).unref();
  }

  #begin(call: CallInfo): void {
    const socket = this.#socket;
    clearTimeout(this.#startTimer);
    this.#call = call;
    this.#input = new WebSocketInputTransport(call.inputFormat, {
      name: `${this.serializer.protocol}-input`,
      ...this.#options.input,
    });
    this.#output = new WebSocketOutputTransport(
      this.serializer,
      {
        send: (m) => this.send(m),
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        whenDrained: (bytes) => this.whenDrained(bytes),
        finish: (reason) => this.#finish(reason),
      },
      { name: `${this.serializer.protocol}-output`, ...this.#options.output },
    );
    this.logger.info({ streamId: call.streamId, format: call.inputFormat }, "call started");
    this.emit("start", call);
  }

  /** The pipeline is done with the call: hang up (if it ended it), then close. */
  async #finish(reason: "end" | "cancel"): Promise<void> {
    const hangUp = this.#options.hangUp;
    const call = this.#call;
    if (reason === "end" && hangUp !== undefined && call !== undefined && !this.#stopped) {
      try {
        const result = await hangUp.hangUp(call);
        this.logger.info({ provider: hangUp.provider, result }, "call hung up");
      } catch (err) {
        this.logger.error(
          { err: err instanceof Error ? err.message : String(err) },
          "hang-up failed",
        );
      }
    }
    this.close(1000, reason === "end" ? "call ended" : "call cancelled");
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (byteLength(data) > this.serializer.maxMessageBytes) {
      this.logger.warn(
        { bytes: byteLength(data), max: this.serializer.maxMessageBytes },
        "message too large: closing this call",
      );
      this.close(1009, "message too large");
      return;
    }
    const message = this.serializer.deserialize(toWire(data, isBinary));
    switch (message.type) {
      case "connected":
        return;
      case "start":
        if (this.#call !== undefined) return this.#ignore("second start", true);
        this.#begin(message.call);
        return;
      case "audio":
        if (this.#input === undefined) return this.#ignore("media before start", true);
        if (message.streamId !== undefined && message.streamId !== this.#call?.streamId)
          return this.#ignore("media for another stream", true);
        this.#input.enqueueAudio(message.audio);
        return;
      case "dtmf":
        if (message.streamId !== undefined && message.streamId !== this.#call?.streamId)
          return this.#ignore("dtmf for another stream", true);
        this.#input?.pushDtmf(message.button);
        return;
      case "mark":
        this.#output?.markPlayed(message.name);
        return;
      case "stop":
        this.#stopped = true;
        this.logger.info("stream stopped by the provider");
        this.#input?.endOfStream();
        return;
      case "ignored":
        return this.#ignore(message.reason, message.error === true);
    }
  }

  #ignore(reason: string, error: boolean): void {
    this.#ignored++;
    // Logged, never fatal; a flood is logged once per 100 so logs stay readable.
    if (error && (this.#ignored <= 10 || this.#ignored % 100 === 0))
      this.logger.warn({ reason, ignored: this.#ignored }, "message ignored");
    else this.logger.debug({ reason }, "message ignored");
  }
}
