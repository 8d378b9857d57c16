/**
 * `@voxpipe/deepgram/tts`: Deepgram Aura text-to-speech for voxpipe, through `@deepgram/sdk`.
 */
export { DeepgramAuraTTSService } from "./aura-tts.js";
export type { DeepgramAuraTTSServiceOptions, DeepgramAuraTTSSettings } from "./aura-tts.js";
export { AURA_DEFAULTS, AURA_SAMPLE_RATES, streamAuraSpeech, validateAuraOptions } from "./aura.js";
export type { AuraOptions } from "./aura.js";
