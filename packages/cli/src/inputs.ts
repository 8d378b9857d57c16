import { closeSync, existsSync, openSync, readSync } from "node:fs";
import {
  FfmpegInputTransport,
  MicrophoneInputTransport,
  PcmStreamInputTransport,
  WavFileInputTransport,
} from "@voxpipe/transports";
import type { BaseInputTransport } from "@voxpipe/transports";
import { CliUsageError } from "./options/flux.js";

/** How the input argument was understood. */
export interface InputChoice {
  readonly transport: BaseInputTransport;
  /** For messages: what is being read (no query strings). */
  readonly label: string;
}

/** Options of {@link createInput}. */
export interface InputFlags {
  /** `--fast`: do not pace file input in real time. */
  readonly fast?: boolean | undefined;
  /** `--raw-sample-rate`: rate of raw PCM on stdin, Hz. Default 16000. */
  readonly rawSampleRate?: number | undefined;
  /** `--raw-channels`: channels of raw PCM on stdin. Default 1. */
  readonly rawChannels?: number | undefined;
  /** `--mic-device` for `mic`. */
  readonly micDevice?: string | undefined;
  /** Fast-mode flow control (see `BaseInputTransport`'s `backpressure`). */
  readonly backpressure?:
    ((emittedSeconds: number, signal: AbortSignal) => Promise<void>) | undefined;
}

/**
 * Picks the input transport for `<file|url|->`, the one argument every command shares:
 * `-` → raw PCM s16le on stdin; `mic` → the microphone; a WAV file (by its bytes, whatever its
 * name) → WAV input (decoded in process); any other file or an `http(s)://`/`rtmp://`… URL →
 * ffmpeg.
 * @throws {CliUsageError} when a file does not exist.
 */
export function createInput(spec: string, flags: InputFlags = {}): InputChoice {
  const realtime = flags.fast !== true;
  const backpressure = flags.backpressure;
  if (spec === "-") {
    return {
      transport: new PcmStreamInputTransport({
        realtime,
        inputSampleRate: flags.rawSampleRate ?? 16000,
        inputChannels: flags.rawChannels ?? 1,
        backpressure,
      }),
      label: "stdin",
    };
  }
  if (spec === "mic") {
    return {
      transport: new MicrophoneInputTransport({ device: flags.micDevice }),
      label: "microphone",
    };
  }
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(spec);
  if (!isUrl && !existsSync(spec)) {
    throw new CliUsageError(
      `input ${JSON.stringify(spec)} is not a file, a URL, "-" (stdin) or "mic"`,
    );
  }
  if (!isUrl && isWavFile(spec)) {
    return {
      transport: new WavFileInputTransport({ path: spec, realtime, backpressure }),
      label: spec,
    };
  }
  return {
    transport: new FfmpegInputTransport({ input: spec, realtime, backpressure }),
    label: isUrl ? "URL" : spec,
  };
}

/**
 * True when the file starts like a WAV (RIFF/RF64/BW64 container, `WAVE` form type: the
 * RIFF and EBU Tech 3306 headers), read from its first 12 bytes — an `.wav` name on an MP3
 * goes to ffmpeg, a WAV without the extension is still read in process.
 */
export function isWavFile(path: string): boolean {
  const head = Buffer.alloc(12);
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    if (readSync(fd, head, 0, 12, 0) < 12) return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const container = head.toString("latin1", 0, 4);
  return ["RIFF", "RF64", "BW64"].includes(container) && head.toString("latin1", 8, 12) === "WAVE";
}
