/**
 * `@voxpipe/speech-local`: offline speech for voxpipe's local Flux server — a streaming
 * recogniser on Debian's pocketsphinx, Silero/WebRTC voice activity detection, and a turn-end
 * estimator that turns silence and linguistic completeness into Flux's
 * `end_of_turn_confidence`. Local text-to-speech is in `@voxpipe/speech-local/tts`.
 *
 * @packageDocumentation
 */
/** 16 kHz mono input for the recogniser: WAV reading and resampling. */
export { readWav16k, Resampler16k, SAMPLE_RATE } from "./audio.js";
/** Word confidence: P(word right) from lattice posteriors and acoustic evidence, fitting and AUC. */
export {
  confidenceFeatures,
  confidenceAuc,
  DEFAULT_CONFIDENCE_CALIBRATION,
  fitConfidenceCalibration,
  IDENTITY_CALIBRATION,
  wordConfidences,
  type ConfidenceCalibration,
  type ConfidenceFeatures,
} from "./confidence.js";
/** Flux-style casing and end punctuation for pocketsphinx words. */
export { formatTranscript, formatWords, QUESTION_STARTERS } from "./format.js";
/** Recogniser + VAD + turn-end estimator for one stream. */
export {
  LocalSpeech,
  LocalSpeechStream,
  type LocalSpeechOptions,
  type SearchPreset,
  type TurnObservation,
} from "./local-speech.js";
/** Which audio the recognizer searches: the VAD's speech plus margins. */
export { SearchGate, type SearchGateCommand, type SearchGateOptions } from "./search-gate.js";
/** Acoustic end-of-utterance cues of a turn's last word: pitch slope and level, lengthening, energy. */
export { prosodicCues, type ProsodicCueOptions, type ProsodicCues } from "./prosody.js";
/** The pocketsphinx recogniser (helper process, shared model). */
export {
  DEFAULT_DECODER_ARGS,
  FAST_SEARCH_DECODER_ARGS,
  NARROWBAND_CEPSTRAL_MEAN,
  RecognizerStream,
  SphinxRecognizer,
  type KeytermReport,
  type RecognizedWord,
  type RecognizerState,
  type RecognizerStreamStats,
  type SphinxRecognizerOptions,
} from "./recognizer.js";
/** A real multi-turn speech WAV from Debian's LibriVox test clips, for examples and demos. */
export {
  LIBRIVOX_DIR,
  librivoxClip,
  librivoxTranscripts,
  SAMPLE_CONVERSATION_CLIPS,
  sampleConversation,
  type SampleConversation,
  type SampleConversationOptions,
  type SampleTurn,
} from "./sample-conversation.js";
/** Locating the Debian model and building the helper; install hints. */
export {
  APT_INSTALL_HINT,
  checkModel,
  DEBIAN_MODEL_DIR,
  defaultModelPaths,
  ensureHelper,
  HELPER_PATH,
  SpeechLocalSetupError,
  type SphinxModelPaths,
} from "./system.js";
/** The turn-end estimator: silence and linguistic completeness → end-of-turn confidence. */
export {
  completeness,
  endOfTurnConfidence,
  expectedPauseMs,
  SpeechActivity,
  unlengthenedPauseMs,
  type SpeechActivityOptions,
  type TurnEndOptions,
  type TurnEvidence,
} from "./turn-end.js";
/** Voice activity detection: Silero (ONNX) and WebRTC. */
export {
  FramedVad,
  SileroVad,
  WebRtcVad,
  type SileroModel,
  type VadFrame,
  type VoiceActivityDetector,
} from "./vad.js";
