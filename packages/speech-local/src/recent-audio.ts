import { SAMPLE_RATE } from "./audio.js";

/**
 * The latest audio of a stream, a fixed number of samples, with the stream time it ends at: a
 * ring, so keeping it costs a copy of each chunk as it arrives, and a copy of the window only
 * when it is read (once per pause, for the prosodic cues) — not a copy of the whole window per
 * chunk. (A few lines of index arithmetic; the npm ring buffers are for SharedArrayBuffer
 * hand-offs between threads, which this is not.)
 * @internal used by `LocalSpeechStream`; exported for its test.
 */
export class RecentAudio {
  private readonly ring: Int16Array;
  /** Samples pushed so far; the next one goes to `written % ring.length`. */
  private written = 0;
  /** Stream time the latest chunk ends at, s. */
  private end = 0;

  /**
   * @param seconds how much audio to keep, s of 16 kHz audio.
   * @throws RangeError when `seconds` is not a positive number.
   */
  constructor(seconds: number) {
    if (!(seconds > 0) || !Number.isFinite(seconds))
      throw new RangeError(`RecentAudio: seconds must be a positive number, got ${seconds}`);
    this.ring = new Int16Array(Math.round(seconds * SAMPLE_RATE));
  }

  /** Appends `pcm` (16 kHz mono s16), which ends at stream time `end` (s). */
  push(pcm: Int16Array, end: number): void {
    const size = this.ring.length;
    // Of a chunk longer than the ring, only its last `size` samples stay.
    const kept = pcm.length > size ? pcm.subarray(pcm.length - size) : pcm;
    const at = (this.written + pcm.length - kept.length) % size;
    const head = Math.min(kept.length, size - at);
    this.ring.set(kept.subarray(0, head), at);
    this.ring.set(kept.subarray(head), 0);
    this.written += pcm.length;
    this.end = end;
  }

  /** A copy of the kept audio, oldest sample first (at most the window), and the stream time it starts at (s). */
  read(): { pcm: Int16Array; start: number } {
    const size = this.ring.length;
    const pcm = new Int16Array(Math.min(this.written, size));
    if (this.written <= size) {
      pcm.set(this.ring.subarray(0, this.written));
    } else {
      const oldest = this.written % size;
      pcm.set(this.ring.subarray(oldest));
      pcm.set(this.ring.subarray(0, oldest), size - oldest);
    }
    return { pcm, start: this.end - pcm.length / SAMPLE_RATE };
  }
}
