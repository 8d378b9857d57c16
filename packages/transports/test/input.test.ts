import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EndTaskFrame,
  FrameProcessor,
  InputAudioRawFrame,
  Pipeline,
  PipelineTask,
  encodeWav,
  int16ToPcm,
  pcmToInt16,
} from "@voxpipe/core";
import type {
  ErrorFrame,
  Frame,
  FrameDirection,
  FrameProcessor as Processor,
  PipelineTaskResult,
} from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import {
  FfmpegInputTransport,
  MicrophoneInputTransport,
  PcmStreamInputTransport,
  ToolNotFoundError,
  WavFileInputTransport,
  spawnTool,
} from "../src/index.js";

class Collect extends FrameProcessor {
  readonly audio: InputAudioRawFrame[] = [];
  readonly upstream: Frame[] = [];
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof InputAudioRawFrame) this.audio.push(frame);
    this.push(frame, direction);
  }
}

/** Runs `[input, collector]` until the input ends the run by itself. */
async function runInput(input: Processor, params: { audioInSampleRate?: number } = {}) {
  const sink = new Collect();
  const upstream: Frame[] = [];
  const spy = new (class extends FrameProcessor {
    override process(frame: Frame, direction: FrameDirection): void {
      if (direction === "upstream") upstream.push(frame);
      this.push(frame, direction);
    }
  })();
  const task = new PipelineTask(new Pipeline([spy, input, sink]), {
    idleTimeoutMs: null,
    ...params,
  });
  const errors: ErrorFrame[] = [];
  task.on("error", (e) => errors.push(e));
  const t0 = performance.now();
  const result: PipelineTaskResult = await task.run();
  return { result, errors, frames: sink.audio, upstream, elapsedMs: performance.now() - t0 };
}

let dir = "";
let stereo48k = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-transports-"));
  // 1 s of a 440 Hz tone at 48 kHz, stereo (left = right).
  const mono = pcmToInt16(tonePcm(440, 1000, 48000));
  const stereo = new Int16Array(mono.length * 2);
  mono.forEach((s, i) => {
    stereo[2 * i] = s;
    stereo[2 * i + 1] = s;
  });
  stereo48k = join(dir, "tone-48k-stereo.wav");
  await writeFile(stereo48k, encodeWav(int16ToPcm(stereo), 48000, 2));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const seconds = (frames: InputAudioRawFrame[]): number =>
  frames.reduce((s, f) => s + f.durationMs, 0) / 1000;

describe("WavFileInputTransport", () => {
  it("emits 20 ms mono frames at the pipeline rate and ends the run at the end of the file", async () => {
    const { result, frames, upstream, errors } = await runInput(
      new WavFileInputTransport({ path: stereo48k, realtime: false }),
    );
    expect(errors).toEqual([]);
    expect(result.reason).toBe("end");
    expect(upstream.some((f) => f instanceof EndTaskFrame)).toBe(true);
    expect(frames.every((f) => f.sampleRate === 16000 && f.numChannels === 1)).toBe(true);
    expect(frames.slice(0, -1).every((f) => f.audio.byteLength === 640)).toBe(true);
    expect(seconds(frames)).toBeCloseTo(1, 1);
    // The tone survived resampling and downmixing: loud, not silence.
    const peak = Math.max(...pcmToInt16(frames[10].audio).map(Math.abs));
    expect(peak).toBeGreaterThan(10000);
  });

  it("paces audio in real time by default, and fast mode does not", async () => {
    const shortWav = join(dir, "short.wav");
    await writeFile(shortWav, encodeWav(tonePcm(300, 400, 16000), 16000));
    const paced = await runInput(new WavFileInputTransport({ path: shortWav }));
    const fast = await runInput(new WavFileInputTransport({ path: shortWav, realtime: false }));
    expect(paced.elapsedMs).toBeGreaterThanOrEqual(370);
    expect(fast.elapsedMs).toBeLessThan(paced.elapsedMs);
    expect(seconds(paced.frames)).toBeCloseTo(0.4, 2);
    expect(seconds(fast.frames)).toBeCloseTo(0.4, 2);
  });

  it("fast mode waits on the consumer's backpressure before each frame", async () => {
    const seen: number[] = [];
    const backpressure = async (emittedSeconds: number): Promise<void> => {
      seen.push(emittedSeconds);
      // Hold the input back once it is 0.5 s ahead, for 100 ms.
      if (emittedSeconds > 0.5 && emittedSeconds < 0.53)
        await new Promise((r) => setTimeout(r, 100));
    };
    const { frames, elapsedMs } = await runInput(
      new WavFileInputTransport({ path: stereo48k, realtime: false, backpressure }),
    );
    expect(seen).toHaveLength(frames.length);
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBeCloseTo(0.98, 2);
    expect(elapsedMs).toBeGreaterThanOrEqual(100);
  });

  it("reports a missing file as a fatal error naming it", async () => {
    const { result, errors, frames } = await runInput(
      new WavFileInputTransport({ path: join(dir, "nope.wav") }),
    );
    expect(result.reason).toBe("error");
    expect(frames).toEqual([]);
    expect(errors[0]?.fatal).toBe(true);
    expect(errors[0]?.error).toMatch(/nope\.wav/);
  });
});

