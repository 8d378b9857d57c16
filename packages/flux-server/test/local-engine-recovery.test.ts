import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { readWav16k } from "@voxpipe/speech-local";
import { ensureFixtures } from "../../../test/fixtures/make-fixtures.js";
import { startFluxServer, type FluxServer } from "../src/index.js";
import { FluxTestClient, silence } from "../src/testing.js";

const RATE = 16000;
const EN = { model: "flux-general-en", encoding: "linear16", sampleRate: RATE } as const;
let server: FluxServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * `promise`, or a rejection naming `step` after `ms`: a hang in this test says which step
 * never happened instead of only "Test timed out" (it did once, on a fresh Debian root, and
 * could not be reproduced).
 */
function within<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${step}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Descendants of this process named `voxpipe-sphinx`, with their parent: only processes this test started. */
function sphinxProcesses(): Array<{ pid: number; ppid: number }> {
  const all = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"
        const m = /^(\d+) \((.*)\) \S (\d+)/.exec(readFileSync(`/proc/${d}/stat`, "utf8"));
        return m ? [{ pid: Number(m[1]), comm: m[2], ppid: Number(m[3]) }] : [];
      } catch {
        return []; // exited meanwhile
      }
    });
  const mine = new Set([process.pid]);
  const out: Array<{ pid: number; ppid: number }> = [];
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
        if (p.comm === "voxpipe-sphinx") out.push(p);
      }
    }
  }
  return out;
}

describe("local engine: the recognizer helper dies", { timeout: 90_000 }, () => {
  it("a session in flight gets a clean Error and closes; a new session works", async () => {
    server = await startFluxServer({ engine: "local" });
    const files = new Map((await ensureFixtures()).map((f) => [f.name, f]));
    const speech = (name: string): Promise<Int16Array> => readWav16k(files.get(name)!.path);

    const inFlight = await FluxTestClient.connect(server.url, EN);
    await inFlight.waitFor((m) => m.type === "Connected");
    const three = await speech("flite_three_turns");
    inFlight.sendChunks(Buffer.from(three.buffer, three.byteOffset, RATE * 2), RATE); // 1 s
    await within(
      inFlight.waitFor((m) => m.type === "TurnInfo" && m.audio_window_end >= 0.96),
      20_000,
      "the in-flight session's TurnInfo for its first second",
    );

    // Kill the whole recognizer: the helper that holds the model and this session's decoder.
    const procs = sphinxProcesses();
    const helper = procs.find((p) => p.ppid === process.pid);
    expect(helper).toBeDefined();
    expect(procs.length).toBe(2);
    for (const p of procs) process.kill(p.pid, "SIGKILL");

    inFlight.sendChunks(Buffer.from(three.buffer, three.byteOffset + RATE * 2, RATE * 2), RATE);
    const error = await within(
      inFlight.waitFor((m) => m.type === "Error"),
      20_000,
      "an Error for the session whose helper died",
    );
    expect(error).toMatchObject({ type: "Error", code: "INTERNAL_SERVER_ERROR" });
    // The server closes the session after the Error.
    await within(inFlight.closed, 10_000, "the server closing the session after its Error");

    // A new connection is served by a restarted helper.
    const next = await FluxTestClient.connect(server.url, EN);
    const yes = await speech("flite_short_yes");
    next.sendChunks(
      Buffer.concat([Buffer.from(yes.buffer, yes.byteOffset, yes.byteLength), silence(1000, RATE)]),
      RATE,
    );
    const end = await within(
      next.waitFor((m) => m.type === "TurnInfo" && m.event === "EndOfTurn"),
      30_000,
      "an EndOfTurn from a new session on the restarted helper",
    );
    expect(end).toMatchObject({ transcript: "Yes." });
    await next.close();
    expect(sphinxProcesses().some((p) => p.pid === helper!.pid)).toBe(false);
  });
});

describe("local engine: the recognizer hangs", { timeout: 30_000 }, () => {
  it("a session whose decoder is stuck still ends when its client leaves", async () => {
    server = await startFluxServer({ engine: "local" });
    const client = await FluxTestClient.connect(server.url, EN);
    await client.waitFor((m) => m.type === "Connected");
    const three = await readWav16k(
      (await ensureFixtures()).find((f) => f.name === "flite_three_turns")!.path,
    );
    client.sendChunks(Buffer.from(three.buffer, three.byteOffset, RATE * 2), RATE); // 1 s of speech
    await client.waitFor((m) => m.type === "TurnInfo" && m.audio_window_end >= 0.96);

    // Freeze this session's decoder (the helper's child): alive, but it never answers again.
    const decoder = sphinxProcesses().find((p) => p.ppid !== process.pid);
    expect(decoder).toBeDefined();
    process.kill(decoder!.pid, "SIGSTOP");
    try {
      const ended = new Promise<void>((resolve) =>
        server!.events.once("sessionEnded", () => resolve()),
      );
      await client.close();
      // Closing asks the decoder for its CPU figures; a stuck one must not hold the session.
      await ended;
    } finally {
      process.kill(decoder!.pid, "SIGKILL");
    }
  });
});
