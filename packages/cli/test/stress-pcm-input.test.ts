import { describe, expect, it } from "vitest";
import { SharedPcmInputTransport } from "../src/stress/pcm-input.js";

/** Exposes the audio the transport would frame and pace, pass by pass. */
class Probe extends SharedPcmInputTransport {
  async first(bytes: number): Promise<number[]> {
    const abort = new AbortController();
    const out: number[] = [];
    for await (const chunk of this.readAudio(this.sampleRate, abort.signal)) {
      out.push(...new Int16Array(chunk.buffer, chunk.byteOffset, chunk.byteLength / 2));
      if (out.length * 2 >= bytes) abort.abort();
    }
    return out.slice(0, bytes / 2);
  }
}

/** 4 s of 16 kHz audio whose sample n holds n / 16 (a ramp that names its own position). */
const RATE = 16000;
const ramp = new Int16Array(4 * RATE).map((_, n) => Math.floor(n / 16));
const audio = new Uint8Array(ramp.buffer);

describe("SharedPcmInputTransport", () => {
  it("starts at the beginning by default and loops back to it", async () => {
    const probe = new Probe({ audio, sampleRate: RATE, loop: true });
    const samples = await probe.first(audio.byteLength + 4);
    expect(samples[0]).toBe(0);
    expect(samples[ramp.length]).toBe(0); // the second pass starts over
  });

  it("starts a staggered connection partway in, then plays the whole file from the start", async () => {
    const probe = new Probe({ audio, sampleRate: RATE, loop: true, startFraction: 0.75 });
    const samples = await probe.first(audio.byteLength);
    expect(samples[0]).toBe(ramp[3 * RATE]); // 3 s into the 4 s file
    expect(samples[RATE - 1]).toBe(ramp[ramp.length - 1]); // the rest of the first pass
    expect(samples[RATE]).toBe(0); // then from the beginning
    expect(samples[RATE + 2 * RATE]).toBe(ramp[2 * RATE]);
  });

  it("refuses a start outside the file", () => {
    expect(() => new Probe({ audio, sampleRate: RATE, startFraction: 1 })).toThrow(
      /startFraction: 1 is not in \[0, 1\)/,
    );
  });
});
