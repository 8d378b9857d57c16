import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFixtures } from "../../../test/fixtures/make-fixtures.js";
import type { LabelledFile } from "../../../test/fixtures/make-fixtures.js";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alignWords, normalizeWords, wordErrors } from "../../../test/fixtures/align.js";
import { telephoneCopy } from "../../../test/fixtures/make-heldout.js";
import { confidenceAuc } from "@voxpipe/speech-local";
import { loadEngine, REDUCED_SEARCH_WARNING } from "../src/index.js";
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

/** The voxpipe-sphinx processes on this machine: helpers (children of this process) and the stream decoders they fork. */
async function sphinxProcesses(): Promise<{ pid: number; ppid: number; argv: string[] }[]> {
  const found: { pid: number; ppid: number; argv: string[] }[] = [];
  for (const pid of (await readdir("/proc")).filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
      if (/voxpipe-sphinx/.test(argv[0] ?? "")) found.push({ pid: Number(pid), ppid, argv });
    } catch {
      // the process exited meanwhile
    }
  }
  return found;
}
/** The arguments of this process's pocketsphinx helpers. */
const helpers = async (): Promise<string[][]> =>
  (await sphinxProcesses()).filter((p) => p.ppid === process.pid).map((p) => p.argv);
/** The "fast" search's arguments among `argv` (none: the default search). */
const pruning = (argv: string[]): string[] =>
  argv.flatMap((a, i) => (a === "-pl_weight" || a === "-lpbeam" ? [a, argv[i + 1]] : []));

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
    await expect(loadEngine("local", { activity: { negativeTreshold: 0.5 } })).rejects.toThrow(
      /unknown key "negativeTreshold" in local engine option activity; allowed: positiveThreshold, negativeThreshold, minSpeechMs/,
    );
    await expect(
      loadEngine("local", {
        confidenceCalibration: { slope: 1, intercept: 0, unscored: 0.6, turnAcoustic: 0.3 },
      }),
    ).rejects.toThrow(
      /unknown key "turnAcoustic" in local engine option confidenceCalibration; allowed: slope, intercept, unscored, neighbours, secondsPerPhone, turnAcousticScore/,
    );
    await expect(loadEngine("local", { decoderArgs: { "-maxhmmpf": 3000 } })).rejects.toThrow(
      /decoderArgs must be an object of strings/,
    );
    await expect(loadEngine("local", { decoderArgs: { maxhmmpf: "3000" } })).rejects.toThrow(
      /decoderArgs: "maxhmmpf" must be a pocketsphinx option/,
    );
  });

  it('starts its decoder with the "fast" search when asked, and refuses an unknown search', async () => {
    const before = await helpers();
    const fast = await loadEngine("local", { search: "fast" });
    try {
      const started = (await helpers()).filter(
        (argv) => !before.some((b) => b.join(" ") === argv.join(" ")),
      );
      expect(started.map(pruning)).toEqual([["-pl_weight", "4", "-lpbeam", "1e-30"]]);
      expect(before.map(pruning)).toContainEqual([]); // the default engine of this file
    } finally {
      await fast.close?.();
    }
    await expect(loadEngine("local", { search: "fastest" })).rejects.toThrow(
      'search must be one of "default", "fast", got "fastest"',
    );
  });

  it("starts a session that opens while the server is overloaded with overloadSearch, and says so", async () => {
    const degrading = await loadEngine("local", { overloadSearch: "fast" });
    const sessions: TurnEngine[] = [];
    try {
      /** Stream decoders forked from a helper started with the "fast" search. */
      const fastDecoders = async (): Promise<number> => {
        const all = await sphinxProcesses();
        const fastHelpers = new Set(
          all.filter((p) => p.ppid === process.pid && pruning(p.argv).length > 0).map((p) => p.pid),
        );
        return all.filter((p) => fastHelpers.has(p.ppid)).length;
      };
      expect(await fastDecoders()).toBe(0);
      const before = (await sphinxProcesses()).length;
      sessions.push(await degrading.createSession(context(16000)));
      expect(sessions[0].warning).toBeUndefined();
      await expect.poll(async () => (await sphinxProcesses()).length).toBe(before + 1);
      expect(await fastDecoders()).toBe(0);
      sessions.push(await degrading.createSession({ ...context(16000), serverOverloaded: true }));
      expect(sessions[1].warning).toMatchObject({ code: REDUCED_SEARCH_WARNING });
      expect(sessions[1].warning?.description).toMatch(/overloaded.*cheaper search/);
      // (the helper forks a stream's decoder as it accepts the stream's connection)
      await expect.poll(fastDecoders).toBe(1);
    } finally {
      for (const session of sessions) await session.close();
      await degrading.close?.();
    }
    await expect(loadEngine("local", { overloadSearch: "fastest" })).rejects.toThrow(
      'local engine option overloadSearch: search must be one of "default", "fast", got "fastest"',
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
    // 800 ms after the last word it is, even for eot_threshold 0.9 (≈730 ms of silence
    // after the last word of a complete sentence, with T = 200 ms and τ = 240 ms).
    const after = states.find((s) => s.end >= turn.end + 0.8)!.state;
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

  it("gives words confidences that separate right from wrong words, fixed from the pause on", async () => {
    // Noisy speech: pocketsphinx gets many words wrong, and the confidences should say which.
    const file = files.get("flite_three_turns_noisy")!;
    const engine = await factory.createSession(context(16000));
    const pcm = await pcmAt(file, 16000);
    const samples: Array<{ confidence: number; right: boolean }> = [];
    let turn = 0;
    let early: RecognitionState | undefined;
    for (let i = 0; i < pcm.length && turn < file.turns.length; i += 1280) {
      const end = (i + 1280) / 16000;
      const state = await engine.hear({ samples: pcm.slice(i, i + 1280), start: i / 16000, end });
      const t = file.turns[turn];
      // 250 ms into the pause after the turn (where EagerEndOfTurn comes) and 400 ms (EndOfTurn).
      if (!early && end >= t.end + 0.25) early = state;
      if (end < t.end + 0.4) continue;
      expect(state.transcript).toBe(early!.transcript);
      const hyp = state.words.map((w) => normalizeWords(w.word).join(" "));
      const right = alignWords(normalizeWords(t.text), hyp);
      state.words.forEach((w, k) => samples.push({ confidence: w.confidence, right: right[k] }));
      await engine.resetTurn(end);
      turn += 1;
      early = undefined;
    }
    await engine.close();
    expect(samples.filter((s) => !s.right).length).toBeGreaterThan(3);
    // Area under the ROC curve of "word right" vs confidence: 0.5 is no information (what the
    // constant 1.0 of the first pass gave); on this file the lattice posterior alone gave 0.63,
    // with the acoustic and duration evidence 0.79 (0.79 over the tune half too).
    const auc = confidenceAuc(samples.map((s) => ({ confidence: s.confidence, correct: s.right })));
    expect(auc).toBeGreaterThan(0.7);
    expect(new Set(samples.map((s) => s.confidence.toFixed(2))).size).toBeGreaterThan(5);
  }, 90_000);

  it("applies keyterms from the connection and from Configure", async () => {
    const file = files.get("flite_three_turns")!;
    const pcm = (await pcmAt(file, 16000)).slice(0, 3 * 16000); // "hello i would like to book a table for two…"
    // A factory of its own: new sessions start from the cepstral mean of earlier sessions,
    // and this test measures the boost from the model's default normalisation.
    const fresh = await loadEngine("local");
    const boosted = await fresh.createSession(context(16000, ["book a table"]));
    const reconfigured = await fresh.createSession(context(16000));
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
    await fresh.close?.();
  }, 90_000);

  it("starts an 8 kHz session from telephone speech's cepstral mean: fewer word errors than the same audio at 16 kHz", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voxpipe-local-phone-"));
    try {
      /** Word errors of the session's turns (each read 400 ms after its end, then reset). */
      const errors = async (file: LabelledFile, rate: number): Promise<number> => {
        const engine = await factory.createSession(context(rate));
        const pcm = await pcmAt(file, rate);
        const frame = (rate * 80) / 1000;
        let turn = 0;
        let total = 0;
        for (let i = 0; i < pcm.length && turn < file.turns.length; i += frame) {
          const end = (i + frame) / rate;
          const state = await engine.hear({
            samples: pcm.slice(i, i + frame),
            start: i / rate,
            end,
          });
          const t = file.turns[turn];
          if (end < t.end + 0.4) continue;
          total += wordErrors(normalizeWords(t.text), normalizeWords(state.transcript));
          await engine.resetTurn(end);
          turn += 1;
        }
        await engine.close();
        return total;
      };
      let narrow = 0;
      let wide = 0;
      for (const name of ["flite_three_turns", "flite_dialogue"]) {
        const source = files.get(name)!;
        // The phone line: 8 kHz μ-law. The same band-limited audio reaches the 16 kHz session
        // upsampled, as from a client that converts it itself (the server cannot tell).
        const phone = { ...source, path: join(dir, `${name}.wav`) };
        await telephoneCopy(source.path, phone.path);
        narrow += await errors(phone, 8000);
        wide += await errors(phone, 16000);
      }
      // Measured: 24 errors at 8 kHz vs 34 at 16 kHz; 36 vs 34 with the wideband start at 8 kHz too.
      expect(narrow).toBeLessThan(wide);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
