/**
 * A failed run is never silent and never crashes the host (issue 10): events$ ends with a
 * terminal Error event instead of erroring into subscribers, a throwing subscriber is
 * contained, the first connection fails fast naming its cause, and the async iterator's
 * return() wakes a pending next().
 */
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import { config } from "rxjs";
import { FluxClient } from "../src/flux-client.js";
import { wsCarrier } from "../src/carriers/ws.js";
import { sdkCarrier } from "../src/carriers/sdk.js";
import type { FluxEvent } from "../src/events.js";
import { SETTINGS, TRANSCRIPTS, conversation, endOfTurns, server, stream } from "./helpers.js";

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("events$ never errors", () => {
  it("the README pattern with a refused key: a terminal Error event, completion, no crash", async () => {
    const s = await server([{ faults: { refuseHandshake: { status: 401 } } }], { apiKey: "right" });
    open.push(s);
    const flux = new FluxClient({ settings: SETTINGS, url: s.url, apiKey: "wrong" });
    const seen: FluxEvent[] = [];
    // No error handler, as in the README: an errored observable would rethrow on a timer.
    flux.events$.subscribe((e) => seen.push(e));
    const completed = new Promise<void>((r) => flux.events$.subscribe({ complete: r }));
    await expect(flux.start()).rejects.toMatchObject({ status: 401, fatal: true });
    await completed;
    expect(seen.at(-1)).toMatchObject({ type: "Error", error: { status: 401, fatal: true } });
    expect(flux.state).toBe("failed");
  });

  it("a subscriber that throws is logged and ignored: the others still get every turn", async () => {
    const s = await server();
    open.push(s);
    const flux = new FluxClient({ settings: SETTINGS, url: s.url, carrier: wsCarrier });
    open.push({ close: () => flux.destroy() });
    // What RxJS would rethrow on a timer (and crash Node with) lands here instead.
    const unhandled: unknown[] = [];
    config.onUnhandledError = (e) => unhandled.push(e);
    open.push({ close: () => (config.onUnhandledError = null) });
    let thrown = 0;
    flux.events$.subscribe(() => {
      thrown++;
      throw new Error("a bug in the user's handler");
    });
    // Derived observables (pipe) are guarded too.
    flux.events$.pipe().subscribe(() => {
      throw new Error("another bug");
    });
    const done = endOfTurns(flux.events$, 2);
    await flux.start();
    await stream(flux, conversation(2));
    const finals = await done;
    expect(finals.map((e) => e.transcript)).toEqual(TRANSCRIPTS.slice(0, 2));
    expect(thrown).toBeGreaterThan(3);
    expect(unhandled).toEqual([]);
    await flux.close();
  });

  it("the async iterator's return() wakes a pending next()", async () => {
    const s = await server();
    open.push(s);
    const flux = new FluxClient({ settings: SETTINGS, url: s.url });
    open.push({ close: () => flux.destroy() });
    const it = flux[Symbol.asyncIterator]();
    const pending = it.next();
    await it.return?.();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
  });
});

describe("the first connection fails fast, naming the cause", () => {
  for (const [name, carrier] of [
    ["ws", wsCarrier],
    ["sdk", sdkCarrier],
  ] as const) {
    it(`${name}: a closed port → ECONNREFUSED with the address, after a few attempts`, async () => {
      const port = await closedPort();
      const flux = new FluxClient({
        settings: SETTINGS,
        url: `ws://127.0.0.1:${port}/v2/listen`,
        carrier,
        reconnect: { minDelayMs: 10, maxDelayMs: 50 },
      });
      const events: FluxEvent[] = [];
      flux.events$.subscribe((e) => events.push(e));
      const error = await flux.start().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ECONNREFUSED", fatal: true, source: "exhausted" });
      expect(String((error as Error).message)).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
      expect(events.filter((e) => e.type === "Reconnecting")).toHaveLength(3);
      expect(events.at(-1)).toMatchObject({ type: "Error", error: { code: "ECONNREFUSED" } });
    });
  }

  it("an unknown host → ENOTFOUND naming the host", async () => {
    const flux = new FluxClient({
      settings: SETTINGS,
      url: "ws://voxpipe-no-such-host.invalid/v2/listen",
      apiKey: "k",
      carrier: wsCarrier,
      reconnect: { minDelayMs: 10, maxDelayMs: 50 },
    });
    const error = await flux.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) as unknown });
    expect(String((error as Error).message)).toContain("voxpipe-no-such-host.invalid");
  });

  it("a server that accepts TCP but never answers: bounded by firstConnectTimeoutMs", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    open.push({
      close: () => {
        for (const s of sockets) s.destroy();
        return new Promise<void>((r) => silent.close(() => r()));
      },
    });
    const port = (silent.address() as { port: number }).port;
    const flux = new FluxClient({
      settings: SETTINGS,
      url: `ws://127.0.0.1:${port}`,
      carrier: wsCarrier,
      connectTimeoutMs: 60_000,
      reconnect: { firstConnectTimeoutMs: 300 },
    });
    const started = performance.now();
    const error = await flux.start().catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ code: "CONNECT_TIMEOUT", fatal: true });
  });
});

describe("a refused handshake names the HTTP status and Flux's dg-error text", () => {
  for (const [name, carrier] of [
    ["ws", wsCarrier],
    ["sdk", sdkCarrier],
  ] as const) {
    it(`${name}: 400 with dg-error → a fatal error carrying both`, async () => {
      const s = await server([
        { faults: { refuseHandshake: { status: 400, message: "model not supported" } } },
      ]);
      open.push(s);
      const flux = new FluxClient({ settings: SETTINGS, url: s.url, carrier });
      const error = await flux.start().catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 400, fatal: true, description: "model not supported" });
      expect(String((error as Error).message)).toMatch(/400/);
      expect(String((error as Error).message)).toContain("model not supported");
    });
  }
});
