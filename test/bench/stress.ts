/**
 * `pnpm bench:stress` — voxpipe's Flux STT client under load, side by side with LiveKit's
 * TypeScript Flux plugin (`@livekit/agents-plugin-deepgram` STTv2), against the local Flux
 * server (scripted engine) running in its own process; and voxpipe through Amazon SageMaker's
 * bidirectional stream (`sagemakerCarrier`, HTTP/2 + SigV4 + event stream) to the local
 * SageMaker endpoint in front of that server, so the SageMaker carrier's CPU and RSS per session
 * are printed as a ratio to the WebSocket carrier's.
 *
 * For each load level (default 50, 200, 500 concurrent sessions) and each client, a fresh
 * client process opens the sessions and streams a tone/silence signal at real-time pace
 * (20 ms frames from one shared pacer) for `--seconds`, then reports CPU, RSS above its
 * baseline, and message-to-frame delay (a TurnInfo reaching the socket → the client delivering
 * it). Then the core pipeline benchmark (`test/bench/core-pipeline.ts`) runs, when present.
 *
 * Options: --levels 50,200,500  --seconds 20  --clients voxpipe,sagemaker,livekit  --json
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ClientArgs, ClientResult, SageMakerBenchTarget } from "./stress/client.js";
import { renderTable, type LevelResult, type ServerFigures } from "./stress/table.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

const { values } = parseArgs({
  options: {
    levels: { type: "string", default: "50,200,500" },
    seconds: { type: "string", default: "20" },
    clients: { type: "string", default: "voxpipe,sagemaker,livekit" },
    json: { type: "boolean", default: false },
  },
});
const levels = values.levels.split(",").map(Number);
const seconds = Number(values.seconds);
const clients = values.clients.split(",") as ClientArgs["client"][];
for (const n of levels)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--levels: ${n} is not a positive integer`);
if (!(seconds > 0)) throw new Error(`--seconds: ${values.seconds} is not a positive number`);
for (const c of clients)
  if (c !== "voxpipe" && c !== "sagemaker" && c !== "livekit")
    throw new Error(`--clients: ${String(c)} is not voxpipe, sagemaker or livekit`);

/** Node flags that run a TypeScript entry with workspace packages resolved to their sources. */
const NODE_ARGS = ["--import", "tsx", "--conditions=@voxpipe/source", "--expose-gc"];

/**
 * Runs a TypeScript entry as a child process and resolves with its stdout once it exits; a
 * child killed at `timeoutMs` still yields what it printed (the RESULT line comes first).
 */
function runChild(entry: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, entry, ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || out.includes("RESULT ")) resolve(out);
      else
        reject(
          new Error(
            `${entry} exited with ${code ?? signal}: ${err.trim().split("\n").slice(-5).join("\n")}`,
          ),
        );
    });
  });
}

/** The server process: Flux's URL, the SageMaker endpoint in front of it, and a stop function. */
interface BenchServer {
  url: string;
  sagemaker: SageMakerBenchTarget;
  stop: () => Promise<ServerFigures | undefined>;
}

/** Starts the Flux server process (with its local SageMaker endpoint). */
function startServer(): Promise<BenchServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, join(here, "stress", "server.ts")], {
      cwd: root,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let buffer = "";
    let ready = false;
    const exited = new Promise<void>((r) => child.on("close", () => r()));
    child.on("error", reject);
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      const match = /READY (\S+) (\{.*\})\n/.exec(buffer);
      if (match && !ready) {
        ready = true;
        resolve({
          url: `${match[1]}/v2/listen`,
          sagemaker: JSON.parse(match[2]) as SageMakerBenchTarget,
          stop: async () => {
            child.stdin.end();
            await exited;
            const counters = /COUNTERS (\{.*\})/.exec(buffer);
            return counters ? (JSON.parse(counters[1]) as ServerFigures) : undefined;
          },
        });
      }
    });
    setTimeout(() => reject(new Error("Flux server did not start within 30 s")), 30_000).unref();
  });
}

async function runLevel(sessions: number): Promise<LevelResult> {
  const server = await startServer();
  const results: Partial<Record<ClientArgs["client"], ClientResult>> = {};
  const failures: Partial<Record<ClientArgs["client"], string>> = {};
  let server_: ServerFigures | undefined;
  try {
    for (const client of clients) {
      const args: ClientArgs = {
        client,
        sessions,
        seconds,
        url: server.url,
        sampleRate: 16000,
        frameMs: 20,
        sagemaker: server.sagemaker,
      };
      process.stderr.write(`  ${sessions} sessions, ${client}: streaming ${seconds} s…\n`);
      let out: string;
      try {
        out = await runChild(
          join(here, "stress", "client.ts"),
          [JSON.stringify(args)],
          (seconds + 300) * 1000,
        );
      } catch (error) {
        // A client that cannot finish at this load is a result too: reported, not fatal.
        failures[client] = error instanceof Error ? error.message.split("\n")[0] : String(error);
        continue;
      }
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (line) results[client] = JSON.parse(line.slice("RESULT ".length)) as ClientResult;
      else failures[client] = "printed no RESULT line";
    }
  } finally {
    server_ = await server.stop();
  }
  return { sessions, seconds, results, failures, server: server_ };
}

/** The core pipeline benchmark's output, when its script exists. */
async function corePipeline(): Promise<string | undefined> {
  const entry = join(here, "core-pipeline.ts");
  if (!existsSync(entry)) return undefined;
  process.stderr.write("  core pipeline benchmark…\n");
  return (await runChild(entry, [], 600_000)).trim();
}

process.stderr.write(
  `voxpipe stress benchmark: levels ${levels.join(", ")}; ${seconds} s each; clients ${clients.join(", ")}\n`,
);
const levelResults: LevelResult[] = [];
for (const n of levels) levelResults.push(await runLevel(n));
const core = await corePipeline();

if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ levels: levelResults, corePipeline: core ?? null }, null, 2)}\n`,
  );
} else {
  process.stdout.write(renderTable(levelResults));
  process.stdout.write(
    core
      ? `\nCore pipeline (test/bench/core-pipeline.ts):\n${core}\n`
      : "\nCore pipeline: test/bench/core-pipeline.ts not present.\n",
  );
}
