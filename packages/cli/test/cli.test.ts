import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { stripVTControlCharacters } from "node:util";
import { join } from "node:path";
import { Command } from "commander";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pcmToInt16, readWav } from "@voxpipe/core";
import { startFluxServer } from "@voxpipe/flux-server";
import type { FluxServer } from "@voxpipe/flux-server";
import { registerFluxServerCommand } from "../src/commands/flux-server.js";
import { captureIO } from "./capture-io.js";
import { cli, writeTwoTurns } from "./helpers.js";

let dir = "";
let twoTurns = "";
let server: FluxServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-cli-"));
  // 4 s between the utterances: the bot's reply to the first ends before the second begins.
  twoTurns = await writeTwoTurns(dir, 4000);
  server = await startFluxServer({
    engine: "scripted",
    engineOptions: { transcripts: ["book a table for two", "at eight please"] },
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("voxpipe transcribe", () => {
  it("--json prints one JSON object per turn event with Flux field names", async () => {
    const io = captureIO();
    const code = await cli(
      io,
      "transcribe",
      twoTurns,
      "--fast",
      "--json",
      "--url",
      server.url,
      "--log-level",
      "silent",
    );
    expect(code).toBe(0);
    const events = io
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ends = events.filter((e) => e.event === "EndOfTurn");
    expect(ends.map((e) => e.transcript)).toEqual(["book a table for two", "at eight please"]);
    expect(ends.map((e) => e.turn_index)).toEqual([0, 1]);
    expect(ends[0]).toMatchObject({ trigger: "model" });
    expect(typeof ends[0]?.audio_window_end).toBe("number");
    expect((ends[0]?.words as unknown[]).length).toBe(5);
    expect(events.filter((e) => e.event === "StartOfTurn")).toHaveLength(2);
    expect(events.map((e) => e.event).slice(0, 2)).toEqual(["Connected", "StartOfTurn"]);
    expect(io.err()).toContain("2 turns from");
  });

  it("shows ✓ finals, ~ eager and … resumed in the terminal view", async () => {
    const io = captureIO();
    const code = await cli(
      io,
      "transcribe",
      twoTurns,
      "--fast",
      "--url",
      server.url,
      "--eager-eot-threshold",
      "0.4",
      "--log-level",
      "silent",
    );
    expect(code).toBe(0);
    // What the user reads: picocolors colours the view whenever CI is set, even into a pipe.
    const lines = stripVTControlCharacters(io.out()).trim().split("\n");
    expect(lines.filter((l) => l.startsWith("✓"))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith("~")).length).toBeGreaterThanOrEqual(2);
    expect(lines.find((l) => l.startsWith("✓ [turn 1]"))).toContain("at eight please");
  });

  it("--min-confidence marks finals the service dropped", async () => {
    const io = captureIO();
    const args = [
      "transcribe",
      twoTurns,
      "--fast",
      "--json",
      "--url",
      server.url,
      "--log-level",
      "silent",
    ];
    expect(await cli(io, ...args, "--min-confidence", "0.99")).toBe(0);
    const ends = io
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.event === "EndOfTurn");
    // The scripted engine's words have confidence 0.95: not above 0.99, so both finals are dropped.
    expect(ends.map((e) => e.dropped_below_min_confidence)).toEqual([true, true]);
  });

  it("refuses bad Flux flags before connecting, naming flag, value and range", async () => {
    const io = captureIO();
    const code = await cli(
      io,
      "transcribe",
      twoTurns,
      "--eot-threshold",
      "0.6",
      "--eager-eot-threshold",
      "0.8",
      "--eot-timeout-ms",
      "100",
    );
    expect(code).toBe(2);
    expect(io.err()).toMatch(/--eager-eot-threshold=0.8 is greater than --eot-threshold/);
    expect(io.err()).toMatch(/--eot-timeout-ms=100 is out of range/);
    expect(io.out()).toBe("");
    const io2 = captureIO();
    expect(await cli(io2, "transcribe", twoTurns, "--eot-threshold", "abc")).toBe(2);
    expect(io2.err()).toMatch(/--eot-threshold must be a number, got "abc"/);
  });

  it("refuses an input that does not exist", async () => {
    const io = captureIO();
    expect(await cli(io, "transcribe", join(dir, "missing.wav"), "--url", server.url)).toBe(2);
    expect(io.err()).toMatch(/missing\.wav" is not a file, a URL/);
  });

  it("starts an embedded local server and says so when DEEPGRAM_API_KEY is unset", async () => {
    const io = captureIO();
    const code = await cli(
      io,
      "transcribe",
      twoTurns,
      "--fast",
      "--json",
      "--local-engine",
      "scripted",
      "--log-level",
      "silent",
    );
    expect(code).toBe(0);
    expect(io.err()).toMatch(
      /DEEPGRAM_API_KEY is not set: using the embedded local Flux server \(scripted engine\) at ws:\/\/127\.0\.0\.1:\d+/,
    );
    expect(io.out()).toContain('"event":"EndOfTurn"');
  });
});

describe("voxpipe agent", () => {
  it("answers each turn (echo LLM, espeak-ng) into a WAV on the call's timeline", async () => {
    const io = captureIO();
    const out = join(dir, "agent.wav");
    const code = await cli(
      io,
      "agent",
      twoTurns,
      "--output",
      out,
      "--url",
      server.url,
      "--log-level",
      "silent",
    );
    expect(code).toBe(0);
    const replies = io
      .out()
      .split("\n")
      .filter((l) => l.startsWith("  bot:"));
    expect(replies).toEqual([
      "  bot: You said: book a table for two.",
      "  bot: You said: at eight please.",
    ]);
    const wav = await readWav(out);
    const samples = pcmToInt16(wav.audio);
    // The first reply starts after the first turn ended (≈1.5 s + end-of-turn), not at 0.
    const firstLoud = samples.findIndex((s) => Math.abs(s) > 2000) / wav.sampleRate;
    expect(firstLoud).toBeGreaterThan(1.5);
    expect(io.err()).toMatch(/LLM: echo/);
    // Where each reply's time went, then p50/p90 per stage.
    const latency = io
      .out()
      .split("\n")
      .filter((l) => l.startsWith("  latency: "));
    expect(latency).toHaveLength(2);
    expect(latency[0]).toMatch(
      /^ {2}latency: [\d.]+ ms voice-to-voice \(stt [\d.]+ · aggregation [\d.]+ · llm [\d.]+ · sentence [\d.]+ · tts [\d.]+ · output [\d.]+; voxpipe [\d.]+\)$/,
    );
    expect(io.out()).toMatch(/latency over 2 of 2 turns \(ms\):\n {2}stage +p50 +p90\n {2}stt /);
    expect(io.out()).toMatch(/voice-to-voice +[\d.]+ +[\d.]+\n {2}voxpipe's share +[\d.]+ +[\d.]+/);
  });

  it("--json prints a TurnLatency object per turn and a LatencySummary at the end", async () => {
    const io = captureIO();
    const code = await cli(
      io,
      "agent",
      twoTurns,
      "--output",
      join(dir, "agent-json.wav"),
      "--url",
      server.url,
      "--log-level",
      "silent",
      "--json",
    );
    expect(code).toBe(0);
    const events = io
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const turns = events.filter((e) => e.event === "TurnLatency");
    expect(turns).toHaveLength(2);
    for (const t of turns) {
      expect(t).toMatchObject({ complete: true });
      const stages = t.stages_ms as Record<string, number>;
      expect(Object.keys(stages)).toEqual([
        "stt",
        "aggregation",
        "llm",
        "sentence",
        "tts",
        "output",
      ]);
      // Real-time input: the speech end is mapped onto the clock, so Flux's share is measured.
      expect(stages.stt).toBeGreaterThan(0);
      const sum = Object.values(stages).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - (t.voice_to_voice_ms as number))).toBeLessThan(1);
    }
    // Each turn's latency is reported after its EndOfTurn.
    const order = events
      .map((e) => e.event)
      .filter((e) => e === "EndOfTurn" || e === "TurnLatency");
    expect(order).toEqual(["EndOfTurn", "TurnLatency", "EndOfTurn", "TurnLatency"]);
    expect(events.at(-1)).toMatchObject({
      event: "LatencySummary",
      turns: 2,
      complete_turns: 2,
      voice_to_voice_ms: { count: 2 },
    });
  });
});

