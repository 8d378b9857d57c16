import { BaseInputTransport } from "./base-input.js";
import type { InputTransportOptions } from "./base-input.js";
import { TOOLS, type ExternalTool } from "./process.js";
import { readToolStdout } from "./tool-source.js";

/** Options of {@link MicrophoneInputTransport}. */
export interface MicrophoneInputOptions extends InputTransportOptions {
  /**
   * Capture program: `arecord` (ALSA, Linux) or `ffmpeg` (ALSA on Linux, AVFoundation on macOS).
   * Default `arecord` on Linux, `ffmpeg` elsewhere.
   */
  readonly backend?: "arecord" | "ffmpeg";
  /** Capture device: ALSA name (`default`, `hw:1,0`, `pulse`) or AVFoundation index (`:0`). Default: the system default. */
  readonly device?: string;
}

/**
 * Live audio from the microphone through `arecord` or `ffmpeg` (subprocess writing mono
 * PCM s16le at the pipeline's input rate). Live audio is paced by the device, so `realtime`
 * defaults to false here. Stops the capture program on end or cancel.
 */
export class MicrophoneInputTransport extends BaseInputTransport {
  readonly #backend: "arecord" | "ffmpeg";
  readonly #device: string | undefined;

  constructor(options: MicrophoneInputOptions = {}) {
    super({ realtime: false, ...options });
    const backend = options.backend ?? (process.platform === "linux" ? "arecord" : "ffmpeg");
    if (backend !== "arecord" && backend !== "ffmpeg") {
      throw new RangeError(`backend must be "arecord" or "ffmpeg", got ${JSON.stringify(backend)}`);
    }
    this.#backend = backend;
    this.#device = options.device;
  }

  protected override describeSource(): string {
    return `microphone (${this.#backend}${this.#device ? ` ${this.#device}` : ""})`;
  }

  /** The capture command line for `sampleRate` (exposed for tests and logs). */
  captureCommand(sampleRate: number): {
    tool: ExternalTool;
    args: string[];
  } {
    if (this.#backend === "arecord") {
      return {
        tool: TOOLS.arecord,
        args: [
          "-q",
          "-t",
          "raw",
          "-f",
          "S16_LE",
          "-c",
          "1",
          "-r",
          String(sampleRate),
          ...(this.#device ? ["-D", this.#device] : []),
        ],
      };
    }
    const [format, device] =
      process.platform === "darwin"
        ? ["avfoundation", this.#device ?? ":0"]
        : ["alsa", this.#device ?? "default"];
    return {
      tool: TOOLS.ffmpeg,
      args: [
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-f",
        format,
        "-i",
        device,
        "-ac",
        "1",
        "-ar",
        String(sampleRate),
        "-f",
        "s16le",
        "pipe:1",
      ],
    };
  }

  protected override readAudio(sampleRate: number, signal: AbortSignal): AsyncIterable<Uint8Array> {
    const { tool, args } = this.captureCommand(sampleRate);
    return readToolStdout(tool, args, signal);
  }
}
