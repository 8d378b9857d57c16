/**
 * `voxpipe eval` end to end: a dataset of tones and silences, streamed through the real
 * FluxClient to the real flux-server with the scripted engine (each tone is "speech"; after
 * it, end-of-turn confidence ramps 0.2 → 0.95 over 800 ms of audio), at two thresholds.
 * The ramp makes the expected behaviour exact: at eot 0.5 the 400 ms pause inside the second
 * turn ends it early (0.5 is reached 320 ms after the tone), at eot 0.9 it does not (747 ms).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWav } from "@voxpipe/core";
import { startFluxServer } from "@voxpipe/flux-server";
import { startLocalSageMakerEndpoint } from "@voxpipe/sagemaker/local-endpoint";
import { runCli } from "../src/index.js";
import type { CliIO } from "../src/index.js";
import { resultsFromJson } from "../src/eval/index.js";
import type { EvalResults } from "../src/eval/index.js";
import { captureIO } from "./capture-io.js";
import { writeToneDataset } from "./tone-dataset.js";

const cli = (io: CliIO, ...args: string[]) => runCli(["node", "voxpipe", ...args], io);
/** `voxpipe eval <dataset>` against the in-process server with the scripted engine, fast. */
const evalScripted = (io: CliIO, ...args: string[]) =>
  cli(io, "eval", dataset, "--target", "local", "--local-engine", "scripted", "--fast", ...args);

let dir = "";
let dataset = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-eval-"));
  dataset = join(dir, "calls");
  await writeToneDataset(dataset);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("voxpipe eval", () => {
  let results: EvalResults;
  let out: string;

  it("sweeps thresholds and prints Flux's figures as JSON, with a cut turn as ∞", async () => {
    const io = captureIO();
    out = join(dir, "report");
    const code = await evalScripted(io, "--eot-threshold", "0.5,0.9", "--json", "--out", out);
    expect(io.err()).toContain("1 files × 2 settings = 2 sessions");
    expect(code).toBe(0);
    results = resultsFromJson(io.out());
    expect(results.settings.map((s) => s.label)).toEqual(["eot 0.5", "eot 0.9"]);
    const [low, high] = results.settings.map((s) => s.metrics);
    // eot 0.5: the pause inside turn 1 ends it (split → ∞), so half the turns are infinite.
    expect(low.splitTurns).toBe(1);
    expect(low.falseEots).toBeGreaterThanOrEqual(1);
    expect(low.latencyMs.p90).toBe(Infinity);
    expect(low.precision).toBeLessThan(1);
    // eot 0.9: no cut, both turns ended after their last word, later than at 0.5.
    expect(high.splitTurns).toBe(0);
    expect(high.recall).toBe(1);
    expect(high.precision).toBe(1);
    expect(high.latencyMs.p90).toBeGreaterThan(600);
    // Every message of every session obeys Flux's guarantees (the checker sees whole streams).
    expect([low.violations, high.violations]).toEqual([0, 0]);
    expect(high.latencyMs.p90).toBeLessThan(1500);
    expect(low.latencyMs.p10).toBeLessThan(high.latencyMs.p10);
    expect(results.settings[0].byTag.tones.turns).toBe(2);
    // --json carries figures only; results.json carries every event too.
    expect(results.files[0].runs[0].events).toBeUndefined();
    const saved = resultsFromJson(await readFile(join(out, "results.json"), "utf8"));
    const events = saved.files[0].runs[1].events ?? [];
    expect(events.filter((e) => e.event === "EndOfTurn")).toHaveLength(2);
    expect(saved.files[0].waveform?.length).toBeGreaterThan(100);
    // The report: one self-contained page with the charts drawn as SVG (checked in a browser in report-browser.test.ts).
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(html.match(/<svg/g)?.length).toBe(3);
    expect(html).toContain("<th>eot 0.5</th>");
  });

  it("prints the percentile table by default", async () => {
    const io = captureIO();
    const code = await evalScripted(io, "--eot-threshold", "0.9");
    expect(code).toBe(0);
    expect(io.out()).toMatch(/setting\s+p10\s+p20.*p90\s+prec\s+recall\s+F1/);
    expect(io.out()).toMatch(/eot 0\.9(\s+\d+){9}\s+100\.0%\s+100\.0%\s+100\.0%/);
  });

  it("refuses bad flags and bad datasets with exit 2, naming the flag or the file", async () => {
    let io = captureIO();
    expect(await cli(io, "eval", dataset, "--eot-threshold", "0.4,0.7")).toBe(2);
    expect(io.err()).toContain("--eot-threshold=0.4 is out of range");
    io = captureIO();
    expect(await cli(io, "eval", dataset, "--eot-threshold", "0.7,x")).toBe(2);
    expect(io.err()).toContain("--eot-threshold must be a comma-separated list of numbers");
    io = captureIO();
    expect(await cli(io, "eval", dataset, "--target", "deepgram")).toBe(2);
    expect(io.err()).toContain("--target deepgram needs DEEPGRAM_API_KEY");
    io = captureIO();
    await writeFile(join(dataset, "orphan.wav"), encodeWav(new Uint8Array(3200), 16000));
    expect(await cli(io, "eval", dataset, "--target", "local")).toBe(2);
    expect(io.err()).toContain("orphan.wav: has no sidecar orphan.json");
    await rm(join(dataset, "orphan.wav"));
  });

  it("reports a target that cannot be reached as failed sessions, exit 1", async () => {
    const io = captureIO();
    const code = await cli(
      io,
      "eval",
      dataset,
      "--target",
      "ws://127.0.0.1:9/v2/listen",
      "--eot-threshold",
      "0.7",
      "--fast",
    );
    expect(code).toBe(1);
    expect(io.err()).toMatch(/voxpipe: error: 1 of 1 sessions failed \(first: .+\)/);
  });
});

