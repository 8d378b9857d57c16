import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InterruptionFrame, TTSAudioRawFrame, TTSSpeakFrame, pcmToInt16 } from "@voxpipe/core";
import type { Frame } from "@voxpipe/core";
import { SleepFrame, runProcessorTest, tonePcm } from "@voxpipe/core/testing";
import { DeepgramAuraTTSService } from "../../src/tts/index.js";

/**
 * A fake of Deepgram's `POST /v1/speak` (Aura can't be reached from the test machine): it
 * records each request and streams a tone of `ms` for the requested rate, in odd-sized chunks.
 */
interface SpeakRequest {
  url: string;
  authorization: string | undefined;
  body: string;
  closedEarly: boolean;
}
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function startFakeAura(opts: { ms: number; chunkDelayMs?: number; status?: number }) {
  const requests: SpeakRequest[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const record: SpeakRequest = {
        url: req.url ?? "",
        authorization: req.headers.authorization,
        body,
        closedEarly: false,
      };
      requests.push(record);
      if (opts.status) {
        res.writeHead(opts.status, { "content-type": "application/json" });
        res.end(JSON.stringify({ err_code: "INVALID_AUTH", err_msg: "Invalid credentials." }));
        return;
      }
      const rate = Number(new URL(req.url ?? "", "http://x").searchParams.get("sample_rate"));
      const pcm = tonePcm(300, opts.ms, rate);
      res.writeHead(200, { "content-type": "audio/l16" });
      let offset = 0;
      let done = false;
      res.on("close", () => (record.closedEarly = !done));
      const step = 4801; // odd: splits samples across chunks
      const send = (): void => {
        if (res.destroyed) return;
        res.write(pcm.subarray(offset, offset + step));
        offset += step;
        if (offset < pcm.byteLength) setTimeout(send, opts.chunkDelayMs ?? 0);
        else {
          done = true;
          res.end();
        }
      };
      send();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const audioOf = (frames: Frame[]) =>
  frames.filter((f): f is TTSAudioRawFrame => f instanceof TTSAudioRawFrame);

describe("DeepgramAuraTTSService (against a fake /v1/speak)", () => {
  it("requests linear16 at the pipeline rate with Token auth and streams the audio intact", async () => {
    const aura = await startFakeAura({ ms: 500 });
    const tts = new DeepgramAuraTTSService({
      apiKey: "dg-secret",
      baseUrl: aura.baseUrl,
      settings: { model: "aura-2-andromeda-en" },
    });
    const { down } = await runProcessorTest({
      processor: tts,
      framesToSend: [new TTSSpeakFrame({ text: "Your table is booked." })],
    });
    const url = new URL(aura.requests[0].url, "http://x");
    expect(url.pathname).toBe("/v1/speak");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      model: "aura-2-andromeda-en",
      encoding: "linear16",
      container: "none",
      sample_rate: "24000",
    });
    expect(aura.requests[0].authorization).toBe("Token dg-secret");
    expect(JSON.parse(aura.requests[0].body)).toEqual({ text: "Your table is booked." });
    const audio = audioOf(down);
    const bytes = new Uint8Array(audio.reduce((n, f) => n + f.audio.byteLength, 0));
    audio.reduce((off, f) => (bytes.set(f.audio, off), off + f.audio.byteLength), 0);
    // Reassembled across odd HTTP chunks: sample for sample the tone that was sent.
    expect(Array.from(pcmToInt16(bytes))).toEqual(Array.from(pcmToInt16(tonePcm(300, 500, 24000))));
  });

  it("resamples when the pipeline rate is not one Aura offers", async () => {
    const aura = await startFakeAura({ ms: 400 });
    const tts = new DeepgramAuraTTSService({
      apiKey: "k",
      baseUrl: aura.baseUrl,
      sampleRate: 22050,
    });
    const { down } = await runProcessorTest({
      processor: tts,
      framesToSend: [new TTSSpeakFrame({ text: "Hi." })],
    });
    expect(new URL(aura.requests[0].url, "http://x").searchParams.get("sample_rate")).toBe("24000");
    const seconds = audioOf(down).reduce((s, f) => s + f.durationMs, 0) / 1000;
    expect(audioOf(down).every((f) => f.sampleRate === 22050)).toBe(true);
    expect(seconds).toBeGreaterThan(0.35);
    expect(seconds).toBeLessThanOrEqual(0.41);
  });

  it("cancels the HTTP request on an interruption", async () => {
    const aura = await startFakeAura({ ms: 3000, chunkDelayMs: 40 });
    const tts = new DeepgramAuraTTSService({ apiKey: "k", baseUrl: aura.baseUrl });
    const { down } = await runProcessorTest({
      processor: tts,
      framesToSend: [
        new TTSSpeakFrame({ text: "A long answer." }),
        new SleepFrame(150),
        new InterruptionFrame(),
      ],
    });
    await expect.poll(() => aura.requests[0]?.closedEarly).toBe(true);
    expect(audioOf(down).reduce((s, f) => s + f.durationMs, 0)).toBeLessThan(1500);
  });

  it("reports an HTTP error without the API key, and refuses to start without a key", async () => {
    const aura = await startFakeAura({ ms: 100, status: 401 });
    const tts = new DeepgramAuraTTSService({ apiKey: "dg-secret", baseUrl: aura.baseUrl });
    const { errors } = await runProcessorTest({
      processor: tts,
      framesToSend: [new TTSSpeakFrame({ text: "Hi." })],
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toMatch(/synthesis failed: .*401/);
    expect(errors[0]?.error).not.toContain("dg-secret");
    const saved = process.env.DEEPGRAM_API_KEY;
    delete process.env.DEEPGRAM_API_KEY;
    try {
      expect(() => new DeepgramAuraTTSService()).toThrow(/needs a Deepgram API key/);
    } finally {
      if (saved !== undefined) process.env.DEEPGRAM_API_KEY = saved;
    }
  });
});
