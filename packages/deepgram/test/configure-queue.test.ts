import { describe, expect, it } from "vitest";
import { ConfigureQueue, configureMessage } from "../src/configure-queue.js";

const settings = {
  model: "flux-general-en",
  eotThreshold: 0.8,
  keyterms: ["a"],
  eotTimeoutMs: 3000,
} as const;
const noop = { resolve: () => {}, reject: () => {} };

describe("ConfigureQueue", () => {
  it("keeps one Configure in flight and builds the next from the latest values", () => {
    const q = new ConfigureQueue(1000);
    q.add(["eotThreshold"], noop);
    expect(q.take(settings, 0)).toEqual({ type: "Configure", thresholds: { eot_threshold: 0.8 } });
    q.add(["keyterms"], noop);
    q.add(["eotTimeoutMs"], noop);
    expect(q.take(settings, 1)).toBeUndefined(); // one in flight
    expect(q.settle()?.keys).toEqual(new Set(["eotThreshold"]));
    expect(q.take({ ...settings, keyterms: ["b"] }, 2)).toEqual({
      type: "Configure",
      thresholds: { eot_timeout_ms: 3000 },
      keyterms: ["b"],
    });
  });

  it("resends what was in flight after a drop, with its waiters first", () => {
    const q = new ConfigureQueue(1000);
    const order: string[] = [];
    q.add(["eotThreshold"], { resolve: () => order.push("first"), reject: () => {} });
    q.take(settings, 0);
    q.add(["numerals"], { resolve: () => order.push("second"), reject: () => {} });
    q.requeue();
    expect(q.take({ ...settings, numerals: true }, 1)).toEqual({
      type: "Configure",
      thresholds: { eot_threshold: 0.8 },
      numerals: true,
    });
    for (const w of q.settle()?.waiters ?? []) w.resolve({} as never);
    expect(order).toEqual(["first", "second"]);
  });

  it("expires an unacknowledged Configure at its deadline", () => {
    const q = new ConfigureQueue(100);
    q.add(["eotThreshold"], noop);
    q.take(settings, 0);
    expect(q.expired(50)).toBeUndefined();
    expect(q.expired(101)?.keys).toEqual(new Set(["eotThreshold"]));
    expect(q.inFlight).toBeUndefined();
  });

  it("keeps an expired Configure for its late answer; the next one is not blocked and gets its own", () => {
    const q = new ConfigureQueue(100);
    q.add(["eotThreshold"], noop);
    q.take(settings, 0);
    expect(q.expired(101)?.expired).toBe(true);
    expect(q.uncertain).toBe(true);
    q.add(["eotTimeoutMs"], noop);
    expect(q.take(settings, 102)).toEqual({
      type: "Configure",
      thresholds: { eot_timeout_ms: 3000 },
    });
    expect(q.settle()?.keys).toEqual(new Set(["eotThreshold"])); // the late answer: its own
    expect(q.uncertain).toBe(false);
    expect(q.settle()?.keys).toEqual(new Set(["eotTimeoutMs"]));
  });

  it("after resync() the next Configure carries every live setting given", () => {
    const q = new ConfigureQueue(100);
    q.resync();
    expect(q.take(settings, 0, ["eotThreshold", "keyterms", "numerals"])).toEqual({
      type: "Configure",
      thresholds: { eot_threshold: 0.8 },
      keyterms: ["a"],
    });
  });

  it("encodes clearing lists as empty arrays", () => {
    expect(configureMessage(new Set(["keyterms", "languageHints"]), {})).toEqual({
      type: "Configure",
      keyterms: [],
      language_hints: [],
    });
  });
});
