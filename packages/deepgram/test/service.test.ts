/**
 * DeepgramFluxSTTService in a real PipelineTask (core test kit), against the local
 * Flux server over a real socket. Audio is synthetic (tone = speech for the scripted
 * engine), by design.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  BotStartedSpeakingFrame,
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  ErrorFrame,
  InputAudioRawFrame,
  InterimTranscriptionFrame,
  InterruptionFrame,
  LLMContext,
  MetricsFrame,
  Pipeline,
  StartOfTurnFrame,
  STTMuteFrame,
  STTUpdateSettingsFrame,
  TranscriptionFrame,
  TurnResumedFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  createContextAggregators,
  pcmToMulaw,
  type Frame,
} from "@voxpipe/core";
import { SleepFrame, audioFrames, runProcessorTest, tonePcm } from "@voxpipe/core/testing";
import type { ClientMessage } from "@voxpipe/flux-protocol";
import {
  DeepgramFluxSTTService,
  STTForceEndTurnFrame,
  type DeepgramFluxSettings,
} from "../src/service.js";
import { sdkCarrier } from "../src/carriers/sdk.js";
import type { Carrier } from "../src/carriers/carrier.js";
import type { FluxEndOfTurnEvent } from "../src/events.js";
import { FAST, TRANSCRIPTS, pause, recordingCarrier, server, speech } from "./helpers.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function serve(
  ...args: Parameters<typeof server>
): Promise<Awaited<ReturnType<typeof server>>> {
  const s = await server(...args);
  open.push(s);
  return s;
}

function service(
  url: string,
  settings: Partial<DeepgramFluxSettings> = {},
  extra = {},
): DeepgramFluxSTTService {
  const { settings: _unused, ...timings } = FAST;
  return new DeepgramFluxSTTService({
    ...timings,
    url,
    settings: { sampleRate: 16000, ...settings },
    ...extra,
  });
}

/** Audio as 20 ms input frames. */
const frames = (audio: Buffer): Frame[] => audioFrames(audio, { frameMs: 20 });
/** Everything but the passthrough audio and metrics. */
const turnFramesOf = (down: Frame[]): Frame[] =>
  down.filter((f) => !(f instanceof InputAudioRawFrame) && !(f instanceof MetricsFrame));
const names = (fs: Frame[]): string[] =>
  fs.filter((f) => !(f instanceof InterimTranscriptionFrame)).map((f) => f.constructor.name);

