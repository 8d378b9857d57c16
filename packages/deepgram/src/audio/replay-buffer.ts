import type { AudioFormat } from "./format.js";

/** One chunk of audio on the client's continuous audio timeline. */
export interface TimedChunk {
  /** Start on the continuous timeline, in seconds of audio since the client started. */
  readonly start: number;
  /** Duration in seconds of audio. */
  readonly duration: number;
  readonly bytes: Uint8Array;
  readonly format: AudioFormat;
  /** `performance.now()` when the chunk last went out on a socket; `undefined` until then. */
  sentAt: number | undefined;
}

/**
 * A bounded FIFO of recent audio keyed by audio time, kept so that audio not yet
 * covered by a Flux result can be replayed on a new connection.
 *
 * The owner trims it as results arrive ({@link trimBefore}); the bound
 * ({@link maxSeconds}) protects memory during a long outage by dropping the oldest audio
 * (the owner reports how much was dropped).
 */
export class ReplayBuffer {
  private chunks: TimedChunk[] = [];
  private head = 0;
  private held = 0;

  /** @param maxSeconds most audio kept, in seconds (> 0). */
  constructor(readonly maxSeconds: number) {
    if (!(maxSeconds > 0)) throw new RangeError(`maxSeconds must be > 0, got ${maxSeconds}`);
  }

  /** Seconds of audio held. */
  get seconds(): number {
    return this.held;
  }

  /** Number of chunks held. */
  get length(): number {
    return this.chunks.length - this.head;
  }

  /** Start of the oldest chunk held, or `undefined` when empty. */
  get start(): number | undefined {
    return this.chunks[this.head]?.start;
  }

  /**
   * Appends a chunk (chunks arrive in timeline order) and enforces the bound.
   * @returns seconds of audio that was dropped to stay within {@link maxSeconds}
   *   **before it was ever sent** (audio lost, usually 0; dropping sent audio is normal trimming).
   */
  push(chunk: TimedChunk): number {
    this.chunks.push(chunk);
    this.held += chunk.duration;
    let lost = 0;
    while (this.held > this.maxSeconds + 1e-9 && this.length > 1) {
      const dropped = this.shift();
      if (dropped.sentAt === undefined) lost += dropped.duration;
    }
    return lost;
  }

  /** Drops every chunk that ends at or before `time` (seconds of audio). */
  trimBefore(time: number): void {
    while (this.length > 0) {
      const first = this.chunks[this.head];
      if (first.start + first.duration > time + 1e-9) break;
      this.shift();
    }
  }

  /** The chunks that end after `time`, oldest first (live references, not copies). */
  from(time: number): TimedChunk[] {
    const out: TimedChunk[] = [];
    for (let i = this.head; i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c.start + c.duration > time + 1e-9) out.push(c);
    }
    return out;
  }

  /** The chunk that contains audio time `time`, if still held. */
  at(time: number): TimedChunk | undefined {
    for (let i = this.chunks.length - 1; i >= this.head; i--) {
      const c = this.chunks[i];
      if (c.start <= time + 1e-9) return c.start + c.duration >= time - 1e-9 ? c : undefined;
    }
    return undefined;
  }

  /** Drops everything. */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.held = 0;
  }

  private shift(): TimedChunk {
    const c = this.chunks[this.head];
    this.chunks[this.head] = undefined as unknown as TimedChunk;
    this.head++;
    this.held -= c.duration;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    if (this.length === 0) this.held = 0;
    return c;
  }
}
