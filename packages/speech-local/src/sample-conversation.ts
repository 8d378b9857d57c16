import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
// wavefile writes the RIFF/WAVE container (header, sizes) so this module only joins samples.
import wavefile from "wavefile";
import { aptInstallCommand } from "@voxpipe/core";
import { readWav16k, SAMPLE_RATE } from "./audio.js";
import { SpeechLocalSetupError } from "./system.js";

/**
 * Where Debian's `pocketsphinx-testdata` package installs its LibriVox clips (real human
 * speech: chapter 1 of Sense and Sensibility, read for LibriVox, public domain) and their
 * reference `transcription`.
 */
export const LIBRIVOX_DIR = "/usr/share/pocketsphinx/test/data/librivox";

/** The clip ids of {@link sampleConversation}'s default turns, in order. */
export const SAMPLE_CONVERSATION_CLIPS: readonly string[] = ["0880", "0930", "0890"];

/** One spoken turn of a {@link SampleConversation}. Times in seconds of file audio. */
export interface SampleTurn {
  /** The reference transcript: lowercase words, no punctuation (the clip's `transcription` line). */
  readonly transcript: string;
  /** Where the turn's clip starts in the file (its room tone included), s. */
  readonly start: number;
  /** Where the turn's clip ends in the file, s. */
  readonly end: number;
}

/** A conversation WAV written by {@link sampleConversation}. */
export interface SampleConversation {
  /** Absolute path of the WAV: 16 kHz mono PCM s16le. */
  readonly path: string;
  /** Its length, s of audio. */
  readonly duration: number;
  /** The spoken turns, in order. */
  readonly turns: readonly SampleTurn[];
}

/** Options of {@link sampleConversation}. */
export interface SampleConversationOptions {
  /** Directory holding the LibriVox clips and `transcription`. Default {@link LIBRIVOX_DIR}. */
  readonly librivoxDir?: string;
  /** Clip ids (the `-NNNN` of `sense_and_sensibility_01_austen_64kb-NNNN.wav`), one per turn. Default {@link SAMPLE_CONVERSATION_CLIPS}. */
  readonly clips?: readonly string[];
  /** Silence between turns, ms: long enough for every turn detector to end the turn. Default 1500. */
  readonly gapMs?: number;
  /** Where to write the WAV. Default a new file in a fresh directory under the OS temp dir. */
  readonly path?: string;
}

const LEAD_MS = 500;
/** Trailing silence, so a real-time stream lets the last turn end before the input does. */
const TAIL_MS = 2000;

/**
 * The reference transcripts of the LibriVox clips in `dir`, by clip id (`"0880"` → `"he was
 * not an ill disposed young man"`), read from its `transcription` file (Sphinx format:
 * `<s> words </s> (file-id)`).
 * @throws SpeechLocalSetupError when the file is missing, naming the package to install.
 */
export async function librivoxTranscripts(dir = LIBRIVOX_DIR): Promise<Map<string, string>> {
  const text = await readFile(join(dir, "transcription"), "utf8").catch((err: unknown) => {
    throw missing(dir, err);
  });
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^<s> (.*) <\/s> \(sense_and_sensibility_01_austen_64kb-(\d+)\)/.exec(line.trim());
    if (m) map.set(m[2], m[1]);
  }
  return map;
}

/** Path of LibriVox clip `id` in `dir`. */
export function librivoxClip(id: string, dir = LIBRIVOX_DIR): string {
  return join(dir, `sense_and_sensibility_01_austen_64kb-${id}.wav`);
}

/**
 * Write a real multi-turn conversation to a WAV file, for examples and demos that need speech
 * without shipping audio: LibriVox clips of human speech from Debian's `pocketsphinx-testdata`
 * (no network), one clip per turn, joined with `gapMs` of digital silence, after 0.5 s of lead
 * silence and before 2 s of tail. The default is the three-turn, ≈15.8 s conversation of the
 * voxpipe README ("he was not an ill disposed young man" / "he might even have been made
 * amiable himself" / "unless to be rather cold hearted and rather selfish is to be ill disposed").
 *
 * ```ts
 * const sample = await sampleConversation();
 * new WavFileInputTransport({ path: sample.path });
 * ```
 * @returns the file's path, duration and turns (each with its reference transcript).
 * @throws SpeechLocalSetupError when the clips are not installed (the message has the
 *   `apt-get install pocketsphinx-testdata` command) or a clip id is unknown.
 * @throws RangeError when `gapMs` is not a finite number ≥ 0.
 */
export async function sampleConversation(
  options: SampleConversationOptions = {},
): Promise<SampleConversation> {
  const dir = options.librivoxDir ?? LIBRIVOX_DIR;
  const gapMs = options.gapMs ?? 1500;
  if (!Number.isFinite(gapMs) || gapMs < 0) {
    throw new RangeError(`gapMs must be a finite number of ms ≥ 0, got ${gapMs}`);
  }
  const ids = options.clips ?? SAMPLE_CONVERSATION_CLIPS;
  if (ids.length === 0) throw new RangeError("clips must name at least one clip id");
  const transcripts = await librivoxTranscripts(dir);
  const clips: Array<{ transcript: string; samples: Int16Array }> = [];
  for (const id of ids) {
    const transcript = transcripts.get(id);
    if (transcript === undefined) {
      throw new SpeechLocalSetupError(
        `LibriVox clip ${JSON.stringify(id)} is not in ${join(dir, "transcription")}; known clips: ${[...transcripts.keys()].join(", ")}`,
      );
    }
    const samples = await readWav16k(librivoxClip(id, dir)).catch((err: unknown) => {
      throw missing(dir, err);
    });
    clips.push({ transcript, samples });
  }

  const samplesOf = (ms: number): number => Math.round((ms / 1000) * SAMPLE_RATE);
  const gap = samplesOf(gapMs);
  const total =
    samplesOf(LEAD_MS) +
    clips.reduce((n, c) => n + c.samples.length, 0) +
    gap * (clips.length - 1) +
    samplesOf(TAIL_MS);
  const pcm = new Int16Array(total); // zero-filled: the silences are already there
  const turns: SampleTurn[] = [];
  let at = samplesOf(LEAD_MS);
  for (const [i, clip] of clips.entries()) {
    if (i > 0) at += gap;
    pcm.set(clip.samples, at);
    turns.push({
      transcript: clip.transcript,
      start: at / SAMPLE_RATE,
      end: (at + clip.samples.length) / SAMPLE_RATE,
    });
    at += clip.samples.length;
  }

  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, SAMPLE_RATE, "16", pcm);
  const path =
    options.path ??
    join(await mkdtemp(join(tmpdir(), "voxpipe-sample-")), "librivox_conversation.wav");
  await writeFile(path, wav.toBuffer());
  return { path, duration: total / SAMPLE_RATE, turns };
}

function missing(dir: string, err: unknown): SpeechLocalSetupError {
  const detail = err instanceof Error ? err.message : String(err);
  return new SpeechLocalSetupError(
    `the LibriVox sample clips are not readable in ${dir} (${detail}); install them with: ${aptInstallCommand(["pocketsphinx-testdata"])}`,
  );
}
