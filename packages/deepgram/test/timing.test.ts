/**
 * The Flux client's time-dependent behaviour on controlled time: `vi.useFakeTimers()` makes
 * every timer and `performance.now()` fake, so nothing here waits on the wall clock and a
 * loaded machine cannot flake it. Covered: the watchdog (silence over an input gap, no
 * silence while Flux lags, stall detection, a blocked event loop is not a stall), WebSocket
 * pings, reconnect backoff and give-up, and the Configure deadline.
 *
 * No sockets: the Flux at the other end is a fake carrier by design (a socket's I/O does not
 * run on fake time). Each one plays only what the documented protocol has a Flux do here
 * (shared/reference/flux-protocol.md): `Connected` first (§2.1), a refused upgrade is an HTTP
 * status (§1.5), a Configure held past the client's deadline (fake-configure-flux.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClientMessage } from "@voxpipe/flux-protocol";
import type { Carrier, CarrierConnection } from "../src/carriers/carrier.js";
import { Connection } from "../src/client/connection.js";
import { rawFormat } from "../src/client/options.js";
import { Watchdog, type WatchdogHost } from "../src/client/watchdog.js";
import type { FluxError } from "../src/errors.js";
import { handshakeError } from "../src/errors.js";
import { FluxClient, type FluxClientOptions } from "../src/flux-client.js";
import type { FluxEvent } from "../src/events.js";
import { fakeConfigureFlux } from "./fake-configure-flux.js";
import { FAST, SETTINGS } from "./helpers.js";

const URL = "ws://127.0.0.1:9/v2/listen";
const CONNECTED = JSON.stringify({ type: "Connected", request_id: "fake", sequence_id: 0 });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A socket that records what the client sends on it. */
function socket(): CarrierConnection & { pings: number; controls: ClientMessage[] } {
  const s = {
    pings: 0,
    controls: [] as ClientMessage[],
    sendBinary: () => {},
    sendControl: (m: ClientMessage) => void s.controls.push(m),
    ping: () => void s.pings++,
    close: () => {},
    bufferedAmount: 0,
  };
  return s;
}

/**
 * A fake Flux as a carrier: `refusals[i]` is the HTTP status refusing the i-th upgrade
 * (`undefined`: accept and send `Connected`). Records when each attempt came (fake clock).
 */
function fakeFlux(refusals: (number | undefined)[] = []): {
  carrier: Carrier;
  attempts: number[];
  socket: ReturnType<typeof socket>;
} {
  const attempts: number[] = [];
  const s = socket();
  const carrier: Carrier = (_request, handlers) => {
    const status = refusals[attempts.length];
    attempts.push(performance.now());
    if (status !== undefined) return Promise.reject(handshakeError(status));
    setTimeout(() => handlers.onMessage(CONNECTED), 0);
    return Promise.resolve(s);
  };
  return { carrier, attempts, socket: s };
}

function client(carrier: Carrier, options: Partial<FluxClientOptions> = {}): FluxClient {
  return new FluxClient({ settings: SETTINGS, url: URL, ...FAST, carrier, ...options });
}

/** A settled outcome of `promise` (a rejection as its value). */
const outcome = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (v) => v,
    (e: unknown) => e,
  );

