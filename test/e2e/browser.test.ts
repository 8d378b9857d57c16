/**
 * The browser page in real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against `voxpipe serve` (embedded local Flux server with the real offline engine, echo LLM,
 * espeak-ng). The microphone is Chromium's fake capture device playing a real three-turn
 * recording (flite voice). The page must show each spoken turn's final transcript (with
 * confidence colours) and play the bot's replies. A screenshot is kept in .artifacts/browser-page.png.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchChromium } from "../chromium.js";
import { GENERATED, startServe } from "./serve-helpers.js";
import type { ServeProcess } from "./serve-helpers.js";

const ARTIFACTS = fileURLToPath(new URL("../../.artifacts/", import.meta.url));
const RECORDING = join(GENERATED, "flite_three_turns.wav");

/** The page's test hooks (`window.voxpipe` in assets/app.js). */
interface PageState {
  connected: boolean;
  playedMs: number;
  clears: number;
  stoppedSources: number;
  finals: string[];
  replies: string[];
}

let serve: ServeProcess;
let browser: Browser;
beforeAll(async () => {
  serve = await startServe(["--local-engine", "local", "--llm", "echo", "--tts", "espeak"]);
  browser = await launchChromium([
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    // %noloop: the recording plays once, then the fake microphone is silent.
    `--use-file-for-fake-audio-capture=${RECORDING}%noloop`,
    "--autoplay-policy=no-user-gesture-required",
  ]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  expect(await serve?.stop()).toBe(0);
}, 30_000);

const words = (text: string): string[] =>
  text
    .toLowerCase()
    .replace(/[^a-z' ]/g, " ")
    .split(/\s+/)
    .filter(Boolean);

describe("the browser page", () => {
  it("shows each spoken turn's transcript with confidence colours and plays the bot's replies", async () => {
    const labels = JSON.parse(await readFile(join(GENERATED, "labels.json"), "utf8")) as {
      name: string;
      turns: { text: string }[];
    }[];
    const spoken = labels.find((l) => l.name === "flite_three_turns")!.turns.map((t) => t.text);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${serve.url}/?autostart`);
    await page
      .waitForFunction(
        () => (window as unknown as { voxpipe: PageState }).voxpipe.finals.length >= 3,
        null,
        { timeout: 60_000 },
      )
      .catch(async (err: unknown) => {
        const seen = await page.evaluate(
          () => (window as unknown as { voxpipe: PageState }).voxpipe,
        );
        throw new Error(
          `${String(err)}; page state ${JSON.stringify(seen)}; server: ${serve.output().slice(-2000)}`,
        );
      });
    await page.waitForFunction(
      () => (window as unknown as { voxpipe: PageState }).voxpipe.replies.length >= 3,
      null,
      { timeout: 15_000 },
    );
    const state = await page.evaluate(() => (window as unknown as { voxpipe: PageState }).voxpipe);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "browser-page.png"), fullPage: true });

    // One final per spoken turn, each recognisably that turn (the local engine's flite WER is
    // ~7 %: most of the words must be there).
    expect(state.finals, JSON.stringify(state.finals)).toHaveLength(3);
    state.finals.forEach((final, i) => {
      const heard = new Set(words(final));
      const expected = words(spoken[i]);
      const found = expected.filter((w) => heard.has(w)).length;
      expect(found / expected.length, `${final} vs ${spoken[i]}`).toBeGreaterThan(0.6);
    });
    // The final transcripts are on the page, word by word, in the confidence colours.
    const finals = page.locator('[data-event="EndOfTurn"]');
    await expect(finals.count()).resolves.toBe(3);
    // (A string expression: this test project has no DOM types.)
    const coloured = await page.evaluate<string[]>(
      `[...document.querySelectorAll('[data-event="EndOfTurn"] span')].map((s) => s.className)`,
    );
    expect(coloured.length).toBeGreaterThan(10);
    expect(coloured.every((c) => /^w-(green|yellow|orange|red)$/.test(c))).toBe(true);
    // Bot replies were shown and their audio played.
    await expect(page.locator('[data-event="BotReply"]').count()).resolves.toBeGreaterThanOrEqual(
      3,
    );
    expect(state.playedMs).toBeGreaterThan(500);
    // The replies outlast the recording's 1.5 s pauses: the next turn interrupts them, and the
    // page stopped the audio it was playing (the server's `clear`).
    expect(state.stoppedSources).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
