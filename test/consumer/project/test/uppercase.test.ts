import { describe, expect, it } from "vitest";
import { TextFrame, UserStartedSpeakingFrame } from "@voxpipe/core";
import { frameWith, runProcessorTest } from "@voxpipe/core/testing";
import { Uppercase } from "../src/uppercase.js";

describe("a consumer's processor, tested with @voxpipe/core/testing", () => {
  it("upper-cases text and forwards other frames in order", async () => {
    const { down } = await runProcessorTest({
      processor: new Uppercase(),
      framesToSend: [new TextFrame({ text: "hi" }), new UserStartedSpeakingFrame()],
      expectedDown: [frameWith(TextFrame, { text: "HI" }), UserStartedSpeakingFrame],
    });
    expect(down).toHaveLength(2);
  });

  it("reports a mismatch (the kit can fail)", async () => {
    await expect(
      runProcessorTest({
        processor: new Uppercase(),
        framesToSend: [new TextFrame({ text: "hi" })],
        expectedDown: [frameWith(TextFrame, { text: "hi" })],
      }),
    ).rejects.toThrow(/HI/);
  });
});
