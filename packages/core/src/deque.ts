/**
 * A FIFO with O(1) push/shift (array + head index, compacted lazily).
 * `Array.prototype.shift` is O(n); a processor's queue is drained on every frame.
 * @internal
 */
export class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Keep only the items for which `keep` returns true, preserving their order (in place). */
  retain(keep: (item: T) => boolean): void {
    let write = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (keep(item)) this.#items[write++] = item;
    }
    this.#items.length = write;
    this.#head = 0;
  }

  /** Remove everything (keeps the backing array: no allocation on the interruption path). */
  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}
