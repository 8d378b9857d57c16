/**
 * Real backpressure end to end (issue 10): a WAV file read faster than real time, with no
 * hand-wired flow control, is held back by the Flux STT through the pipeline's own
 * whenWritable path, so Flux (a deliberately slow local engine) is never more than the
 * client's `maxAheadSeconds` behind, and every turn is still transcribed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pipeline, PipelineTask, encodeWav } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { DeepgramFluxSTTService, wsCarrier } from "@voxpipe/deepgram";
import { startFluxServer, type FluxServer } from "@voxpipe/flux-server";
import { WavFileInputTransport } from "@voxpipe/transports";
import { slowScriptedEngine } from "../../packages/deepgram/test/helpers.js";

const TRANSCRIPTS = ["one", "two", "three", "four"];

let dir = "";
let wav = "";
let server: FluxServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-backpressure-"));
  const pcm = (ms: number, tone: boolean) =>
    tone ? tonePcm(300, ms, 16000, 0.3) : new Uint8Array((ms * 16000) / 500);
  const parts = [pcm(300, false)];
  for (let i = 0; i < 4; i++) parts.push(pcm(1000, true), pcm(1500, false));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((off, p) => (all.set(p, off), off + p.byteLength), 0);
  wav = join(dir, "four-turns.wav");
  await writeFile(wav, encodeWav(all, 16000));
  server = await startFluxServer({ engine: slowScriptedEngine(0.5, TRANSCRIPTS) });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("backpressure", () => {
  it("fast file input is held to maxAheadSeconds of unanswered audio, every turn transcribed", async () => {
    const stt = new DeepgramFluxSTTService({
      url: server.url,
      carrier: wsCarrier,
      maxAheadSeconds: 2,
      settings: { sampleRate: 16000 },
    });
    let maxAhead = 0;
    const finals: string[] = [];
    for (const name of ["update", "startOfTurn", "endOfTurn"] as const) {
      stt.on(name, (e) => {
        const flux = stt.flux;
        if (flux !== undefined) maxAhead = Math.max(maxAhead, flux.audioTime - e.audioWindowEnd);
      });
    }
    stt.on("endOfTurn", (e) => finals.push(e.transcript));
    const input = new WavFileInputTransport({ path: wav, realtime: false });
    const task = new PipelineTask(new Pipeline([input, stt]), { idleTimeoutMs: null });
    const result = await task.run();
    expect(result.reason).toBe("end");
    expect(finals).toEqual(TRANSCRIPTS);
    // One chunk and a frame of slack over the bound; without backpressure the whole file (10 s) lands at once.
    expect(maxAhead).toBeLessThan(2 + 0.5);
  }, 25_000);
});
