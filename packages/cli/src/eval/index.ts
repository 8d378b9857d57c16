/**
 * `voxpipe eval`: turn-taking evaluation on a labelled dataset, by Deepgram's method for
 * Flux (EOT latency percentiles with false ends of turn as ∞, precision/recall, WER, eager
 * figures). The command is registered by {@link registerEvalCommand}; the pieces are exported
 * for benchmarks and for programs that evaluate in code (`@voxpipe/cli/eval`).
 *
 * @packageDocumentation
 */
export { DEFAULT_EOT_SWEEP, registerEvalCommand, writeOutputs, type EvalFlags } from "./command.js";
/** The flags and the run every streaming command shares (eval, timeline, label). */
export {
  addRunOptions,
  parseNumberList,
  reportFailures,
  runWithTarget,
  settingsOf,
  sweepSettings,
  type RunFlags,
} from "./run-options.js";
/** The dataset format: a folder of name.wav + name.json sidecars; loading and validation. */
export {
  DatasetError,
  checkSidecar,
  formatSidecar,
  loadDataset,
  round3,
  type Dataset,
  type DatasetFile,
  type DatasetIssue,
  type LabelledTurn,
  type Sidecar,
} from "./dataset.js";
/** Figures of a group of sessions: latency percentiles (∞ allowed), precision/recall/F1, WER, eager, delay. */
export {
  LATENCY_PERCENTILES,
  aggregate,
  quantile,
  type EvalMetrics,
  type LatencyPercentiles,
  type ScoredSession,
  type Spread,
} from "./metrics.js";
/** A run over a dataset at every setting, and its results (JSON with ∞ as "Infinity"). */
export {
  RESULTS_VERSION,
  resultsFromJson,
  resultsToJson,
  runEval,
  settingLabel,
  type EvalResults,
  type EvalRunOptions,
  type FileResult,
  type FileRun,
  type SettingResult,
} from "./run.js";
/** Scoring of one session's events against a file's labelled turns. */
export { scoreSession, type FileScore, type RecordedEvent, type TurnOutcome } from "./score.js";
/** One file streamed to a Flux target through `FluxClient`, every event recorded. */
export {
  EVAL_SAMPLE_RATE,
  runSession,
  type EvalAudioFormat,
  type EvalSetting,
  type EvalTarget,
  type SessionOptions,
  type SessionRecord,
} from "./session.js";
/** `--target`: deepgram, local (in-process server), or a ws(s)://…/v2/listen URL. */
export { openTarget, type OpenTarget, type OpenTargetOptions } from "./target.js";
/** The terminal tables. */
export { formatMs, formatPercent, formatResults, metricsTables } from "./text-report.js";
/** The waveform envelope drawn in timelines. */
export { WAVEFORM_POINTS, waveformEnvelope } from "./waveform.js";
/** jiwer-style WER normalisation and word edit distance. */
export { normalizeWords, wordErrors } from "./wer.js";
/** Importers: Audacity label tracks and RTTM into sidecar turns. */
export {
  AnnotationError,
  fromAudacityLabels,
  parseRttm,
  turnsFromRttm,
  type RttmSegment,
} from "./importers.js";
/** `eval label` and `eval import`, and the draft of turns from a run. */
export {
  draftTurns,
  registerLabelCommands,
  type ImportFlags,
  type LabelFlags,
} from "./label-command.js";
/** `voxpipe timeline <wav>`. */
export {
  registerTimelineCommand,
  singleFileDataset,
  type TimelineFlags,
} from "./timeline-command.js";
/** The report: charts (Vega-Lite → SVG), the HTML page, PNG export. */
export {
  SETTING_COLORS,
  latencyCurveSpec,
  renderSvg,
  timelineSpec,
  tradeoffSpec,
  type TimelineOptions,
} from "./report/charts.js";
export { escapeHtml, renderCharts, renderHtml, type ReportCharts } from "./report/html.js";
export { svgToPng } from "./report/png.js";
