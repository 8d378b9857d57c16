import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { aptInstallCommand, debianPackageFor } from "@voxpipe/core";

/** An external command-line program a transport or service runs, with how to install it. */
export interface ExternalTool {
  /** Executable name looked up on `PATH`, e.g. `"ffmpeg"`. */
  command: string;
  /** The Debian/Ubuntu package that provides it, e.g. `"ffmpeg"`, `"alsa-utils"`. */
  debianPackage: string;
}

/** `command` with the Debian package that provides it (from core's one system package list). */
function tool(command: string): ExternalTool {
  return { command, debianPackage: debianPackageFor(command) };
}

/** The tools voxpipe runs as subprocesses, with the packages that provide them. */
export const TOOLS = {
  ffmpeg: tool("ffmpeg"),
  ffplay: tool("ffplay"),
  arecord: tool("arecord"),
  aplay: tool("aplay"),
  espeakNg: tool("espeak-ng"),
} as const satisfies Record<string, ExternalTool>;

/** Thrown (or reported) when an external tool is not installed. The message says what to install. */
export class ToolNotFoundError extends Error {
  constructor(readonly tool: ExternalTool) {
    super(
      `${tool.command} was not found on PATH; install it (Debian/Ubuntu: ${aptInstallCommand([tool.debianPackage])})`,
    );
    this.name = "ToolNotFoundError";
  }
}

/** Thrown (or reported) when an external tool exits with a failure. */
export class ToolExitError extends Error {
  constructor(
    readonly tool: ExternalTool,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    /** The last lines the tool wrote to stderr, with secrets redacted. */
    readonly stderrTail: string,
  ) {
    super(
      `${tool.command} exited with ${exitCode !== null ? `code ${exitCode}` : `signal ${signal ?? "?"}`}` +
        (stderrTail ? `: ${stderrTail}` : ""),
    );
    this.name = "ToolExitError";
  }
}

/** How a tool process ended. */
export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running tool: its pipes, its end, and a clean way to stop it. */
export interface ToolProcess {
  readonly child: ChildProcess;
  readonly stdout: Readable;
  readonly stdin: Writable;
  /**
   * Settles when the process has exited: resolves on exit code 0 or after {@link stop}; rejects
   * with {@link ToolNotFoundError} when the command is missing, {@link ToolExitError} otherwise.
   */
  readonly exited: Promise<ToolExit>;
  /**
   * Stops the process: closes stdin, sends SIGTERM, then SIGKILL after `graceMs` (default 1000).
   * Resolves once it has exited. Safe to call more than once.
   */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link spawnTool}. */
export interface SpawnToolOptions {
  /**
   * Strings to hide from error messages (e.g. an input URL whose query string may carry a
   * token); each occurrence in the tool's stderr is replaced by {@link redactUrl}'s form.
   */
  redact?: string[];
  /** Number of stderr lines kept for error messages. Default 5. */
  stderrLines?: number;
}

/**
 * Spawns an external tool with piped stdin/stdout (stderr is kept for error messages only).
 * A missing executable surfaces as a {@link ToolNotFoundError} on `exited`, never as an
 * uncaught `error` event.
 */
export function spawnTool(
  tool: ExternalTool,
  args: string[],
  options: SpawnToolOptions = {},
): ToolProcess {
  const child = spawn(tool.command, args, { stdio: ["pipe", "pipe", "pipe"] });
  const keep = options.stderrLines ?? 5;
  let stderrTail: string[] = [];
  let stopping = false;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    stderrTail = [...stderrTail, ...text.split(/\r?\n/).filter((l) => l.trim() !== "")].slice(
      -keep,
    );
  });
  // EPIPE on stdin when the tool exits early is reported through `exited`, not as a crash.
  child.stdin.on("error", () => undefined);

  const exited = new Promise<ToolExit>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") reject(new ToolNotFoundError(tool));
      else reject(error);
    });
    child.once("close", (code, signal) => {
      if (code === 0 || stopping) resolve({ code, signal });
      else
        reject(
          new ToolExitError(
            tool,
            code,
            signal,
            redact(stderrTail.join(" | "), options.redact ?? []),
          ),
        );
    });
  });
  // Callers observe `exited` when they care; an unobserved failure must not crash the process.
  exited.catch(() => undefined);

  async function stop(graceMs = 1000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      await exited.catch(() => undefined);
      return;
    }
    stopping = true;
    child.stdin.end();
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited.catch(() => undefined);
    clearTimeout(timer);
  }

  return { child, stdout: child.stdout, stdin: child.stdin, exited, stop };
}

/**
 * Returns a URL safe for logs and errors: scheme, host and path only — query string, fragment and
 * credentials removed (they may carry tokens or keyterms). Non-URL strings are returned as is.
 */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === "file:") return value;
    return `${url.protocol}//${url.host}${url.pathname}${url.search || url.hash ? "?…" : ""}`;
  } catch {
    return value;
  }
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join(redactUrl(secret));
  return out;
}
