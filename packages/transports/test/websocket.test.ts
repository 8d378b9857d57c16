/**
 * The WebSocket server transport with the Twilio serializer, over real sockets, driven by the
 * simulated Twilio caller: audio in (resampled or passed through), DTMF, real-time paced bot
 * audio on the right streamSid, marks → what was heard, clear on barge-in, stop ends the run,
 * bad messages never take the server down; and the client transport.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  FrameProcessor,
  InputAudioRawFrame,
  InputDTMFFrame,
  Pipeline,
  PipelineTask,
  TTSSpeakFrame,
  TTSTextFrame,
  pcmToMulaw,
} from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import { ScriptedTTSService, tonePcm } from "@voxpipe/core/testing";
import {
  BrowserFrameSerializer,
  TwilioFrameSerializer,
  WebSocketServerTransport,
  connectWebSocketTransport,
} from "../src/index.js";
import type { WebSocketSession } from "../src/index.js";
import { SimulatedTwilioCall } from "../src/testing.js";

/** Speaks on key 1 (two sentences, 300 ms each), barges in on key 2; records what passes. */
class KeypadBot extends FrameProcessor {
  readonly seen: Frame[] = [];
  /** `performance.now()` when each caller audio frame arrived. */
  readonly audioAt: number[] = [];
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof InputDTMFFrame) {
      this.seen.push(frame);
      if (frame.button === "1") {
        this.push(new TTSSpeakFrame({ text: "Hello there." }));
        this.push(new TTSSpeakFrame({ text: "How can I help you today?" }));
      }
      if (frame.button === "2") this.pushInterruption();
      return;
    }
    if (frame instanceof InputAudioRawFrame) {
      this.seen.push(frame);
      this.audioAt.push(performance.now());
    }
    this.push(frame, direction);
  }
}

/** Records frames leaving the output (what the assistant aggregator would see). */
class Sink extends FrameProcessor {
  readonly text: string[] = [];
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof TTSTextFrame) this.text.push(frame.text);
    this.push(frame, direction);
  }
}

