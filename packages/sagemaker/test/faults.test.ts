import { afterEach, describe, expect, it } from "vitest";
import type { FluxError, FluxEvent } from "@voxpipe/deepgram";
import type { StreamFaults } from "../src/local-endpoint/index.js";
import {
  conversation,
  finals,
  record,
  rig,
  sleep,
  stream,
  turnsHeard,
  TRANSCRIPTS,
  type Rig,
} from "./helpers.js";

/** Every utterance of the 3-turn conversation ended exactly once, by Flux, in order. */
const EVERY_TURN_ONCE: [number, number][] = [
  [0, 0],
  [1, 1],
  [2, 2],
];

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

/** Streams the 3-turn conversation with `faults` on the first stream; returns every event. */
async function runWith(faults: StreamFaults): Promise<FluxEvent[]> {
  r = await rig({ streamFaults: (i) => (i === 0 ? faults : undefined) });
  const c = r.client();
  const events = record(c);
  await c.start().catch(() => {});
  await stream(c, conversation(3));
  await c.close();
  const all = await events;
  expect(all.every((e) => e.type !== "EndOfTurn" || !e.synthetic)).toBe(true);
  return all;
}

const connections = (events: FluxEvent[]): number =>
  events.filter((e) => e.type === "Connected").length;

describe("faults on the SageMaker path recover without losing or duplicating a turn", () => {
  it("424 ModelError at open (the container refused): retried with backoff", async () => {
    const events = await runWith({ refuse: 424 });
    expect(finals(events)).toEqual(TRANSCRIPTS);
    expect(turnsHeard(events)).toEqual(EVERY_TURN_ONCE);
    const retry = events.find((e) => e.type === "Reconnecting");
    expect(retry?.type === "Reconnecting" && retry.error.code).toBe("ModelError");
    expect(r!.endpoint.counters().refused).toBe(1);
  });

  it("ModelStreamError mid-stream: reconnect and replay", async () => {
    const events = await runWith({ modelStreamErrorAfterMs: 900 });
    expect(turnsHeard(events)).toEqual(EVERY_TURN_ONCE);
    expect(connections(events)).toBe(2);
    const lost = events.find((e) => e.type === "Reconnecting");
    expect(lost?.type === "Reconnecting" && lost.error.code).toBe("ModelStreamError");
  });

  it("HTTP/2 stream reset mid-stream: reconnect and replay", async () => {
    const events = await runWith({ resetAfterMs: 900 });
    expect(turnsHeard(events)).toEqual(EVERY_TURN_ONCE);
    expect(connections(events)).toBe(2);
  });

  it("slow reads (backpressure) delay but lose nothing", async () => {
    const events = await runWith({ slowReadMs: 5 });
    expect(finals(events)).toEqual(TRANSCRIPTS);
    expect(turnsHeard(events)).toEqual(EVERY_TURN_ONCE);
    expect(connections(events)).toBe(1);
  });

  it("the stream cap is met by a planned renewal at a turn boundary, never inside a turn", async () => {
    r = await rig();
    // A 1.2 s cap renewed from 0.6 s on: several renewals over the conversation.
    const c = r.client({}, { maxStreamMs: 1200, renewMarginMs: 600 });
    const events = record(c);
    await c.start();
    await stream(c, conversation(3), 2);
    await c.close();
    const all = await events;
    expect(turnsHeard(all)).toEqual(EVERY_TURN_ONCE);
    expect(connections(all)).toBeGreaterThan(1);
    // Renewals are planned: no Reconnecting (error) event, no turn cut by a lost connection.
    expect(all.some((e) => e.type === "Reconnecting")).toBe(false);
    expect(all.some((e) => e.type === "EndOfTurn" && e.trigger === "connection-lost")).toBe(false);
  });

  it("keeps an idle stream alive with silence (no ping on this path)", async () => {
    r = await rig();
    const c = r.client({ pingIntervalMs: 100 });
    await c.start();
    const before = r.endpoint.counters().eventsVerified;
    await sleep(600);
    expect(r.endpoint.counters().eventsVerified - before).toBeGreaterThanOrEqual(3);
    expect(c.metrics.silenceSecondsInjected).toBeGreaterThan(0);
    expect(c.state).toBe("open");
    await c.close();
  });

  it("an unknown endpoint is a permanent 400, not retried", async () => {
    r = await rig({ endpointNames: ["another-endpoint"] });
    const c = r.client();
    const error = (await c.start().catch((e: unknown) => e)) as FluxError;
    expect(error.kind).toBe("permanent");
    expect(error.status).toBe(400);
    expect(error.code).toBe("InputValidationError");
    expect(r.endpoint.counters().requests).toBe(1);
  });
});
