/**
 * Re-chunks an audio byte stream into fixed-size chunks (Flux recommends 80 ms,
 * flux-protocol.md §1.4) whatever size the caller's frames have.
 */
export class AudioChunker {
  private buffer: Uint8Array;
  private filled = 0;

  /** @param chunkBytes size of every emitted chunk, in bytes (> 0). */
  constructor(readonly chunkBytes: number) {
    if (!Number.isInteger(chunkBytes) || chunkBytes <= 0) {
      throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    }
    this.buffer = new Uint8Array(chunkBytes);
  }

  /** Bytes held back, waiting for the rest of their chunk. */
  get pending(): number {
    return this.filled;
  }

  /**
   * Adds `data` and returns every chunk it completes (each exactly `chunkBytes`
   * long, in order). The returned arrays are owned by the caller; `data` is not retained.
   */
  push(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(this.chunkBytes - this.filled, data.length - offset);
      this.buffer.set(data.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.chunkBytes) {
        out.push(this.buffer);
        this.buffer = new Uint8Array(this.chunkBytes);
        this.filled = 0;
      }
    }
    return out;
  }

  /** Returns the held-back bytes as a (short) final chunk, or `undefined` if none. */
  flush(): Uint8Array | undefined {
    if (this.filled === 0) return undefined;
    const rest = this.buffer.slice(0, this.filled);
    this.filled = 0;
    return rest;
  }
}
