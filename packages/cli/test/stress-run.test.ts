import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, encodeWav } from "@voxpipe/core";
import { createScriptedEngine } from "@voxpipe/flux-server";
import type { TurnEngineFactory } from "@voxpipe/flux-server";
import { CliUsageError } from "../src/options/flux.js";
import { registerStressCommand } from "../src/stress/command.js";
import { resolveStressOptions } from "../src/stress/options.js";
import { runStress } from "../src/stress/run.js";

const RATE = 16000;
const TRANSCRIPTS = ["Hello there.", "Book a table for two."];

/** Tone (speech for the scripted engine's energy mode) and silence, as mono PCM s16le. */
function toneThenSilence(segments: [toneSeconds: number, silenceSeconds: number][]): Uint8Array {
  const parts: Int16Array[] = [];
  for (const [tone, silence] of segments) {
    const t = new Int16Array(Math.round(tone * RATE));
    for (let i = 0; i < t.length; i++)
      t[i] = Math.round(9000 * Math.sin((2 * Math.PI * 440 * i) / RATE));
    parts.push(t, new Int16Array(Math.round(silence * RATE)));
  }
  const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(all.buffer);
}

/** The scripted engine, counting the turns it ended per session (each EndOfTurn resets a turn). */
function countingScriptedEngine(): {
  factory: TurnEngineFactory;
  turnsBySession: Map<string, number>;
} {
  const inner = createScriptedEngine({ transcripts: TRANSCRIPTS });
  const turnsBySession = new Map<string, number>();
  const factory: TurnEngineFactory = {
    name: "scripted",
    async createSession(context) {
      const engine = await inner.createSession(context);
      turnsBySession.set(context.requestId, 0);
      return {
        hear: (frame) => engine.hear(frame),
        resetTurn: (at) => {
          turnsBySession.set(context.requestId, (turnsBySession.get(context.requestId) ?? 0) + 1);
          return engine.resetTurn(at);
        },
        close: () => engine.close(),
      };
    },
  };
  return { factory, turnsBySession };
}