describe("DeepgramFluxSTTService: frames", () => {
  it("maps every Flux event to its frames, in order", async () => {
    const s = await serve();
    const stt = service(s.url);
    const endOfTurn: FluxEndOfTurnEvent[] = [];
    const seen: string[] = [];
    stt.on("endOfTurn", (e) => endOfTurn.push(e));
    stt.on("startOfTurn", (e) => seen.push(`start:${e.turnIndex}`));
    stt.on("update", (e) => e.transcript !== "" && seen.push("update"));
    const { down } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        ...frames(Buffer.concat([pause(300), speech(1200), pause(1500)])),
        new SleepFrame(300),
      ],
    });
    const out = turnFramesOf(down);
    expect(names(out)).toEqual([
      "StartOfTurnFrame",
      "UserStartedSpeakingFrame",
      "TranscriptionFrame",
      "EndOfTurnFrame",
      "UserStoppedSpeakingFrame",
    ]);
    const interims = out.filter((f) => f instanceof InterimTranscriptionFrame);
    expect(interims.length).toBeGreaterThan(0);
    // interims sit between the start and the final
    const firstInterim = out.indexOf(interims[0]);
    expect(firstInterim).toBeGreaterThan(
      out.findIndex((f) => f instanceof UserStartedSpeakingFrame),
    );
    expect(firstInterim).toBeLessThan(out.findIndex((f) => f instanceof TranscriptionFrame));
    const final = out.find((f) => f instanceof TranscriptionFrame) as TranscriptionFrame;
    expect(final.text).toBe(TRANSCRIPTS[0]);
    expect(final.turnIndex).toBe(0);
    expect(final.words.length).toBe(2);
    expect(final.language).toBe("en");
    expect([final.trigger, final.confidence]).toEqual(["model", 0.95]);
    expect(final.result).toMatchObject({ type: "TurnInfo", event: "EndOfTurn", turn_index: 0 });
    const end = out.find((f) => f instanceof EndOfTurnFrame) as EndOfTurnFrame;
    expect(end.trigger).toBe("model");
    expect(endOfTurn.map((e) => e.transcript)).toEqual([TRANSCRIPTS[0]]);
    expect(seen[0]).toBe("start:0");
    expect(seen).toContain("update");
    expect(down.some((f) => f instanceof InputAudioRawFrame)).toBe(true); // audio passthrough
  });

  it("maps EagerEndOfTurn and TurnResumed (eager mode)", async () => {
    const s = await serve();
    const stt = service(s.url, { eagerEotThreshold: 0.4 });
    const { down } = await runProcessorTest({
      processor: stt,
      // a pause long enough for the eager threshold, not for the end of turn, then more speech
      framesToSend: [
        ...frames(Buffer.concat([pause(300), speech(800), pause(350), speech(600), pause(1500)])),
        new SleepFrame(300),
      ],
    });
    expect(names(turnFramesOf(down))).toEqual([
      "StartOfTurnFrame",
      "UserStartedSpeakingFrame",
      "EagerEndOfTurnFrame",
      "TurnResumedFrame",
      "EagerEndOfTurnFrame",
      "TranscriptionFrame",
      "EndOfTurnFrame",
      "UserStoppedSpeakingFrame",
    ]);
    const eager = turnFramesOf(down).filter(
      (f) => f instanceof EagerEndOfTurnFrame || f instanceof TurnResumedFrame,
    );
    expect(eager.every((f) => f.transcript !== "")).toBe(true);
  });

  it("a barge-in while the bot speaks is one InterruptionFrame, from the user aggregator only", async () => {
    const s = await serve();
    const stt = service(s.url);
    const { user } = createContextAggregators(new LLMContext());
    const { down } = await runProcessorTest({
      processor: new Pipeline([stt, user]),
      framesToSend: [
        new BotStartedSpeakingFrame(),
        ...frames(Buffer.concat([pause(300), speech(1200), pause(1500)])),
        new SleepFrame(300),
      ],
    });
    const out = turnFramesOf(down).filter((f) => !(f instanceof BotStartedSpeakingFrame));
    expect(names(out).slice(0, 3)).toEqual([
      "InterruptionFrame",
      "StartOfTurnFrame",
      "UserStartedSpeakingFrame",
    ]);
    expect(down.filter((f) => f instanceof InterruptionFrame)).toHaveLength(1);
  });

  it("does not interrupt when the run disallows interruptions", async () => {
    const s = await serve();
    const stt = service(s.url);
    const { user } = createContextAggregators(new LLMContext());
    const { down } = await runProcessorTest({
      processor: new Pipeline([stt, user]),
      taskParams: { allowInterruptions: false },
      framesToSend: [
        new BotStartedSpeakingFrame(),
        ...frames(Buffer.concat([pause(300), speech(1200), pause(1500)])),
        new SleepFrame(300),
      ],
    });
    expect(down.some((f) => f instanceof InterruptionFrame)).toBe(false);
    expect(down.some((f) => f instanceof TranscriptionFrame)).toBe(true);
  });

  it("a mute in the middle of a turn does not strand it: silence lets Flux end it", async () => {
    const s = await serve();
    const stt = service(s.url);
    const { down } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        ...frames(Buffer.concat([pause(300), speech(800)])),
        new STTMuteFrame({ mute: true }),
        ...frames(speech(400)), // muted: not sent
        new SleepFrame(2000),
      ],
    });
    const end = down.find((f): f is EndOfTurnFrame => f instanceof EndOfTurnFrame);
    expect(end?.trigger).toBe("model"); // ended by Flux on streamed silence, not at shutdown
    expect(stt.flux?.metrics.silenceSecondsInjected).toBeGreaterThan(0);
  });

  it("minConfidence drops a low-confidence final but still closes the turn", async () => {
    const s = await serve();
    const stt = service(s.url, { minConfidence: 0.96 }); // the scripted words have 0.95
    const { down } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        ...frames(Buffer.concat([pause(300), speech(1200), pause(1500)])),
        new SleepFrame(300),
      ],
    });
    expect(names(turnFramesOf(down))).toEqual([
      "StartOfTurnFrame",
      "UserStartedSpeakingFrame",
      "EndOfTurnFrame",
      "UserStoppedSpeakingFrame",
    ]);
  });
});

