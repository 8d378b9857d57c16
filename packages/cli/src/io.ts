/** Where a command writes and what it reads from its environment (injected in tests). */
export interface CliIO {
  /** Program output (transcripts, JSON lines). */
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean | undefined };
  /** Notes, warnings and logs. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean | undefined };
  /** Environment variables (`DEEPGRAM_API_KEY`, `OPENAI_API_KEY`, …). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where SIGINT/SIGTERM come from (`voxpipe serve` drains on them). Default: `process`. */
  readonly signals?: NodeJS.EventEmitter | undefined;
}

/** The real process's streams and environment. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Writes a one-line note for the user on stderr (`voxpipe: …`). */
export function note(io: CliIO, text: string): void {
  io.stderr.write(`voxpipe: ${text}\n`);
}
