/**
 * `voxpipe stress`: concurrent Flux load testing with live turn events and latency statistics.
 * The command is registered by {@link registerStressCommand}; the measurement machinery is
 * exported for the benchmarks (`test/bench/stress.ts`) through `@voxpipe/cli/stress`.
 *
 * @packageDocumentation
 */
export { registerStressCommand } from "./command.js";
/** Runs N connections against an endpoint and collects the report. */
export { runStress, FILE_SAMPLE_RATE, type StressRunContext } from "./run.js";
/** One decoded WAV (or microphone capture) shared by every connection. */
export { SharedPcmInputTransport, decodeWavFile, type SharedPcmInputOptions } from "./pcm-input.js";
/** Latency percentiles (HDR histograms, ms). */
export { LatencyRecorder, EMPTY_LATENCY, type LatencySummary } from "./latency.js";
/** The client process's CPU and memory over a run. */
export { ResourceMeter, type ResourceSummary } from "./resources.js";
/** Per-connection and aggregate statistics: turns, events, latencies, Configure round trips, errors. */
export {
  AggregateStats,
  ConnectionStats,
  type ConfigureSummary,
  type EventCounts,
  type ObservedTurnEvent,
  type StreamSummary,
  type TurnLatencies,
} from "./stats.js";
/** Live output: one line per turn event, a legend and a progress line. */
export {
  StressLiveView,
  type LiveViewOptions,
  type ProgressFigures,
  type ViewTurnEvent,
} from "./live-view.js";
/** One load-test connection: a real `DeepgramFluxSTTService` pipeline. */
export {
  StressConnection,
  type ConnectionListener,
  type StressConnectionOptions,
  type StressError,
} from "./connection.js";
/** Times each frame leaving the STT service (message-to-frame delay). */
export { StressProbe, type DeliveredFrame } from "./probe.js";
/** The end-of-run summary as text. */
export { formatReport, type FormatOptions, type StressReport } from "./report.js";
/** Flag parsing and validation, endpoint resolution (`deepgram`, `local`, `ws(s)://…/v2/listen`). */
export {
  DEEPGRAM_FLUX_URL,
  resolveEndpoint,
  resolveStressOptions,
  type StressEndpoint,
  type StressFlagValues,
  type StressOptions,
} from "./options.js";
