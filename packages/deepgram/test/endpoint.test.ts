import { describe, expect, it } from "vitest";
import {
  FLUX_TARGETS,
  FluxClient,
  resolveFluxEndpoint,
  type FluxEndpoint,
  type FluxTarget,
} from "../src/index.js";

describe("resolveFluxEndpoint", () => {
  it("an explicit url wins over DEEPGRAM_API_KEY, says nothing and starts nothing", async () => {
    const notes: string[] = [];
    const flux = await resolveFluxEndpoint({
      url: "ws://flux.example:8080",
      env: { DEEPGRAM_API_KEY: "dg-secret" },
      notify: (t) => notes.push(t),
    });
    expect([flux.kind, flux.url, flux.apiKey]).toEqual([
      "url",
      "ws://flux.example:8080",
      "dg-secret",
    ]);
    expect(notes).toEqual([]);
  });

  it("uses Deepgram when DEEPGRAM_API_KEY is set, and says so without printing the key", async () => {
    const notes: string[] = [];
    const flux = await resolveFluxEndpoint({
      env: { DEEPGRAM_API_KEY: "dg-secret" },
      notify: (t) => notes.push(t),
    });
    expect([flux.kind, flux.url, flux.apiKey]).toEqual(["deepgram", undefined, "dg-secret"]);
    expect(notes).toEqual(["using Deepgram Flux (DEEPGRAM_API_KEY is set)"]);
  });

  it("without a key starts the embedded local server, says so, and a FluxClient connects to it", async () => {
    const notes: string[] = [];
    const flux = await resolveFluxEndpoint({
      engine: "scripted",
      env: { DEEPGRAM_API_KEY: "" },
      notify: (t) => notes.push(t),
    });
    try {
      expect(flux.kind).toBe("embedded");
      expect(flux.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      expect(notes).toEqual([
        `DEEPGRAM_API_KEY is not set: using the embedded local Flux server (scripted engine) at ${flux.url}; set DEEPGRAM_API_KEY to use Deepgram`,
      ]);
      const client = new FluxClient({
        url: flux.url,
        settings: { model: "flux-general-en", encoding: "linear16", sampleRate: 16000 },
      });
      await client.start();
      expect(client.state).toBe("open");
      await client.close();
    } finally {
      await flux.close();
    }
  });

  it("gives the embedded server's engine its options (engineOptions)", async () => {
    const start = (engineOptions?: Record<string, unknown>) =>
      resolveFluxEndpoint({
        engine: "scripted",
        ...(engineOptions !== undefined && { engineOptions }),
        env: { DEEPGRAM_API_KEY: "" },
        notify: () => undefined,
      });
    await expect(start({ transcripts: "not a list" })).rejects.toThrow(/transcripts/);
    await (await start({ transcripts: ["hello there"] })).close();
  });

  it("tries the targets in order: a target placed first decides", async () => {
    const custom: FluxTarget = {
      kind: "custom",
      resolve: (request) =>
        Promise.resolve<FluxEndpoint | undefined>(
          request.env.CUSTOM_FLUX === undefined
            ? undefined
            : {
                url: request.env.CUSTOM_FLUX,
                apiKey: undefined,
                kind: "custom",
                close: () => Promise.resolve(),
              },
        ),
    };
    const targets = [custom, ...FLUX_TARGETS];
    const chosen = await resolveFluxEndpoint({
      targets,
      env: { CUSTOM_FLUX: "ws://custom:1", DEEPGRAM_API_KEY: "k" },
      notify: () => undefined,
    });
    expect([chosen.kind, chosen.url]).toEqual(["custom", "ws://custom:1"]);
    const fallback = await resolveFluxEndpoint({
      targets,
      env: { DEEPGRAM_API_KEY: "k" },
      notify: () => undefined,
    });
    expect(fallback.kind).toBe("deepgram");
  });

  it("says what to do when no target applies", async () => {
    await expect(resolveFluxEndpoint({ targets: [], env: {} })).rejects.toThrow(
      /no Flux target applies .*give a URL or set DEEPGRAM_API_KEY/,
    );
  });
});
