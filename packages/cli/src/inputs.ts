import { existsSync } from "node:fs";
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
 * `-` → raw PCM s16le on stdin; `mic` → the microphone; a `.wav` file → WAV input (decoded in
 * process); any other file or an `http(s)://`/`rtmp://`… URL → ffmpeg.
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
  if (!isUrl && /\.wave?$/i.test(spec)) {
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
