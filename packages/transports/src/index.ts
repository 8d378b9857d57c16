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
/** The WebSocket serializer interface (wire message ↔ frames) and lenient parsing helpers. */
export {
  type CallInfo,
  type FrameSerializer,
  type InboundMessage,
  type WireAudioFormat,
  type WireMessage,
} from "./websocket/serializer.js";
/** Telephony serializers: Twilio Media Streams, Telnyx, Plivo, Exotel. */
export {
  TELEPHONY_MULAW_8K,
  TelephonySerializer,
  type TelephonySerializerOptions,
} from "./websocket/serializers/telephony.js";
/** Twilio Media Streams. */
export { TwilioFrameSerializer } from "./websocket/serializers/twilio.js";
/** Telnyx Media Streaming. */
export { TelnyxFrameSerializer } from "./websocket/serializers/telnyx.js";
/** Plivo Audio Streaming. */
export { PlivoFrameSerializer } from "./websocket/serializers/plivo.js";
/** Exotel AgentStream (Voicebot applet). */
export { ExotelFrameSerializer } from "./websocket/serializers/exotel.js";
/** The protocol of voxpipe's browser page. */
export {
  BrowserFrameSerializer,
  type BrowserSerializerOptions,
} from "./websocket/serializers/browser.js";
/** Hanging a call up through the provider's REST API. */
export {
  HangUpError,
  PlivoRestHangUp,
  TelnyxRestHangUp,
  TwilioRestHangUp,
  type CallHangUp,
  type PlivoHangUpOptions,
  type TelnyxHangUpOptions,
  type TwilioHangUpOptions,
} from "./websocket/hangup.js";
/** One call on one WebSocket: socket, serializer, input and output processors. */
export {
  WebSocketSession,
  type WebSocketSessionEvents,
  type WebSocketSessionOptions,
} from "./websocket/session.js";
/** The WebSocket input (caller audio, DTMF) and output (paced bot audio, clear, marks). */
export { WebSocketInputTransport, type WebSocketInputOptions } from "./websocket/ws-input.js";
export {
  DEFAULT_MAX_BUFFERED_BYTES,
  WebSocketOutputTransport,
  type OutputSink,
  type WebSocketOutputOptions,
} from "./websocket/ws-output.js";
/** The WebSocket server transport (one pipeline per connection) and client transport. */
export {
  WebSocketServerTransport,
  type WebSocketServerTransportEvents,
  type WebSocketServerTransportOptions,
} from "./websocket/server.js";
export {
  connectWebSocketTransport,
  type WebSocketClientTransportOptions,
} from "./websocket/client.js";
