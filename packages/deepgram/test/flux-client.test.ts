/**
 * FluxClient against the local Flux server over a real socket (scripted engine in
 * energy mode: a tone is speech, silence is a pause; fault injection per handshake).
 * One scenario per behaviour of issue #5.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FluxSettingsError, type ClientMessage } from "@voxpipe/flux-protocol";
import { OVERLOAD_UPDATE_EVERY_MS, type FluxServer } from "@voxpipe/flux-server";
import { FluxClient } from "../src/flux-client.js";
import { FluxError } from "../src/errors.js";
import { wsCarrier } from "../src/carriers/ws.js";
import { sdkCarrier } from "../src/carriers/sdk.js";
import type { FluxEndOfTurnEvent, FluxEvent } from "../src/events.js";
import {
  SETTINGS,
  TRANSCRIPTS,
  client,
  conversation,
  endOfTurns,
  pause,
  record,
  recordingCarrier,
  server,
  sleep,
  slowScriptedEngine,
  speech,
  stream,
} from "./helpers.js";

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function serve(
  ...args: Parameters<typeof server>
): Promise<Awaited<ReturnType<typeof server>>> {
  const s = await server(...args);
  open.push(s);
  return s;
}
function track(c: FluxClient): FluxClient {
  open.push({ close: () => c.destroy() });
  return c;
}
const finals = (events: FluxEvent[]): FluxEndOfTurnEvent[] =>
  events.filter((e): e is FluxEndOfTurnEvent => e.type === "EndOfTurn");
const turnTypes = (events: FluxEvent[]): string[] =>
  events
    .filter((e) => e.type !== "Update" && "turnIndex" in e)
    .map((e) => `${e.type}#${(e as FluxEndOfTurnEvent).turnIndex}`);

describe("FluxClient: turns", () => {
  it("reports every turn in Flux order, with continuous indices and audio times", async () => {
    const s = await serve();
    const c = track(client(s.url));
    const all = record(c);
    const done = endOfTurns(c.events$, 3);
    await c.start();
    await stream(c, conversation(3));
    await done;
    await c.close();
    const events = await all;
    expect(turnTypes(events)).toEqual([
      "StartOfTurn#0",
      "EndOfTurn#0",
      "StartOfTurn#1",
      "EndOfTurn#1",
      "StartOfTurn#2",
      "EndOfTurn#2",
    ]);
    expect(finals(events).map((e) => e.transcript)).toEqual(TRANSCRIPTS);
    const interims = events.filter((e) => e.type === "Update" && e.transcript !== "");
    expect(interims.length).toBeGreaterThan(3);
    const ends = events
      .filter((e) => "audioWindowEnd" in e)
      .map((e) => (e as FluxEndOfTurnEvent).audioWindowEnd);
    expect(ends).toEqual([...ends].sort((a, b) => a - b)); // audio time only moves forward
    expect(finals(events)[0]?.metrics.endOfSpeechToEndOfTurnAudioMs).toBeGreaterThan(0);
    expect(c.metrics.audioSecondsSent).toBeCloseTo(conversation(3).length / 32000, 1);
  });

  it("does not hold on to audio: the replay buffer is trimmed as Flux confirms it", async () => {
    const s = await serve();
    const c = track(client(s.url));
    const done = endOfTurns(c.events$, 6);
    await c.start();
    await stream(c, conversation(6)); // 16.5 s of audio
    await done;
    await sleep(100);
    // what is left: the replay margin (1 s) plus audio Flux has not answered yet
    expect(c.metrics.bufferedSeconds).toBeLessThan(1.6);
    await c.close();
  });

  it("works the same over the raw ws carrier, and as an async iterator", async () => {
    const s = await serve();
    const c = track(client(s.url, { carrier: wsCarrier }));
    const iterator = c[Symbol.asyncIterator]();
    await c.start();
    await stream(c, conversation(1));
    const seen: FluxEvent[] = [];
    for (;;) {
      const result: IteratorResult<FluxEvent> = await iterator.next();
      if (result.done === true) break;
      seen.push(result.value);
      if (result.value.type === "EndOfTurn") break;
    }
    await c.close();
    expect(finals(seen).map((e) => e.transcript)).toEqual([TRANSCRIPTS[0]]);
  });
});

describe("FluxClient: settings are validated before connecting", () => {
  it("names the field, the value and the allowed range, and opens no connection", async () => {
    const s = await serve();
    expect(() => client(s.url, { settings: { ...SETTINGS, eotThreshold: 0.2 } })).toThrow(
      FluxSettingsError,
    );
    expect(() =>
      client(s.url, { settings: { ...SETTINGS, eagerEotThreshold: 0.9, eotThreshold: 0.6 } }),
    ).toThrow(/eager_eot_threshold=0.9 is greater than eot_threshold/);
    expect(() => client(s.url, { settings: { ...SETTINGS, eotThreshold: 0.2 } })).toThrow(
      /eot_threshold=0.2 is out of range: allowed a number (from )?0.5\D+1/,
    );
    expect(() => client(s.url, { settings: { ...SETTINGS, languageHints: ["es"] } })).toThrow(
      /language_hint/,
    );
    expect(
      () => new FluxClient({ settings: SETTINGS, url: "wss://api.deepgram.com", apiKey: "" }),
    ).toThrow(/apiKey/);
    await sleep(50);
    expect(s.counters().sessions + s.counters().refused).toBe(0);
  });

  it("never puts keyterms or the key in an error", async () => {
    const s = await serve([], { apiKey: "right-key" });
    const c = track(
      client(s.url, {
        apiKey: "wrong-key-123",
        settings: { ...SETTINGS, keyterms: ["secret-term"] },
      }),
    );
    const error = await c.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(error)).not.toMatch(/secret-term|wrong-key-123|keyterm=/);
  });

  it("removes keyterms and query strings from a provider's error text", async () => {
    const message = "bad keyterm secret-term in wss://x.test/v2/listen?keyterm=secret-term";
    const s = await serve([{ faults: { refuseHandshake: { status: 400, message } } }]);
    const settings = { ...SETTINGS, keyterms: ["secret-term"] };
    const c = track(client(s.url, { carrier: wsCarrier, settings }));
    const error = await c.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      status: 400,
      description: "bad keyterm … in wss://x.test/v2/listen?…",
    });
  });
});

describe("FluxClient: errors and reconnection", () => {
  it("401 is fatal at once: one error, no retry", async () => {
    const s = await serve([], { apiKey: "right-key" });
    const c = track(client(s.url, { apiKey: "wrong-key" }));
    const all = record(c);
    const error = await c.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FluxError);
    expect(error).toMatchObject({ status: 401, kind: "permanent", fatal: true });
    await sleep(150);
    expect(s.counters().refused).toBe(1);
    expect(c.state).toBe("failed");
    expect((await all).filter((e) => e.type === "Reconnecting")).toHaveLength(0);
  });

  it("400 is fatal at once, with the provider's description (ws carrier)", async () => {
    const s = await serve([
      { faults: { refuseHandshake: { status: 400, message: "model not supported" } } },
    ]);
    const c = track(client(s.url, { carrier: wsCarrier }));
    const error = await c.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      status: 400,
      kind: "permanent",
      description: "model not supported",
    });
    await sleep(150);
    expect(s.attempts).toHaveLength(1);
  });

  it("recovers a drop in the middle of a turn: every turn transcribed once, indices and times continuous", async () => {
    // Session 1 drops 1.0 s into the second utterance; session 2 hears the replayed audio
    // from the cut turn's start, so its first segment is the second transcript.
    const s = await serve([
      { faults: { drop: { afterAudioSeconds: 0.3 + 1.2 + 1.5 + 1.0 } } },
      { engineOptions: { transcripts: TRANSCRIPTS.slice(1) } },
    ]);
    const c = track(client(s.url));
    const all = record(c);
    const done = endOfTurns(c.events$, 3);
    await c.start();
    await stream(c, conversation(3));
    await done;
    await c.close();
    const events = await all;
    expect(finals(events).map((e) => [e.turnIndex, e.transcript, e.synthetic])).toEqual([
      [0, TRANSCRIPTS[0], false],
      [1, TRANSCRIPTS[1], false],
      [2, TRANSCRIPTS[2], false],
    ]);
    expect(turnTypes(events).filter((t) => t.startsWith("StartOfTurn"))).toEqual([
      "StartOfTurn#0",
      "StartOfTurn#1",
      "StartOfTurn#2",
    ]);
    expect(c.metrics.reconnects).toBe(1);
    expect(c.metrics.audioSecondsReplayed).toBeGreaterThan(0);
    const connected = events.filter((e) => e.type === "Connected");
    expect(connected).toHaveLength(2);
    // The last turn ends on the continuous timeline (≈ 0.3 + 3 × (1.2 + 1.5) s minus the end pause), not on the 2nd connection's.
    const last = finals(events)[2];
    expect(last?.audioWindowEnd).toBeGreaterThan(0.3 + 2 * 2.7 + 1.2);
  });

  it("closes a cut turn that the new connection does not re-open, instead of leaving it open", async () => {
    // Session 2 hears nothing (its speech threshold is above the tone's level).
    const s = await serve([
      { faults: { drop: { afterAudioSeconds: 0.3 + 1.0 } } },
      { engineOptions: { energyThresholdDbfs: -1 } },
    ]);
    const c = track(client(s.url));
    const all = record(c);
    const end = endOfTurns(c.events$, 1);
    await c.start();
    await stream(c, Buffer.concat([pause(300), speech(1500), pause(2500)]));
    const [final] = await end;
    expect(final).toMatchObject({ turnIndex: 0, trigger: "connection-lost", synthetic: true });
    expect(final?.transcript.length).toBeGreaterThan(0); // what Flux had transcribed before the drop
    expect(c.turnOpen).toBe(false);
    await c.close();
    expect(finals(await all)).toHaveLength(1);
  });

  it("detects a stall (audio flows, nothing comes back) and recovers on a new connection", async () => {
    const s = await serve([
      { faults: { stall: { afterAudioSeconds: 0.3 + 1.2 + 1.5 + 0.2 } } },
      { engineOptions: { transcripts: TRANSCRIPTS.slice(1) } },
    ]);
    const c = track(client(s.url));
    const all = record(c);
    const done = endOfTurns(c.events$, 2);
    await c.start();
    await stream(c, conversation(2), { realtime: false });
    await done;
    await c.close();
    const events = await all;
    const reconnecting = events.find((e) => e.type === "Reconnecting");
    expect(reconnecting).toMatchObject({ error: { source: "stall", code: "STALLED" } });
    expect(finals(events).map((e) => e.transcript)).toEqual(TRANSCRIPTS.slice(0, 2));
  });

  it("a fatal server Error of a retryable kind reconnects; a protocol error is permanent", async () => {
    const s = await serve([
      { faults: { fatalError: { afterAudioSeconds: 0.5 } } },
      {
        faults: {
          fatalError: {
            afterAudioSeconds: 0.5,
            code: "UNPARSABLE_CLIENT_MESSAGE",
            description: "bad",
          },
        },
      },
    ]);
    const c = track(client(s.url));
    const all = record(c);
    await c.start();
    await stream(c, conversation(2));
    const events = await all;
    expect(events.find((e) => e.type === "Reconnecting")).toMatchObject({
      error: { code: "INTERNAL_SERVER_ERROR" },
    });
    expect(c.state).toBe("failed");
    expect(s.attempts).toHaveLength(2);
  });
});

describe("FluxClient: watchdog", () => {
  it("streams silence while a turn is open and input stopped, so Flux ends the turn", async () => {
    const s = await serve();
    const c = track(client(s.url));
    const end = endOfTurns(c.events$, 1);
    await c.start();
    await stream(c, Buffer.concat([pause(300), speech(1000)])); // input stops mid-turn
    const [final] = await end;
    expect(final?.transcript).toBe(TRANSCRIPTS[0]);
    expect(final?.synthetic).toBe(false);
    expect(c.metrics.silenceSecondsInjected).toBeGreaterThan(0.3);
    await c.close();
  });
});

describe("FluxClient: Configure", () => {
  it("applies live settings with one Configure and reports the active configuration", async () => {
    const sent: ClientMessage[] = [];
    const s = await serve();
    const c = track(client(s.url, { carrier: recordingCarrier(sdkCarrier, sent) }));
    await c.start();
    const configuration = await c.configure({ eotThreshold: 0.8, keyterms: ["voxpipe"] });
    expect(configuration).toMatchObject({ eotThreshold: 0.8, keyterms: ["voxpipe"] });
    expect(c.settings.eotThreshold).toBe(0.8);
    expect(sent).toEqual([
      { type: "Configure", thresholds: { eot_threshold: 0.8 }, keyterms: ["voxpipe"] },
    ]);
    await c.close();
  });

  it("keeps one Configure in flight and coalesces later changes into the next", async () => {
    const sent: ClientMessage[] = [];
    const s = await serve([{ faults: { configureDelayMs: 150 } }]);
    const c = track(client(s.url, { carrier: recordingCarrier(sdkCarrier, sent) }));
    await c.start();
    const results = await Promise.all([
      c.configure({ eotThreshold: 0.75 }),
      c.configure({ eotTimeoutMs: 3000 }),
      c.configure({ eotThreshold: 0.8, keyterms: ["a"] }),
    ]);
    expect(sent.filter((m) => m.type === "Configure")).toEqual([
      { type: "Configure", thresholds: { eot_threshold: 0.75 } },
      {
        type: "Configure",
        thresholds: { eot_threshold: 0.8, eot_timeout_ms: 3000 },
        keyterms: ["a"],
      },
    ]);
    expect(results[2]).toMatchObject({ eotThreshold: 0.8, eotTimeoutMs: 3000, keyterms: ["a"] });
    await c.close();
  });

  it("surfaces ConfigureFailure as a non-fatal error with Flux's code; previous settings stay", async () => {
    const s = await serve([
      { faults: { configureRefusal: { code: "INVALID_THRESHOLD", description: "nope" } } },
    ]);
    const c = track(client(s.url));
    const all = record(c);
    await c.start();
    const error = await c.configure({ eotThreshold: 0.9 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      source: "configure",
      code: "INVALID_THRESHOLD",
      description: "nope",
    });
    expect(c.settings.eotThreshold).toBeUndefined();
    expect(c.configuration.eotThreshold).toBe(0.7);
    expect(c.state).toBe("open");
    // the stream goes on
    const end = endOfTurns(c.events$, 1);
    await stream(c, conversation(1));
    expect((await end)[0]?.transcript).toBe(TRANSCRIPTS[0]);
    await c.close();
    expect((await all).filter((e) => e.type === "Error")).toHaveLength(1);
  });

  it("rejects invalid live settings before sending anything", async () => {
    const sent: ClientMessage[] = [];
    const s = await serve();
    const c = track(client(s.url, { carrier: recordingCarrier(sdkCarrier, sent) }));
    await c.start();
    await expect(c.configure({ eagerEotThreshold: 0.95 })).rejects.toThrow(
      /eager_eot_threshold=0.95 is out of range/,
    );
    expect(sent).toHaveLength(0);
    await c.close();
  });

  it("applies a model change made while the first connection is still opening", async () => {
    const s = await serve();
    const c = track(client(s.url));
    const started = c.start();
    const switched = c.configure({ model: "flux-general-multi" });
    await started;
    await switched;
    expect(c.settings.model).toBe("flux-general-multi");
    expect(s.attempts.at(-1)?.settings?.model).toBe("flux-general-multi");
    await c.close();
  });

  it("switches model on a new connection at the next turn boundary, losing no audio", async () => {
    const s = await serve([undefined, { engineOptions: { transcripts: TRANSCRIPTS.slice(1) } }]);
    const c = track(client(s.url));
    const all = record(c);
    const done = endOfTurns(c.events$, 2);
    await c.start();
    await stream(c, Buffer.concat([pause(300), speech(600)]));
    await new Promise<void>((resolve) => {
      const sub = c.events$.subscribe((e) => {
        if (e.type === "StartOfTurn") {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    const switched = c.configure({ model: "flux-general-multi" });
    await stream(c, Buffer.concat([speech(600), pause(1500), speech(1200), pause(1500)]));
    await switched;
    await done;
    await c.close();
    const events = await all;
    expect(finals(events).map((e) => [e.turnIndex, e.transcript])).toEqual([
      [0, TRANSCRIPTS[0]],
      [1, TRANSCRIPTS[1]],
    ]);
    expect(s.attempts.map((a) => a.settings?.model)).toEqual([
      "flux-general-en",
      "flux-general-multi",
    ]);
    expect(c.settings.model).toBe("flux-general-multi");
  });
});

describe("FluxClient: ending turns and closing", () => {
  it("forceEndTurn ends the open turn with trigger manual", async () => {
    const s = await serve();
    const c = track(client(s.url));
    const end = endOfTurns(c.events$, 1);
    await c.start();
    const started = new Promise<void>((resolve) => {
      const sub = c.events$.subscribe((e) => {
        if (e.type === "StartOfTurn") {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    await stream(c, Buffer.concat([pause(300), speech(800)]));
    await started;
    c.forceEndTurn();
    const [final] = await end;
    expect(final?.trigger).toBe("manual");
    await c.close();
  });

  it("close() while still connecting waits for the connection and transcribes the buffered audio", async () => {
    const s = await serve([{ faults: { refuseHandshake: { status: 503 } } }]);
    const c = track(client(s.url, { silenceAfterMs: 10_000 }));
    const all = record(c);
    const started = c.start();
    await stream(c, Buffer.concat([pause(300), speech(1000)])); // sent before any connection is open
    await c.close();
    await started;
    const [final] = finals(await all);
    expect(final).toMatchObject({
      transcript: TRANSCRIPTS[0],
      trigger: "manual",
      synthetic: false,
    });
    expect(s.attempts).toHaveLength(2);
  });

  it("close() waits for a lagging Flux that keeps answering, beyond closeTimeoutMs", async () => {
    // Flux hears at half real time: 2.3 s of audio sent in a burst is answered ~4.6 s later,
    // far beyond closeTimeoutMs (2000 ms here) — yet Flux keeps sending Updates meanwhile.
    // Behind real time, the server sends an Update at most every OVERLOAD_UPDATE_EVERY_MS
    // (1 s), so the close bound must be longer than that (the default, 3000 ms, is).
    const s = await serve([], { engine: slowScriptedEngine(2) });
    const closeTimeoutMs = 2 * OVERLOAD_UPDATE_EVERY_MS;
    const c = track(
      client(s.url, { silenceAfterMs: 10_000, stallTimeoutMs: 3000, closeTimeoutMs }),
    );
    const all = record(c);
    await c.start();
    await stream(c, Buffer.concat([pause(300), speech(2000)]));
    await c.close();
    const [final] = finals(await all);
    expect(final).toMatchObject({
      transcript: TRANSCRIPTS[0],
      trigger: "manual",
      synthetic: false,
    });
  });

  it("close() ends the open turn and yields its final transcript before completing", async () => {
    const s = await serve();
    const c = track(client(s.url, { silenceAfterMs: 10_000 }));
    const all = record(c);
    await c.start();
    await stream(c, Buffer.concat([pause(300), speech(1000)]));
    await sleep(100);
    await c.close();
    const events = await all;
    const [final] = finals(events);
    expect(final?.transcript).toBe(TRANSCRIPTS[0]);
    expect(final?.trigger).toBe("manual");
    expect(c.state).toBe("closed");
  });
});

export type { FluxServer };
