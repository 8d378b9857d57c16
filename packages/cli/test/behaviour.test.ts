/**
 * How the CLI behaves for a user: exit codes, messages that name the flags typed, refusals
 * up front, input sniffing, the Connected line in --json, and the live view in a narrow
 * terminal (a real pseudo-terminal through util-linux `script`, rendered by a headless xterm).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Terminal } from "@xterm/headless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWav } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { startFluxServer, type FluxServer } from "@voxpipe/flux-server";
import { WavFileInputTransport, FfmpegInputTransport } from "@voxpipe/transports";
import { runCli, TerminalTurnView } from "../src/index.js";
import type { CliIO } from "../src/index.js";
import { prepareInput, type FluxRunFlags } from "../src/commands/transcribe.js";
import { createInput, isWavFile } from "../src/inputs.js";
import { captureIO } from "./capture-io.js";

const cli = (io: CliIO, ...args: string[]) => runCli(["node", "voxpipe", ...args], io);
const LONG =
  "I would like to book a table for two people at eight in the evening near the window please";

let dir = "";
let wav = "";
let server: FluxServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-cli-behaviour-"));
  const silence = (ms: number) => new Uint8Array((ms * 16000) / 500);
  const parts = [silence(300), tonePcm(300, 4000, 16000, 0.3), silence(1500)];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((off, p) => (all.set(p, off), off + p.byteLength), 0);
  wav = join(dir, "long-turn.wav");
  await writeFile(wav, encodeWav(all, 16000));
  server = await startFluxServer({ engine: "scripted", engineOptions: { transcripts: [LONG] } });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("exit codes and messages", () => {
  it("--json starts with Connected and its request_id (what Deepgram support asks for)", async () => {
    const io = captureIO();
    const code = await cli(io, "transcribe", wav, "--fast", "--json", "--url", server.url);
    expect(code).toBe(0);
    const first = JSON.parse(io.out().split("\n")[0] ?? "") as Record<string, unknown>;
    expect(first).toMatchObject({ event: "Connected", connection: 1 });
    expect(first.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("2 for --url with a query string, without echoing it", async () => {
    const io = captureIO();
    const url = `${server.url}/v2/listen?keyterm=SecretProject`;
    expect(await cli(io, "transcribe", wav, "--url", url)).toBe(2);
    expect(io.err()).toMatch(/--url must not carry a query string: give Flux settings as flags/);
    expect(io.err()).not.toContain("SecretProject");
  });

  it("2 for flux-server --engine bogus, listing the engines", async () => {
    const io = captureIO();
    expect(await cli(io, "flux-server", "--engine", "bogus", "--port", "0")).toBe(2);
    expect(io.err()).toMatch(
      /--engine <name>' argument 'bogus' is invalid. Allowed choices are scripted, local/,
    );
  });

  it("flux-server --engine-options: 2 for a value that is not a JSON object; the engine checks what it gets", async () => {
    const io = captureIO();
    expect(await cli(io, "flux-server", "--port", "0", "--engine-options", "search=fast")).toBe(2);
    expect(io.err()).toMatch(/--engine-options must be a JSON object, e.g. '\{"search":"fast"\}'/);
    const local = captureIO();
    const args = ["--port", "0", "--engine", "local", "--log-level", "silent"];
    expect(
      await cli(local, "flux-server", ...args, "--engine-options", '{"search":"fastest"}'),
    ).not.toBe(0);
    expect(local.err()).toContain('search must be one of "default", "fast", got "fastest"');
  });

  it("serve --local-engine-options: 2 when not a JSON object; the embedded local engine checks the rest", async () => {
    const io = captureIO();
    expect(await cli(io, "serve", "--port", "0", "--local-engine-options", "[]")).toBe(2);
    expect(io.err()).toMatch(/--local-engine-options must be a JSON object/);
    const local = captureIO();
    const args = ["--port", "0", "--log-level", "silent"];
    expect(
      await cli(local, "serve", ...args, "--local-engine-options", '{"search":"fastest"}'),
    ).not.toBe(0);
    expect(local.err()).toContain('search must be one of "default", "fast", got "fastest"');
  });

  it("flux-server --help lists each engine once, with what it is", async () => {
    const io = captureIO();
    expect(await cli(io, "flux-server", "--help")).toBe(0);
    expect(io.out()).toMatch(/^ {2}scripted +deterministic scripted turns/m);
    expect(io.out()).toMatch(/^ {2}local +real offline speech.*@voxpipe\/speech-local/m);
    expect(io.out()).not.toContain("once installed");
  });

  it("an eager threshold above the default end-of-turn threshold says to set --eot-threshold", async () => {
    const io = captureIO();
    expect(await cli(io, "transcribe", wav, "--eager-eot-threshold", "0.8")).toBe(2);
    expect(io.err()).toContain("set --eot-threshold to at least 0.8");
    expect(io.err()).toMatch(/--eager-eot-threshold=0.8 is greater than --eot-threshold/);
    expect(io.err()).not.toMatch(/(?<!-)eot_threshold/);
  });

  it("names --raw-channels and --raw-sample-rate, not the transport's option names", async () => {
    const io = captureIO();
    expect(await cli(io, "transcribe", "-", "--raw-channels", "0")).toBe(2);
    expect(io.err()).toMatch(
      /voxpipe: error: --raw-channels must be an integer from 1 to 8, got 0/,
    );
    const io2 = captureIO();
    expect(await cli(io2, "transcribe", "-", "--raw-sample-rate", "100")).toBe(2);
    expect(io2.err()).toMatch(/--raw-sample-rate must be an integer of Hz/);
  });

  it("--llm openai without OPENAI_API_KEY or --llm-url is refused up front", async () => {
    const io = captureIO();
    expect(await cli(io, "agent", wav, "--llm", "openai", "--url", server.url)).toBe(2);
    expect(io.err()).toMatch(/--llm openai needs OPENAI_API_KEY .* or --llm-url/);
    expect(io.out()).toBe("");
  });

  it("a refused key ends with exit 1, ✗ on stderr, transcripts' stream empty, no JSON logs", async () => {
    const guarded = await startFluxServer({ engine: "scripted", apiKey: "right-key" });
    try {
      const io = captureIO({ DEEPGRAM_API_KEY: "wrong-key" });
      expect(await cli(io, "transcribe", wav, "--fast", "--url", guarded.url)).toBe(1);
      expect(io.out()).toBe("");
      expect(io.err()).toContain("✗");
      expect(
        io
          .err()
          .split("\n")
          .filter((l) => l.startsWith("{")),
      ).toEqual([]);
      expect(io.err()).not.toContain("wrong-key");
    } finally {
      await guarded.close();
    }
  });
});

describe("input", () => {
  it("sniffs WAV by its bytes, not its name", async () => {
    const disguised = join(dir, "recording.bin");
    await writeFile(disguised, encodeWav(new Uint8Array(3200), 16000));
    const fake = join(dir, "not-really.wav");
    await writeFile(fake, "ID3\u0003 an MP3, named .wav");
    expect([isWavFile(disguised), isWavFile(fake), isWavFile(wav)]).toEqual([true, false, true]);
    expect(createInput(disguised).transport).toBeInstanceOf(WavFileInputTransport);
    expect(createInput(fake).transport).toBeInstanceOf(FfmpegInputTransport);
  });

  it("`transcribe -` from a terminal says it is waiting for raw PCM", () => {
    const io = { ...captureIO(), stdinIsTTY: true };
    const flags = {
      rawSampleRate: 16000,
      rawChannels: 1,
      fast: false,
      logLevel: "silent",
      model: "flux-general-en",
      keyterm: [],
      languageHint: [],
    };
    prepareInput("-", flags as unknown as FluxRunFlags, io);
    expect(io.err()).toContain("waiting for raw PCM s16le on stdin (16000 Hz, 1 channel)");
  });
});

describe("terminal view", () => {
  it("errors and reconnects go to stderr, clearing an open interim line on stdout", () => {
    let out = "";
    let err = "";
    const view = new TerminalTurnView({
      write: (t) => (out += t),
      writeErr: (t) => (err += t),
      interactive: true,
      color: false,
      columns: () => 80,
    });
    view.handle({ event: "Update", turnIndex: 0, transcript: "hello", words: [] });
    view.handle({ event: "Error", message: "connection lost", fatal: false });
    expect(out).toBe("\r\x1b[2K… [turn 0] hello\r\x1b[2K");
    expect(err).toBe("✗ error (retrying): connection lost\n");
  });

  it("redraws long interims in a 40-column pseudo-terminal without leaving stale rows", async () => {
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const tsx = createRequire(import.meta.url).resolve("tsx");
    const command = [
      "stty cols 40 rows 30;",
      `exec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(tsx)} --conditions=@voxpipe/source`,
      `${JSON.stringify(bin)} transcribe ${JSON.stringify(wav)} --fast --url ${server.url}`,
    ].join(" ");
    const bytes = await new Promise<string>((resolve, reject) => {
      const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", CI: "" },
      });
      let data = "";
      child.stdout.on("data", (d: Buffer) => (data += d.toString()));
      child.on("error", reject);
      child.on("exit", (code) =>
        code === 0 ? resolve(data) : reject(new Error(`exit ${code}: ${data}`)),
      );
    });
    // Interims were drawn (the view is live in a terminal)…
    expect(bytes.split("\r\x1b[2K…").length).toBeGreaterThan(3);
    const term = new Terminal({ cols: 40, rows: 30, allowProposedApi: true });
    await new Promise<void>((resolve) => term.write(bytes, resolve));
    const rows: string[] = [];
    for (let i = 0; i < term.buffer.active.length; i++) {
      const line = term.buffer.active.getLine(i)?.translateToString(true) ?? "";
      if (line.trim() !== "") rows.push(line);
    }
    // …and the screen holds the final (wrapped over rows), the notes, and no interim remains.
    const screen = rows.join("\n");
    expect(rows.filter((r) => r.startsWith("…"))).toEqual([]);
    expect(rows.filter((r) => r.startsWith("✓ [turn 0]"))).toHaveLength(1);
    expect(screen.replace(/\n/g, "")).toContain(LONG.slice(0, 60));
    expect(screen).toMatch(/1 turn from/);
    term.dispose();
  });
});