describe("DeepgramFluxSTTService: control", () => {
  it("turns an STTUpdateSettingsFrame into a Configure", async () => {
    const sent: ClientMessage[] = [];
    const s = await serve();
    const stt = service(s.url, {}, { carrier: recordingCarrier(sdkCarrier, sent) });
    await runProcessorTest({
      processor: stt,
      framesToSend: [
        new SleepFrame(100),
        new STTUpdateSettingsFrame<DeepgramFluxSettings>({
          settings: { eotThreshold: 0.8, keyterm: ["voxpipe"] },
        }),
        new SleepFrame(200),
      ],
    });
    expect(sent[0]).toEqual({
      type: "Configure",
      thresholds: { eot_threshold: 0.8 },
      keyterms: ["voxpipe"],
    });
    expect(stt.settings.eotThreshold).toBe(0.8);
    expect(stt.flux?.configuration.eotThreshold).toBe(0.8);
  });

  it("reports a ConfigureFailure as a non-fatal ErrorFrame with Flux's code; previous settings stay", async () => {
    const s = await serve([
      {
        faults: { configureRefusal: { code: "INVALID_THRESHOLD", description: "refused by test" } },
      },
    ]);
    const stt = service(s.url, { eotThreshold: 0.7 });
    const { errors, down } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        new SleepFrame(100),
        new STTUpdateSettingsFrame<DeepgramFluxSettings>({ settings: { eotThreshold: 0.85 } }),
        new SleepFrame(200),
        ...frames(Buffer.concat([pause(300), speech(1200), pause(1500)])),
        new SleepFrame(300),
      ],
      ignoreErrors: true,
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fatal).toBe(false);
    expect(errors[0]?.error).toMatch(/INVALID_THRESHOLD: refused by test/);
    expect(stt.settings.eotThreshold).toBe(0.7);
    expect(down.some((f) => f instanceof TranscriptionFrame)).toBe(true); // the stream went on
  });

  it("rejects invalid settings in a frame with a non-fatal error naming the field", async () => {
    const s = await serve();
    const stt = service(s.url);
    const { errors } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        new STTUpdateSettingsFrame<DeepgramFluxSettings>({ settings: { eotTimeoutMs: 100 } }),
        new SleepFrame(50),
      ],
      ignoreErrors: true,
    });
    expect(errors.map((e) => [e.fatal, e.error])).toEqual([
      [
        false,
        expect.stringMatching(
          /eot_timeout_ms=100 is out of range: allowed an integer (from )?500\D+60000/,
        ),
      ],
    ]);
    expect(stt.settings.eotTimeoutMs).toBeUndefined();
  });

  it("ends the turn on STTForceEndTurnFrame (trigger manual)", async () => {
    const s = await serve();
    const stt = service(s.url, { eotThreshold: 1 }); // the model never ends a turn by itself
    const { down } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        ...frames(Buffer.concat([pause(300), speech(1200), pause(300)])),
        new SleepFrame(200),
        new STTForceEndTurnFrame(),
        new SleepFrame(200),
      ],
    });
    const end = down.find((f): f is EndOfTurnFrame => f instanceof EndOfTurnFrame);
    expect(end?.trigger).toBe("manual");
    const final = down.find((f): f is TranscriptionFrame => f instanceof TranscriptionFrame);
    expect(final?.trigger).toBe("manual");
    expect(down.filter((f) => f instanceof EndOfTurnFrame)).toHaveLength(1);
  });

  it("EndFrame yields the final transcript of the open turn before the pipeline ends", async () => {
    const s = await serve();
    const stt = service(s.url, { eotThreshold: 1 }, { silenceAfterMs: 10_000 });
    const { down } = await runProcessorTest({
      processor: stt,
      framesToSend: [...frames(Buffer.concat([pause(300), speech(1200)])), new SleepFrame(150)],
    });
    expect(names(turnFramesOf(down))).toEqual([
      "StartOfTurnFrame",
      "UserStartedSpeakingFrame",
      "TranscriptionFrame",
      "EndOfTurnFrame",
      "UserStoppedSpeakingFrame",
    ]);
    expect((down.find((f) => f instanceof TranscriptionFrame) as TranscriptionFrame).text).toBe(
      TRANSCRIPTS[0],
    );
    expect(stt.flux?.state).toBe("closed");
  });

  it("a refused key is one fatal ErrorFrame, without retries", async () => {
    const s = await serve([], { apiKey: "right-key" });
    const stt = service(s.url, {}, { apiKey: "wrong-key" });
    const { errors, result } = await runProcessorTest({
      processor: stt,
      framesToSend: [...frames(pause(200)), new SleepFrame(300)],
      ignoreErrors: true,
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ErrorFrame);
    expect(errors[0]?.fatal).toBe(true);
    expect(errors[0]?.error).toMatch(/HTTP 401/);
    expect(errors[0]?.error).not.toContain("wrong-key");
    expect(result.reason).toBe("error");
    expect(s.counters().refused).toBe(1);
  });

  it("validates settings in the constructor, before connecting", () => {
    expect(() => service("ws://127.0.0.1:1", { eagerEotThreshold: 0.2 })).toThrow(
      /eager_eot_threshold=0.2 is out of range: allowed a number (from )?0.3\D+0.9/,
    );
    expect(() => service("ws://127.0.0.1:1", { minConfidence: 2 })).toThrow(/minConfidence=2/);
    expect(() =>
      service("ws://127.0.0.1:1", { model: "flux-general-en", languageHints: ["de"] }),
    ).toThrow(/language_hint/);
  });
});

