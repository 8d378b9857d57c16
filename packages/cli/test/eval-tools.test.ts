/**
 * The dataset helpers around `voxpipe eval`: importers (Audacity labels, RTTM), the
 * `eval label` draft from a run, and `voxpipe timeline` — against the scripted Flux engine
 * on the tone dataset (see tone-dataset.ts).
 */
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import type { CliIO } from "../src/index.js";
import { fromAudacityLabels, loadDataset, parseRttm, turnsFromRttm } from "../src/eval/index.js";
import { captureIO } from "./capture-io.js";
import { writeToneDataset } from "./tone-dataset.js";

const cli = (io: CliIO, ...args: string[]) => runCli(["node", "voxpipe", ...args], io);
const scripted = ["--target", "local", "--local-engine", "scripted", "--fast"];

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-eval-tools-"));
  await writeToneDataset(join(dir, "ds"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("importers", () => {
  it("reads an Audacity label track (regions, spectral lines skipped) and refuses point labels", () => {
    const text = "3.0\t5.0\tbook a table\n\\\t100\t4000\n0.5\t1.5\thello there\n";
    expect(fromAudacityLabels(text, "labels.txt")).toEqual([
      { start: 0.5, end: 1.5, transcript: "hello there" },
      { start: 3.0, end: 5.0, transcript: "book a table" },
    ]);
    expect(() => fromAudacityLabels("1.0\t1.0\tclick\n", "labels.txt")).toThrow(
      "labels.txt:1: label at 1 s has no length",
    );
    expect(() => fromAudacityLabels("one\ttwo\n", "labels.txt")).toThrow(/labels\.txt:1: expected/);
  });

  it("reads RTTM speaker turns and joins one speaker's segments across short gaps", () => {
    const rttm = [
      "SPEAKER call 1 0.50 1.00 <NA> <NA> caller <NA> <NA>",
      "SPEAKER call 1 1.60 0.40 <NA> <NA> agent <NA> <NA>",
      "SPEAKER call 1 3.00 0.80 <NA> <NA> caller <NA> <NA>",
      "SPEAKER call 1 4.20 0.80 <NA> <NA> caller <NA> <NA>",
    ].join("\n");
    const segments = parseRttm(rttm, "call.rttm");
    expect(segments).toHaveLength(4);
    expect(turnsFromRttm(segments, "caller", 0.5)).toEqual([
      { start: 0.5, end: 1.5, transcript: "" },
      { start: 3.0, end: 5.0, transcript: "" },
    ]);
    expect(turnsFromRttm(segments, "caller", 0).length).toBe(3);
    expect(() => parseRttm("SPEAKER call 1 x", "call.rttm")).toThrow(/call\.rttm:1: expected/);
  });

  it("voxpipe eval import writes a sidecar the dataset loader accepts, and checks it against the audio", async () => {
    const labels = join(dir, "labels.txt");
    await writeFile(
      labels,
      "0.5\t1.5\thello there\n3.0\t5.0\ti would like to book a table for two\n",
    );
    await copyFile(join(dir, "ds", "pause.wav"), join(dir, "imported.wav"));
    let io = captureIO();
    expect(
      await cli(io, "eval", "import", "audacity", labels, "--wav", join(dir, "imported.wav")),
    ).toBe(0);
    const sidecar = JSON.parse(await readFile(join(dir, "imported.json"), "utf8")) as {
      turns: unknown[];
    };
    expect(sidecar.turns).toHaveLength(2);
    // An RTTM with two speakers needs --speaker; a turn beyond the audio is refused.
    const rttm = join(dir, "call.rttm");
    await writeFile(
      rttm,
      "SPEAKER x 1 0.5 1.0 <NA> <NA> a <NA> <NA>\nSPEAKER x 1 6.5 2.0 <NA> <NA> b <NA> <NA>\n",
    );
    io = captureIO();
    expect(
      await cli(io, "eval", "import", "rttm", rttm, "--wav", join(dir, "imported.wav"), "--force"),
    ).toBe(2);
    expect(io.err()).toContain(
      "has several speakers: choose the one whose turns Flux should end with --speaker (a, b)",
    );
    io = captureIO();
    expect(
      await cli(
        io,
        "eval",
        "import",
        "rttm",
        rttm,
        "--wav",
        join(dir, "imported.wav"),
        "--speaker",
        "b",
        "--force",
      ),
    ).toBe(2);
    expect(io.err()).toContain(
      "call.rttm → turns[0].end: is 8.5 s, beyond the audio (7.000 s long)",
    );
  });
});

describe("voxpipe eval label", () => {
  it("drafts a sidecar from a run: one turn per EndOfTurn with Flux's word times and transcript", async () => {
    const labelDir = join(dir, "to-label");
    await writeToneDataset(labelDir);
    await rm(join(labelDir, "pause.json"));
    const io = captureIO();
    expect(await cli(io, "eval", "label", labelDir, ...scripted, "--eot-threshold", "0.9")).toBe(0);
    expect(io.err()).toContain("(2 turns): check it before evaluating");
    const dataset = await loadDataset(labelDir);
    const [first, second] = dataset.files[0].turns;
    expect(first.start).toBeCloseTo(0.5, 1);
    expect(first.end).toBeCloseTo(1.5, 1);
    expect(first.transcript).toBe("Hello there.");
    expect(second.start).toBeCloseTo(3.0, 1);
    expect(second.end).toBeCloseTo(5.0, 1);
    // An existing sidecar is kept unless --force.
    const again = captureIO();
    expect(await cli(again, "eval", "label", labelDir, ...scripted)).toBe(0);
    expect(again.err()).toContain("pause.wav: has a sidecar; --force to redraft");
  });
});

describe("voxpipe timeline", () => {
  it("draws one live run as a page and a PNG, and prints every EndOfTurn", async () => {
    const io = captureIO();
    const out = join(dir, "pause.timeline.html");
    const code = await cli(
      io,
      "timeline",
      join(dir, "ds", "pause.wav"),
      ...scripted,
      "--eot-threshold",
      "0.5,0.9",
      "--out",
      out,
      "--png",
    );
    expect(code).toBe(0);
    expect(io.out()).toMatch(/eot 0\.5 +\d\.\d\d s {2}EndOfTurn \(model\) {2}Hello there\./);
    expect(
      io
        .out()
        .split("\n")
        .filter((l) => l.startsWith("eot 0.9")).length,
    ).toBe(2);
    const html = await readFile(out, "utf8");
    expect(html.match(/<svg/g)?.length).toBe(1);
    expect(html).toContain('aria-roledescription="area mark"');
    const png = await readFile(join(dir, "pause.timeline.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect((await stat(join(dir, "pause.timeline.png"))).size).toBeGreaterThan(10_000);
  });
});