let server: WebSocketServerTransport | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function startServer(
  options: { passthrough?: boolean; inputRate?: number; startDelayMs?: number } = {},
) {
  const calls: { session: WebSocketSession; bot: KeypadBot; sink: Sink; done: Promise<unknown> }[] =
    [];
  server = new WebSocketServerTransport({
    serializer: () => new TwilioFrameSerializer({ maxMessageBytes: 4096 }),
    input: { passthrough: options.passthrough },
  });
  server.on("session", (session) => {
    const bot = new KeypadBot();
    const sink = new Sink();
    const tts = new ScriptedTTSService({ chunksPerSentence: 15, chunkMs: 20, sampleRate: 24000 });
    const task = new PipelineTask(new Pipeline([session.input, bot, tts, session.output, sink]), {
      audioInSampleRate: options.inputRate ?? 16000,
      audioOutSampleRate: 24000,
      idleTimeoutMs: null,
    });
    // startDelayMs: a pipeline slow to start (e.g. the STT's handshake) while audio arrives.
    const delay = new Promise((r) => setTimeout(r, options.startDelayMs ?? 0));
    calls.push({ session, bot, sink, done: delay.then(() => task.run()) });
  });
  const port = await server.listen({ path: "/twilio" });
  return { url: `ws://127.0.0.1:${port}/twilio`, calls };
}

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("WebSocketServerTransport + Twilio", () => {
  it("turns caller μ-law into 16 kHz PCM frames and DTMF into InputDTMFFrame", async () => {
    const { url, calls } = await startServer();
    const caller = await SimulatedTwilioCall.connect(url);
    await caller.sendAudio(pcmToMulaw(tonePcm(300, 200, 8000)));
    caller.sendDtmf("7");
    await until(
      () =>
        calls[0]?.bot.seen.some((f) => f instanceof InputDTMFFrame) === true &&
        calls[0].bot.seen.filter((f) => f instanceof InputAudioRawFrame).length >= 8,
    );
    const audio = calls[0].bot.seen.filter((f) => f instanceof InputAudioRawFrame);
    expect(audio.length).toBeGreaterThanOrEqual(8);
    expect(audio.every((f) => f.sampleRate === 16000 && f.encoding === "linear16")).toBe(true);
    expect(audio[0].audio.byteLength).toBe(640); // 20 ms at 16 kHz s16le
    const dtmf = calls[0].bot.seen.find((f) => f instanceof InputDTMFFrame);
    expect(dtmf?.button).toBe("7");
    await caller.hangUp();
    await calls[0].done;
  });

  it("passes μ-law through untouched at 8 kHz when asked (no decode, no resample)", async () => {
    const { url, calls } = await startServer({ passthrough: true, inputRate: 8000 });
    const caller = await SimulatedTwilioCall.connect(url);
    const sent = pcmToMulaw(tonePcm(300, 100, 8000));
    await caller.sendAudio(sent);
    await until(() => (calls[0]?.bot.seen.length ?? 0) >= 5);
    const audio = calls[0].bot.seen.filter((f) => f instanceof InputAudioRawFrame);
    expect(audio[0].encoding).toBe("mulaw");
    expect(audio[0].sampleRate).toBe(8000);
    expect([...audio[0].audio]).toEqual([...sent.subarray(0, 160)]);
    expect(audio[0].durationMs).toBe(20);
    await caller.hangUp();
    await calls[0].done;
  });

  it("audio that queued while the pipeline started is caught up, not left behind for the rest of the call", async () => {
    const { url, calls } = await startServer({
      passthrough: true,
      inputRate: 8000,
      startDelayMs: 1000,
    });
    const caller = await SimulatedTwilioCall.connect(url);
    await caller.sendAudio(pcmToMulaw(tonePcm(300, 2000, 8000)));
    const sentAt = performance.now();
    await until(() => (calls[0]?.bot.audioAt.length ?? 0) >= 100);
    // The last of 2 s of audio reaches the pipeline right after it was sent — not 1 s later
    // (the start delay) as a real-time pacer anchored at the pipeline's start would deliver it.
    expect(calls[0].bot.audioAt[99] - sentAt).toBeLessThan(500);
    await caller.hangUp();
    await calls[0].done;
  });

  it("sends the reply as real-time media on the streamSid; marks release the sentences heard", async () => {
    const { url, calls } = await startServer();
    const caller = await SimulatedTwilioCall.connect(url);
    await until(() => calls.length === 1);
    caller.sendDtmf("1");
    await until(() => calls[0].sink.text.length === 2, 8000);
    expect(calls[0].sink.text).toEqual(["Hello there.", "How can I help you today?"]);
    await until(() => caller.media.length >= 29, 4000);
    expect(caller.media.every((m) => m.streamSid === caller.streamSid)).toBe(true);
    expect(caller.media[0].audio.byteLength).toBe(160); // 20 ms of 8 kHz μ-law per message
    // Paced in real time (plus a small lead): 600 ms of audio takes ≥ ~500 ms to arrive.
    const span = caller.media.at(-1)!.at - caller.media[0].at;
    expect(span).toBeGreaterThan(450);
    expect(caller.marksAnswered.filter((m) => m.played).length).toBeGreaterThanOrEqual(2);
    await caller.hangUp();
    await calls[0].done;
  });

  it("barge-in: clear goes out, media stops within a chunk, unheard sentences are not reported", async () => {
    const { url, calls } = await startServer();
    const caller = await SimulatedTwilioCall.connect(url);
    await until(() => calls.length === 1);
    caller.sendDtmf("1");
    await until(() => caller.media.length >= 5);
    caller.sendDtmf("2");
    await until(() => caller.clears.length === 1);
    const cut = caller.clears[0];
    await new Promise((r) => setTimeout(r, 300));
    const after = caller.media.filter((m) => m.at > cut + 30);
    expect(after.length).toBe(0);
    expect(calls[0].sink.text).toEqual(["Hello there."]);
    await caller.hangUp();
    await calls[0].done;
  });

  it("bad messages are ignored; an oversized one closes that call alone", async () => {
    const { url, calls } = await startServer();
    const good = await SimulatedTwilioCall.connect(url);
    const bad = await SimulatedTwilioCall.connect(url);
    await until(() => calls.length === 2);
    bad.sendRaw("not json");
    bad.sendJson({ event: "dance" });
    bad.sendJson({ event: "media", streamSid: "MZother", media: { payload: "AAAA" } });
    bad.sendJson({ event: "media", streamSid: bad.streamSid, media: { payload: "%%" } });
    bad.sendDtmf("1");
    await until(() => bad.media.length > 0);
    bad.sendRaw("x".repeat(10_000));
    await bad.whenClosed();
    expect(bad.closed?.code).toBe(1009);
    good.sendDtmf("1");
    await until(() => good.media.length > 3);
    await good.hangUp();
    await Promise.all(calls.map((c) => c.done));
  });

  it("media before start is ignored and a connection without start is closed (1008)", async () => {
    server = new WebSocketServerTransport({
      serializer: () => new TwilioFrameSerializer(),
      startTimeoutMs: 200,
    });
    const sessions: WebSocketSession[] = [];
    server.on("session", (s) => sessions.push(s));
    const port = await server.listen();
    const { WebSocket } = await import("ws");
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((r) => ws.once("open", r));
    ws.send('{"event":"media","media":{"payload":"AAAA"}}');
    const code = await new Promise<number>((r) => ws.once("close", (c) => r(c)));
    expect(code).toBe(1008);
    expect(sessions).toHaveLength(0);
  });

  it("refuses connections beyond maxSessions with 1013", async () => {
    server = new WebSocketServerTransport({
      serializer: () => new TwilioFrameSerializer(),
      maxSessions: 1,
    });
    const port = await server.listen();
    const first = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${port}`);
    const second = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${port}`);
    await second.whenClosed();
    expect(second.closed?.code).toBe(1013);
    expect(first.closed).toBeUndefined();
  });
});