export { StartOfTurnFrame, UserStoppedSpeakingFrame, InterruptionFrame };

describe("DeepgramFluxSTTService: telephony passthrough", () => {
  it("sends a call's 8 kHz μ-law as is with encoding=mulaw&sample_rate=8000", async () => {
    const s = await serve();
    const sent: Uint8Array[] = [];
    const carrier = sdkCarrier;
    const stt = service(
      s.url,
      { encoding: "mulaw", sampleRate: 8000 },
      {
        carrier: (async (request: Parameters<Carrier>[0], handlers: Parameters<Carrier>[1]) => {
          const conn = await carrier(request, handlers);
          return {
            sendBinary: (d: Uint8Array) => {
              sent.push(d.slice());
              conn.sendBinary(d);
            },
            sendControl: (m: ClientMessage) => conn.sendControl(m),
            ...(conn.ping ? { ping: () => conn.ping?.() } : {}),
            close: () => conn.close(),
            get bufferedAmount() {
              return conn.bufferedAmount;
            },
          };
        }) as typeof carrier,
      },
    );
    const pcm8k = Buffer.concat([
      Buffer.from(silenceAt8k(300)),
      Buffer.from(tonePcm(300, 1200, 8000, 0.5)),
      Buffer.from(silenceAt8k(1500)),
    ]);
    const ulaw = pcmToMulaw(pcm8k);
    const framesIn: Frame[] = [];
    for (let off = 0; off < ulaw.byteLength; off += 160)
      framesIn.push(
        new InputAudioRawFrame({
          audio: ulaw.subarray(off, off + 160),
          sampleRate: 8000,
          encoding: "mulaw",
        }),
      );
    const { down } = await runProcessorTest({
      processor: stt,
      framesToSend: [...framesIn, new SleepFrame(300)],
      taskParams: { audioInSampleRate: 8000 },
    });
    expect(s.attempts[0].settings).toMatchObject({ encoding: "mulaw", sampleRate: 8000 });
    const final = down.find((f) => f instanceof TranscriptionFrame) as TranscriptionFrame;
    expect(final.text).toBe(TRANSCRIPTS[0]);
    // The bytes that went out are the caller's μ-law, untouched (before any injected silence).
    const out = Buffer.concat(sent).subarray(0, ulaw.byteLength);
    expect(out.equals(Buffer.from(ulaw))).toBe(true);
  });
});

function silenceAt8k(ms: number): Uint8Array {
  return new Uint8Array((8000 * ms * 2) / 1000);
}
