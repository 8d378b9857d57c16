import { describe, expect, it } from "vitest";
import { Deque } from "../src/deque.js";

describe("Deque (processor queues)", () => {
  it("is FIFO across compactions and retains in place in order", () => {
    const q = new Deque<number>();
    for (let i = 0; i < 3000; i++) q.push(i);
    for (let i = 0; i < 2000; i++) expect(q.shift()).toBe(i);
    expect(q.length).toBe(1000);
    q.retain((n) => n % 3 === 0);
    expect([...q]).toEqual(
      Array.from({ length: 1000 }, (_, i) => 2000 + i).filter((n) => n % 3 === 0),
    );
    q.push(-1);
    expect(q.peek()).toBe(2001); // first multiple of 3 from 2000
    q.clear();
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});
