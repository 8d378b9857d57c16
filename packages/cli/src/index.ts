/**
 * `@voxpipe/cli`: the `voxpipe` command — `transcribe`, `agent`, `flux-server`, `stress`.
 * The views and option parsers are exported for embedding and tests.
 */
export { createProgram, runCli, VERSION } from "./program.js";
export type { CliIO } from "./io.js";
export { resolveFluxEndpoint } from "./flux-endpoint.js";
export type { FluxEndpoint, FluxEndpointOptions } from "./flux-endpoint.js";
export { processIO } from "./io.js";
export { CliUsageError, addFluxOptions, resolveFluxFlags } from "./options/flux.js";
export type { FluxCliSettings, FluxFlagValues } from "./options/flux.js";
export { TerminalTurnView, confidenceBand } from "./view/terminal-view.js";
export { toJsonLine } from "./view/json-view.js";
export type { TranscriptViewEvent, TurnEvent, TurnWord } from "./view/turn-event.js";
