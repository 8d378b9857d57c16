import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RecognizerStream } from "../src/index.js";

// A stand-in for one decoder process: answers every request with the given line. No
// pocketsphinx needed — what is tested is how the stream reads the helper's lines.
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
});

async function streamAnsweredWith(
  line: string,
  onFrame: (data: Buffer) => void = () => undefined,
): Promise<RecognizerStream> {
  server = createServer((peer: Socket) => {
    peer.on("data", (data) => {
      onFrame(data);
      peer.write(`${line}\n`);
    });
    peer.on("error", () => undefined);
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(address.port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  return new RecognizerStream(socket, true);
}

describe("RecognizerStream reading the helper's lines", () => {
  it("fails the stream, naming the line, when the decoder sends malformed JSON", async () => {
    const stream = await streamAnsweredWith('{"type":"ack","audio_t":0.08,"in_sp');
    const error = await stream.write(new Int16Array(1280)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/unreadable line: .*"type\\":\\"ack\\"/);
    // The stream stays failed (no later answer can be matched to its request).
    await expect(stream.finalize()).rejects.toBe(error);
  });

  it("fails the stream when a line parses but is not a message it can read", async () => {
    for (const line of ["[1,2]", "null", '{"type":"partial","audio_t":1}']) {
      const stream = await streamAnsweredWith(line);
      await expect(stream.write(new Int16Array(1280))).rejects.toThrow(Error);
      await stream.close();
      await new Promise<void>((r) => server?.close(() => r()));
      server = undefined;
    }
  });

  it("sends a finalize's carry point as ASCII seconds and drops the words the next utterance decodes again", async () => {
    const frames: Buffer[] = [];
    const word = (w: string, start: number, end: number): string =>
      `{"w":"${w}","start":${start},"end":${end},"conf":0.9}`;
    // The decoder's answer: the ended utterance's words, one of them after the carry point.
    const stream = await streamAnsweredWith(
      `{"type":"final","audio_t":8.72,"in_speech":true,"words":[${word("open", 8.0, 8.32)},${word("un", 8.64, 8.72)}],"eos":0.1,"reason":"finalize","carry_from":8.32}`,
      (data) => frames.push(data),
    );
    await expect(stream.finalize(-1)).rejects.toThrow(/carryFrom: -1 is not allowed/);
    await expect(stream.finalize(Number.NaN)).rejects.toThrow(RangeError);
    const state = await stream.finalize(8.3249);
    expect(Buffer.concat(frames)).toEqual(
      Buffer.concat([Buffer.from([0x46, 5, 0, 0, 0]), Buffer.from("8.325", "latin1")]),
    );
    expect(state.carryFrom).toBe(8.32);
    expect(state.words.map((w) => w.word)).toEqual(["open"]);
    expect(stream.state().words.map((w) => w.word)).toEqual(["open"]);
    await stream.close();
  });

  it("sends the search gate as 'G' frames: empty to pause, the look-back's stream time to resume", async () => {
    const frames: Buffer[] = [];
    const stream = await streamAnsweredWith(
      '{"type":"ack","audio_t":0.08,"in_speech":false}',
      (d) => frames.push(d),
    );
    expect(() => stream.resumeSearch(-0.5)).toThrow(/resumeSearch from: -0.5 is not allowed/);
    expect(() => stream.resumeSearch(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    stream.pauseSearch();
    stream.resumeSearch(9.2996);
    // No reply is expected: the next request still gets its own answer.
    await stream.write(new Int16Array(2));
    expect(Buffer.concat(frames)).toEqual(
      Buffer.concat([
        Buffer.from([0x47, 0, 0, 0, 0]),
        Buffer.from([0x47, 5, 0, 0, 0]),
        Buffer.from("9.300", "latin1"),
        Buffer.from([0x41, 4, 0, 0, 0, 0, 0, 0, 0]),
      ]),
    );
    await stream.close();
  });
});
