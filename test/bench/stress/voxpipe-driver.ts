import { createRequire } from "node:module";
import { StressConnection } from "@voxpipe/cli/stress";
import { createLogger } from "@voxpipe/core";
import type { Carrier } from "@voxpipe/deepgram";
import { sagemakerCarrier } from "@voxpipe/sagemaker";
import type { BenchSession, ClientArgs, ClientDriver, DriverHooks } from "./client.js";

let opened = 0;
const logger = createLogger("bench", { level: "silent" });

/**
 * One `StressConnection` — the same pipeline `voxpipe stress` runs (`DeepgramFluxSTTService` →
 * probe, in a `PipelineTask`), fed through `pushAudio` — on `carrier`, or on the default
 * WebSocket carrier (`@deepgram/sdk`) to `args.url` when `carrier` is undefined.
 */
function openSession(
  args: ClientArgs,
  hooks: DriverHooks,
  carrier: Carrier | undefined,
): Promise<BenchSession> {
  const connection: StressConnection = new StressConnection({
    id: ++opened,
    logger,
    // The server shares two cores with both clients and other work: a late answer there is
    // contention, not a dead server. Without this, voxpipe's stall watchdog (5 s) would
    // reconnect and replay audio, adding load; LiveKit's plugin has no such watchdog.
    client: { stallTimeoutMs: 30_000, connectTimeoutMs: 30_000 },
    url: args.url,
    ...(carrier !== undefined && { carrier }),
    sampleRate: args.sampleRate,
    flux: { model: "flux-general-en", keyterms: [] },
    listener: {
      connected(c) {
        if (c.requestId !== undefined) hooks.connected(c.requestId);
      },
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
      connection.pushAudio(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
    },
    close: (timeoutMs: number) => connection.stop(timeoutMs),
  });
}

/** voxpipe on its default carrier: the Flux WebSocket through `@deepgram/sdk`. */
export const voxpipeDriver: ClientDriver = {
  // The STT service reaches Flux through @deepgram/sdk, which brings its own `ws`.
  socketModule: () => {
    const fromDeepgram = createRequire(createRequire(import.meta.url).resolve("@voxpipe/deepgram"));
    return fromDeepgram.resolve("@deepgram/sdk");
  },
  open: (args, hooks) => openSession(args, hooks, undefined),
};

let sagemaker: Carrier | undefined;

/**
 * voxpipe on the SageMaker carrier: every session is an InvokeEndpointWithBidirectionalStream
 * (HTTP/2, SigV4-signed request and events, AWS event-stream framing) to the local SageMaker
 * endpoint in the server process, which bridges it to the same Flux server. One carrier for
 * the process, as `voxpipe stress` uses: its HTTP/2 connections are pooled across sessions.
 */
export const sagemakerDriver: ClientDriver = {
  open(args, hooks) {
    if (args.sagemaker === undefined) throw new Error("the sagemaker client needs args.sagemaker");
    sagemaker ??= sagemakerCarrier({ endpointName: "bench-flux", ...args.sagemaker });
    return openSession(args, hooks, sagemaker);
  },
};
