/**
 * `@voxpipe/cli`: the `voxpipe` command — `transcribe`, `agent`, `flux-server`, `stress`.
 * The views and option parsers are exported for embedding and tests.
 */
export { createProgram, runCli, VERSION } from "./program.js";
/** Where a command writes and what it reads from its environment (`process`, or a test's). */
export { processIO, type CliIO } from "./io.js";
/** Flux settings as validated command-line flags (ranges from `@voxpipe/flux-protocol`). */
export {
  CliUsageError,
  addFluxOptions,
  resolveFluxFlags,
  type FluxCliSettings,
  type FluxFlagValues,
} from "./options/flux.js";
/** The live terminal view of turns (words coloured by confidence as in the Flux quickstart). */
export { TerminalTurnView, confidenceBand } from "./view/terminal-view.js";
/** `--json`: one JSON line per turn event, with Flux field names. */
export { toJsonLine } from "./view/json-view.js";
/** The view model of turn events shared by the terminal and JSON views. */
export type {
  ConnectedEvent,
  TranscriptViewEvent,
  TurnEvent,
  TurnWord,
} from "./view/turn-event.js";
