/**
 * `@voxpipe/transports`: audio in and out of a voxpipe pipeline — WAV files, anything ffmpeg
 * reads (files, live URLs), raw PCM on stdin, the microphone; WAV files and the speaker.
 * Input transports emit 20 ms `InputAudioRawFrame`s; output transports take
 * `OutputAudioRawFrame`s. Swap one for another without touching the rest of the pipeline.
 */
export {
  BaseInputTransport,
  type InputTransportEvents,
  type InputTransportOptions,
} from "./base-input.js";
/** Input from a WAV file. */
export { WavFileInputTransport, type WavFileInputOptions } from "./wav-input.js";
/** Input from any file or URL ffmpeg reads. */
export { FfmpegInputTransport, type FfmpegInputOptions } from "./ffmpeg-input.js";
/** Input from raw PCM on a stream (stdin). */
export { PcmStreamInputTransport, type PcmStreamInputOptions } from "./stream-input.js";
/** Input from the microphone (arecord or ffmpeg). */
export { MicrophoneInputTransport, type MicrophoneInputOptions } from "./microphone-input.js";
/** Base of output transports: real-time playout, interruption, bot speaking frames. */
export {
  BaseOutputTransport,
  type OutputTransportEvents,
  type OutputTransportOptions,
} from "./base-output.js";
/** Output to a WAV file on the call's timeline. */
export { WavFileOutputTransport, type WavFileOutputOptions } from "./wav-output.js";
/** Output to the speaker (aplay or ffplay). */
export { SpeakerOutputTransport, type SpeakerOutputOptions } from "./speaker-output.js";
/** Subprocess plumbing for the external tools, with install hints. */
export {
  TOOLS,
  ToolExitError,
  ToolNotFoundError,
  redactUrl,
  spawnTool,
  type ExternalTool,
  type SpawnToolOptions,
  type ToolExit,
  type ToolProcess,
} from "./process.js";
/** PCM helpers: framing, downmixing, byte sizes. */
export { PcmFramer, downmixToMono, pcmBytesFor } from "./pcm.js";
/** Flow control for fast input ("as fast as the provider accepts"). */
export { InputFlowControl } from "./flow-control.js";
