import { ensureFixtures } from "../../../test/fixtures/make-fixtures.js";
import type { LabelledFile } from "../../../test/fixtures/make-fixtures.js";
import { readWav16k } from "../src/index.js";

/** The labelled audio set by name, read once per test file (vitest's global setup builds it). */
let byName: Promise<Map<string, LabelledFile>> | undefined;

/**
 * The labelled fixture `name` (`test/fixtures/generated`: its WAV path and turn labels).
 * @throws Error naming `name` when the set has no such file.
 */
export async function fixture(name: string): Promise<LabelledFile> {
  byName ??= ensureFixtures().then((files) => new Map(files.map((f) => [f.name, f])));
  const file = (await byName).get(name);
  if (file === undefined) throw new Error(`the labelled audio set has no file named ${name}`);
  return file;
}

/** The fixture `name`'s audio: 16 kHz mono signed 16-bit PCM. */
export async function fixtureAudio(name: string): Promise<Int16Array> {
  return readWav16k((await fixture(name)).path);
}