let dir: string;
let wavPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-stress-"));
  wavPath = join(dir, "two-turns.wav");
  await writeFile(
    wavPath,
    encodeWav(
      toneThenSilence([
        [1.0, 1.3],
        [1.2, 1.3],
      ]),
      RATE,
    ),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("voxpipe stress file local (real run, scripted engine)", () => {
  it("streams the WAV on every connection and reports what the engine produced", async () => {
    const { factory, turnsBySession } = countingScriptedEngine();
    let live = "";
    let json = "";
    const options = resolveStressOptions("file", "local", {
      file: wavPath,
      connections: 3,
      json: true,
    });
    const report = await runStress(options, {
      io: {
        stdout: { write: (t: string) => (json += t) },
        stderr: { write: (t: string) => (live += t) },
        env: {},
      },
      logger: createLogger("stress-test", { level: "silent" }),
      localEngine: factory,
      color: false,
    });

    // The engine saw three sessions and ended two turns in each.
    expect([...turnsBySession.values()]).toEqual([2, 2, 2]);
    expect(report.connections).toBe(3);
    expect(report.perConnection.map((c) => c.turns)).toEqual([2, 2, 2]);
    expect(report.aggregate.turns).toBe(6);
    expect(report.aggregate.events.StartOfTurn).toBe(6);
    expect(report.aggregate.events.EndOfTurn).toBe(6);
    expect(report.aggregate.events.Update).toBeGreaterThan(0);
    expect(report.aggregate.reconnects).toBe(0);
    expect(report.aggregate.errors).toEqual({});
    // Each connection streamed the whole 4.8 s file (plus at most the silence the client adds to end a turn).
    for (const c of report.perConnection) {
      expect(c.audioSeconds).toBeGreaterThanOrEqual(4.7);
      expect(c.audioSeconds).toBeLessThan(7);
    }
    // The scripted engine's words carry timings, so every turn has an end-of-turn latency.
    expect(report.aggregate.eotLatencyAudioMs.count).toBe(6);
    expect(report.aggregate.eotLatencyWallMs.count).toBe(6);
    // Every EndOfTurn's own audio was sent, so each has a processing delay; an unloaded
    // in-process server answers within a second of wall time.
    expect(report.aggregate.eotProcessingDelayMs.count).toBe(6);
    expect(report.aggregate.eotProcessingDelayMs.max).toBeLessThan(1000);
    expect(report.aggregate.warnings).toEqual({});
    expect(report.aggregate.connectMs.count).toBe(3);
    expect(report.client.rssBaselineMiB).toBeGreaterThan(0);
    expect(report.endpoint).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v2\/listen$/);

    // Live output: every connection's two final transcripts, in Flux's turn order, and progress.
    for (const conn of [1, 2, 3]) {
      expect(live).toMatch(
        new RegExp(`\\[Conn ${conn}\\] ✓ Hello there\\. \\(\\d+\\.\\d%\\) \\[turn 0\\]`),
      );
      expect(live).toMatch(
        new RegExp(`\\[Conn ${conn}\\] ✓ Book a table for two\\. \\(\\d+\\.\\d%\\) \\[turn 1\\]`),
      );
    }
    expect(live).toContain("Legend:");
    expect(live).toMatch(/3\/3 connections up|0\/3 connections up/);
    expect(json).toBe("");
  }, 30_000);

  it("ends after --duration even when the file loops, and measures Configure round trips", async () => {
    const options = resolveStressOptions("file", "local", {
      file: wavPath,
      connections: 2,
      loop: true,
      duration: 2,
      configureEvery: 0.5,
    });
    const started = performance.now();
    const report = await runStress(options, {
      io: { stdout: { write: () => true }, stderr: { write: () => true }, env: {} },
      logger: createLogger("stress-test", { level: "silent" }),
      localEngine: createScriptedEngine({ transcripts: TRANSCRIPTS }),
      color: false,
    });
    expect((performance.now() - started) / 1000).toBeLessThan(8);
    expect(report.durationSeconds).toBeGreaterThanOrEqual(2);
    // Two seconds in: the first turn was open and is ended by the graceful stop (ForceEndTurn).
    expect(report.perConnection.map((c) => c.turns)).toEqual([1, 1]);
    expect(report.aggregate.audioSeconds).toBeGreaterThan(3.5);
    // Every Configure sent while connected was acknowledged by the server, and timed.
    const cfg = report.aggregate.configure;
    expect(cfg.sent).toBeGreaterThanOrEqual(4);
    expect(cfg.succeeded).toBe(cfg.sent);
    expect(cfg.failed).toBe(0);
    expect(cfg.roundTripMs.count).toBe(cfg.sent);
  }, 30_000);

  it("refuses to load-test Deepgram without DEEPGRAM_API_KEY", async () => {
    const options = resolveStressOptions("file", undefined, { file: wavPath });
    await expect(
      runStress(options, {
        io: { stdout: { write: () => true }, stderr: { write: () => true }, env: {} },
        logger: createLogger("stress-test", { level: "silent" }),
      }),
    ).rejects.toThrow(/DEEPGRAM_API_KEY is not set/);
  });
});

describe("registerStressCommand", () => {
  it("registers file, microphone and list-endpoints, and rejects bad flags before connecting", async () => {
    const program = new Command("voxpipe").exitOverride();
    registerStressCommand(
      program,
      { stdout: { write: () => true }, stderr: { write: () => true }, env: {} },
      () => undefined,
    );
    const stress = program.commands.find((c) => c.name() === "stress");
    expect(stress?.commands.map((c) => c.name())).toEqual(["file", "microphone", "list-endpoints"]);
    await expect(
      program.parseAsync(
        [
          "stress",
          "file",
          "local",
          "--file",
          wavPath,
          "--eot-threshold",
          "0.6",
          "--eager-eot-threshold",
          "0.8",
        ],
        { from: "user" },
      ),
    ).rejects.toThrow(CliUsageError);
    await expect(
      program.parseAsync(["stress", "file", "local", "--connections", "two", "--file", wavPath], {
        from: "user",
      }),
    ).rejects.toThrow(/--connections must be an integer/);
  });
});
