/**
 * `voxpipe stress`: concurrent Flux load testing with live turn events and latency statistics.
 * The command is registered by {@link registerStressCommand}; the measurement machinery is
 * exported for the benchmarks (`test/bench/stress.ts`) through `@voxpipe/cli/stress`.
 *
 * @packageDocumentation
 */
export { registerStressCommand } from "./command.js";
export { runStress, FILE_SAMPLE_RATE, type StressRunContext } from "./run.js";
export { SharedPcmInputTransport, decodeWavFile, type SharedPcmInputOptions } from "./pcm-input.js";
export { LatencyRecorder, EMPTY_LATENCY, type LatencySummary } from "./latency.js";
export { ResourceMeter, type ResourceSummary } from "./resources.js";
export {
  AggregateStats,
  ConnectionStats,
  type ConfigureSummary,
  type EventCounts,
  type ObservedTurnEvent,
  type StreamSummary,
  type TurnLatencies,
} from "./stats.js";
export {
  StressLiveView,
  type LiveViewOptions,
  type ProgressFigures,
  type ViewTurnEvent,
} from "./live-view.js";
export {
  StressConnection,
  type ConnectionListener,
  type StressConnectionOptions,
  type StressError,
} from "./connection.js";
export { StressProbe, type DeliveredFrame } from "./probe.js";
export { formatReport, type FormatOptions, type StressReport } from "./report.js";
export {
  DEEPGRAM_FLUX_URL,
  resolveEndpoint,
  resolveStressOptions,
  type StressEndpoint,
  type StressFlagValues,
  type StressOptions,
} from "./options.js";