describe("voxpipe flux-server", () => {
  it("serves /v2/listen until stopped", async () => {
    const io = captureIO();
    let release!: () => void;
    const stopped = new Promise<void>((resolve) => (release = resolve));
    let code = -1;
    const program = new Command().exitOverride();
    registerFluxServerCommand(
      program,
      io,
      (c) => (code = c),
      () => stopped,
    );
    const running = program.parseAsync(
      ["flux-server", "--port", "0", "--engine", "scripted", "--log-level", "silent"],
      { from: "user" },
    );
    await expect.poll(() => io.err()).toMatch(/listening on ws:\/\/127\.0\.0\.1:\d+\/v2\/listen/);
    const url = /listening on (ws:\/\/[^\s;]+)/.exec(io.err())?.[1] ?? "";
    const socket = new WebSocket(
      `${url}?model=flux-general-en&encoding=linear16&sample_rate=16000`,
    );
    const first = await new Promise<string>((resolve, reject) => {
      socket.once("message", (data: Buffer) => resolve(data.toString()));
      socket.once("error", reject);
    });
    expect(JSON.parse(first)).toMatchObject({ type: "Connected" });
    socket.close();
    release();
    await running;
    expect(code).toBe(0);
    expect(io.err()).toMatch(/stopped after 1 session/);
  });
});
