import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import {
  createScriptedEngine,
  loadEngine,
  type RecognitionState,
  type TurnEngine,
} from "../src/index.js";

const context = (options: Record<string, unknown> = {}) => ({
  requestId: "00000000-0000-4000-8000-000000000000",
  model: "flux-general-en" as const,
  sampleRate: 16000,
  configuration: { keyterms: [], languageHints: [], numerals: false },
  options,
  logger: pino({ level: "silent" }),
});

/** Feeds `ms` of audio (all samples = `level`) in 80 ms frames from `startMs`; returns the last state. */
function feed(engine: TurnEngine, startMs: number, ms: number, level = 0): RecognitionState {
  let state: RecognitionState | undefined;
  for (let t = startMs; t < startMs + ms; t += 80) {
    const result = engine.hear({
      samples: new Int16Array(1280).fill(level),
      start: t / 1000,
      end: (t + 80) / 1000,
    });
    state = result as RecognitionState;
  }
  if (state === undefined) throw new Error("no frames");
  return state;
}

describe("scripted engine", () => {
  it("refuses unknown or invalid options, naming the option", async () => {
    expect(() => createScriptedEngine({ transcript: ["typo"] })).toThrow(/transcript/);
    expect(() => createScriptedEngine({ energyThresholdDbfs: 3 })).toThrow(/energyThresholdDbfs/);
    expect(() => createScriptedEngine({ turns: [{ text: "no times" }] })).toThrow(/turns\.0/);
    await expect(loadEngine("nope")).rejects.toThrow(/^unknown engine "nope": allowed .*scripted/);
  });

  it("reads a script file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "voxpipe-script-"));
    const file = join(dir, "turns.json");
    writeFileSync(file, JSON.stringify({ turns: [{ text: "from a file", start: 0, end: 0.24 }] }));
    const engine = await createScriptedEngine({ scriptFile: file }).createSession(context());
    expect(feed(engine, 0, 320)).toMatchObject({ transcript: "from a file", speechActive: false });
  });

  it("segments audio by energy, reveals words while speech lasts and ramps confidence in silence", async () => {
    const engine = await createScriptedEngine({
      transcripts: ["one two three"],
      wordMs: 160,
    }).createSession(context());
    expect(feed(engine, 0, 160)).toMatchObject({
      transcript: "",
      speechActive: false,
      endOfTurnConfidence: 0,
    });
    const speaking = feed(engine, 160, 320, 8000);
    expect(speaking).toMatchObject({
      transcript: "one two",
      speechActive: true,
      endOfTurnConfidence: 0.05,
    });
    const ended = feed(engine, 480, 80);
    expect(ended.transcript).toBe("one two three");
    expect(ended.words.map((w) => [w.start, w.end])).toEqual([
      [0.16, expect.closeTo(0.2667, 3)],
      [expect.closeTo(0.2667, 3), expect.closeTo(0.3733, 3)],
      [expect.closeTo(0.3733, 3), 0.48],
    ]);
    const later = feed(engine, 560, 400);
    expect(later.endOfTurnConfidence).toBeCloseTo(0.2 + 0.75 * (0.48 / 0.8), 5);
    await engine.resetTurn(0.96);
    expect(feed(engine, 960, 80)).toMatchObject({ transcript: "", words: [] });
  });

  it("takes per-session options over the server's", async () => {
    const factory = createScriptedEngine({ transcripts: ["server default"] });
    const engine = await factory.createSession(context({ transcripts: ["per session"] }));
    feed(engine, 0, 240, 8000);
    expect(feed(engine, 240, 80).transcript).toBe("per session");
  });
});
