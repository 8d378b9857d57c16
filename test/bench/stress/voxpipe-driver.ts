import { createRequire } from "node:module";
import { StressConnection } from "@voxpipe/cli/stress";
import { createLogger } from "@voxpipe/core";
import type { ClientDriver } from "./client.js";

let opened = 0;
const logger = createLogger("bench", { level: "silent" });

/**
 * voxpipe: one `StressConnection` per session — the same pipeline `voxpipe stress` runs
 * (`DeepgramFluxSTTService` → probe, in a `PipelineTask`), fed through `pushAudio`.
 */
export const voxpipeDriver: ClientDriver = {
  // The STT service reaches Flux through @deepgram/sdk, which brings its own `ws`.
  socketModule: () => {
    const fromDeepgram = createRequire(createRequire(import.meta.url).resolve("@voxpipe/deepgram"));
    return fromDeepgram.resolve("@deepgram/sdk");
  },
  open(args, hooks) {
    const connection: StressConnection = new StressConnection({
      id: ++opened,
      logger,
      // The server shares two cores with both clients and other work: a late answer there is
      // contention, not a dead server. Without this, voxpipe's stall watchdog (5 s) would
      // reconnect and replay audio, adding load; LiveKit's plugin has no such watchdog.
      client: { stallTimeoutMs: 30_000, connectTimeoutMs: 30_000 },
      url: args.url,
      sampleRate: args.sampleRate,
      flux: { model: "flux-general-en", keyterms: [] },
      listener: {
        delivered(c, frame) {
          if (c.requestId === undefined) return;
          if (
            frame.event === "StartOfTurn" ||
            frame.event === "EagerEndOfTurn" ||
            frame.event === "EndOfTurn"
          ) {
            hooks.delivered(c.requestId, frame.event, frame.deliveredAt);
          }
        },
        error(_c, error) {
          hooks.error(`${error.code ?? "error"}: ${error.message}`);
        },
        reconnecting(_c, attempt, reason) {
          hooks.error(`reconnecting (attempt ${attempt}): ${reason}`);
        },
      },
    });
    connection.start();
    return Promise.resolve({
      push(samples: Int16Array) {
        connection.pushAudio(
          new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength),
        );
      },
      close: (timeoutMs: number) => connection.stop(timeoutMs),
    });
  },
};
