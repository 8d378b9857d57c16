/**
 * Runs `voxpipe serve` in this process (the CLI's own `runCli`, with injected output and
 * signals) for end-to-end tests, and converts fixtures to what a phone line carries.
 */
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pcmToMulaw, readWav, resample } from "@voxpipe/core";
import { runCli } from "@voxpipe/cli";

/** The generated fixtures directory (built by vitest's global setup). */
export const GENERATED = join(fileURLToPath(new URL("../fixtures/generated", import.meta.url)));

/** A running in-process `voxpipe serve`. */
export interface ServeProcess {
  readonly url: string;
  readonly port: number;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM (drain), then resolves with the exit code. */
  stop(): Promise<number>;
}

/** Starts `voxpipe serve --port 0 …args` in-process; resolves once it listens. */
export async function startServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  let out = "";
  const signals = new EventEmitter();
  const io = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (out += t) },
    env: { PATH: process.env.PATH, ...env },
    signals,
  };
  const exit = runCli(
    ["node", "voxpipe", "serve", "--port", "0", "--log-level", "warn", ...args],
    io,
  );
  const t0 = Date.now();
  let port = 0;
  while (port === 0) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (m) port = Number(m[1]);
    else if (Date.now() - t0 > 20_000) throw new Error(`voxpipe serve did not start:\n${out}`);
    else await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output: () => out,
    stop: async () => {
      signals.emit("SIGTERM", "SIGTERM");
      return exit;
    },
  };
}

/** A WAV fixture as a phone line carries it: 8 kHz G.711 μ-law. */
export async function wavAsMulaw8k(path: string): Promise<Uint8Array> {
  const wav = await readWav(path);
  const pcm8k =
    wav.sampleRate === 8000 ? wav.audio : await resample(wav.audio, wav.sampleRate, 8000);
  return pcmToMulaw(pcm8k);
}
