/**
 * The CLI on Flux on Amazon SageMaker, against local stand-ins: the scripted Flux server behind
 * the local SageMaker runtime endpoint (SigV4-verified), and the fake ListEndpoints.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, encodeWav } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { startFluxServer, type FluxServer } from "@voxpipe/flux-server";
import {
  LOCAL_TEST_CREDENTIALS,
  startFakeSageMakerControlPlane,
  startLocalSageMakerEndpoint,
  type LocalSageMakerEndpoint,
} from "@voxpipe/sagemaker/local-endpoint";
import { resolveStressOptions } from "../src/stress/options.js";
import { runStress } from "../src/stress/run.js";
import { captureIO } from "./capture-io.js";
import { cli } from "./helpers.js";

/** What a client needs in its environment to reach `endpoint` with the test credentials. */
function awsEnv(
  endpoint: LocalSageMakerEndpoint,
  secret = LOCAL_TEST_CREDENTIALS.secretAccessKey,
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: endpoint.url,
    AWS_REGION: endpoint.region,
    AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
  };
}

let dir = "";
let wav = "";
let flux: FluxServer;
let endpoint: LocalSageMakerEndpoint;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-sagemaker-cli-"));
  const pcm = (ms: number, tone: boolean) =>
    tone ? tonePcm(300, ms, 16000, 0.3) : new Uint8Array((ms * 16000) / 500);
  const parts = [
    pcm(300, false),
    pcm(1000, true),
    pcm(1300, false),
    pcm(1000, true),
    pcm(1300, false),
  ];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((off, p) => (all.set(p, off), off + p.byteLength), 0);
  wav = join(dir, "two-turns.wav");
  await writeFile(wav, encodeWav(all, 16000));
  flux = await startFluxServer({
    engine: "scripted",
    engineOptions: { transcripts: ["book a table for two", "at eight please"] },
  });
  endpoint = await startLocalSageMakerEndpoint({ fluxUrl: flux.url, tls: false });
});
afterAll(async () => {
  await endpoint.close();
  await flux.close();
  await rm(dir, { recursive: true, force: true });
});

describe("voxpipe stress file sagemaker:<endpoint>", () => {
  it("20 connections through the SageMaker path complete with a JSON summary", async () => {
    const io = captureIO(awsEnv(endpoint));
    const before = endpoint.counters();
    const options = resolveStressOptions("file", "sagemaker:flux-test", {
      file: wav,
      connections: 20,
      json: true,
    });
    const report = await runStress(options, {
      io,
      logger: createLogger("stress-test", { level: "silent" }),
      color: false,
    });
    expect(report.endpoint).toBe("sagemaker:flux-test");
    expect(report.connections).toBe(20);
    expect(report.aggregate.connectMs.count).toBe(20);
    expect(report.perConnection.map((c) => c.turns)).toEqual(Array(20).fill(2));
    expect(report.aggregate.errors).toEqual({});
    expect(report.aggregate.reconnects).toBe(0);
    const after = endpoint.counters();
    expect(after.opened - before.opened).toBe(20);
    expect(after.eventsRejected).toBe(0);
    // The live view went to stderr (JSON mode), with the legend and every connection's finals.
    expect(io.err()).toContain("Legend:");
    expect(io.err()).toMatch(/\[Conn 20\] ✓ at eight please/);
  }, 60_000);

  it("wrong credentials: every connection fails with one clear permanent error, exit 1", async () => {
    const io = captureIO(awsEnv(endpoint, "not-the-secret"));
    const code = await cli(
      io,
      "stress",
      "file",
      "sagemaker:flux-test",
      "--file",
      wav,
      "--connections",
      "2",
      "--json",
    );
    expect(code).toBe(1);
    const report = JSON.parse(io.out()) as { aggregate: { errors: Record<string, number> } };
    expect(report.aggregate.errors).toEqual({ InvalidSignatureException: 2 });
    expect(io.err()).toMatch(/check the AWS credentials/);
    expect(io.err()).not.toContain("not-the-secret");
  }, 30_000);

  it("refuses a name AWS would reject, and --region on a non-SageMaker endpoint (exit 2)", async () => {
    const bad = captureIO(awsEnv(endpoint));
    expect(await cli(bad, "stress", "file", "sagemaker:bad_name", "--file", wav)).toBe(2);
    expect(bad.err()).toMatch(/must be 1–63 letters, digits or hyphens/);
    const region = captureIO();
    expect(
      await cli(region, "stress", "file", "local", "--file", wav, "--region", "us-east-1"),
    ).toBe(2);
    expect(region.err()).toMatch(/--region applies to sagemaker:<endpoint-name> endpoints only/);
  });
});

describe("voxpipe transcribe --url sagemaker:<endpoint>", () => {
  it("transcribes through the endpoint over TLS, trusting its certificate via AWS_CA_BUNDLE", async () => {
    const tls = await startLocalSageMakerEndpoint({ fluxUrl: flux.url });
    try {
      const ca = join(dir, "ca.pem");
      await writeFile(ca, tls.ca ?? "");
      const io = captureIO({ ...awsEnv(tls), AWS_CA_BUNDLE: ca });
      const code = await cli(
        io,
        "transcribe",
        wav,
        "--url",
        "sagemaker:flux-test",
        "--fast",
        "--json",
      );
      expect(code).toBe(0);
      const finals = io
        .out()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string; transcript?: string })
        .filter((e) => e.event === "EndOfTurn")
        .map((e) => e.transcript);
      expect(finals).toEqual(["book a table for two", "at eight please"]);
      expect(io.err()).toContain("using Flux on Amazon SageMaker endpoint flux-test");
    } finally {
      await tls.close();
    }
  }, 30_000);
});

describe("voxpipe stress list-endpoints (against the fake ListEndpoints)", () => {
  it("lists the region's endpoints, filtered by --status, through AWS_ENDPOINT_URL_SAGEMAKER", async () => {
    const fake = await startFakeSageMakerControlPlane({
      endpoints: [
        { name: "flux-prod", status: "InService" },
        { name: "flux-dev", status: "Creating" },
      ],
    });
    const saved = { ...process.env };
    // The control-plane client reads its endpoint override and keys from the process environment.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SAGEMAKER: fake.url,
      AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
    });
    try {
      const io = captureIO();
      expect(await cli(io, "stress", "list-endpoints", "--region", "us-east-1")).toBe(0);
      expect(io.out()).toMatch(/SageMaker Endpoints {2}\[us-east-1\]/);
      expect(io.out()).toMatch(/flux-prod\s+InService\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      expect(io.out()).toContain("2 endpoint(s)");
      const filtered = captureIO();
      expect(
        await cli(
          filtered,
          "stress",
          "list-endpoints",
          "--region",
          "us-east-1",
          "--status",
          "inservice",
          "--json",
        ),
      ).toBe(0);
      const json = JSON.parse(filtered.out()) as { endpoints: { name: string }[] };
      expect(json.endpoints.map((e) => e.name)).toEqual(["flux-prod"]);
      const bad = captureIO();
      expect(
        await cli(bad, "stress", "list-endpoints", "--region", "us-east-1", "--status", "asleep"),
      ).toBe(2);
      expect(bad.err()).toMatch(/--status=asleep: allowed outofservice, creating/);
    } finally {
      process.env = saved;
      await fake.close();
    }
  });
});
