/**
 * `@voxpipe/deepgram/tts`: Deepgram Aura text-to-speech for voxpipe, through `@deepgram/sdk`.
 */
export {
  DeepgramAuraTTSService,
  type DeepgramAuraTTSServiceOptions,
  type DeepgramAuraTTSSettings,
} from "./aura-tts.js";
/** The Aura request itself: options, validation and streamed synthesis. */
export {
  AURA_DEFAULTS,
  AURA_SAMPLE_RATES,
  streamAuraSpeech,
  validateAuraOptions,
  type AuraOptions,
} from "./aura.js";
