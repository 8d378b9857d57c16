import type { ExternalTool } from "./process.js";
import { spawnTool } from "./process.js";

/**
 * Runs an external tool that writes raw audio to stdout and yields what it writes, until it
 * exits. Exit code ≠ 0 and a missing executable surface as errors (with what to install); the
 * process is always stopped (SIGTERM, then SIGKILL) when the consumer stops or `signal` aborts.
 */
export async function* readToolStdout(
  tool: ExternalTool,
  args: string[],
  signal: AbortSignal,
  redact: string[] = [],
): AsyncGenerator<Uint8Array> {
  const proc = spawnTool(tool, args, { redact });
  const onAbort = (): void => void proc.stop();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    // A missing executable: the stream ends at once and `exited` says why.
    for await (const chunk of proc.stdout) yield chunk as Buffer;
    await proc.exited;
  } finally {
    signal.removeEventListener("abort", onAbort);
    await proc.stop();
  }
}
