/**
 * Reconnection admission: when many sessions of one process lose their connections at once,
 * they reconnect a few at a time (`reconnect.maxConcurrentReconnects`), not all in the same
 * instant. The carrier is a fake by design: it holds each reconnect handshake open until the
 * test lets it finish, which is how the test sees how many are in flight.
 */
import { describe, expect, it } from "vitest";
import { Admission } from "../src/client/admission.js";
import { FluxClient } from "../src/flux-client.js";
import type { Carrier, CarrierHandlers } from "../src/carriers/carrier.js";
import type { FluxEvent } from "../src/events.js";
import { SETTINGS } from "./helpers.js";

describe("Admission", () => {
  it("admits up to its limit, hands a released slot to the first waiter, and drops aborted waiters", async () => {
    const admission = new Admission(2);
    const never = new AbortController().signal;
    const a = await admission.acquire(never);
    const b = await admission.acquire(never);
    const order: string[] = [];
    const c = admission.acquire(never).then((release) => (order.push("c"), release));
    const aborted = new AbortController();
    const d = admission.acquire(aborted.signal);
    const e = admission.acquire(never).then((release) => (order.push("e"), release));
    expect([admission.active, admission.waiting]).toEqual([2, 3]);
    aborted.abort(new Error("client closed"));
    await expect(d).rejects.toThrow("client closed");
    expect(admission.waiting).toBe(2);
    a();
    a(); // idempotent: frees one slot, not two
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect([admission.active, admission.waiting]).toEqual([2, 1]);
    b();
    (await e)();
    releaseC();
    expect([admission.active, admission.waiting]).toEqual([0, 0]);
  });
});

const FIRST = 6;

const CONNECTED = (id: number): string =>
  JSON.stringify({
    type: "Connected",
    request_id: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
    sequence_id: 0,
  });

/** A fake server: the first {@link FIRST} connections open at once; later handshakes wait in `held`. */
function heldCarrier(): {
  carrier: Carrier;
  live: CarrierHandlers[];
  held: (() => void)[];
  inFlight: () => number;
  maxInFlight: () => number;
} {
  const live: CarrierHandlers[] = [];
  const held: (() => void)[] = [];
  let opened = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const carrier: Carrier = (_request, handlers) => {
    const id = ++opened;
    const first = id <= FIRST;
    const connection = {
      sendBinary: () => {},
      sendControl: () => {},
      ping: () => {},
      close: () => {},
      bufferedAmount: 0,
    };
    const open = (): void => {
      live.push(handlers);
      setImmediate(() => handlers.onMessage(CONNECTED(id)));
    };
    if (first) {
      open();
      return Promise.resolve(connection);
    }
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve) =>
      held.push(() => {
        inFlight -= 1;
        open();
        resolve(connection);
      }),
    );
  };
  return { carrier, live, held, inFlight: () => inFlight, maxInFlight: () => maxInFlight };
}

describe("reconnects after a blip that cut every session", () => {
  it("are admitted a few at a time, and every session comes back", async () => {
    const server = heldCarrier();
    const clients = Array.from(
      { length: FIRST },
      () =>
        new FluxClient({
          settings: SETTINGS,
          url: "ws://127.0.0.1:9/admission-test",
          carrier: server.carrier,
          reconnect: { maxConcurrentReconnects: 2 },
        }),
    );
    const connected = clients.map(() => 0);
    clients.forEach((client, i) =>
      client.events$.subscribe((e: FluxEvent) => {
        if (e.type === "Connected") connected[i] = e.connection;
      }),
    );
    await Promise.all(clients.map((c) => c.start()));
    // The blip: every connection closes abnormally at once.
    for (const handlers of server.live.splice(0)) handlers.onClose({ code: 1006, reason: "" });
    await expect.poll(() => server.inFlight()).toBe(2);
    // Two at a time, until all six are back.
    while (connected.some((n) => n < 2)) {
      await expect.poll(() => server.held.length).toBeGreaterThan(0);
      expect(server.inFlight()).toBeLessThanOrEqual(2);
      server.held.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(server.maxInFlight()).toBe(2);
    expect(connected).toEqual(Array<number>(FIRST).fill(2));
    for (const client of clients) client.destroy();
  });

  it("rejects a limit that is not a positive integer, naming the option", () => {
    expect(
      () =>
        new FluxClient({
          settings: SETTINGS,
          url: "ws://127.0.0.1:9",
          reconnect: { maxConcurrentReconnects: 0 },
        }),
    ).toThrow(/reconnect\.maxConcurrentReconnects must be an integer ≥ 1, got 0/);
  });
});
