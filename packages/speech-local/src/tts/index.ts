/**
 * `@voxpipe/speech-local/tts`: offline text-to-speech — espeak-ng as a voxpipe TTS service.
 */
export { EspeakTTSService } from "./espeak-tts.js";
export type { EspeakTTSServiceOptions, EspeakTTSSettings } from "./espeak-tts.js";
export { EspeakError, synthesizeWithEspeak, validateEspeakOptions } from "./espeak.js";
export type { EspeakAudio, EspeakVoiceOptions } from "./espeak.js";
