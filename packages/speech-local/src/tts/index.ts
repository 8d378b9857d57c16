/**
 * `@voxpipe/speech-local/tts`: offline text-to-speech — espeak-ng as a voxpipe TTS service.
 */
export {
  EspeakTTSService,
  type EspeakTTSServiceOptions,
  type EspeakTTSSettings,
} from "./espeak-tts.js";
/** One espeak-ng synthesis as a subprocess. */
export {
  EspeakError,
  synthesizeWithEspeak,
  validateEspeakOptions,
  type EspeakAudio,
  type EspeakVoiceOptions,
} from "./espeak.js";
/** A tone per sentence, in-process: a TTS for load tests and benchmarks (not a voice). */
export { ToneTTSService, type ToneTTSServiceOptions, type ToneTTSSettings } from "./tone-tts.js";
