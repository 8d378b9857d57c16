import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { InputAudioRawFrame, encodeWav } from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import { BaseOutputTransport } from "./base-output.js";
import type { OutputTransportOptions } from "./base-output.js";

/** Options of {@link WavFileOutputTransport}. */
export interface WavFileOutputOptions extends OutputTransportOptions {
  /** Path of the WAV file to write (created or truncated). */
  readonly path: string;
  /**
   * Keep the call's timeline: silence is written for the time between replies, so the file
   * lines up with the input audio (second N of the file is second N of the call: the timeline
   * starts with the first user audio that passes by, else at the start of the run). Default:
   * true when `realtime`, else false (replies back to back).
   */
  readonly keepTimeline?: boolean | undefined;
}

/** The canonical 44-byte header `encodeWav` writes: RIFF size at 4, data size at 40. */
const HEADER_BYTES = 44;

/**
 * Records the bot's audio to a mono 16-bit PCM WAV file, streamed to disk as it plays (the
 * RIFF sizes are filled in when the run ends or is cancelled, so the file is valid either way).
 * The header comes from `@voxpipe/core`'s `encodeWav` (`wavefile`).
 */
export class WavFileOutputTransport extends BaseOutputTransport {
  readonly #path: string;
  readonly #keepTimeline: boolean;
  #file: FileHandle | undefined;
  #dataBytes = 0;
  #t0 = 0;
  #callStarted = false;

  constructor(options: WavFileOutputOptions) {
    super(options);
    if (typeof options.path !== "string" || options.path === "") {
      throw new RangeError(
        `path must be the path of the WAV file to write, got ${JSON.stringify(options.path)}`,
      );
    }
    this.#path = options.path;
    this.#keepTimeline = options.keepTimeline ?? this.realtime;
  }

  /** Path of the file being written. */
  get path(): string {
    return this.#path;
  }

  /** Seconds of audio written so far (silence included). */
  get writtenSeconds(): number {
    return this.#dataBytes / 2 / this.sampleRate;
  }

  protected override async open(): Promise<void> {
    this.#file = await open(this.#path, "w");
    await this.#file.write(this.#header());
    this.#t0 = this.clock.now();
  }

  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (!this.#callStarted && frame instanceof InputAudioRawFrame) {
      // The caller's first audio is second 0 of the call (the input may start late: decoding).
      this.#callStarted = true;
      if (this.#dataBytes === 0) this.#t0 = frame.pts ?? this.clock.now();
    }
    return super.process(frame, direction);
  }

  protected override async writeAudio(chunk: Uint8Array): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    if (this.#keepTimeline) {
      const gapBytes =
        Math.floor(((this.clock.now() - this.#t0) / 1000) * this.sampleRate) * 2 - this.#dataBytes;
      // Pad only real gaps (more than one chunk), so pacing jitter never inserts clicks.
      if (gapBytes > chunk.byteLength) await this.#append(file, new Uint8Array(gapBytes));
    }
    await this.#append(file, chunk);
  }

  protected override async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (file === undefined) return;
    try {
      await file.write(this.#header(), 0, HEADER_BYTES, 0);
    } finally {
      await file.close();
    }
    this.logger.info(
      { path: this.#path, seconds: Number(this.writtenSeconds.toFixed(2)) },
      "WAV written",
    );
  }

  async #append(file: FileHandle, bytes: Uint8Array): Promise<void> {
    await file.write(bytes);
    this.#dataBytes += bytes.byteLength;
  }

  /** A header for the data written so far. */
  #header(): Uint8Array {
    const header = encodeWav(new Uint8Array(0), this.sampleRate).slice(0, HEADER_BYTES);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    view.setUint32(4, 36 + this.#dataBytes, true);
    view.setUint32(40, this.#dataBytes, true);
    return header;
  }
}
