import { FrameProcessor, InputAudioRawFrame, Pipeline, PipelineTask } from "@voxpipe/core";
import type { Frame, FrameDirection, Logger } from "@voxpipe/core";
import { DEFAULT_EOT_THRESHOLD, EOT_THRESHOLD_RANGE } from "@voxpipe/flux-protocol";
import { startFluxServer } from "@voxpipe/flux-server";
import type { TurnEngineFactory } from "@voxpipe/flux-server";
import type { Carrier } from "@voxpipe/deepgram";
import { MicrophoneInputTransport } from "@voxpipe/transports";
import type { CliIO } from "../io.js";
import { CliUsageError } from "../options/flux.js";
import { importSageMaker } from "../sagemaker.js";
import { StressConnection } from "./connection.js";
import type { ConnectionListener } from "./connection.js";
import { StressLiveView } from "./live-view.js";
import type { StressOptions } from "./options.js";
import { SharedPcmInputTransport, decodeWavFile } from "./pcm-input.js";
import type { StressReport } from "./report.js";
import { ResourceMeter } from "./resources.js";
import { AggregateStats } from "./stats.js";

/** Sample rate of file runs: Flux's recommendation (protocol reference §1.4). */
export const FILE_SAMPLE_RATE = 16000;

/** How long a connection may take to end gracefully (ForceEndTurn, CloseStream, last result). */
const STOP_TIMEOUT_MS = 5000;

/** What a run needs besides its options. */
export interface StressRunContext {
  io: CliIO;
  logger: Logger;
  /** Aborting it (Ctrl-C) ends the run gracefully; the summary is still printed. */
  signal?: AbortSignal;
  /** Engine of the in-process server for `local` (default `"local"`, real offline speech). */
  localEngine?: string | TurnEngineFactory;
  /** Options of a named local engine (e.g. the scripted engine's transcripts, for tests). */
  localEngineOptions?: Readonly<Record<string, unknown>>;
  /** Progress line period, ms. Default 1000 on a terminal, 5000 otherwise. */
  progressMs?: number;
  /** Colour the live output. Default: picocolors' detection. */
  color?: boolean;
}

/** Where connections go and how to release it. */
interface OpenEndpoint {
  url: string;
  apiKey: string | undefined;
  /** Shared by every connection (SageMaker: one pool of HTTP/2 connections for the run). */
  carrier?: Carrier;
  /** What the report shows (no query string, no key). */
  shown: string;
  /** Releases what was opened (the local server, the carrier's connections). */
  close(): Promise<void>;
}

async function openEndpoint(
  options: StressOptions,
  ctx: StressRunContext,
  view: StressLiveView,
): Promise<OpenEndpoint> {
  const key = ctx.io.env.DEEPGRAM_API_KEY || undefined;
  const endpoint = options.endpoint;
  if (endpoint.kind === "local") {
    const server = await startFluxServer({
      port: 0,
      engine: ctx.localEngine ?? "local",
      ...(ctx.localEngineOptions !== undefined && { engineOptions: ctx.localEngineOptions }),
      logger: ctx.logger.child({ component: "flux-server" }),
    });
    const url = `${server.url}/v2/listen`;
    view.notice(
      `local Flux server (${typeof ctx.localEngine === "object" ? ctx.localEngine.name : (ctx.localEngine ?? "local")} engine) at ${url}`,
    );
    return { url, apiKey: undefined, shown: url, close: () => server.close() };
  }
  if (endpoint.kind === "sagemaker") {
    const { parseSageMakerTarget, sagemakerCarrier } = await importSageMaker(
      `<endpoint> sagemaker:${endpoint.endpointName}`,
    );
    let endpointName: string;
    try {
      endpointName = parseSageMakerTarget(`sagemaker:${endpoint.endpointName}`) ?? "";
    } catch (error) {
      throw new CliUsageError(`<endpoint> ${(error as Error).message}`);
    }
    const carrier = sagemakerCarrier({
      endpointName,
      env: ctx.io.env,
      ...(endpoint.region !== undefined && { region: endpoint.region }),
    });
    const shown = `sagemaker:${endpointName}`;
    view.notice(`Flux on Amazon SageMaker endpoint ${endpointName}`);
    return {
      url: "",
      apiKey: undefined,
      carrier,
      shown,
      close: () => {
        carrier.destroy();
        return Promise.resolve();
      },
    };
  }
  if (endpoint.kind === "deepgram" && key === undefined) {
    throw new CliUsageError(
      "DEEPGRAM_API_KEY is not set: set it to load-test Deepgram, or use `local` or a ws:// URL of a Flux server",
    );
  }
  return { url: endpoint.url, apiKey: key, shown: endpoint.url, close: () => Promise.resolve() };
}

