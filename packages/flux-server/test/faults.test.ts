import { afterEach, describe, expect, it, vi } from "vitest";
import { checkTurnSequence, type ServerMessage } from "@voxpipe/flux-protocol";
import {
  ENGINE_BEHIND_WARNING,
  REDUCED_SEARCH_WARNING,
  startFluxServer,
  type FluxServer,
  type FluxServerOptions,
  type FluxSession,
  type RecognitionState,
  type TurnEngineFactory,
} from "../src/index.js";
import { FluxTestClient, HandshakeRefusedError, silence, tone } from "../src/testing.js";

const RATE = 16000;
const EN = { model: "flux-general-en", encoding: "linear16", sampleRate: RATE } as const;
let server: FluxServer | undefined;

async function start(options: FluxServerOptions = {}): Promise<FluxServer> {
  server = await startFluxServer(options);
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const kinds = (messages: ServerMessage[]) =>
  messages.map((m) => (m.type === "TurnInfo" ? m.event : m.type));

/** An engine that hears only silence and takes `work()` per frame; counts the frames heard. */
function silentSlowEngine(work: () => Promise<unknown>): {
  factory: TurnEngineFactory;
  heard: () => number;
} {
  let heard = 0;
  const factory: TurnEngineFactory = {
    name: "slow-test-engine",
    createSession: () => ({
      hear: async () => {
        await work();
        heard += 1;
        return { transcript: "", words: [], speechActive: false, endOfTurnConfidence: 0 };
      },
      resetTurn: () => undefined,
      close: () => undefined,
    }),
  };
  return { factory, heard: () => heard };
}

describe("fault injection per session", () => {
  it("refuses handshakes with 401/429/500 chosen per connection attempt, then accepts", async () => {
    const statuses = [401, 429, 500];
    const s = await start({
      sessionPlan: ({ index }) =>
        index < 3 ? { faults: { refuseHandshake: { status: statuses[index] ?? 500 } } } : undefined,
    });
    for (const status of statuses) {
      const error = await FluxTestClient.connect(s.url, EN).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandshakeRefusedError);
      const refusal = error as HandshakeRefusedError;
      expect(refusal.status).toBe(status);
      expect(refusal.headers["dg-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(refusal.headers["dg-error"]).toBeTruthy();
      expect(Object.values(refusal.json())).toContain(refusal.headers["dg-request-id"]);
    }
    const client = await FluxTestClient.connect(s.url, EN);
    await client.waitFor((m) => m.type === "Connected");
    await client.close();
    expect(s.counters()).toMatchObject({ sessions: 1, refused: 3 });
  });

  it("drops the connection at the Nth message without a close frame", async () => {
    const s = await start({ sessionPlan: () => ({ faults: { drop: { atMessage: 3 } } }) });
    const client = await FluxTestClient.connect(s.url, EN);
    client.sendChunks(silence(2000, RATE), RATE);
    expect((await client.closed).code).toBe(1006);
    expect(client.messages.map((m) => m.sequence_id)).toEqual([0, 1, 2]);
  });

  it("stalls after some audio: keeps reading, sends nothing more, still answers pings", async () => {
    let session: FluxSession | undefined;
    const s = await start({
      sessionPlan: () => ({ faults: { stall: { afterAudioSeconds: 0.5 } } }),
    });
    s.events.on("session", (x) => (session = x));
    const client = await FluxTestClient.connect(s.url, EN);
    client.sendChunks(silence(480, RATE), RATE);
    await client.waitFor((m) => m.type === "TurnInfo" && m.audio_window_end === 0.48);
    client.sendChunks(silence(1600, RATE), RATE);
    const pong = new Promise((resolve) => client.socket.once("pong", resolve));
    client.socket.ping();
    await pong;
    await expect.poll(() => session?.counters.audioSeconds).toBeCloseTo(2.08, 5);
    expect(kinds(client.messages)).toEqual(["Connected", "Update", "Update"]);
    session?.resume();
    client.sendChunks(silence(240, RATE), RATE);
    await client.waitFor((m) => m.type === "TurnInfo" && m.audio_window_end === 2.16);
    await client.close();
  });

  it("sends a fatal Error then closes without a status code; a malformed frame parses as Unknown", async () => {
    const s = await start({
      sessionPlan: () => ({
        faults: {
          malformedMessage: { atMessage: 1 },
          fatalError: { afterAudioSeconds: 0.3, code: "INTERNAL_SERVER_ERROR" },
        },
      }),
    });
    const client = await FluxTestClient.connect(s.url, EN);
    client.sendChunks(silence(480, RATE), RATE);
    expect((await client.closed).code).toBe(1005);
    expect(client.messages[1]).toMatchObject({ type: "Unknown", reason: "not-json" });
    expect(client.messages.at(-1)).toMatchObject({ type: "Error", code: "INTERNAL_SERVER_ERROR" });
    expect(client.messages.filter((m) => m.type !== "Unknown").map((m) => m.sequence_id)).toEqual([
      0, 1, 2,
    ]);
  });

  it("delays Configure acknowledgements on the wall clock while the settings apply in stream order", async () => {
    const s = await start({ sessionPlan: () => ({ faults: { configureDelayMs: 150 } }) });
    const client = await FluxTestClient.connect(s.url, EN);
    const sent = Date.now();
    client.sendText({ type: "Configure", thresholds: { eot_threshold: 0.9 } });
    client.sendChunks(silence(240, RATE), RATE);
    const ack = await client.waitFor((m) => m.type === "ConfigureSuccess");
    expect(Date.now() - sent).toBeGreaterThanOrEqual(140);
    expect(kinds(client.messages)).toEqual(["Connected", "Update", "ConfigureSuccess"]);
    expect(ack.sequence_id).toBe(2);
    await client.close();
  });

  it("refuses every Configure when told to, applying nothing", async () => {
    const s = await start({
      sessionPlan: () => ({
        faults: { configureRefusal: { code: "INVALID_THRESHOLD", description: "injected" } },
      }),
    });
    const client = await FluxTestClient.connect(s.url, EN);
    client.sendText({ type: "Configure", thresholds: { eot_threshold: 0.9 } });
    expect(await client.waitFor((m) => m.type === "ConfigureFailure")).toMatchObject({
      code: "INVALID_THRESHOLD",
      description: "injected",
    });
    await client.close();
  });

  it("lets a test inject faults live through the session handle", async () => {
    const s = await start();
    const opened = new Promise<FluxSession>((resolve) => s.events.once("session", resolve));
    const client = await FluxTestClient.connect(s.url, EN);
    const session = await opened;
    expect(s.sessions.get(session.requestId)).toBe(session);
    session.sendFatalError("INTERNAL_SERVER_ERROR", "live");
    expect((await client.closed).code).toBe(1005);
    expect(client.messages.at(-1)).toMatchObject({ type: "Error", description: "live" });
    await expect.poll(() => s.sessions.size).toBe(0);
  });

  it("takes faults live on a healthy session: messages without optional fields, then a stall", async () => {
    const s = await start();
    const opened = new Promise<FluxSession>((resolve) => s.events.once("session", resolve));
    const client = await FluxTestClient.connect(s.url, EN);
    const session = await opened;
    await client.waitFor((m) => m.type === "Connected");
    expect(JSON.parse(client.frames[0] ?? "")).toMatchObject({ sequence_id: 0 });
    session.setFaults({ omitOptionalFields: true });
    client.sendChunks(silence(480, RATE), RATE);
    await client.waitFor((m) => m.type === "TurnInfo" && m.audio_window_end === 0.48);
    const bare = client.frames.slice(1).map((f) => JSON.parse(f) as Record<string, unknown>);
    expect(bare.map((m) => [m.type, "request_id" in m, "sequence_id" in m])).toEqual([
      ["TurnInfo", false, false],
      ["TurnInfo", false, false],
    ]);
    session.stall();
    client.sendChunks(silence(480, RATE), RATE);
    const pong = new Promise((resolve) => client.socket.once("pong", resolve));
    client.socket.ping();
    await pong;
    await expect.poll(() => session.counters.audioSeconds).toBeCloseTo(0.96, 5);
    expect(client.frames).toHaveLength(3);
    expect(session.counters.messagesSent).toBe(3); // what a stall swallowed was never sent
    await client.close();
  });

  it("answers 500 when the engine cannot start a session", async () => {
    const broken: TurnEngineFactory = {
      name: "broken-test-engine",
      createSession: () => Promise.reject(new Error("model file missing")),
    };
    const s = await start({ engine: broken });
    const error = (await FluxTestClient.connect(s.url, EN).catch(
      (e: unknown) => e,
    )) as HandshakeRefusedError;
    expect(error.status).toBe(500);
    expect(error.json()).toMatchObject({
      code: "INTERNAL_SERVER_ERROR",
      request_id: error.headers["dg-request-id"],
    });
    expect(error.body).not.toContain("model file missing");
  });

  it("refuses sessions beyond maxSessions with 429", async () => {
    const s = await start({ maxSessions: 1 });
    const first = await FluxTestClient.connect(s.url, EN);
    const error = (await FluxTestClient.connect(s.url, EN).catch(
      (e: unknown) => e,
    )) as HandshakeRefusedError;
    expect(error.status).toBe(429);
    expect(error.json()).toMatchObject({ err_code: "TOO_MANY_REQUESTS" });
    await first.close();
  });
});

describe("session lifecycle", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("closes an idle session (no audio, no ping) after idleTimeoutMs; pings keep it open", async () => {
    // Fake timers, real sockets: the idle timers move only when the test says so, and each
    // ping is answered (pong) before time moves on, so the server has seen it.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const s = await start({ idleTimeoutMs: 400 });
    const pinged = await FluxTestClient.connect(s.url, EN);
    const idle = await FluxTestClient.connect(s.url, EN);
    let idleClosed = false;
    void idle.closed.then(() => (idleClosed = true));
    const ping = async (): Promise<void> => {
      const pong = new Promise((resolve) => pinged.socket.once("pong", resolve));
      pinged.socket.ping();
      await Promise.race([pong, pinged.closed]); // closed: the assertion below says so
    };
    for (let t = 0; t < 360; t += 40) {
      await ping();
      await vi.advanceTimersByTimeAsync(40);
    }
    expect(idleClosed).toBe(false); // 360 ms without a frame: not yet idle
    for (let t = 360; t < 1600; t += 40) {
      await ping();
      await vi.advanceTimersByTimeAsync(40);
    }
    expect(await idle.closed).toEqual({
      code: 1011,
      reason: "idle timeout: no audio or ping received",
    });
    // four idle timeouts later, the pinged session is still open
    expect(pinged.socket.readyState).toBe(pinged.socket.OPEN);
    vi.useRealTimers();
    await pinged.close();
  });

  it("runs an asynchronous engine in stream order and reports engine failures as INTERNAL_SERVER_ERROR", async () => {
    const calls: string[] = [];
    let turnEnded = false;
    const slow: TurnEngineFactory = {
      name: "slow-test-engine",
      createSession: () => ({
        async hear(frame) {
          await new Promise((r) => setTimeout(r, 2));
          calls.push(`hear ${frame.end.toFixed(2)}`);
          if (frame.end > 1.0) throw new Error("decoder crashed");
          const speaking = frame.end > 0.2 && frame.end <= 0.4;
          const state: RecognitionState = {
            transcript: frame.end > 0.2 && !turnEnded ? "hello" : "",
            words: [],
            speechActive: speaking,
            endOfTurnConfidence: frame.end > 0.6 ? 0.9 : 0.1,
          };
          return state;
        },
        async configure() {
          await new Promise((r) => setTimeout(r, 5));
          calls.push("configure");
        },
        resetTurn: (at) => {
          turnEnded = true;
          calls.push(`reset ${at.toFixed(2)}`);
        },
        close: () => void calls.push("close"),
      }),
    };
    const s = await start({ engine: slow });
    const client = await FluxTestClient.connect(s.url, EN);
    client.sendChunks(tone(160, RATE), RATE);
    client.sendText({ type: "Configure", keyterms: ["x"] });
    client.sendChunks(silence(1040, RATE), RATE);
    expect((await client.closed).code).toBe(1005);
    expect(calls.slice(0, 4)).toEqual(["hear 0.08", "hear 0.16", "configure", "hear 0.24"]);
    expect(calls).toContain("reset 0.64");
    await expect.poll(() => calls.at(-1)).toBe("close");
    expect(checkTurnSequence(client.messages).violations).toEqual([]);
    expect(kinds(client.messages).filter((k) => k !== "Update")).toEqual([
      "Connected",
      "ConfigureSuccess",
      "StartOfTurn",
      "EndOfTurn",
      "Error",
    ]);
    expect(client.messages.at(-1)).toMatchObject({ code: "INTERNAL_SERVER_ERROR" });
  });

  it("loses no audio when an engine is slower than the client (reading pauses, then resumes)", async () => {
    const slow = silentSlowEngine(() => new Promise((r) => setImmediate(r)));
    const s = await start({ engine: slow.factory });
    const client = await FluxTestClient.connect(s.url, EN);
    client.sendChunks(silence(40_000, RATE), RATE); // 500 frames at once
    client.sendText({ type: "CloseStream" });
    expect((await client.closed).code).toBe(1005);
    expect(slow.heard()).toBe(500);
    // Sent faster than real time, the backlog is the client's own: no overload Warning,
    // and an Update for every 240 ms of audio.
    expect(client.messages.filter((m) => m.type === "Warning")).toEqual([]);
    const updates = client.messages.filter((m) => m.type === "TurnInfo" && m.event === "Update");
    expect(updates.length).toBeGreaterThanOrEqual(Math.floor(500 / 3));
    const last = client.messages.at(-1);
    expect(last?.type === "TurnInfo" && last.audio_window_end).toBe(40);
    expect(checkTurnSequence(client.messages).violations).toEqual([]);
  });

  it("warns once when the engine falls 2 s behind real time, sends fewer Updates, and still hears every frame", async () => {
    // 250 ms of work per 80 ms frame: ≈3× slower than real time.
    const slow = silentSlowEngine(() => new Promise((r) => setTimeout(r, 250)));
    const s = await start({ engine: slow.factory });
    let session: FluxSession | undefined;
    s.events.on("session", (x) => (session = x));
    const client = await FluxTestClient.connect(s.url, EN);
    // 4 s of audio sent in real time would be heard by t = 4 s; this engine needs 12.5 s.
    const audio = silence(4000, RATE);
    const sendAt = performance.now();
    for (let i = 0; i < 50; i++) {
      client.sendAudio(audio.subarray(i * 2560, (i + 1) * 2560));
      await new Promise((r) =>
        setTimeout(r, Math.max(0, sendAt + (i + 1) * 80 - performance.now())),
      );
    }
    const warning = await client.waitFor((m) => m.type === "Warning");
    expect(warning).toMatchObject({ code: ENGINE_BEHIND_WARNING });
    expect(JSON.stringify(warning)).toMatch(/behind real time .*No audio is dropped/);
    client.sendText({ type: "CloseStream" });
    expect((await client.closed).code).toBe(1005);
    expect(slow.heard()).toBe(50);
    expect(client.messages.filter((m) => m.type === "Warning")).toHaveLength(1);
    // 50 frames would make 16 Updates; behind real time, at most one per second of wall
    // time goes out (the engine needs ≈12.5 s), and the last one still covers all 4 s.
    const updates = client.messages.filter((m) => m.type === "TurnInfo" && m.event === "Update");
    expect(updates.length).toBeLessThanOrEqual(16 - 3);
    // (the last Update is CloseStream's flush, not one of the 16)
    expect(session?.counters.updatesSkipped).toBe(16 - (updates.length - 1));
    const last = client.messages.at(-1);
    expect(last?.type === "TurnInfo" && last.audio_window_end).toBe(4);
    expect(checkTurnSequence(client.messages).violations).toEqual([]);
  }, 30_000);

  it("tells an engine the server is overloaded while a live session is behind real time, and sends the engine's Warning after Connected", async () => {
    // Synthetic load on a fake wall clock: session A's engine is stuck on its first frame
    // while 3 s of (wall) time pass and 2.5 s more audio arrives.
    let now = 0;
    vi.spyOn(performance, "now").mockImplementation(() => now);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const overloaded: (boolean | undefined)[] = [];
    let hearing = 0;
    let heard = 0;
    const factory: TurnEngineFactory = {
      name: "overload-test-engine",
      createSession: (context) => {
        overloaded.push(context.serverOverloaded);
        const first = overloaded.length === 1;
        return {
          hear: async () => {
            hearing += 1;
            if (first) await held;
            heard += 1;
            return { transcript: "", words: [], speechActive: false, endOfTurnConfidence: 0 };
          },
          resetTurn: () => undefined,
          close: () => undefined,
          ...(context.serverOverloaded && {
            warning: { code: REDUCED_SEARCH_WARNING, description: "cheaper settings" },
          }),
        };
      },
    };
    const s = await start({ engine: factory });
    try {
      const a = await FluxTestClient.connect(s.url, EN);
      await a.waitFor((m) => m.type === "Connected");
      a.sendAudio(silence(80, RATE));
      await vi.waitFor(() => expect(hearing).toBe(1)); // A's engine is stuck on it
      now += 3000;
      a.sendAudio(silence(2500, RATE));
      expect(await a.waitFor((m) => m.type === "Warning")).toMatchObject({
        code: ENGINE_BEHIND_WARNING,
      });

      const b = await FluxTestClient.connect(s.url, EN);
      await b.waitFor((m) => m.type === "Warning");
      expect(b.messages.map((m) => m.type)).toEqual(["Connected", "Warning"]);
      expect(b.messages[1]).toMatchObject({
        code: REDUCED_SEARCH_WARNING,
        description: "cheaper settings",
      });

      release(); // A catches up: its backlog drains, the server is no longer overloaded
      await vi.waitFor(() => expect(heard).toBe(1 + 2500 / 80 - 0.25));
      const c = await FluxTestClient.connect(s.url, EN);
      await c.waitFor((m) => m.type === "Connected");
      expect(overloaded).toEqual([false, true, false]);
      await Promise.all([a.close(), b.close(), c.close()]);
      expect(c.messages.filter((m) => m.type === "Warning")).toEqual([]);
    } finally {
      release();
      vi.restoreAllMocks();
    }
  });

  it("closes live sessions with 1001 when the server closes", async () => {
    const s = await start();
    const client = await FluxTestClient.connect(s.url, EN);
    await client.waitFor((m) => m.type === "Connected");
    await s.close();
    expect((await client.closed).code).toBe(1001);
  });
});

describe("a session paused for backlog", () => {
  // Only the timers are fake (the sockets are real): ws's 30 s close timeout and the idle
  // timer move only when the test says so.
  afterEach(() => {
    vi.useRealTimers();
  });
  const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

  it("resumes reading when it goes fatal, so the close handshake completes", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = silentSlowEngine(() => held);
    const s = await start({ engine: slow.factory });
    const opened = new Promise<FluxSession>((resolve) => s.events.once("session", resolve));
    const client = await FluxTestClient.connect(s.url, EN);
    const session = await opened;
    client.sendChunks(silence(40_000, RATE), RATE); // 500 frames; the engine is stuck on the first
    // Reading pauses once more than 250 frames (20 s of audio) wait.
    while (session.counters.audioSeconds <= 20) await nextTurn();
    session.sendFatalError();
    release();
    expect((await client.closed).code).toBe(1005);
    expect((await session.ended).reason).toBe("fault-error");
    expect(client.messages.at(-1)).toMatchObject({ type: "Error" });
  });

  it("is not idle while its engine works through the backlog, paused or not", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    // 100 ms per 80 ms frame: 400 frames take 40 s, far beyond the 2 s idle timeout. Most of
    // that time the socket is paused (the client cannot be heard); then the client, done
    // sending, waits for the engine to finish its queue.
    const slow = silentSlowEngine(() => new Promise((r) => setTimeout(r, 100)));
    const s = await start({ engine: slow.factory, idleTimeoutMs: 2000 });
    const opened = new Promise<FluxSession>((resolve) => s.events.once("session", resolve));
    const client = await FluxTestClient.connect(s.url, EN);
    const session = await opened;
    let ended = false;
    void session.ended.then(() => (ended = true));
    client.sendChunks(silence(32_000, RATE), RATE);
    for (let i = 0; i < 2000 && slow.heard() < 400 && !ended; i++) {
      await vi.advanceTimersByTimeAsync(100);
      await nextTurn();
    }
    expect(slow.heard()).toBe(400);
    client.sendText({ type: "CloseStream" });
    expect((await client.closed).code).toBe(1005);
    expect((await session.ended).reason).toBe("close-stream");
  });
});
