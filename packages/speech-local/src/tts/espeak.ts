import { spawn } from "node:child_process";
import { aptInstallCommand, debianPackageFor, decodeWav } from "@voxpipe/core";

/** Options of {@link synthesizeWithEspeak}. */
export interface EspeakVoiceOptions {
  /** espeak-ng voice name (`-v`), e.g. `"en-us"`, `"en-gb"`, `"de"`. Default `"en-us"`. */
  voice?: string;
  /** Speaking rate in words per minute (`-s`, espeak-ng accepts 80–450). Default 175. */
  wordsPerMinute?: number;
  /** Pitch adjustment 0–99 (`-p`). Default 50. */
  pitch?: number;
  /** Executable to run. Default `"espeak-ng"` from `PATH`. */
  command?: string;
}

/** Audio synthesized by espeak-ng: mono PCM s16le at the voice's native rate. */
export interface EspeakAudio {
  /** Mono PCM, signed 16-bit little-endian. */
  pcm: Uint8Array;
  /** Sample rate of `pcm` in Hz (22050 for espeak-ng's voices). */
  sampleRate: number;
}

/** Thrown when espeak-ng cannot be run or fails. The message says what to install. */
export class EspeakError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EspeakError";
  }
}

/** Validates the numeric voice options and throws a `RangeError` naming the field. */
export function validateEspeakOptions(options: EspeakVoiceOptions): void {
  const { wordsPerMinute, pitch } = options;
  if (
    wordsPerMinute !== undefined &&
    !(Number.isFinite(wordsPerMinute) && wordsPerMinute >= 80 && wordsPerMinute <= 450)
  ) {
    throw new RangeError(
      `wordsPerMinute must be a number from 80 to 450, got ${String(wordsPerMinute)}`,
    );
  }
  if (pitch !== undefined && !(Number.isInteger(pitch) && pitch >= 0 && pitch <= 99)) {
    throw new RangeError(`pitch must be an integer from 0 to 99, got ${String(pitch)}`);
  }
  if (options.voice !== undefined && !/^[A-Za-z0-9_+-]+$/.test(options.voice)) {
    throw new RangeError(
      `voice must be an espeak-ng voice name like "en-us", got ${JSON.stringify(options.voice)}`,
    );
  }
}

/**
 * Synthesizes `text` with the espeak-ng command-line program (`espeak-ng --stdout`, text on
 * stdin so no text is ever parsed as a flag); the WAV it writes is decoded with `@voxpipe/core`'s
 * `decodeWav` (`wavefile`).
 *
 * @throws {EspeakError} when espeak-ng is missing (with the package to install) or exits non-zero.
 * @throws {DOMException} `AbortError` when `signal` aborts; the process is killed at once.
 */
export async function synthesizeWithEspeak(
  text: string,
  options: EspeakVoiceOptions = {},
  signal?: AbortSignal,
): Promise<EspeakAudio> {
  validateEspeakOptions(options);
  signal?.throwIfAborted();
  const command = options.command ?? "espeak-ng";
  const args = [
    "--stdout",
    "-v",
    options.voice ?? "en-us",
    "-s",
    String(options.wordsPerMinute ?? 175),
    "-p",
    String(options.pitch ?? 50),
  ];
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], signal });
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdin.on("error", () => undefined);
  child.stdin.end(text);
  await new Promise<void>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.name === "AbortError") reject(error);
      else if (error.code === "ENOENT") {
        reject(
          new EspeakError(
            `${command} was not found on PATH; install it (Debian/Ubuntu: ${aptInstallCommand([debianPackageFor("espeak-ng")])})`,
          ),
        );
      } else
        reject(
          new EspeakError(`${command} could not be started: ${error.message}`, { cause: error }),
        );
    });
    child.once("close", (code) => {
      if (code === 0) resolve();
      else if (signal?.aborted)
        reject(new DOMException("espeak-ng synthesis aborted", "AbortError"));
      else
        reject(
          new EspeakError(
            `${command} exited with code ${String(code)}: ${stderr.trim().slice(0, 300)}`,
          ),
        );
    });
  });
  // espeak-ng writes placeholder RIFF sizes to a pipe (it cannot seek); wavefile reads the
  // data chunk to the end of the bytes regardless.
  const wav = decodeWav(Buffer.concat(out));
  if (wav.numChannels !== 1)
    throw new EspeakError(`espeak-ng wrote ${wav.numChannels} channels, expected mono`);
  return { pcm: wav.audio, sampleRate: wav.sampleRate };
}
