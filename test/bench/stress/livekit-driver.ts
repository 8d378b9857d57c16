import { createRequire } from "node:module";
import type { stt } from "@livekit/agents";
import type { ClientDriver } from "./client.js";
import { LiveKitPeerSession, createLiveKitFlux, fluxEventOf } from "./livekit-peer.js";
import type { STTv2 } from "@livekit/agents-plugin-deepgram";

let engine: STTv2 | undefined;

/** The LiveKit peer: `@livekit/agents-plugin-deepgram` STTv2 streams, one per session. */
export const livekitDriver: ClientDriver = {
  socketModule: () => createRequire(import.meta.url).resolve("@livekit/agents-plugin-deepgram"),
  open(args, hooks) {
    const options = {
      url: args.url,
      sampleRate: args.sampleRate,
      samplesPerFrame: (args.sampleRate * args.frameMs) / 1000,
    };
    if (engine === undefined) {
      engine = createLiveKitFlux(options);
      engine.on("error", (e) =>
        hooks.error(`${e.recoverable ? "recoverable" : "fatal"}: ${e.error.message}`),
      );
    }
    return Promise.resolve(
      new LiveKitPeerSession(engine, options, (event: stt.SpeechEvent, at: number) => {
        const name = fluxEventOf(event.type);
        if (name !== undefined && name !== "Update" && event.requestId)
          hooks.delivered(event.requestId, name, at);
      }),
    );
  },
};
