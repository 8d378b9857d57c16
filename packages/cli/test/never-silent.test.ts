/**
 * A failed run is never silent (issue 10): `voxpipe transcribe` exits 1 with one
 * `voxpipe: error:` line naming the cause when Flux cannot be reached, transcribes every
 * turn from a server that omits `request_id`/`sequence_id`/`trigger` (as the docs'
 * examples do), and Ctrl-C stops connection attempts at once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFluxServer, type FluxServer } from "@voxpipe/flux-server";
import { captureIO } from "./capture-io.js";
import { cli, writeTwoTurns } from "./helpers.js";

const errorLines = (text: string) =>
  text.split("\n").filter((l) => l.startsWith("voxpipe: error:"));

let dir = "";
let twoTurns = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-never-silent-"));
  twoTurns = await writeTwoTurns(dir, 1500);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("voxpipe transcribe: never silent", () => {
  it("an unreachable --url exits 1 with one error line naming ECONNREFUSED and the address", async () => {
    const port = await closedPort();
    const io = captureIO();
    const url = `ws://127.0.0.1:${port}/v2/listen`;
    const code = await cli(io, "transcribe", twoTurns, "--url", url, "--log-level", "silent");
    expect(code).toBe(1);
    const lines = errorLines(io.err());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    expect(io.err()).not.toMatch(/0 turns/);
  });

  it("a server that omits request_id, sequence_id and trigger: every turn is transcribed", async () => {
    const server: FluxServer = await startFluxServer({
      engine: "scripted",
      engineOptions: { transcripts: ["book a table for two", "at eight please"] },
      sessionPlan: () => ({ faults: { omitOptionalFields: true } }),
    });
    try {
      const io = captureIO();
      const code = await cli(
        io,
        "transcribe",
        twoTurns,
        "--fast",
        "--json",
        "--url",
        server.url,
        "--log-level",
        "silent",
      );
      expect(code).toBe(0);
      const ends = io
        .out()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => e.event === "EndOfTurn");
      expect(ends.map((e) => e.transcript)).toEqual(["book a table for two", "at eight please"]);
      expect(io.err()).toContain("2 turns from");
    } finally {
      await server.close();
    }
  });

  it("Ctrl-C while Flux refuses: 'stopping…', retries stop at once, exit 1 naming the cause", async () => {
    // 503 is retryable: without the interrupt the client would keep trying.
    // The first connection is dropped after 300 ms; every reconnect is refused.
    let handshakes = 0;
    const server: FluxServer = await startFluxServer({
      engine: "scripted",
      sessionPlan: (info) => {
        handshakes++;
        return info.index === 0
          ? { faults: { drop: { afterMs: 300 } } }
          : { faults: { refuseHandshake: { status: 503 } } };
      },
    });
    try {
      const io = captureIO();
      const run = cli(io, "transcribe", twoTurns, "--url", server.url, "--log-level", "silent");
      await new Promise((r) => setTimeout(r, 1200));
      const attemptsBefore = handshakes;
      process.emit("SIGINT");
      const code = await run;
      expect(code).toBe(1);
      expect(io.err()).toContain("voxpipe: stopping…");
      expect(errorLines(io.err())).toHaveLength(1);
      expect(errorLines(io.err())[0]).toMatch(/503/);
      expect(handshakes).toBeLessThanOrEqual(attemptsBefore + 1);
    } finally {
      await server.close();
    }
  });
});
