import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SphinxRecognizer, SpeechLocalSetupError } from "../src/index.js";
import { fixtureAudio } from "./fixtures.js";
import type { RecognizerStream } from "../src/index.js";

const CHUNK = 1280; // 80 ms at 16 kHz, as the server frames audio

let recognizer: SphinxRecognizer;

beforeAll(async () => {
  recognizer = await SphinxRecognizer.start();
});
afterAll(() => recognizer.close());

async function decode(stream: RecognizerStream, name: string): Promise<void> {
  const pcm = await fixtureAudio(name);
  for (let i = 0; i < pcm.length; i += CHUNK) await stream.write(pcm.subarray(i, i + CHUNK));
  await stream.finalize();
}

// Real decoding: allow for a loaded two-core CI machine.
describe("SphinxRecognizer (Debian pocketsphinx)", { timeout: 60_000 }, () => {
  it("streams partials at least 4 times per second of speech and timed final words", async () => {
    const stream = await recognizer.openStream();
    const partialTimes: number[] = [];
    stream.onHypothesis = (s, final) => {
      if (!final) partialTimes.push(s.audioTime);
    };
    await decode(stream, "flite_three_turns");
    const words = stream.state().words;
    await stream.close();

    const text = words.map((w) => w.word).join(" ");
    expect(text).toContain("table for two people tomorrow evening");
    expect(text).toContain("weather");
    expect(words.some((w) => /\(\d+\)/.test(w.word))).toBe(false);
    // Word times fall inside the labelled speech: turn 1 ends at 4.107 s.
    const offset = 0;
    const evening = words.find((w) => w.word === "evening")!;
    expect(evening.end).toBeGreaterThan(offset + 3.8);
    expect(evening.end).toBeLessThan(offset + 4.3);
    for (const w of words) {
      expect(w.confidence).toBeGreaterThanOrEqual(0);
      expect(w.confidence).toBeLessThanOrEqual(1);
      expect(w.end).toBeGreaterThan(w.start);
    }
    // Partials during the first turn of three_turns (0.5–4.1 s): ≥ 4 per second.
    const inTurn = partialTimes.filter((t) => t >= offset + 0.6 && t <= offset + 4.1);
    expect(inTurn.length).toBeGreaterThanOrEqual(4 * 3.5 - 1);
  });

  it("gives each concurrent stream its own decoder over the shared model", async () => {
    const [a, b] = await Promise.all([recognizer.openStream(), recognizer.openStream()]);
    await Promise.all([decode(a, "flite_short_yes"), decode(b, "flite_mid_pause")]);
    expect(a.state().words.map((w) => w.word)).toEqual(["yes"]);
    expect(
      b
        .state()
        .words.map((w) => w.word)
        .join(" "),
    ).toContain("museum on saturday");
    const stats = await a.stats();
    // The 27 MB LM, dictionary and acoustic model are shared copy-on-write: a stream's own memory is far smaller.
    expect(stats.privateKb).toBeGreaterThan(0);
    expect(stats.privateKb).toBeLessThan(60_000);
    expect(stats.cpuSeconds).toBeGreaterThan(0);
    await Promise.all([a.close(), b.close()]);
  });

  it("reports the audio its search decoded: the words and their padding, not the silence between turns", async () => {
    const [speech, silence] = await Promise.all([recognizer.openStream(), recognizer.openStream()]);
    await decode(speech, "flite_three_turns");
    for (let i = 0; i < 3 * 16000; i += CHUNK) await silence.write(new Int16Array(CHUNK));
    await silence.finalize();
    const words = speech.state().words;
    const [s, quiet] = await Promise.all([speech.stats(), silence.stats()]);
    await Promise.all([speech.close(), silence.close()]);
    // Every word was searched (over two utterances and more: the count spans utterance ends)...
    const wordSeconds = words.reduce((sum, w) => sum + (w.end - w.start), 0);
    expect(wordSeconds).toBeGreaterThan(6);
    expect(s.searchedSeconds).toBeGreaterThan(wordSeconds);
    // ...but not the pauses between the three turns (measured: 11.6 of 15.1 s).
    expect(s.searchedSeconds).toBeLessThan(0.9 * s.audioSeconds);
    expect(quiet.audioSeconds).toBeCloseTo(3, 1);
    expect(quiet.searchedSeconds).toBeLessThan(0.3);
  });

  it("settles a pause in a forked copy, goes on decoding, and accounts the copy's CPU", async () => {
    const stream = await recognizer.openStream();
    // Into turn 1 of flite_three_turns ("i would like to book a table…"), mid-sentence.
    const pcm = (await fixtureAudio("flite_three_turns")).subarray(0, 2.4 * 16000);
    for (let i = 0; i < pcm.length; i += CHUNK) await stream.write(pcm.subarray(i, i + CHUNK));
    const settled = await stream.settle();
    expect(settled.words.length).toBeGreaterThan(2);
    expect(settled.words.every((w) => w.scored)).toBe(true);
    // The decoder itself did not end the utterance: nothing is committed yet.
    expect(stream.state().words.every((w) => !w.scored)).toBe(true);
    // Word evidence for the confidence model: phones from the dictionary ("like": L AY K),
    // acoustic scores per frame on one scale for first-pass and lattice words (pocketsphinx
    // stores the first pass's shifted down by 2^10: a forgotten shift shows as a 1000× gap).
    expect(settled.words.find((w) => w.word === "like")?.phones).toBe(3);
    const meanScore = (ws: readonly { acousticScore: number }[]): number =>
      ws.reduce((s, w) => s + w.acousticScore, 0) / ws.length;
    const partial = meanScore(stream.state().words);
    const lattice = meanScore(settled.words);
    for (const score of [partial, lattice]) {
      expect(score).toBeLessThan(0);
      expect(score).toBeGreaterThan(-20);
    }
    expect(partial / lattice).toBeGreaterThan(0.5);
    expect(partial / lattice).toBeLessThan(2);
    const stats = await stream.stats();
    expect(stats.settles).toBe(1);
    expect(stats.settleCpuSeconds).toBeGreaterThan(0);
    expect(stats.settleCpuSeconds).toBeLessThan(stats.cpuSeconds);
    expect(stats.finalCpuSeconds).toBe(0);
    await stream.close();
  });

  it("decodes a word cut by a finalize whole in the next utterance, at its stream time, from the carry point", async () => {
    // Turn 3 of flite_three_turns, "please send a report…", begins after a pause with "please"
    // at 9.93–10.23 s (decoded without a cut). The turn is ended mid-word at 10.08 s, carrying
    // from 9.68 s (in the pause). Without the carry, the next utterance began at 10.08 s and
    // heard the word's tail as "is".
    const stream = await recognizer.openStream();
    const pcm = await fixtureAudio("flite_three_turns");
    const cut = 10.08 * 16000;
    for (let i = 0; i < cut; i += CHUNK) await stream.write(pcm.subarray(i, i + CHUNK));
    const ended = await stream.finalize(9.68);
    expect(ended.carryFrom).toBeCloseTo(9.68, 3);
    expect(ended.words.every((w) => w.start < 9.68)).toBe(true);
    expect(ended.words.at(-1)?.word).toBe("afternoon");
    stream.releaseWordsBefore(9.68);
    for (let i = cut; i < pcm.length; i += CHUNK) await stream.write(pcm.subarray(i, i + CHUNK));
    await stream.finalize();
    const next = stream.state().words;
    await stream.close();
    expect(next.map((w) => w.word).join(" ")).toMatch(/^please send a report/);
    // Stream time, not time since the re-decoded audio began (which would put it near 0.25 s).
    expect(next[0].start).toBeGreaterThan(9.85);
    expect(next[0].start).toBeLessThan(10.0);
  });

  it("dates the words after a finalize without a carry point in stream time, as a decode without the cut does", async () => {
    // Turn 3 of flite_three_turns, "please send a report…", has "please" at 9.93–10.23 s and
    // "send" at 10.23–10.67 s decoded without a cut. Ended mid-"please" at 10.08 s with no carry
    // point, the next utterance hears only the audio from 10.08 s on. pocketsphinx used to date
    // it as if its VAD's pre-speech buffer had been full, so all of its words came 0.11 s early
    // ("send" at 10.12 s, and a word from before the cut).
    const [whole, split] = await Promise.all([recognizer.openStream(), recognizer.openStream()]);
    const pcm = await fixtureAudio("flite_three_turns");
    const cut = 10.08 * 16000;
    const play = async (s: RecognizerStream, from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += CHUNK)
        await s.write(pcm.subarray(i, Math.min(i + CHUNK, to)));
    };
    await Promise.all([
      play(whole, 0, pcm.length).then(() => whole.finalize()),
      (async () => {
        await play(split, 0, cut);
        await split.finalize();
        await play(split, cut, pcm.length);
        await split.finalize();
      })(),
    ]);
    const reference = whole.state().words;
    const after = split.state().words.filter((w) => w.start >= 10);
    await Promise.all([whole.close(), split.close()]);
    // Nothing before the cut is in the next utterance's audio.
    expect(after.every((w) => w.start >= 10.08 - 0.005)).toBe(true);
    const sendOn = (ws: typeof after) => ws.slice(ws.findIndex((w) => w.word === "send"));
    expect(
      sendOn(after)
        .map((w) => w.word)
        .join(" "),
    ).toMatch(/^send a report to my manager/);
    // Each word from "send" on, at the time the uncut decode gives it (10 ms frames).
    for (const [i, w] of sendOn(after).entries()) {
      const ref = sendOn(reference)[i];
      expect(w.word).toBe(ref.word);
      expect(Math.abs(w.start - ref.start)).toBeLessThan(0.015);
      expect(Math.abs(w.end - ref.end)).toBeLessThan(0.015);
    }
  });

  it("boosts keyterms the dictionary knows and reports the ones it lacks", async () => {
    const [plain, boosted] = await Promise.all([recognizer.openStream(), recognizer.openStream()]);
    const reports: Array<{ known: string[]; unknown: string[] }> = [];
    boosted.onKeyterms = (r) => reports.push(r);
    boosted.setKeyterms(["book a table", "Zyxwvq"]);
    // Turn 1 of flite_three_turns: pocketsphinx alone hears "…like to but the table for…".
    const pcm = (await fixtureAudio("flite_three_turns")).subarray(0, 4.6 * 16000);
    const firstTurn = async (s: RecognizerStream): Promise<string> => {
      for (let i = 0; i < pcm.length; i += CHUNK) await s.write(pcm.subarray(i, i + CHUNK));
      return (await s.finalize()).words.map((w) => w.word).join(" ");
    };
    const [plainText, boostedText] = await Promise.all([firstTurn(plain), firstTurn(boosted)]);
    expect(plainText).not.toContain("book a table");
    expect(boostedText).toContain("book a table");
    expect(reports[0]).toEqual({
      applied: true,
      known: ["book", "a", "table"],
      unknown: ["zyxwvq"],
    });
    await Promise.all([plain.close(), boosted.close()]);
  });

  it("refuses a front-end setting the acoustic model fixes, which pocketsphinx would ignore", async () => {
    // The model's feat.params sets -nfilt 25 and -agc none; pocketsphinx applies them over
    // the command line, so these would silently have no effect.
    for (const [name, value] of [
      ["-nfilt", "40"],
      ["-agc", "max"],
    ]) {
      const err = await SphinxRecognizer.start({ decoderArgs: { [name]: value } }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RangeError);
      expect(String(err)).toContain(`"${name}" is "${value}"`);
      expect(String(err)).toContain("feat.params");
    }
    // The model's own value, however spelled, and settings it leaves free are accepted.
    const same = await SphinxRecognizer.start({
      decoderArgs: { "-upperf": "6800.0", "-dither": "yes", "-seed": "1" },
    });
    await same.close();
  });

  it("says which apt packages to install when the model is missing", async () => {
    const err = await SphinxRecognizer.start({
      model: { hmm: "/nonexistent/en-us", lm: "/x", dict: "/y" },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpeechLocalSetupError);
    expect(String(err)).toContain("apt-get install -y pocketsphinx pocketsphinx-en-us");
  });
});
