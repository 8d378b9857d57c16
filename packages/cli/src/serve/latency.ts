import type { Observable } from "rxjs";
import {
  BotStartedSpeakingFrame,
  EndOfTurnFrame,
  TTSAudioRawFrame,
  TTSTextFrame,
} from "@voxpipe/core";
import type { FrameEvent } from "@voxpipe/core";
import { LatencyRecorder } from "../stress/latency.js";
import type { LatencySummary } from "../stress/latency.js";

/**
 * The framework's own delay per user turn: from Flux's `EndOfTurn` (the STT pushing its
 * `EndOfTurnFrame`) to the first outbound audio message of the reply (the output transport's
 * `BotStartedSpeakingFrame`, pushed just before it sends that chunk), minus the TTS's own
 * time to first byte (its first `TTSTextFrame` → first `TTSAudioRawFrame` of the reply). What
 * remains is voxpipe's work (and the LLM's: none for the echo LLM). Recorded on HDR histograms.
 *
 * Every instant is the frame event's own timestamp (the task clock when the frame was
 * pushed), not the moment the batched observation reached us, so the figures do not include
 * the observer's delay. A frame pushed on by several processors counts at its first push.
 */
export class LatencyStats {
  readonly total = new LatencyRecorder();
  readonly framework = new LatencyRecorder();
  readonly ttsTtfb = new LatencyRecorder();

  /**
   * Follows one call's `frames$` (its task's). A turn whose reply never starts playing (the
   * caller spoke again first, or hung up) is not recorded. Returns an unsubscribe.
   */
  watch(frames$: Observable<FrameEvent>): () => void {
    let eotFrame: EndOfTurnFrame | undefined;
    let eot: number | undefined;
    let ttsText: number | undefined;
    let ttsAudio: number | undefined;
    const sub = frames$.subscribe(({ frame: f, timestamp }) => {
      if (f instanceof EndOfTurnFrame) {
        if (f === eotFrame) return; // the same frame forwarded by a later processor
        eotFrame = f;
        eot = timestamp;
        ttsText = ttsAudio = undefined;
      } else if (eot === undefined) {
        return;
      } else if (ttsText === undefined && f instanceof TTSTextFrame) {
        ttsText = timestamp;
      } else if (ttsAudio === undefined && ttsText !== undefined && f instanceof TTSAudioRawFrame) {
        ttsAudio = timestamp;
      } else if (f instanceof BotStartedSpeakingFrame) {
        const total = timestamp - eot;
        const tts = ttsText !== undefined && ttsAudio !== undefined ? ttsAudio - ttsText : 0;
        this.total.record(total);
        this.ttsTtfb.record(tts);
        this.framework.record(total - tts);
        eot = undefined;
      }
    });
    return () => sub.unsubscribe();
  }

  /** Percentiles in ms: framework delay, total EndOfTurn → first audio, TTS time to first byte. */
  summary(): { framework: LatencySummary; total: LatencySummary; ttsTtfb: LatencySummary } {
    return {
      framework: this.framework.summary(),
      total: this.total.summary(),
      ttsTtfb: this.ttsTtfb.summary(),
    };
  }
}
