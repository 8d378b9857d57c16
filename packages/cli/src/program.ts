import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { FluxSettingsError } from "@voxpipe/flux-protocol";
import { registerAgentCommand } from "./commands/agent.js";
import { registerEvalCommand } from "./eval/command.js";
import { registerTimelineCommand } from "./eval/timeline-command.js";
import { registerFluxServerCommand } from "./commands/flux-server.js";
import { registerServeCommand } from "./commands/serve.js";
import { registerTranscribeCommand } from "./commands/transcribe.js";
import { registerStressCommand } from "./stress/index.js";
import type { CliIO } from "./io.js";
import { processIO } from "./io.js";
import { CliUsageError } from "./options/flux.js";

/** The CLI's version: its package.json's (all @voxpipe packages share one, see .changeset). */
export const VERSION = (createRequire(import.meta.url)("../package.json") as { version: string })
  .version;

/**
 * Builds the `voxpipe` program: `transcribe`, `agent`, `flux-server`, `stress` and `eval` (each
 * registered by its own module). Each command's action reports its exit code through `done`.
 */
export function createProgram(io: CliIO, done: (code: number) => void): Command {
  const program = new Command("voxpipe")
    .description(
      "Real-time voice agents with Deepgram Flux — offline with the embedded local Flux server",
    )
    .version(VERSION)
    .showHelpAfterError("(add --help for usage)")
    // Each command reads its own flags after its name (needed by `eval label`/`eval import`,
    // whose flags share names with `eval`'s).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  registerTranscribeCommand(program, io, done);
  registerAgentCommand(program, io, done);
  registerServeCommand(program, io, done);
  registerFluxServerCommand(program, io, done);
  registerStressCommand(program, io, done);
  registerEvalCommand(program, io, done);
  registerTimelineCommand(program, io, done);
  return program;
}

/**
 * Runs the CLI with `argv` (as in `process.argv`) and returns the exit code: 0 success,
 * 1 the run failed, 2 bad usage. Errors are printed as one clear line, never a stack trace.
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let code = 0;
  const program = createProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander printed it
    if (
      err instanceof CliUsageError ||
      err instanceof FluxSettingsError ||
      err instanceof RangeError
    ) {
      io.stderr.write(`voxpipe: error: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`voxpipe: error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
