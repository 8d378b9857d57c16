import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { DEFAULT_DECODER_ARGS, FAST_SEARCH_DECODER_ARGS, LocalSpeech } from "../src/index.js";
import type { LocalSpeechOptions } from "../src/index.js";

/** The pocketsphinx arguments the recognizer's helper process was started with (its /proc cmdline). */
async function helperDecoderArgs(options: LocalSpeechOptions): Promise<Record<string, string>> {
  const speech = await LocalSpeech.start(options);
  try {
    const pid = speech.recognizer.helperPid;
    if (pid === undefined) throw new Error("the recognizer has no helper process");
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    // binary, model paths, socket, partial interval, then the "-name value" pairs
    const pairs = argv.slice(argv.findIndex((a) => /^-[a-z_]+$/.test(a))).filter((x) => x !== "");
    return Object.fromEntries(
      Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i], pairs[2 * i + 1]]),
    );
  } finally {
    await speech.close();
  }
}

describe("LocalSpeechOptions.search", () => {
  it('"fast" starts the decoder with the tighter pruning; the default leaves pocketsphinx\'s beams', async () => {
    expect(FAST_SEARCH_DECODER_ARGS).toEqual({ "-pl_weight": "4", "-lpbeam": "1e-30" });
    const byDefault = await helperDecoderArgs({});
    expect(byDefault).toEqual(DEFAULT_DECODER_ARGS);
    expect(await helperDecoderArgs({ search: "default" })).toEqual(byDefault);
    expect(await helperDecoderArgs({ search: "fast" })).toEqual({
      ...DEFAULT_DECODER_ARGS,
      "-pl_weight": "4",
      "-lpbeam": "1e-30",
    });
  });

  it("lets recognizer.decoderArgs override one of the preset's arguments", async () => {
    expect(
      await helperDecoderArgs({
        search: "fast",
        recognizer: { decoderArgs: { "-lpbeam": "1e-35" } },
      }),
    ).toMatchObject({ "-pl_weight": "4", "-lpbeam": "1e-35" });
  });

  it("refuses another value, naming the option and the allowed values", async () => {
    await expect(
      LocalSpeech.start({ search: "fastest" as LocalSpeechOptions["search"] }),
    ).rejects.toThrow(new RangeError('search must be one of "default", "fast", got "fastest"'));
  });
});
