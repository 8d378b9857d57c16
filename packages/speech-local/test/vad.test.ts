import { describe, expect, it } from "vitest";
import { FramedVad, SileroVad, SpeechActivity, WebRtcVad } from "../src/index.js";
import { fixture, fixtureAudio } from "./fixtures.js";
import type { VoiceActivityDetector } from "../src/index.js";

/** Speech segments [start, end] (s) found by `detector` with the default hysteresis. */
async function segments(
  detector: VoiceActivityDetector,
  name: string,
): Promise<Array<[number, number]>> {
  const vad = new FramedVad(detector);
  const activity = new SpeechActivity();
  const found: Array<[number, number]> = [];
  const pcm = await fixtureAudio(name);
  for (const f of await vad.push(pcm)) {
    const was = activity.speaking;
    activity.update(f.start, f.end, f.probability);
    if (!was && activity.speaking) found.push([activity.speechStart!, f.end]);
    if (activity.speaking) found.at(-1)![1] = f.end;
  }
  await detector.close();
  return found;
}

describe.each([
  ["Silero v5", () => SileroVad.create("v5")],
  ["WebRTC", () => Promise.resolve(new WebRtcVad())],
])("%s VAD on real speech", (_name, make) => {
  it("finds each LibriVox turn, with onset and offset within 350 ms of the labels", async () => {
    const label = await fixture("librivox_conversation");
    const found = await segments(await make(), label.name);
    // Merge segments split by short in-sentence pauses (< 300 ms) before comparing with turns.
    const merged: Array<[number, number]> = [];
    for (const s of found) {
      const last = merged.at(-1);
      if (last && s[0] - last[1] < 0.3) last[1] = s[1];
      else merged.push([...s]);
    }
    expect(merged).toHaveLength(label.turns.length);
    merged.forEach(([start, end], i) => {
      expect(Math.abs(start - label.turns[i].start)).toBeLessThan(0.35);
      expect(Math.abs(end - label.turns[i].end)).toBeLessThan(0.35);
    });
  });
});

describe("FramedVad", () => {
  it("rejects frames of the wrong size with the allowed size in the message", async () => {
    const vad = new WebRtcVad();
    await expect(vad.process(new Int16Array(100))).rejects.toThrow("exactly 480 samples");
  });

  it("keeps stream time across odd-sized chunks", async () => {
    const vad = new FramedVad(new WebRtcVad());
    const a = await vad.push(new Int16Array(700));
    const b = await vad.push(new Int16Array(700));
    expect(a.map((f) => f.start)).toEqual([0]);
    expect(b.map((f) => f.start)).toEqual([0.03]); // 220 carried + 700 = one 480-sample frame
  });
});

describe("Silero detectors sharing one onnxruntime session", () => {
  it("keep their own state: interleaved streams get the probabilities each gets alone, and closing one leaves the others working", async () => {
    const speech = await fixtureAudio("librivox_conversation");
    const other = await fixtureAudio("flite_three_turns");
    const frames = (pcm: Int16Array, n: number): Int16Array[] =>
      Array.from({ length: n }, (_, i) => pcm.subarray(i * 512, (i + 1) * 512));
    const a = frames(speech, 120);
    const b = frames(other, 120);

    const alone = await SileroVad.create();
    const aloneProbs: number[] = [];
    for (const f of a) aloneProbs.push(await alone.process(f));
    await alone.close();

    const [x, y, z] = await Promise.all([
      SileroVad.create(),
      SileroVad.create(),
      SileroVad.create(),
    ]);
    await z.close(); // a closed detector must not release the session the others use
    const xProbs: number[] = [];
    for (let i = 0; i < a.length; i++) {
      // Concurrent runs of two streams on the shared session, in the order a server makes them.
      const [p] = await Promise.all([x.process(a[i]), y.process(b[i])]);
      xProbs.push(p);
    }
    expect(xProbs.some((p) => p > 0.5)).toBe(true);
    xProbs.forEach((p, i) => expect(p).toBeCloseTo(aloneProbs[i], 5));
    await Promise.all([x.close(), y.close()]);
  });
});
