/**
 * One benchmark client process: opens N Flux sessions of one client (voxpipe on the WebSocket
 * carrier, voxpipe on the SageMaker carrier, or the LiveKit peer) against a Flux server, streams the synthetic signal at real-time pace for a fixed time,
 * and prints its measurements as one `RESULT {json}` line. Run by `test/bench/stress.ts`, one
 * process per client and load level, so CPU and memory figures belong to that client alone.
 *
 * Usage: tsx --conditions=@voxpipe/source test/bench/stress/client.ts '<ClientArgs JSON>'
 */
import { LatencyRecorder, ResourceMeter } from "@voxpipe/cli/stress";
import type { LatencySummary, ResourceSummary } from "@voxpipe/cli/stress";
import { SocketArrivals } from "./arrivals.js";
import { FramePacer } from "./pacer.js";
import { loopedFrame, toneAndSilence } from "./signal.js";

/** What the orchestrator asks of a client process. */
export interface ClientArgs {
  /** `voxpipe`: the WebSocket carrier; `sagemaker`: the SageMaker carrier; `livekit`: the peer. */
  client: "voxpipe" | "sagemaker" | "livekit";
  sessions: number;
  /** Streaming time, seconds. */
  seconds: number;
  /** Flux endpoint `ws://…/v2/listen`. */
  url: string;
  sampleRate: number;
  /** Audio per pushed frame, ms. */
  frameMs: number;
  /** The local SageMaker endpoint in front of the Flux server (the `sagemaker` client's target). */
  sagemaker?: SageMakerBenchTarget;
}

