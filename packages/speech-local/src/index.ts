export { readWav16k, Resampler16k, SAMPLE_RATE } from "./audio.js";
export { formatTranscript, formatWords, QUESTION_STARTERS } from "./format.js";
export { LocalSpeech, LocalSpeechStream } from "./local-speech.js";
export type { LocalSpeechOptions, TurnObservation } from "./local-speech.js";
export { DEFAULT_DECODER_ARGS, RecognizerStream, SphinxRecognizer } from "./recognizer.js";
export type {
  KeytermReport,
  RecognizedWord,
  RecognizerState,
  RecognizerStreamStats,
  SphinxRecognizerOptions,
} from "./recognizer.js";
export {
  APT_INSTALL_HINT,
  checkModel,
  DEBIAN_MODEL_DIR,
  defaultModelPaths,
  ensureHelper,
  HELPER_PATH,
  SpeechLocalSetupError,
} from "./system.js";
export type { SphinxModelPaths } from "./system.js";
export { completeness, endOfTurnConfidence, expectedPauseMs, SpeechActivity } from "./turn-end.js";
export type { SpeechActivityOptions, TurnEndOptions, TurnEvidence } from "./turn-end.js";
export { FramedVad, SileroVad, WebRtcVad } from "./vad.js";
export type { SileroModel, VadFrame, VoiceActivityDetector } from "./vad.js";
