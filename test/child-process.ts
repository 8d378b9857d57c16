/**
 * Child processes for end-to-end tests and benchmarks: a TypeScript entry run by Node with the
 * workspace packages resolved to their sources (`tsx`, `--conditions=@voxpipe/source`), started
 * once its output says it is ready, and stopped with SIGTERM (SIGKILL after 10 s).
 */
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The `voxpipe` CLI's source entry. */
export const VOXPIPE_BIN = fileURLToPath(new URL("../packages/cli/src/bin.ts", import.meta.url));

/**
 * Starts `voxpipe serve` on an ephemeral port with the load-test agent (echo LLM, tone TTS,
 * warnings only) and `fluxArgs` choosing its Flux (`--url …` or `--local-engine …`) plus any
 * other flags; `match[1]` of the result is the port it listens on.
 */
export function startServe(
  fluxArgs: readonly string[],
  options: { nodeArgs?: readonly string[]; timeoutMs?: number } = {},
): Promise<StartedChild> {
  return startChild(
    [
      VOXPIPE_BIN,
      "serve",
      "--port",
      "0",
      "--llm",
      "echo",
      "--tts",
      "tone",
      "--log-level",
      "warn",
      ...fluxArgs,
    ],
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    options,
  );
}

/** A started child: the process, the match of its ready line, and everything it printed. */
export interface StartedChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly match: RegExpExecArray;
  output(): string;
}

/**
 * Runs `node --import tsx --conditions=@voxpipe/source [...nodeArgs] ...args` (without
 * `DEEPGRAM_API_KEY`: the local Flux server is used) and resolves once stdout+stderr match
 * `ready`. @throws when it exits first or is not ready within `timeoutMs` (with its output).
 */
export function startChild(
  args: readonly string[],
  ready: RegExp,
  options: { nodeArgs?: readonly string[]; timeoutMs?: number } = {},
): Promise<StartedChild> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=@voxpipe/source", ...(options.nodeArgs ?? []), ...args],
    { env: { ...process.env, DEEPGRAM_API_KEY: "" } },
  );
  let out = "";
  const output = (): string => out;
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const fail = (why: string): void => {
      clearInterval(poll);
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} ${why}:\n${out}`));
    };
    const timer = setTimeout(() => fail(`was not ready within ${timeoutMs} ms`), timeoutMs);
    const poll = setInterval(() => {
      const match = ready.exec(out);
      if (match === null) return;
      clearInterval(poll);
      clearTimeout(timer);
      child.off("exit", onExit);
      resolve({ child, match, output });
    }, 20);
    const onExit = (code: number | null): void => fail(`exited with ${code} before it was ready`);
    child.once("exit", onExit);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
export async function stopChild(
  child: ChildProcessWithoutNullStreams,
  graceMs = 10_000,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
