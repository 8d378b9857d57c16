import { BaseInputTransport } from "./base-input.js";
import type { InputTransportOptions } from "./base-input.js";
import { TOOLS, redactUrl } from "./process.js";
import { readToolStdout } from "./tool-source.js";

/** Options of {@link FfmpegInputTransport}. */
export interface FfmpegInputOptions extends InputTransportOptions {
  /**
   * Anything ffmpeg reads: a file in any container/codec (MP3, M4A, Ogg, FLAC, WAV, video…),
   * an `http(s)://` URL such as a live radio stream, or `-` for stdin. URLs are never logged
   * with their query string.
   */
  readonly input: string;
  /** Extra ffmpeg input options placed before `-i` (e.g. `["-ss", "30"]`). */
  readonly inputArgs?: readonly string[];
}

/**
 * Decodes any file or URL with the `ffmpeg` command-line tool (the Flux quickstart's
 * "stream a live radio URL through ffmpeg" flow): ffmpeg converts to mono PCM s16le at the
 * pipeline's input rate on stdout; the transport frames and paces it. HTTP inputs reconnect
 * (ffmpeg `-reconnect`) when a live stream drops. The end of the input (or ffmpeg exiting)
 * ends the run gracefully; a missing ffmpeg is reported with the package to install.
 */
export class FfmpegInputTransport extends BaseInputTransport {
  readonly #input: string;
  readonly #inputArgs: readonly string[];

  constructor(options: FfmpegInputOptions) {
    super(options);
    if (typeof options.input !== "string" || options.input === "") {
      throw new RangeError(
        `input must be a file path, a URL or "-", got ${JSON.stringify(options.input)}`,
      );
    }
    this.#input = options.input;
    this.#inputArgs = options.inputArgs ?? [];
  }

  protected override describeSource(): string {
    return this.#input === "-" ? "stdin (ffmpeg)" : redactUrl(this.#input);
  }

  /** The ffmpeg command line for `sampleRate` (exposed for tests and logs). */
  ffmpegArgs(sampleRate: number): string[] {
    const isHttp = /^https?:\/\//i.test(this.#input);
    return [
      "-hide_banner",
      "-loglevel",
      "error",
      ...(this.#input === "-" ? [] : ["-nostdin"]),
      ...(isHttp
        ? ["-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_delay_max", "5"]
        : []),
      ...this.#inputArgs,
      "-i",
      this.#input === "-" ? "pipe:0" : this.#input,
      "-vn",
      "-ac",
      "1",
      "-ar",
      String(sampleRate),
      "-f",
      "s16le",
      "-acodec",
      "pcm_s16le",
      "pipe:1",
    ];
  }

  protected override readAudio(sampleRate: number, signal: AbortSignal): AsyncIterable<Uint8Array> {
    return readToolStdout(TOOLS.ffmpeg, this.ffmpegArgs(sampleRate), signal, [this.#input]);
  }
}
