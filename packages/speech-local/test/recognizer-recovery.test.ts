import { afterEach, describe, expect, it } from "vitest";
import { normalizeWords, wordErrors } from "../../../test/fixtures/align.js";
import { readWav16k, SphinxRecognizer } from "../src/index.js";
import { fixture, fixtureAudio } from "./fixtures.js";
import type { RecognizerStream } from "../src/index.js";

const CHUNK = 1280; // 80 ms at 16 kHz

const started: SphinxRecognizer[] = [];
async function start(): Promise<SphinxRecognizer> {
  const r = await SphinxRecognizer.start();
  started.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.close()));
});

async function decode(stream: RecognizerStream, pcm: Int16Array): Promise<string> {
  for (let i = 0; i < pcm.length; i += CHUNK) await stream.write(pcm.subarray(i, i + CHUNK));
  const words = (await stream.finalize()).words.map((w) => w.word).join(" ");
  await stream.close();
  return words;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

// Real decoding and real process deaths: allow for a loaded two-core CI machine.
describe("SphinxRecognizer recovery", { timeout: 90_000 }, () => {
  it("starts the helper again when it dies: open streams keep decoding, new streams work", async () => {
    const recognizer = await start();
    const exits: Array<{ signal: string | null }> = [];
    recognizer.onHelperExit = (e) => exits.push(e);
    const yes = await fixtureAudio("flite_short_yes");
    const open = await recognizer.openStream();
    await open.write(yes.subarray(0, 8000));

    const first = recognizer.helperPid!;
    process.kill(first, "SIGKILL");
    await until(() => recognizer.restarts === 1, "the helper restart");
    expect(exits).toEqual([{ code: null, signal: "SIGKILL" }]);
    expect(recognizer.helperPid).not.toBe(first);

    // The stream opened before the crash has its own decoder process: it carries on.
    for (let i = 8000; i < yes.length; i += CHUNK) await open.write(yes.subarray(i, i + CHUNK));
    expect((await open.finalize()).words.map((w) => w.word)).toEqual(["yes"]);
    await open.close();
    // A new stream is served by the new helper.
    expect(await decode(await recognizer.openStream(), yes)).toBe("yes");
  });

  it("a restarted helper that dies at once is started again only when a stream needs it (no crash loop)", async () => {
    const recognizer = await start();
    process.kill(recognizer.helperPid!, "SIGKILL");
    await until(() => recognizer.restarts === 1, "the first restart");
    process.kill(recognizer.helperPid!, "SIGKILL");
    await until(() => recognizer.helperPid === undefined, "the second exit");
    await new Promise((r) => setTimeout(r, 1500));
    expect(recognizer.restarts).toBe(1);
    const yes = await fixtureAudio("flite_short_yes");
    expect(await decode(await recognizer.openStream(), yes)).toBe("yes");
    expect(recognizer.restarts).toBe(2);
  });

  it("a stream whose decoder dies rejects its requests with a clear error", async () => {
    const recognizer = await start();
    const stream = await recognizer.openStream();
    const { pid } = await stream.stats();
    process.kill(pid, "SIGKILL");
    await expect(stream.write(new Int16Array(CHUNK))).rejects.toThrow(/pocketsphinx stream closed/);
    await expect(stream.finalize()).rejects.toThrow(/pocketsphinx stream closed/);
  });

  it("adapts a new stream's cepstral mean to its own audio, so the first utterance after a reconnect is not garbled", async () => {
    // librivox_conversation: "he was not an ill disposed young man" | "he might even have been made amiable himself" | …
    const file = await fixture("librivox_conversation");
    const pcm = await readWav16k(file.path);
    const cut = Math.round((file.turns[1].start - 0.75) * 16000);
    const afterCut = pcm.subarray(cut, Math.round((file.turns[1].end + 0.6) * 16000));
    const reference = normalizeWords(file.turns[1].text);
    const wer = (text: string): number =>
      wordErrors(reference, normalizeWords(text)) / reference.length;
    const recognizer = await start();

    // A new connection starts from the model's mean and adapts it while the caller speaks.
    // Decoded with the model's mean throughout (no warm-up) this utterance came out as
    // "he might even have been made a real boy i'm self taught" (75 %).
    expect(wer(await decode(await recognizer.openStream(), afterCut))).toBeLessThanOrEqual(0.4);

    // A client that knows it is the same caller may carry the mean over instead.
    const first = await recognizer.openStream();
    await decode(first, pcm.subarray(0, cut));
    expect(first.cepstralMean).toHaveLength(13);
    const again = await recognizer.openStream({ cepstralMeanPrior: first.cepstralMean });
    expect(wer(await decode(again, afterCut))).toBeLessThanOrEqual(0.4);
  });
});
