import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FrameProcessor, Pipeline, PipelineRunner, PipelineTask, TextFrame } from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";

class Slow extends FrameProcessor {
  processed = 0;
  override async process(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof TextFrame) {
      await new Promise((r) => setTimeout(r, 10));
      this.processed++;
    }
    this.push(frame, direction);
  }
}

function started(task: PipelineTask): Promise<void> {
  return new Promise((resolve) => task.on("started", () => resolve()));
}

describe("PipelineRunner", () => {
  it("first signal ends gracefully (queued work completes); handlers are removed afterwards", async () => {
    const signals = new EventEmitter();
    const slow = new Slow();
    const task = new PipelineTask(new Pipeline([slow]), { idleTimeoutMs: null });
    const running = new PipelineRunner({ signals: signals }).run(task);
    await started(task);
    for (let i = 0; i < 5; i++) task.queueFrame(new TextFrame({ text: String(i) }));
    expect(signals.listenerCount("SIGINT")).toBe(1);
    signals.emit("SIGTERM");
    const result = await running;
    expect(result.reason).toBe("end");
    expect(slow.processed).toBe(5);
    expect(signals.listenerCount("SIGINT") + signals.listenerCount("SIGTERM")).toBe(0);
  });

  it("a second signal cancels", async () => {
    const signals = new EventEmitter();
    const slow = new Slow();
    const task = new PipelineTask(new Pipeline([slow]), { idleTimeoutMs: null });
    const running = new PipelineRunner({ signals: signals }).run(task);
    await started(task);
    for (let i = 0; i < 50; i++) task.queueFrame(new TextFrame({ text: String(i) }));
    signals.emit("SIGINT");
    signals.emit("SIGINT");
    const result = await running;
    expect(result.reason).toBe("cancel");
    expect(slow.processed).toBeLessThan(50);
  });

  it(
    "handles real SIGINT in a child process: once → graceful end, twice → cancel",
    { timeout: 30_000 },
    async () => {
      const require = createRequire(import.meta.url);
      const tsx = require.resolve("tsx");
      const script = fileURLToPath(new URL("./fixtures/runner-child.ts", import.meta.url));
      const events = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--import", tsx, "--conditions=@voxpipe/source", script],
          {
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, VOXPIPE_LOG_LEVEL: "silent" },
          },
        );
        const lines: Record<string, unknown>[] = [];
        let buf = "";
        let err = "";
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          let i: number;
          while ((i = buf.indexOf("\n")) >= 0) {
            const event = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
            buf = buf.slice(i + 1);
            lines.push(event);
            if (event.event === "started") {
              child.kill("SIGINT");
              if (event.mode === "stuck") setTimeout(() => child.kill("SIGINT"), 20);
            }
          }
        });
        child.on("error", reject);
        child.on("exit", (code) =>
          code === 0 ? resolve(lines) : reject(new Error(`exit ${code}: ${err}`)),
        );
      });
      expect(events.filter((e) => e.event === "finished")).toEqual([
        { event: "finished", mode: "graceful", reason: "end", processed: 10 },
        { event: "finished", mode: "stuck", reason: "cancel", processed: 0 },
      ]);
    },
  );
});
