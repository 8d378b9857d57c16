/**
 * `@voxpipe/transports`: audio in and out of a voxpipe pipeline — WAV files, anything ffmpeg
 * reads (files, live URLs), raw PCM on stdin, the microphone; WAV files and the speaker.
 * Input transports emit 20 ms `InputAudioRawFrame`s; output transports take
 * `OutputAudioRawFrame`s. Swap one for another without touching the rest of the pipeline.
 */
export { BaseInputTransport } from "./base-input.js";
export type { InputTransportEvents, InputTransportOptions } from "./base-input.js";
export { WavFileInputTransport } from "./wav-input.js";
export type { WavFileInputOptions } from "./wav-input.js";
export { FfmpegInputTransport } from "./ffmpeg-input.js";
export type { FfmpegInputOptions } from "./ffmpeg-input.js";
export { PcmStreamInputTransport } from "./stream-input.js";
export type { PcmStreamInputOptions } from "./stream-input.js";
export { MicrophoneInputTransport } from "./microphone-input.js";
export type { MicrophoneInputOptions } from "./microphone-input.js";
export { BaseOutputTransport } from "./base-output.js";
export type { OutputTransportEvents, OutputTransportOptions } from "./base-output.js";
export { WavFileOutputTransport } from "./wav-output.js";
export type { WavFileOutputOptions } from "./wav-output.js";
export { SpeakerOutputTransport } from "./speaker-output.js";
export type { SpeakerOutputOptions } from "./speaker-output.js";
export { TOOLS, ToolExitError, ToolNotFoundError, redactUrl, spawnTool } from "./process.js";
export type { ExternalTool, SpawnToolOptions, ToolExit, ToolProcess } from "./process.js";
export { PcmFramer, downmixToMono, pcmBytesFor } from "./pcm.js";
export { InputFlowControl } from "./flow-control.js";
