import type { CliIO } from "../src/index.js";

/** A `CliIO` that captures what a command writes (not a terminal); no DEEPGRAM_API_KEY unless given. */
export function captureIO(
  env: Record<string, string> = {},
): CliIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: { write: (t: string) => (out += t), isTTY: false },
    stderr: { write: (t: string) => (err += t), isTTY: false },
    env,
    out: () => out,
    err: () => err,
  };
}
