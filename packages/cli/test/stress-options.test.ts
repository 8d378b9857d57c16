import { describe, expect, it } from "vitest";
import { CliUsageError } from "../src/options/flux.js";
import {
  DEEPGRAM_FLUX_URL,
  parseKeyterms,
  resolveEndpoint,
  resolveStressOptions,
} from "../src/stress/options.js";

describe("resolveEndpoint", () => {
  it("defaults to Deepgram and knows `local`", () => {
    expect(resolveEndpoint(undefined)).toEqual({ kind: "deepgram", url: DEEPGRAM_FLUX_URL });
    expect(resolveEndpoint("deepgram")).toEqual({ kind: "deepgram", url: DEEPGRAM_FLUX_URL });
    expect(resolveEndpoint("local")).toEqual({ kind: "local" });
  });

  it("accepts ws(s) URLs of /v2/listen, self-hosted or regional", () => {
    expect(resolveEndpoint("wss://api.eu.deepgram.com/v2/listen")).toEqual({
      kind: "url",
      url: "wss://api.eu.deepgram.com/v2/listen",
    });
    expect(resolveEndpoint("ws://10.0.0.5:8080/v2/listen/")).toEqual({
      kind: "url",
      url: "ws://10.0.0.5:8080/v2/listen",
    });
  });

  it("refuses other protocols and paths, naming what is allowed", () => {
    expect(() => resolveEndpoint("https://api.deepgram.com/v2/listen")).toThrow(
      /protocol https: allowed ws or wss/,
    );
    expect(() => resolveEndpoint("wss://api.deepgram.com/v1/listen")).toThrow(
      /must end in \/v2\/listen/,
    );
    expect(() => resolveEndpoint("not a url")).toThrow(CliUsageError);
  });

  it("refuses a query string without echoing it (it may hold keyterms or a token)", () => {
    let message = "";
    try {
      resolveEndpoint("wss://flux.example.com/v2/listen?token=s3cret&keyterm=Acme");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/must not carry a query string/);
    expect(message).not.toMatch(/s3cret|Acme/);
  });
});

describe("parseKeyterms", () => {
  it("splits on commas, trims and drops empty terms", () => {
    expect(parseKeyterms(" Acme , refund,,order number ")).toEqual([
      "Acme",
      "refund",
      "order number",
    ]);
    expect(parseKeyterms(undefined)).toEqual([]);
  });
});

describe("resolveStressOptions", () => {
  it("builds a file run with defaults", () => {
    const o = resolveStressOptions("file", "local", { file: "a.wav" });
    expect(o).toEqual({
      endpoint: { kind: "local" },
      connections: 1,
      flux: { model: "flux-general-en", keyterms: [] },
      source: { kind: "file", path: "a.wav", loop: false, stagger: false },
      logLevel: "warn",
      json: false,
    });
  });

  it("carries every flag through", () => {
    const o = resolveStressOptions("file", "ws://127.0.0.1:9000/v2/listen", {
      file: "a.wav",
      connections: 20,
      model: "flux-general-multi",
      eotThreshold: 0.8,
      eagerEotThreshold: 0.5,
      eotTimeoutMs: 3000,
      keyterms: "Acme,refund",
      loop: true,
      stagger: true,
      duration: 30,
      logLevel: "debug",
      json: true,
    });
    expect(o).toMatchObject({
      endpoint: { kind: "url", url: "ws://127.0.0.1:9000/v2/listen" },
      connections: 20,
      flux: {
        model: "flux-general-multi",
        eotThreshold: 0.8,
        eagerEotThreshold: 0.5,
        eotTimeoutMs: 3000,
        keyterms: ["Acme", "refund"],
      },
      source: { kind: "file", path: "a.wav", loop: true, stagger: true },
      durationSeconds: 30,
      logLevel: "debug",
      json: true,
    });
  });

  it("refuses --stagger without --loop", () => {
    expect(() => resolveStressOptions("file", "local", { file: "a.wav", stagger: true })).toThrow(
      /--stagger needs --loop/,
    );
  });

  it("validates Flux settings with the protocol's rules and names the flags", () => {
    const refuse = (values: Parameters<typeof resolveStressOptions>[2]): string => {
      try {
        resolveStressOptions("file", "local", { file: "a.wav", ...values });
      } catch (error) {
        expect(error).toBeInstanceOf(CliUsageError);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refuse({ eotThreshold: 0.4 })).toMatch(
      /--eot-threshold=0\.4 is out of range: allowed .*0\.5.*1/,
    );
    expect(refuse({ eotThreshold: 1 })).toMatch(
      /--eot-threshold=1 is out of range for a load test: allowed a number from 0\.5 to 0\.9/,
    );
    expect(refuse({ eotThreshold: 0.6, eagerEotThreshold: 0.7 })).toMatch(
      /--eager-eot-threshold.*eot/,
    );
    expect(refuse({ eotTimeoutMs: 100 })).toMatch(/--eot-timeout-ms=100 is out of range/);
    expect(refuse({ model: "nova-3" })).toMatch(/--model=.*nova-3.*flux-general-en/);
    expect(refuse({ keyterms: Array.from({ length: 101 }, (_, i) => `t${i}`).join(",") })).toMatch(
      /--keyterms has 101 terms: allowed at most 100/,
    );
  });

  it("checks --configure-every", () => {
    expect(
      resolveStressOptions("file", "local", { file: "a.wav", configureEvery: 2 })
        .configureEverySeconds,
    ).toBe(2);
    expect(() =>
      resolveStressOptions("file", "local", { file: "a.wav", configureEvery: 0 }),
    ).toThrow(/--configure-every=0 is out of range/);
  });

  it("reports every problem at once", () => {
    expect(() =>
      resolveStressOptions("file", "ftp://x/v2/listen", {
        connections: 0,
        duration: -1,
        logLevel: "loud",
      }),
    ).toThrow(
      /protocol ftp[\s\S]*--connections=0[\s\S]*--duration=-1[\s\S]*--log-level=loud[\s\S]*--file <path> is required/,
    );
  });

  it("checks the microphone capture rate against Flux's sample rates", () => {
    expect(resolveStressOptions("microphone", "local", {}).source).toEqual({
      kind: "microphone",
      sampleRate: 16000,
    });
    expect(
      resolveStressOptions("microphone", "local", { sampleRate: 48000, device: "hw:1" }).source,
    ).toEqual({
      kind: "microphone",
      sampleRate: 48000,
      device: "hw:1",
    });
    expect(() => resolveStressOptions("microphone", "local", { sampleRate: 22050 })).toThrow(
      /--sample-rate=22050/,
    );
    expect(() => resolveStressOptions("microphone", "local", { file: "a.wav" })).toThrow(
      /--file applies to `stress file` only/,
    );
  });
});
