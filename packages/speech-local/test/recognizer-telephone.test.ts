/**
 * Telephone audio (8 kHz G.711 μ-law, nothing above 4 kHz) resampled to 16 kHz for the
 * wideband model: a narrowband stream starts its cepstral mean from telephone speech's
 * (`NARROWBAND_CEPSTRAL_MEAN`), so its first turns are decoded for the right channel.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeWords, wordErrors } from "../../../test/fixtures/align.js";
import { telephoneCopy } from "../../../test/fixtures/make-heldout.js";
import { readWav16k, SphinxRecognizer } from "../src/index.js";
import { fixture } from "./fixtures.js";

const CHUNK = 1280; // 80 ms at 16 kHz

let recognizer: SphinxRecognizer;
let dir: string;

beforeAll(async () => {
  recognizer = await SphinxRecognizer.start();
  dir = await mkdtemp(join(tmpdir(), "voxpipe-telephone-"));
});
afterAll(async () => {
  await recognizer.close();
  await rm(dir, { recursive: true, force: true });
});

/** The file as a phone line delivers it (8 kHz μ-law, `sox -R`), read back at 16 kHz. */
async function telephone(name: string): Promise<Int16Array> {
  const out = join(dir, `${name}.wav`);
  await telephoneCopy((await fixture(name)).path, out);
  return readWav16k(out);
}

/** Word errors of the whole file decoded in one stream. */
async function errors(name: string, narrowband: boolean): Promise<number> {
  const pcm = await telephone(name);
  const stream = await recognizer.openStream({ narrowband });
  for (let i = 0; i < pcm.length; i += CHUNK) await stream.write(pcm.subarray(i, i + CHUNK));
  const words = (await stream.finalize()).words.map((w) => w.word);
  await stream.close();
  const ref = normalizeWords((await fixture(name)).turns.map((t) => t.text).join(" "));
  return wordErrors(ref, normalizeWords(words.join(" ")));
}

// Real decoding: allow for a loaded two-core CI machine.
describe("SphinxRecognizer on telephone audio", { timeout: 90_000 }, () => {
  it("a narrowband stream hears a telephone call better than one starting from the wideband mean", async () => {
    // 61 words of flite speech; measured: 34 errors from the wideband mean, 28 narrowband.
    const names = ["flite_three_turns", "flite_dialogue"];
    let wide = 0;
    let narrow = 0;
    for (const name of names) {
      wide += await errors(name, false);
      narrow += await errors(name, true);
    }
    expect(narrow).toBeLessThan(wide);
    expect(narrow).toBeLessThanOrEqual(30);
  });
});
