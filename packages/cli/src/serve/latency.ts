import type { Observable } from "rxjs";
import { EndOfTurnFrame, TTSAudioRawFrame, TTSTextFrame } from "@voxpipe/core";
import type { FrameEvent } from "@voxpipe/core";
import { LatencyRecorder } from "../stress/latency.js";
import type { LatencySummary } from "../stress/latency.js";

/**
 * The framework's own delay per user turn: from Flux's `EndOfTurn` (the STT pushing its
 * `EndOfTurnFrame`) to the first outbound audio message of the reply, minus the TTS's own
 * time to first byte (its `TTSTextFrame` → first `TTSAudioRawFrame`). What remains is
 * voxpipe's work (and the LLM's: none for the echo LLM). Recorded on HDR histograms.
 */
export class LatencyStats {
  readonly total = new LatencyRecorder();
  readonly framework = new LatencyRecorder();
  readonly ttsTtfb = new LatencyRecorder();

  /**
   * Follows one call: `frames$` of its task; `firstAudio(listener)` registers the callback
   * for the moment the output sends the first audio message of a reply. Returns an unsubscribe.
   */
  watch(frames$: Observable<FrameEvent>, firstAudio: (listener: () => void) => void): () => void {
    let eot: number | undefined;
    let ttsText: number | undefined;
    let ttsAudio: number | undefined;
    const sub = frames$.subscribe((e) => {
      const f = e.frame;
      if (f instanceof EndOfTurnFrame) {
        eot = performance.now();
        ttsText = ttsAudio = undefined;
      } else if (eot !== undefined && ttsText === undefined && f instanceof TTSTextFrame) {
        ttsText = performance.now();
      } else if (eot !== undefined && ttsAudio === undefined && f instanceof TTSAudioRawFrame) {
        ttsAudio = performance.now();
      }
    });
    firstAudio(() => {
      if (eot === undefined) return;
      const total = performance.now() - eot;
      const tts = ttsText !== undefined && ttsAudio !== undefined ? ttsAudio - ttsText : 0;
      this.total.record(total);
      this.ttsTtfb.record(tts);
      this.framework.record(total - tts);
      eot = undefined;
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