describe("connectWebSocketTransport", () => {
  it("a client pipeline streams audio to a server session and receives its audio", async () => {
    server = new WebSocketServerTransport({ serializer: () => new BrowserFrameSerializer() });
    const received: InputAudioRawFrame[] = [];
    server.on("session", (session) => {
      const rec = new (class extends FrameProcessor {
        override process(frame: Frame, direction: FrameDirection): void {
          if (frame instanceof InputAudioRawFrame) received.push(frame);
          this.push(frame, direction);
        }
      })();
      void new PipelineTask(new Pipeline([session.input, rec]), { idleTimeoutMs: null }).run();
    });
    const port = await server.listen({ path: "/ws" });
    const client = await connectWebSocketTransport(`ws://127.0.0.1:${port}/ws`, {
      serializer: new BrowserFrameSerializer(),
      call: {
        streamId: "client",
        customParameters: {},
        inputFormat: { sampleRate: 16000, encoding: "linear16" },
      },
      hello: [JSON.stringify({ type: "start", sampleRate: 16000 })],
      output: { marks: false },
    });
    const tts = new ScriptedTTSService({ chunksPerSentence: 10, sampleRate: 16000 });
    const task = new PipelineTask(new Pipeline([client.input, tts, client.output]), {
      audioOutSampleRate: 16000,
      idleTimeoutMs: null,
    });
    const run = task.run();
    task.queueFrame(new TTSSpeakFrame({ text: "Hi." }));
    await until(() => received.length >= 8);
    expect(received[0].sampleRate).toBe(16000);
    client.close();
    await run;
  });
});
