import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loggerFromSink, type LogSink } from "../src/index.js";

/** Runs fixtures/logger-child.ts in a fresh process with no level configured, as an application would. */
function runChild(mode: string): Promise<{ stdout: string; stderr: string }> {
  const tsx = createRequire(import.meta.url).resolve("tsx");
  const script = fileURLToPath(new URL("./fixtures/logger-child.ts", import.meta.url));
  const env = { ...process.env };
  delete env.VITEST;
  delete env.VOXPIPE_LOG_LEVEL;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", tsx, "--conditions=@voxpipe/source", script, mode],
      { stdio: ["ignore", "pipe", "pipe"], env },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`exit ${code}: ${stderr}`)),
    );
  });
}

describe("library logging", () => {
  it("by default writes warnings and errors to stderr only; stdout holds only the application's lines", async () => {
    const { stdout, stderr } = await runChild("default");
    expect(stdout).toBe("the application's own line\n");
    const lines = stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.level, l.msg, l.component])).toEqual([
      [40, "flux reconnecting", "flux-client"],
      [50, "flux failed", "flux-client"],
    ]);
  });

  it("setRootLogger(any logger) routes voxpipe's warnings and errors to it", async () => {
    const { stdout, stderr } = await runChild("sink");
    expect(stderr).toBe("");
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^app-logger warn flux reconnecting \{.*"component":"flux-client"/);
    expect(lines[1]).toMatch(/^app-logger error flux failed \{.*"err":\{.*"message":"boom"/);
    expect(lines.slice(2)).toEqual(["the application's own line"]);
  });

  it("loggerFromSink passes the levels it is given, fatal as error and trace as debug", () => {
    const seen: string[] = [];
    const sink: LogSink = {
      error: (m) => seen.push(`error:${m}`),
      warn: (m) => seen.push(`warn:${m}`),
      info: (m) => seen.push(`info:${m}`),
      debug: (m) => seen.push(`debug:${m}`),
    };
    const log = loggerFromSink(sink, "trace");
    log.trace("t");
    log.debug("d");
    log.info("i");
    log.fatal("f");
    expect(seen).toEqual(["debug:t", "debug:d", "info:i", "error:f"]);
  });
});
