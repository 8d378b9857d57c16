import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFixtures } from "../../../test/fixtures/make-fixtures.js";
import type { LabelledFile } from "../../../test/fixtures/make-fixtures.js";
import { loadEngine } from "../src/index.js";
import type { RecognitionState, TurnEngine, TurnEngineFactory } from "../src/index.js";

const context = (sampleRate: number, keyterms: string[] = []) => ({
  requestId: "00000000-0000-4000-8000-000000000000",
  model: "flux-general-en" as const,
  sampleRate,
  configuration: { keyterms, languageHints: [], numerals: false },
  options: {},
  logger: pino({ level: "silent" }),
});

/** A labelled file as raw PCM s16le at `rate` Hz (sox, repeatable mode). */
async function pcmAt(file: LabelledFile, rate: number): Promise<Int16Array> {
  const { stdout } = await promisify(execFile)(
    "sox",
    ["-R", file.path, "-r", String(rate), "-t", "s16", "-"],
    { encoding: "buffer", maxBuffer: 64 << 20 },
  );
  return new Int16Array(stdout.buffer, stdout.byteOffset, stdout.byteLength / 2);
}

/** Hears `pcm` in 80 ms frames; returns the state after each frame with its end time. */
async function hearAll(engine: TurnEngine, pcm: Int16Array, rate: number) {
  const frame = (rate * 80) / 1000;
  const states: Array<{ end: number; state: RecognitionState }> = [];
  for (let i = 0; i < pcm.length; i += frame) {
    const samples = pcm.slice(i, i + frame);
    const start = i / rate;
    const end = (i + samples.length) / rate;
    states.push({ end, state: await engine.hear({ samples, start, end }) });
  }
  return states;
}

let factory: TurnEngineFactory;
let files: Map<string, LabelledFile>;

beforeAll(async () => {
  files = new Map((await ensureFixtures()).map((f) => [f.name, f]));
  factory = await loadEngine("local");
});
afterAll(() => factory.close?.());

describe("local engine", () => {
  it("refuses bad options, naming the option and what is allowed", async () => {
    await expect(loadEngine("local", { vad: "energy" })).rejects.toThrow(
      /vad must be "silero" or "webrtc"/,
    );
    await expect(loadEngine("local", { modelDir: 3 })).rejects.toThrow(/modelDir/);
    await expect(loadEngine("local", { vda: "silero" })).rejects.toThrow(
      /unknown local engine option "vda"/,
    );
  });

  it("says what to apt-get install when the model is missing", async () => {
    await expect(loadEngine("local", { modelDir: "/nonexistent" })).rejects.toThrow(
      /apt-get install -y pocketsphinx pocketsphinx-en-us/,
    );
  });

  it("hears a turn at 48 kHz (resampled): cased, punctuated once the user pauses, confidence rising after speech", async () => {
    const file = files.get("flite_mid_pause")!; // "i think we should go to the | museum on saturday morning"
    const engine = await factory.createSession(context(48000));
    const states = await hearAll(engine, await pcmAt(file, 48000), 48000);
    const turn = file.turns[0];
    const during = states.filter((s) => s.end > turn.start + 0.3 && s.end < turn.end);
    expect(during.some((s) => s.state.speechActive)).toBe(true);
    // In the 400 ms hesitation after "…go to the", the turn is not judged over.
    const inPause = states.filter((s) => s.end > turn.pauses[0][0] && s.end <= turn.pauses[0][1]);
    for (const s of inPause) expect(s.state.endOfTurnConfidence).toBeLessThan(0.5);
    // 600 ms after the last word it is.
    const after = states.find((s) => s.end >= turn.end + 0.6)!.state;
    expect(after.speechActive).toBe(false);
    expect(after.endOfTurnConfidence).toBeGreaterThan(0.9);
    expect(after.transcript).toMatch(/^I think we should go to the .*morning\.$/);
    expect(after.words.at(-1)).toMatchObject({ word: "morning." });
    expect(after.words[0].start).toBeGreaterThanOrEqual(turn.start - 0.1);

    await engine.resetTurn(after.words.at(-1)!.end! + 0.6);
    const next = await engine.hear({ samples: new Int16Array(640), start: 99, end: 99.08 });
    expect(next.transcript).toBe("");
    expect(next.endOfTurnConfidence).toBe(0);
    await engine.close();
  }, 90_000);

  it("applies keyterms from the connection and from Configure", async () => {
    const file = files.get("flite_three_turns")!;
    const pcm = (await pcmAt(file, 16000)).slice(0, 3 * 16000); // "hello i would like to book a table for two…"
    const boosted = await factory.createSession(context(16000, ["book a table"]));
    const reconfigured = await factory.createSession(context(16000));
    await reconfigured.configure?.({
      keyterms: ["book a table"],
      languageHints: [],
      numerals: false,
    });
    const [a, b] = await Promise.all([
      hearAll(boosted, pcm, 16000),
      hearAll(reconfigured, pcm, 16000),
    ]);
    expect(a.at(-1)!.state.transcript).toContain("book a table");
    expect(b.at(-1)!.state.transcript).toContain("book a table");
    await Promise.all([boosted.close(), reconfigured.close()]);
  }, 90_000);
});