/** Hands every captured frame to every connection (one microphone, N Flux streams). */
class FanOut extends FrameProcessor {
  constructor(private readonly connections: readonly StressConnection[]) {
    super({ name: "stress-fan-out" });
  }

  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof InputAudioRawFrame) {
      for (const c of this.connections) c.pushAudio(frame.audio);
      return;
    }
    this.push(frame, direction);
  }
}

/**
 * Runs `voxpipe stress`: opens `options.connections` connections, each a voxpipe pipeline
 * with a real `DeepgramFluxSTTService`, streams the WAV file (each connection its own paced
 * input, looped with `--loop`) or the microphone (one capture fanned out to all), shows every
 * turn event live, and returns the summary.
 *
 * Ends when every connection's file input ended, when `--duration` elapsed, or when
 * `ctx.signal` aborts — always gracefully (open turns are ended, results collected).
 * @throws CliUsageError when the endpoint needs an API key that is not set.
 * @throws Error when the WAV file cannot be read.
 */
export async function runStress(
  options: StressOptions,
  ctx: StressRunContext,
): Promise<StressReport> {
  const out = options.json ? ctx.io.stderr : ctx.io.stdout;
  const interactive = out.isTTY === true;
  const view = new StressLiveView({
    write: (text) => out.write(text),
    interactive,
    ...(ctx.color !== undefined && { color: ctx.color }),
  });

  const sampleRate = options.source.kind === "file" ? FILE_SAMPLE_RATE : options.source.sampleRate;
  // Read the file before opening anything: a bad path fails fast.
  const audio =
    options.source.kind === "file"
      ? await decodeWavFile(options.source.path, sampleRate)
      : undefined;
  const endpoint = await openEndpoint(options, ctx, view);
  const meter = new ResourceMeter();
  const startedAt = performance.now();
  const connections: StressConnection[] = [];
  let capture: PipelineTask | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let configureTimer: NodeJS.Timeout | undefined;
  const configuring = new Set<Promise<void>>();
  let stopped = false;
  try {
    view.legend();
    const listener: ConnectionListener = {
      turn: (c, event) => view.turnEvent(c.id, event),
      error: (c, error) => view.error(c.id, error),
      reconnecting: (c, attempt, reason) => view.reconnecting(c.id, attempt, reason),
      reconnected: (c) => view.reconnected(c.id),
    };
    meter.start();
    for (let id = 1; id <= options.connections; id++) {
      connections.push(
        new StressConnection({
          id,
          url: endpoint.url,
          ...(endpoint.apiKey !== undefined && { apiKey: endpoint.apiKey }),
          ...(endpoint.carrier !== undefined && { carrier: endpoint.carrier }),
          flux: options.flux,
          sampleRate,
          logger: ctx.logger,
          listener,
          ...(audio !== undefined &&
            options.source.kind === "file" && {
              input: new SharedPcmInputTransport({
                audio,
                sampleRate,
                loop: options.source.loop,
                ...(options.source.stagger && {
                  startFraction: (id - 1) / options.connections,
                }),
                name: `stress-input#${id}`,
              }),
            }),
        }),
      );
    }
    for (const c of connections) c.start();

    if (options.source.kind === "microphone") {
      const mic = new MicrophoneInputTransport({
        sampleRate,
        ...(options.source.device !== undefined && { device: options.source.device }),
      });
      capture = new PipelineTask(new Pipeline([mic, new FanOut(connections)]), {
        audioInSampleRate: sampleRate,
        idleTimeoutMs: null,
        logger: ctx.logger,
      });
    }

    const progress = (): void =>
      view.progress({
        elapsedMs: performance.now() - startedAt,
        up: connections.filter((c) => c.stats.up).length,
        total: connections.length,
        turns: connections.reduce((n, c) => n + c.stats.turns, 0),
        audioSeconds: connections.reduce((s, c) => s + c.audioSecondsSent, 0),
      });
    if (options.configureEverySeconds !== undefined) {
      // Alternate around the run's threshold: base+0.01, base, … (−0.01 at the 1.0 ceiling).
      const base = options.flux.eotThreshold ?? DEFAULT_EOT_THRESHOLD;
      const nudged =
        Math.round((base + (base + 0.01 > EOT_THRESHOLD_RANGE.max ? -0.01 : 0.01)) * 100) / 100;
      let tick = 0;
      configureTimer = setInterval(() => {
        const value = ++tick % 2 === 1 ? nudged : base;
        for (const c of connections) {
          // Tracked so the run awaits every round trip it started; configure() never rejects.
          const pending = c.configure(value);
          configuring.add(pending);
          void pending.finally(() => configuring.delete(pending));
        }
      }, options.configureEverySeconds * 1000);
    }
    progressTimer = setInterval(progress, ctx.progressMs ?? (interactive ? 1000 : 5000));

    // The run ends at the first of: all connections finished, the duration, the signal, the capture ending.
    const ended: Promise<unknown>[] = [Promise.all(connections.map((c) => c.finished))];
    let timer: NodeJS.Timeout | undefined;
    if (options.durationSeconds !== undefined) {
      ended.push(
        new Promise((resolve) => (timer = setTimeout(resolve, options.durationSeconds! * 1000))),
      );
    }
    let onAbort: (() => void) | undefined;
    if (ctx.signal !== undefined) {
      const signal = ctx.signal;
      ended.push(
        new Promise<void>((resolve) => {
          onAbort = () => resolve();
          signal.addEventListener("abort", onAbort, { once: true });
        }),
      );
    }
    const captureRun = capture?.run().catch((error: unknown) => {
      view.error(0, {
        message: `microphone: ${error instanceof Error ? error.message : String(error)}`,
        fatal: true,
      });
    });
    if (captureRun !== undefined) ended.push(captureRun);
    await Promise.race(ended);
    clearTimeout(timer);
    if (onAbort !== undefined) ctx.signal?.removeEventListener("abort", onAbort);

    clearInterval(configureTimer);
    await Promise.all(configuring);
    progress();
    if (ctx.signal?.aborted) view.notice("stopping: ending open turns…");
    await capture?.cancel("stress run over");
    await captureRun;
    await Promise.all(connections.map((c) => c.stop(STOP_TIMEOUT_MS)));
    stopped = true;
  } finally {
    clearInterval(progressTimer);
    clearInterval(configureTimer);
    view.close();
    // After a throw, end whatever was started (never-started connections have nothing to stop).
    if (!stopped) {
      await capture?.cancel("stress run failed");
      await Promise.all(connections.map((c) => c.stop(STOP_TIMEOUT_MS).catch(() => undefined)));
    }
    await endpoint.close();
  }

  const durationSeconds = (performance.now() - startedAt) / 1000;
  const client = meter.stop();
  for (const c of connections) c.stats.audioSent(Math.round(c.audioSecondsSent * sampleRate * 2));
  const n = connections.length;
  return {
    mode: options.source.kind,
    endpoint: endpoint.shown,
    settings: {
      model: options.flux.model,
      sample_rate: sampleRate,
      ...(options.flux.eotThreshold !== undefined && { eot_threshold: options.flux.eotThreshold }),
      ...(options.flux.eagerEotThreshold !== undefined && {
        eager_eot_threshold: options.flux.eagerEotThreshold,
      }),
      ...(options.flux.eotTimeoutMs !== undefined && { eot_timeout_ms: options.flux.eotTimeoutMs }),
      keyterms: options.flux.keyterms.length,
    },
    connections: n,
    durationSeconds: Math.round(durationSeconds * 1000) / 1000,
    perConnection: connections.map((c) => ({ connection: c.id, ...c.stats.summary() })),
    aggregate: AggregateStats.of(connections.map((c) => c.stats)).summary(),
    client: {
      ...client,
      cpuMsPerConnection: Math.round(((client.cpuUserMs + client.cpuSystemMs) / n) * 10) / 10,
      rssPerConnectionMiB: Math.round((client.rssAboveBaselineMiB / n) * 1000) / 1000,
    },
  };
}
