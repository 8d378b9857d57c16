/** Where a command writes and what it reads from its environment (injected in tests). */
export interface CliIO {
  /** Program output (transcripts, JSON lines); `columns` is the terminal width when it is one. */
  readonly stdout: {
    write(text: string): unknown;
    readonly isTTY?: boolean | undefined;
    readonly columns?: number | undefined;
  };
  /** Notes, warnings and logs. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean | undefined };
  /** Environment variables (`DEEPGRAM_API_KEY`, `OPENAI_API_KEY`, …). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where SIGINT/SIGTERM come from (`voxpipe serve` drains on them). Default: `process`. */
  readonly signals?: NodeJS.EventEmitter | undefined;
  /** True when stdin is a terminal (nothing piped in). */
  readonly stdinIsTTY?: boolean;
}

/** The real process's streams and environment. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdinIsTTY: process.stdin.isTTY === true,
  };
}

/** Writes a one-line note for the user on stderr (`voxpipe: …`). */
export function note(io: CliIO, text: string): void {
  io.stderr.write(`voxpipe: ${text}\n`);
}
