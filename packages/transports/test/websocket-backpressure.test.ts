/**
 * WebSocket output backpressure: a far end that reads slower than audio is sent holds the
 * reply up at `maxBufferedBytes` of the socket's send buffer instead of growing it without
 * bound; the session's `whenDrained` follows a real socket's buffer.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { EndFrame, InterruptionFrame, Pipeline, PipelineTask, TTSSpeakFrame } from "@voxpipe/core";
import { ScriptedTTSService } from "@voxpipe/core/testing";
import {
  BrowserFrameSerializer,
  DEFAULT_MAX_BUFFERED_BYTES,
  WebSocketOutputTransport,
  WebSocketServerTransport,
} from "../src/index.js";
import type { OutputSink, WebSocketSession, WireMessage } from "../src/index.js";

/**
 * A far end that reads only when told to: what was sent and not read is the socket's
 * `bufferedAmount`, as `ws` reports it for a peer that stopped reading.
 */
class SlowFarEnd implements OutputSink {
  readonly sent: Uint8Array[] = [];
  peakBuffered = 0;
  #unread = 0;
  #waiters: { bytes: number; resolve: () => void }[] = [];
  get bufferedAmount(): number {
    return this.#unread;
  }
  send(message: WireMessage): void {
    if (typeof message === "string") return; // clear / marks: tiny, not audio
    this.sent.push(message);
    this.#unread += message.byteLength;
    this.peakBuffered = Math.max(this.peakBuffered, this.#unread);
  }
  /** The far end reads `bytes` (all by default). */
  read(bytes = Infinity): void {
    this.#unread = Math.max(0, this.#unread - bytes);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#unread > w.bytes) return true;
      w.resolve();
      return false;
    });
  }
  whenDrained(bytes: number): Promise<void> {
    if (this.#unread <= bytes) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ bytes, resolve }));
  }
  finish(): Promise<void> {
    return Promise.resolve();
  }
}

/** TTS at the wire's 16 kHz (no resampling): `seconds` of tone per sentence, 20 ms chunks. */
function start(farEnd: SlowFarEnd, maxBufferedBytes: number, seconds: number) {
  const output = new WebSocketOutputTransport(new BrowserFrameSerializer(), farEnd, {
    realtime: false, // as fast as the socket takes it: only backpressure holds it
    maxBufferedBytes,
    marks: false,
  });
  const tts = new ScriptedTTSService({ chunksPerSentence: seconds * 50, chunkMs: 20 });
  const task = new PipelineTask(new Pipeline([tts, output]), {
    audioOutSampleRate: 16000,
    idleTimeoutMs: null,
  });
  return { task, run: task.run() };
}

const CHUNK = 640; // 20 ms of 16 kHz PCM

describe("WebSocketOutputTransport backpressure", () => {
  it("stops sending at maxBufferedBytes of unread audio and goes on as the far end reads", async () => {
    const farEnd = new SlowFarEnd();
    const { task, run } = start(farEnd, 4096, 2);
    task.queueFrame(new TTSSpeakFrame({ text: "A long reply." }));
    await sleep(300);
    // Without backpressure all 2 s (64 000 bytes) would be in the buffer by now.
    expect(farEnd.bufferedAmount).toBeGreaterThan(4096 - CHUNK);
    expect(farEnd.peakBuffered).toBeLessThanOrEqual(4096 + CHUNK);
    const sentWhileStalled = farEnd.sent.length;
    await sleep(200);
    expect(farEnd.sent.length).toBe(sentWhileStalled); // nothing more until it reads
    // The far end reads slowly: the reply goes on, never above the bound, and all of it arrives.
    while (farEnd.sent.length < 100) {
      farEnd.read(2 * CHUNK);
      await sleep(1);
    }
    expect(farEnd.peakBuffered).toBeLessThanOrEqual(4096 + CHUNK);
    farEnd.read();
    task.queueFrame(new EndFrame());
    expect((await run).reason).toBe("end");
    expect(farEnd.sent.reduce((n, m) => n + m.byteLength, 0)).toBe(2 * 16000 * 2);
  });

  it("an interruption ends the wait for a far end that never reads", async () => {
    const farEnd = new SlowFarEnd();
    const { task, run } = start(farEnd, 2048, 2);
    task.queueFrame(new TTSSpeakFrame({ text: "A reply nobody reads." }));
    await sleep(200);
    const stalledAt = farEnd.sent.length;
    expect(stalledAt).toBeLessThan(10);
    task.queueFrame(new InterruptionFrame());
    task.queueFrame(new EndFrame());
    expect((await run).reason).toBe("end");
    expect(farEnd.sent.length).toBe(stalledAt); // the rest of the reply was dropped
  });

  it("refuses a bound below 1024 bytes; defaults to 64 KiB", () => {
    expect(
      () =>
        new WebSocketOutputTransport(new BrowserFrameSerializer(), new SlowFarEnd(), {
          maxBufferedBytes: 10,
        }),
    ).toThrow(/maxBufferedBytes must be an integer of bytes, at least 1024, got 10/);
    expect(DEFAULT_MAX_BUFFERED_BYTES).toBe(65536);
  });
});

describe("WebSocketSession.whenDrained on a real socket", () => {
  let server: WebSocketServerTransport | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it("resolves once a peer that stopped reading reads again", async () => {
    server = new WebSocketServerTransport({ serializer: () => new BrowserFrameSerializer() });
    const sessions: WebSocketSession[] = [];
    server.on("session", (s) => sessions.push(s));
    const port = await server.listen({ path: "/ws" });
    const client = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((r) => client.once("open", r));
    client.send(JSON.stringify({ type: "start", sampleRate: 16000 }));
    while (sessions.length === 0) await sleep(5);
    const session = sessions[0];
    // The peer stops reading: its TCP window and then our kernel buffer fill up.
    (client as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    session.send(new Uint8Array(32 * 1024 * 1024));
    await sleep(50);
    expect(session.bufferedAmount).toBeGreaterThan(1024 * 1024);
    let drained = false;
    const wait = session.whenDrained(0).then(() => (drained = true));
    await sleep(100);
    expect(drained).toBe(false);
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    await wait;
    expect(session.bufferedAmount).toBe(0);
    client.close();
  });
});