describe("watchdog", () => {
  const OPTIONS = {
    intervalMs: 20,
    silenceAfterMs: 150,
    caughtUpMarginSeconds: 0.32,
    stallTimeoutMs: 400,
    pingIntervalMs: 60_000,
  };

  /**
   * A real, adopted {@link Connection} (over a socket that records), a watchdog on it and
   * what the watchdog did. `skew` moves the watchdog's clock past the fake timers, the way
   * a blocked event loop finds time gone by when its next timer finally runs.
   */
  async function setup(options: Partial<typeof OPTIONS> = {}) {
    const flux = fakeFlux();
    const opening = Connection.open(
      {
        id: 1,
        settings: SETTINGS,
        format: rawFormat(SETTINGS),
        carrier: flux.carrier,
        url: URL,
        apiKey: undefined,
        connectTimeoutMs: 1000,
        signal: new AbortController().signal,
      },
      {
        onMessage: (c) => c.adopt("fake", 0, 0, performance.now()),
        onClose: () => {},
        onConnected: () => {},
      },
    );
    await vi.advanceTimersByTimeAsync(1);
    const conn = await opening;
    const did = { silenceMs: [] as number[], stalls: [] as FluxError[], keepAlives: 0 };
    let answered = 0;
    let skew = 0;
    const host: WatchdogHost<Connection> = {
      connection: () => conn,
      wantsSilence: () => true,
      answeredUntil: () => answered,
      injectSilence: (ms) => void did.silenceMs.push(ms),
      keepAlive: () => void did.keepAlives++,
      stalled: (_c, error) => void did.stalls.push(error),
      tick: () => {},
    };
    const watchdog = new Watchdog({ ...OPTIONS, ...options }, host, {
      now: () => performance.now() + skew,
    });
    watchdog.start();
    /** `seconds` of audio sent on the connection now (unanswered until {@link answer}). */
    const send = (seconds: number): void => {
      const start = conn.sentUntil;
      const format = rawFormat(SETTINGS);
      conn.sendAudio({
        start,
        duration: seconds,
        bytes: new Uint8Array(2),
        format,
        sentAt: undefined,
      });
    };
    return {
      conn,
      did,
      watchdog,
      send,
      /** Flux answered up to `until` (seconds of audio). */
      answer: (until: number) => {
        answered = until;
        conn.answered();
      },
      block: (ms: number) => (skew += ms),
    };
  }

  afterEach(() => vi.clearAllTimers());

  it("streams silence over an input gap in an open turn, keeping pace with wall time; none while input flows", async () => {
    const { did, watchdog } = await setup();
    for (let t = 0; t < 500; t += 20) {
      watchdog.input(20);
      await vi.advanceTimersByTimeAsync(20);
    }
    expect(did.silenceMs).toEqual([]);
    const stoppedAt = performance.now() - 20; // the last input came one tick ago
    await vi.advanceTimersByTimeAsync(100); // a gap shorter than silenceAfterMs
    expect(did.silenceMs).toEqual([]);
    await vi.advanceTimersByTimeAsync(60);
    expect(did.silenceMs[0]).toBeGreaterThanOrEqual(150); // the whole gap, at once
    await vi.advanceTimersByTimeAsync(500);
    const gap = performance.now() - stoppedAt;
    const total = did.silenceMs.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(gap - 40);
    expect(total).toBeLessThanOrEqual(gap);
  });

  it("injects no silence while Flux lags behind the audio sent; does once it caught up", async () => {
    const { did, send, answer } = await setup({ stallTimeoutMs: 3000 });
    send(3); // a burst of fast input: 3 s sent at once
    answer(1.5); // Flux has heard half of it
    await vi.advanceTimersByTimeAsync(900); // input paused: the user is still speaking on Flux's timeline
    expect(did.silenceMs).toEqual([]);
    answer(2.9); // within one chunk + one Update of the audio sent
    await vi.advanceTimersByTimeAsync(20);
    expect(did.silenceMs.length).toBe(1);
  });

  it("injects silence when Flux answers but its time stood still for stallTimeoutMs", async () => {
    const { did, send, answer } = await setup({ stallTimeoutMs: 1000 });
    send(3);
    answer(1.5);
    await vi.advanceTimersByTimeAsync(980);
    expect(did.silenceMs).toEqual([]);
    answer(1.5); // answers keep coming, the answered time does not move
    await vi.advanceTimersByTimeAsync(40);
    expect(did.silenceMs.length).toBeGreaterThan(0);
  });

  it("reports a stall once audio went unanswered for stallTimeoutMs, not before", async () => {
    const { did, send, answer } = await setup();
    send(1);
    await vi.advanceTimersByTimeAsync(400);
    expect(did.stalls).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(did.stalls.map((e) => [e.source, e.code])).toEqual([["stall", "STALLED"]]);
    answer(1); // any message stops the stall clock
    did.stalls.length = 0;
    await vi.advanceTimersByTimeAsync(2000);
    expect(did.stalls).toEqual([]);
  });

  it("does not take time its event loop spent blocked for a stall", async () => {
    const { did, send, block } = await setup();
    send(1);
    await vi.advanceTimersByTimeAsync(100);
    block(700); // nothing ran for 700 ms: Flux's answers wait unread in the socket
    await vi.advanceTimersByTimeAsync(20);
    expect(did.stalls).toEqual([]);
    await vi.advanceTimersByTimeAsync(260); // 380 ms of unblocked time without an answer
    expect(did.stalls).toEqual([]);
    await vi.advanceTimersByTimeAsync(40); // past 400 ms: a stall after all
    expect(did.stalls[0]?.code).toBe("STALLED");
  });
});