/** A local SageMaker runtime endpoint: its URL, region and test credentials. */
export interface SageMakerBenchTarget {
  endpointUrl: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** What a client process reports. */
export interface ClientResult {
  client: ClientArgs["client"];
  sessions: number;
  /** Distinct Flux connections (`Connected` messages) by the end: more than `sessions` means reconnects. */
  connected: number;
  /** Connections up when the ramp-up ended (the steady-state window starts 2 s later). */
  connectedAfterRamp: number;
  /** EndOfTurn events delivered. */
  turns: number;
  /** TurnInfo messages received on the sockets. */
  messages: number;
  /**
   * Delay from a StartOfTurn/EagerEndOfTurn/EndOfTurn message reaching the socket to the client
   * delivering it (WebSocket clients only: the SageMaker carrier's HTTP/2 stream is not instrumented).
   */
  messageToFrameMs: LatencySummary;
  /** Pacer ticks that had to send more than one frame (event-loop lag). */
  lateTicks: number;
  /** Ramp-up: from opening the first session to the last `Connected`, ms. */
  connectAllMs: number;
  /**
   * Steady state: average cores busy while streaming, after a 2 s warm-up, over `seconds`
   * (connection set-up excluded: it is a one-off and the server's handshake pace dominates it).
   */
  steadyCores: number;
  /** Whole run, set-up included; RSS above the baseline taken before any session opened. */
  resources: ResourceSummary;
  errors: string[];
}

/** Sessions opened at a time during the ramp-up. */
const RAMP_BATCH = 25;
/** Longest wait for one batch's `Connected`s, ms. */
const RAMP_BATCH_WAIT_MS = 5000;
/** Longest ramp-up in total, ms: past it, the remaining batches open without waiting. */
const RAMP_TOTAL_MS = 60_000;

/** Events delivered one-to-one by both clients, so a delivery can be matched to its message. */
const MATCHED_EVENTS = ["StartOfTurn", "EagerEndOfTurn", "EndOfTurn"] as const;

/** A running session of either client. */
export interface BenchSession {
  push(samples: Int16Array): void;
  close(timeoutMs: number): Promise<void>;
}

/** Hooks a client driver reports through. */
export interface DriverHooks {
  /** A matched event was delivered: `requestId` of its connection, Flux event name, delivery time. */
  delivered(requestId: string, event: (typeof MATCHED_EVENTS)[number], at: number): void;
  /** A connection received `Connected` (drivers without {@link ClientDriver.socketModule}). */
  connected(requestId: string): void;
  error(message: string): void;
}

/** A client under test: instruments its sockets, then opens sessions. */
export interface ClientDriver {
  /**
   * A module path inside the client package, from which its `ws` copy resolves; absent for a
   * client that does not receive through `ws` (it reports `connected` itself).
   */
  socketModule?(): string;
  open(args: ClientArgs, hooks: DriverHooks): Promise<BenchSession>;
}

async function loadDriver(client: ClientArgs["client"]): Promise<ClientDriver> {
  if (client === "livekit") return (await import("./livekit-driver.js")).livekitDriver;
  const voxpipe = await import("./voxpipe-driver.js");
  return client === "sagemaker" ? voxpipe.sagemakerDriver : voxpipe.voxpipeDriver;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as ClientArgs;
  const driver = await loadDriver(args.client);
  const arrivals = new SocketArrivals(MATCHED_EVENTS);
  const socketModule = driver.socketModule?.();
  if (socketModule !== undefined) arrivals.instrument(socketModule);
  /** `request_id`s of the connections up: seen on the sockets, or reported by the driver. */
  const connections = socketModule !== undefined ? arrivals.connections : new Set<string>();

  const m2f = new LatencyRecorder();
  const errors: string[] = [];
  let turns = 0;
  const hooks: DriverHooks = {
    delivered(requestId, event, at) {
      if (event === "EndOfTurn") turns += 1;
      const arrived = arrivals.take(requestId, event);
      if (arrived !== undefined) m2f.record(at - arrived);
    },
    connected(requestId) {
      if (socketModule === undefined) connections.add(requestId);
    },
    error(message) {
      if (errors.length < 20) {
        errors.push(message);
        process.stderr.write(`error: ${message}\n`);
      }
    },
  };

  const samplesPerFrame = (args.sampleRate * args.frameMs) / 1000;
  const period = toneAndSilence({
    sampleRate: args.sampleRate,
    toneSeconds: 1.5,
    silenceSeconds: 1.5,
  });

  // Let start-up garbage settle before the baseline.
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const meter = new ResourceMeter(250);
  meter.start();

  const openedAt = performance.now();
  const sessions: BenchSession[] = [];
  const pacer = new FramePacer(args.frameMs, (index) => {
    // Sessions start at staggered points of the signal, as real callers would.
    for (let i = 0; i < sessions.length; i++)
      sessions[i].push(loopedFrame(period, samplesPerFrame, index + i * 7));
  });
  // Audio flows to each session from its start (the clients buffer it until Connected).
  pacer.start();
  // Ramp up in batches, each waiting for its Connected, as load tests do: hundreds of
  // simultaneous handshakes would measure the server's accept queue, not the clients.
  // A client that cannot keep up stops the ramp from stalling the run: each batch waits at
  // most RAMP_BATCH_WAIT_MS; the sessions still connecting keep going and are reported.
  for (let first = 0; first < args.sessions; first += RAMP_BATCH) {
    const batch = Math.min(RAMP_BATCH, args.sessions - first);
    for (let i = 0; i < batch; i++) sessions.push(await driver.open(args, hooks));
    const deadline = Math.min(performance.now() + RAMP_BATCH_WAIT_MS, openedAt + RAMP_TOTAL_MS);
    while (connections.size < sessions.length && performance.now() < deadline) await sleep(20);
    process.stderr.write(
      `ramp: ${sessions.length} opened, ${connections.size} connected, ${((performance.now() - openedAt) / 1000).toFixed(1)} s\n`,
    );
  }
  const connectAllMs = performance.now() - openedAt;
  const connectedAfterRamp = connections.size;
  await sleep(2000);
  const cpuBefore = process.cpuUsage();
  const steadyFrom = performance.now();
  await sleep(args.seconds * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  const steadyCores = (cpu.user + cpu.system) / 1000 / (performance.now() - steadyFrom);
  pacer.stop();
  const resources = meter.stop();
  const result: ClientResult = {
    client: args.client,
    sessions: args.sessions,
    connected: connections.size,
    connectedAfterRamp,
    turns,
    messages: arrivals.messages,
    messageToFrameMs: m2f.summary(),
    lateTicks: pacer.lateTicks,
    connectAllMs: Math.round(connectAllMs),
    steadyCores: Math.round(steadyCores * 1000) / 1000,
    resources,
    errors,
  };
  // The figures are final: report them before closing, which an overloaded client may not finish.
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  await Promise.race([Promise.all(sessions.map((s) => s.close(3000))), sleep(15_000)]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `client failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
