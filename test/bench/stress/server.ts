/**
 * The benchmark's Flux server in its own process, so its CPU never counts against the clients:
 * `@voxpipe/flux-server` with the scripted engine in energy mode (tone = speech), and in front
 * of it the local SageMaker runtime endpoint (`@voxpipe/sagemaker/local-endpoint`, h2c, SigV4
 * verified) for the SageMaker-carrier client. Prints `READY <base url> <sagemaker JSON>` once
 * listening and `COUNTERS {json}` when asked to stop (SIGTERM or stdin end).
 *
 * Usage: tsx --conditions=@voxpipe/source test/bench/stress/server.ts
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startFluxServer } from "@voxpipe/flux-server";
import { startLocalSageMakerEndpoint } from "@voxpipe/sagemaker/local-endpoint";
import { BENCH_SCRIPTED_ENGINE } from "../bench-engine.js";

const server = await startFluxServer(BENCH_SCRIPTED_ENGINE);
const sagemaker = await startLocalSageMakerEndpoint({ fluxUrl: server.url, tls: false });
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const cpuStart = process.cpuUsage();
const startedAt = performance.now();
/** Where the SageMaker client connects: the endpoint's URL, region and its test credentials. */
const sagemakerTarget = {
  endpointUrl: sagemaker.url,
  region: sagemaker.region,
  credentials: sagemaker.credentials,
};
process.stdout.write(`READY ${server.url} ${JSON.stringify(sagemakerTarget)}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const cpu = process.cpuUsage(cpuStart);
  const counters = {
    ...server.counters(),
    /** Average cores the server used over its life. */
    cores:
      Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - startedAt)) * 1000) / 1000,
    /** Event-loop delay p99, ms: above a few ms the server itself is the bottleneck. */
    loopDelayP99Ms: Math.round(lag.percentile(99) / 1e4) / 100,
  };
  await sagemaker.close();
  await server.close();
  process.stdout.write(`COUNTERS ${JSON.stringify(counters)}\n`);
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();
