/**
 * The stall timer counts only audio the socket has written out: audio still in its local
 * buffer (`bufferedAmount`, a slow uplink) cannot have reached Flux, so Flux's silence about
 * it is not a stall. The carrier is a fake by design (a socket whose buffer the test drains
 * at will, and a Flux that sends `Connected` and then nothing), on fake timers.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { FluxClient } from "../src/flux-client.js";
import type { Carrier } from "../src/carriers/carrier.js";
import type { FluxEvent } from "../src/events.js";
import { FAST, SETTINGS, speech } from "./helpers.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("FluxClient: stall accounting", () => {
  it("does not count audio still in the socket's buffer as unanswered; counts it once written", async () => {
    vi.useFakeTimers();
    let opens = 0;
    let handed = 0;
    let drained = false;
    const carrier: Carrier = (_request, handlers) => {
      opens++;
      setImmediate(() =>
        handlers.onMessage(`{"type":"Connected","request_id":"r","sequence_id":0}`),
      );
      return Promise.resolve({
        sendBinary: (data) => {
          handed += data.length;
        },
        sendControl: () => {},
        ping: () => {},
        close: () => {},
        // A socket that cannot write until the test says so: everything handed stays buffered.
        get bufferedAmount() {
          return drained ? 0 : handed;
        },
      });
    };
    const c = new FluxClient({
      settings: SETTINGS,
      url: "ws://127.0.0.1:9/v2/listen",
      carrier,
      ...FAST,
      stallTimeoutMs: 400,
      maxBufferedBytes: Number.MAX_SAFE_INTEGER,
    });
    const events: FluxEvent[] = [];
    c.events$.subscribe((e) => events.push(e));
    const started = c.start();
    await vi.advanceTimersByTimeAsync(10);
    await started;

    c.sendAudio(speech(2000));
    await vi.advanceTimersByTimeAsync(2000); // five stall windows with 2 s of audio buffered
    expect(events.filter((e) => e.type === "Reconnecting")).toEqual([]);
    expect(opens).toBe(1);

    drained = true; // written out now; Flux still says nothing: that is a stall
    await vi.advanceTimersByTimeAsync(600);
    expect(events.find((e) => e.type === "Reconnecting")).toMatchObject({
      error: { code: "STALLED" },
    });
    c.destroy();
  });
});
