/**
 * One source of truth for settings: what FluxClient and DeepgramFluxSTTService report is
 * what Flux confirmed (reconciled from the ConfigureSuccess echo), whatever order updates,
 * refusals and late acknowledgements come in. The Flux here is a fake carrier
 * (fake-configure-flux.ts) so answers can be refused one by one or held past a deadline.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { STTUpdateSettingsFrame, type ErrorFrame } from "@voxpipe/core";
import { SleepFrame, runProcessorTest } from "@voxpipe/core/testing";
import { FluxClient } from "../src/flux-client.js";
import { DeepgramFluxSTTService, type DeepgramFluxSettings } from "../src/service.js";
import type { FluxEvent } from "../src/events.js";
import { fakeConfigureFlux } from "./fake-configure-flux.js";
import { FAST, SETTINGS } from "./helpers.js";

const URL = "ws://127.0.0.1:9/v2/listen";
const REFUSAL = { code: "INVALID_THRESHOLD", description: "refused by the fake" };

afterEach(() => {
  vi.useRealTimers();
});

function service(
  flux: ReturnType<typeof fakeConfigureFlux>,
  settings: Partial<DeepgramFluxSettings> = {},
): DeepgramFluxSTTService {
  const { settings: _unused, ...timings } = FAST;
  return new DeepgramFluxSTTService({
    ...timings,
    url: URL,
    carrier: flux.carrier,
    settings: { sampleRate: 16000, ...settings },
  });
}

const update = (
  settings: Partial<DeepgramFluxSettings>,
): STTUpdateSettingsFrame<DeepgramFluxSettings> =>
  new STTUpdateSettingsFrame<DeepgramFluxSettings>({ settings });

const messages = (errors: ErrorFrame[]): string[] => errors.map((e) => e.error);

describe("DeepgramFluxSTTService.settings is what Flux confirmed", () => {
  it("two quick updates where the first is refused: the refused value never shows, the second does", async () => {
    const flux = fakeConfigureFlux([{ refuse: REFUSAL }], 30);
    const stt = service(flux); // eotThreshold unset: Flux's default 0.7
    const { errors } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        new SleepFrame(50),
        update({ eotThreshold: 0.85 }),
        update({ eotTimeoutMs: 3000 }),
        new SleepFrame(300),
      ],
      ignoreErrors: true,
    });
    expect(messages(errors)).toEqual([
      expect.stringMatching(/INVALID_THRESHOLD: refused by the fake/),
    ]);
    expect(errors[0]?.fatal).toBe(false);
    expect(flux.active).toMatchObject({ eotThreshold: 0.7, eotTimeoutMs: 3000 });
    expect(stt.settings.eotThreshold).toBeUndefined(); // Flux's default, as configured
    expect(stt.settings.eotTimeoutMs).toBe(3000);
  });

  it("an update while one is in flight (and then refused) is sent, and shows once confirmed", async () => {
    const flux = fakeConfigureFlux([{ refuse: REFUSAL }], 60);
    const stt = service(flux, { eotThreshold: 0.7 });
    const { errors } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        new SleepFrame(50),
        update({ eotThreshold: 0.85 }),
        new SleepFrame(20), // the first is on the wire, unanswered
        update({ eotThreshold: 0.9 }),
        new SleepFrame(300),
      ],
      ignoreErrors: true,
    });
    expect(messages(errors)).toEqual([expect.stringMatching(/INVALID_THRESHOLD/)]);
    expect(flux.configures.map((m) => m.thresholds?.eot_threshold)).toEqual([0.85, 0.9]);
    expect(flux.active.eotThreshold).toBe(0.9);
    expect(stt.settings.eotThreshold).toBe(0.9);
  });

  it("asking again for a value Flux refused sends it again", async () => {
    const flux = fakeConfigureFlux([{ refuse: REFUSAL }], 10);
    const stt = service(flux);
    await runProcessorTest({
      processor: stt,
      framesToSend: [
        new SleepFrame(50),
        update({ eotThreshold: 0.85 }),
        new SleepFrame(100),
        update({ eotThreshold: 0.85 }),
        new SleepFrame(100),
      ],
      ignoreErrors: true,
    });
    expect(flux.configures).toHaveLength(2);
    expect(stt.settings.eotThreshold).toBe(0.85);
  });
});

describe("FluxClient: Configure answers settle their own Configure", () => {
  it("an acknowledgement after its timeout: the next Configure keeps its own answer, and the full desired configuration is sent again", async () => {
    vi.useFakeTimers();
    const flux = fakeConfigureFlux(["hold", "hold"]);
    const c = new FluxClient({
      settings: SETTINGS,
      url: URL,
      carrier: flux.carrier,
      ...FAST,
      configureTimeoutMs: 1000,
    });
    const events: FluxEvent[] = [];
    c.events$.subscribe((e) => events.push(e));
    const started = c.start();
    await vi.advanceTimersByTimeAsync(10);
    await started;

    const first = c.configure({ eotThreshold: 0.8 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1100);
    expect(await first).toMatchObject({ source: "configure-timeout", fatal: false });
    expect(c.settings.eotThreshold).toBeUndefined();

    const second = c.configure({ eotTimeoutMs: 3000 });
    await vi.advanceTimersByTimeAsync(10);
    expect(flux.configures).toHaveLength(2); // a timed-out Configure does not block the next

    flux.release(); // the first one's answer, late: Flux did apply eot_threshold 0.8
    await vi.advanceTimersByTimeAsync(10);
    expect(c.settings.eotThreshold).toBe(0.8); // what Flux has, not what was rolled back

    flux.release(); // the second one's own answer
    await vi.advanceTimersByTimeAsync(10);
    expect(await second).toMatchObject({ eotTimeoutMs: 3000 });

    // The late answer made Flux differ from what the caller was told: the full desired
    // configuration goes out again, and Flux ends where the caller expects.
    await vi.advanceTimersByTimeAsync(10);
    expect(flux.configures[2]).toEqual({
      type: "Configure",
      thresholds: { eot_threshold: 0.7, eot_timeout_ms: 3000 },
      keyterms: [],
      numerals: false,
    });
    expect(flux.active).toMatchObject({ eotThreshold: 0.7, eotTimeoutMs: 3000 });
    expect(c.configuration).toEqual(flux.active);
    expect(c.settings.eotThreshold).toBeUndefined(); // Flux's default, as asked
    expect(c.settings.eotTimeoutMs).toBe(3000);
    expect(events.filter((e) => e.type === "Error")).toHaveLength(1); // the timeout only
    c.destroy();
  });

  it("a Flux that answers every Configure late: one full configuration re-aligns it, no loop, nothing asked for is flipped", async () => {
    vi.useFakeTimers();
    const flux = fakeConfigureFlux(["hold", "hold"]);
    const c = new FluxClient({
      settings: { ...SETTINGS, eotThreshold: 0.7 },
      url: URL,
      carrier: flux.carrier,
      ...FAST,
      configureTimeoutMs: 1000,
    });
    const started = c.start();
    await vi.advanceTimersByTimeAsync(10);
    await started;

    const first = c.configure({ eotThreshold: 0.8 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1100);
    expect(await first).toMatchObject({ source: "configure-timeout" });
    flux.release(); // late: Flux has 0.8, the caller was told 0.7 stays
    await vi.advanceTimersByTimeAsync(10);
    expect(flux.configures).toHaveLength(2); // the full desired configuration
    expect(flux.configures[1]?.thresholds?.eot_threshold).toBe(0.7);

    await vi.advanceTimersByTimeAsync(1100); // its answer is late too
    expect(c.desiredSettings.eotThreshold).toBe(0.7); // not rolled back to Flux's 0.8
    flux.release();
    await vi.advanceTimersByTimeAsync(3000);
    expect(flux.configures).toHaveLength(2); // Flux matches what was asked: no further Configure
    expect(flux.active.eotThreshold).toBe(0.7);
    expect(c.settings.eotThreshold).toBe(0.7);
    c.destroy();
  });

  it("settings follow the ConfigureSuccess echo: float32 printing keeps the caller's value", async () => {
    const flux = fakeConfigureFlux();
    const c = new FluxClient({ settings: SETTINGS, url: URL, carrier: flux.carrier, ...FAST });
    await c.start();
    const configuration = await c.configure({ eotThreshold: 0.8, keyterms: ["voxpipe"] });
    expect(configuration.eotThreshold).toBeCloseTo(0.8, 6); // printed as 0.800000011920929
    expect(c.settings.eotThreshold).toBe(0.8);
    expect(c.settings.keyterms).toEqual(["voxpipe"]);
    c.destroy();
  });
});