describe("voxpipe eval --target sagemaker:<endpoint>", () => {
  it("streams through the SageMaker carrier (a local SageMaker runtime that checks signatures, bridged to Flux)", async () => {
    const flux = await startFluxServer({ engine: "scripted" });
    const endpoint = await startLocalSageMakerEndpoint({ fluxUrl: flux.url, tls: false });
    // The carrier reads the standard AWS variables; the credential chain reads process.env.
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = endpoint.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = endpoint.credentials.secretAccessKey;
    try {
      const io = captureIO({
        AWS_REGION: endpoint.region,
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME_HTTP2: endpoint.url,
      });
      const code = await cli(
        io,
        "eval",
        dataset,
        "--target",
        "sagemaker:local-flux",
        "--eot-threshold",
        "0.9",
        "--json",
      );
      expect(io.err()).not.toContain("error");
      expect(code).toBe(0);
      const results = resultsFromJson(io.out());
      expect(results.target).toEqual({ kind: "sagemaker", shown: "SageMaker endpoint local-flux" });
      expect(results.settings[0].metrics).toMatchObject({
        turns: 2,
        detected: 2,
        splitTurns: 0,
        violations: 0,
      });
      expect(endpoint.counters().opened).toBeGreaterThanOrEqual(1);
    } finally {
      process.env = saved;
      await endpoint.close();
      await flux.close();
    }
  });

  it("refuses --fast on a SageMaker endpoint and an endpoint name AWS would reject", async () => {
    let io = captureIO({ AWS_REGION: "us-east-1" });
    expect(await cli(io, "eval", dataset, "--target", "sagemaker:local-flux", "--fast")).toBe(2);
    expect(io.err()).toContain("--fast is only for servers you run");
    io = captureIO({ AWS_REGION: "us-east-1" });
    expect(await cli(io, "eval", dataset, "--target", "sagemaker:bad_name!")).toBe(2);
    expect(io.err()).toContain("--target sagemaker:bad_name!");
  });
});