describe("FfmpegInputTransport", () => {
  it("decodes any file ffmpeg reads into 16 kHz mono frames", async () => {
    const { result, frames } = await runInput(
      new FfmpegInputTransport({ input: stereo48k, realtime: false }),
    );
    expect(result.reason).toBe("end");
    expect(seconds(frames)).toBeCloseTo(1, 1);
    expect(frames.every((f) => f.sampleRate === 16000)).toBe(true);
  });

  it("never puts a URL's query string in the error", async () => {
    const input = new FfmpegInputTransport({
      input: "http://127.0.0.1:9/live.mp3?token=s3cret",
      realtime: false,
    });
    expect(input.ffmpegArgs(16000)).toContain("-reconnect");
    const { result, errors } = await runInput(input);
    expect(result.reason).toBe("error");
    expect(errors[0]?.error).toMatch(/ffmpeg exited with code/);
    expect(errors[0]?.error).not.toContain("s3cret");
  });
});

describe("PcmStreamInputTransport", () => {
  it("reads raw PCM from a stream, downmixes and resamples it, and ends with the stream", async () => {
    const stream = new PassThrough();
    const input = new PcmStreamInputTransport({
      stream,
      inputSampleRate: 8000,
      inputChannels: 2,
      realtime: false,
    });
    const running = runInput(input);
    const mono = pcmToInt16(tonePcm(200, 500, 8000));
    const stereo = new Int16Array(mono.length * 2).map((_, i) => mono[i >> 1]);
    const bytes = int16ToPcm(stereo);
    // Odd-sized writes: samples split across chunks must be reassembled.
    stream.write(bytes.subarray(0, 1001));
    stream.end(bytes.subarray(1001));
    const { result, frames } = await running;
    expect(result.reason).toBe("end");
    expect(frames.every((f) => f.sampleRate === 16000 && f.numChannels === 1)).toBe(true);
    expect(seconds(frames)).toBeGreaterThan(0.45);
    expect(seconds(frames)).toBeLessThanOrEqual(0.5);
  });

  it("validates its options", () => {
    expect(() => new PcmStreamInputTransport({ inputSampleRate: 100 })).toThrow(
      /inputSampleRate must be an integer of Hz from 8000 to 192000, got 100/,
    );
    expect(() => new WavFileInputTransport({ path: "x.wav", frameMs: 0 })).toThrow(/frameMs/);
  });
});

describe("MicrophoneInputTransport and subprocess errors", () => {
  it("builds arecord and ffmpeg capture commands", () => {
    expect(
      new MicrophoneInputTransport({ backend: "arecord", device: "hw:1,0" }).captureCommand(16000)
        .args,
    ).toEqual(["-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", "16000", "-D", "hw:1,0"]);
    expect(
      new MicrophoneInputTransport({ backend: "ffmpeg" }).captureCommand(16000).args,
    ).toContain("s16le");
  });

  it("reports a capture device that cannot be opened as a fatal error with the tool's message", async () => {
    const mic = new MicrophoneInputTransport({
      backend: "arecord",
      device: "voxpipe-no-such-device",
    });
    const { result, errors } = await runInput(mic);
    expect(result.reason).toBe("error");
    expect(errors[0]?.error).toMatch(/arecord exited with code 1/);
  });

  it("says which package to install when a tool is missing", async () => {
    const proc = spawnTool({ command: "voxpipe-no-such-tool", debianPackage: "voxpipe-tools" }, []);
    await expect(proc.exited).rejects.toBeInstanceOf(ToolNotFoundError);
    await expect(proc.exited).rejects.toThrow(
      "voxpipe-no-such-tool was not found on PATH; install it (Debian/Ubuntu: sudo apt-get install -y voxpipe-tools)",
    );
  });
});