describe("client on fake time", () => {
  it("keeps an idle connection alive with WebSocket pings, never a JSON KeepAlive", async () => {
    const flux = fakeFlux();
    const c = client(flux.carrier, { pingIntervalMs: 100 });
    const started = c.start();
    await vi.advanceTimersByTimeAsync(1);
    await started;
    await vi.advanceTimersByTimeAsync(1500); // no audio at all
    expect(flux.socket.pings).toBeGreaterThanOrEqual(13);
    expect(flux.socket.pings).toBeLessThanOrEqual(15);
    expect(flux.socket.controls).toEqual([]);
    expect(c.state).toBe("open");
    c.destroy();
  });

  it("keeps an idle connection on a carrier without pings alive with a little silence", async () => {
    const binaries: Uint8Array[] = [];
    const carrier: Carrier = (_request, handlers) => {
      setTimeout(() => handlers.onMessage(CONNECTED), 0);
      return Promise.resolve({
        sendBinary: (b: Uint8Array) => void binaries.push(b),
        sendControl: () => {},
        close: () => {},
        bufferedAmount: 0,
      }); // no ping (a SageMaker-like carrier)
    };
    const c = client(carrier, { pingIntervalMs: 100, keepAliveSilenceMs: 20 });
    const started = c.start();
    await vi.advanceTimersByTimeAsync(1);
    await started;
    await vi.advanceTimersByTimeAsync(1000);
    expect(binaries.length).toBeGreaterThanOrEqual(9);
    expect(c.metrics.silenceSecondsInjected).toBeCloseTo(binaries.length * 0.02, 5);
    c.destroy();
  });

  it("retries a 429 on the first connection with growing, jittered delays", async () => {
    const flux = fakeFlux([429, 429, 429]);
    const c = client(flux.carrier, {
      reconnect: { minDelayMs: 40, maxDelayMs: 1000, maxAttempts: 6, firstConnectAttempts: 6 },
    });
    const events: FluxEvent[] = [];
    c.events$.subscribe((e) => events.push(e));
    const started = c.start();
    await vi.advanceTimersByTimeAsync(1000);
    await started;
    const gaps = flux.attempts.slice(1).map((t, i) => t - (flux.attempts[i] ?? 0));
    // delay × a random 1–2, doubling: [40, 80], [80, 160], [160, 320] ms
    expect(gaps).toHaveLength(3);
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(40 * 2 ** i);
      expect(gap).toBeLessThanOrEqual(80 * 2 ** i);
    });
    const reconnecting = events.filter((e) => e.type === "Reconnecting");
    expect(reconnecting.map((e) => e.type === "Reconnecting" && e.error.status)).toEqual([
      429, 429, 429,
    ]);
    c.destroy();
  });

  it("gives up after maxAttempts of a retryable refusal, with one fatal error, and stops", async () => {
    const flux = fakeFlux(Array.from({ length: 10 }, () => 503));
    const c = client(flux.carrier, {
      reconnect: { minDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 },
    });
    const result = outcome(c.start());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toMatchObject({ source: "exhausted", fatal: true, status: 503 });
    expect(flux.attempts).toHaveLength(3);
    expect(c.state).toBe("failed");
  });

  it("backs off after connections that fail before any result, and gives up after maxAttempts of them", async () => {
    // A Flux that accepts, says Connected, and closes 1011 at once (a broken server).
    const attempts: number[] = [];
    const carrier: Carrier = (_request, handlers) => {
      attempts.push(performance.now());
      setTimeout(() => handlers.onMessage(CONNECTED), 0);
      setTimeout(() => handlers.onClose({ code: 1011, reason: "broken" }), 1);
      return Promise.resolve(socket());
    };
    const c = client(carrier, { reconnect: { minDelayMs: 100, maxDelayMs: 1000, maxAttempts: 3 } });
    const events: FluxEvent[] = [];
    c.events$.subscribe((e) => events.push(e));
    void c.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts).toHaveLength(3);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] ?? 0));
    // quick failure n waits minDelayMs × 2^(n-1) × a random 1–2 (plus the 1 ms the server lived)
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[0]).toBeLessThanOrEqual(201);
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
    expect(gaps[1]).toBeLessThanOrEqual(401);
    expect(c.state).toBe("failed");
    expect(events.at(-1)).toMatchObject({
      type: "Error",
      error: { source: "exhausted", fatal: true },
    });
  });

  it("gives up on an unacknowledged Configure after configureTimeoutMs; the stream goes on", async () => {
    const flux = fakeConfigureFlux(["hold"]);
    const c = client(flux.carrier, { configureTimeoutMs: 150, watchdogIntervalMs: 20 });
    const started = c.start();
    await vi.advanceTimersByTimeAsync(1);
    await started;
    let settled = false;
    const result = outcome(c.configure({ eotThreshold: 0.8 })).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(140);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(40);
    expect(settled).toBe(true);
    expect(await result).toMatchObject({ source: "configure-timeout", fatal: false });
    expect(c.state).toBe("open");
    c.destroy();
  });
});
