/**
 * Live test against Deepgram's hosted Flux. Runs only when `DEEPGRAM_API_KEY` is set;
 * otherwise vitest lists it as skipped (the suite name says why).
 * Audio: pocketsphinx-testdata's `goforward.raw` (16 kHz PCM s16le, "go forward ten meters").
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FluxClient } from "../src/flux-client.js";
import type { FluxEndOfTurnEvent } from "../src/events.js";

const KEY = process.env.DEEPGRAM_API_KEY;
const AUDIO = "/usr/share/pocketsphinx/test/data/goforward.raw";

describe.skipIf(KEY === undefined || KEY === "")(
  "live Deepgram Flux (skipped: set DEEPGRAM_API_KEY to run)",
  () => {
    it("transcribes a real utterance, applies a Configure and closes gracefully", async () => {
      expect(existsSync(AUDIO), `${AUDIO} (apt package pocketsphinx-testdata)`).toBe(true);
      const speech = readFileSync(AUDIO);
      const client = new FluxClient({
        settings: {
          model: "flux-general-en",
          encoding: "linear16",
          sampleRate: 16000,
          eotTimeoutMs: 3000,
        },
      });
      const finals: FluxEndOfTurnEvent[] = [];
      client.events$.subscribe((e) => {
        if (e.type === "EndOfTurn") finals.push(e);
      });
      await client.start();
      const configured = await client.configure({ eotThreshold: 0.75, keyterms: ["forward"] });
      expect(configured.eotThreshold).toBeCloseTo(0.75, 5);
      const audio = Buffer.concat([Buffer.alloc(16000), speech, Buffer.alloc(32000 * 2)]);
      for (let off = 0; off < audio.length; off += 2560) {
        client.sendAudio(audio.subarray(off, off + 2560));
        await new Promise((r) => setTimeout(r, 20)); // ~4× real time
      }
      await client.close();
      expect(finals.length).toBeGreaterThanOrEqual(1);
      expect(finals.map((f) => f.transcript).join(" ")).toMatch(/forward/i);
      expect(client.metrics.reconnects).toBe(0);
    }, 30_000);
  },
);
