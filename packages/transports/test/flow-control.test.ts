import { describe, expect, it } from "vitest";
import { InputFlowControl } from "../src/index.js";

describe("InputFlowControl", () => {
  it("holds input that runs too far ahead until the consumer answers", async () => {
    const flow = new InputFlowControl(2);
    const signal = new AbortController().signal;
    await flow.backpressure(1.9, signal); // within reach: immediate
    let released = false;
    const waiting = flow.backpressure(5, signal).then(() => (released = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toBe(false);
    flow.answered(2.5); // 5 − 2.5 > 2: still held
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toBe(false);
    flow.answered(3.2);
    await waiting;
    expect(released).toBe(true);
    expect(flow.answeredSeconds).toBe(3.2);
  });

  it("lets go when the run ends, and validates its window", async () => {
    const flow = new InputFlowControl();
    const controller = new AbortController();
    const waiting = flow.backpressure(60, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(() => new InputFlowControl(0)).toThrow(
      /maxAheadSeconds must be a positive number of seconds, got 0/,
    );
  });
});
