import { Subject } from "rxjs";
import { describe, expect, it } from "vitest";
import {
  BotStartedSpeakingFrame,
  EndOfTurnFrame,
  FrameProcessor,
  TTSAudioRawFrame,
  TTSTextFrame,
} from "@voxpipe/core";
import type { Frame, FrameEvent } from "@voxpipe/core";
import { LatencyStats } from "../src/serve/latency.js";

describe("serve's EndOfTurn → first outbound audio accounting", () => {
  const stt = new FrameProcessor({ name: "stt" });
  const user = new FrameProcessor({ name: "user" });
  const tts = new FrameProcessor({ name: "tts" });
  const output = new FrameProcessor({ name: "output" });
  const event = (processor: FrameProcessor, frame: Frame, timestamp: number): FrameEvent => ({
    processor,
    direction: "downstream",
    frame,
    timestamp,
  });

  it("uses each frame's push time, counts a forwarded frame once, and nets out the TTS's time to first byte", () => {
    const stats = new LatencyStats();
    const frames$ = new Subject<FrameEvent>();
    stats.watch(frames$);
    const eot = new EndOfTurnFrame({ turnIndex: 0 });
    const text = new TTSTextFrame({ text: "You said hello." });
    const audio = new TTSAudioRawFrame({ audio: new Uint8Array(320), sampleRate: 8000 });
    // Events reach observers in batches, later than they happened: only timestamps count.
    frames$.next(event(stt, eot, 1000));
    frames$.next(event(user, eot, 1004)); // the same EndOfTurn forwarded
    frames$.next(event(tts, text, 1010));
    frames$.next(event(tts, audio, 1060));
    frames$.next(event(output, new BotStartedSpeakingFrame(), 1072));
    frames$.next(event(output, text, 1080)); // released by the output: not the TTS's
    const { total, ttsTtfb, framework } = stats.summary();
    expect(total).toMatchObject({ count: 1, p50: 72 });
    expect(ttsTtfb).toMatchObject({ count: 1, p50: 50 });
    expect(framework).toMatchObject({ count: 1, p50: 22 });
  });

  it("does not count a turn whose reply never started playing", () => {
    const stats = new LatencyStats();
    const frames$ = new Subject<FrameEvent>();
    stats.watch(frames$);
    frames$.next(event(stt, new EndOfTurnFrame({ turnIndex: 0 }), 0));
    frames$.next(event(stt, new EndOfTurnFrame({ turnIndex: 1 }), 3000));
    frames$.next(event(output, new BotStartedSpeakingFrame(), 3005));
    expect(stats.summary().total).toMatchObject({ count: 1, p50: 5 });
  });
});
