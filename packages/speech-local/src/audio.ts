import { readFile } from "node:fs/promises";
import wavefile from "wavefile";

/** Sample rate the recognizer and VAD run at, Hz. */
export const SAMPLE_RATE = 16000;

/**
 * Read a WAV file as 16 kHz mono PCM s16le samples (what the recognizer needs), converting
 * rate, channels and bit depth with `wavefile` when the file differs.
 * @throws Error when the file is not a WAV file wavefile can read.
 */
export async function readWav16k(path: string): Promise<Int16Array> {
  const wav = new wavefile.WaveFile(await readFile(path));
  const fmt = wav.fmt as { numChannels: number; sampleRate: number };
  if (wav.bitDepth !== "16") wav.toBitDepth("16");
  if (fmt.sampleRate !== SAMPLE_RATE) wav.toSampleRate(SAMPLE_RATE);
  let samples = wav.getSamples(false, Int16Array) as unknown as Int16Array | Int16Array[];
  if (Array.isArray(samples)) {
    // Mix down: average the channels.
    const chans = samples;
    samples = new Int16Array(chans[0].length);
    for (let i = 0; i < samples.length; i++) {
      let sum = 0;
      for (const c of chans) sum += c[i];
      samples[i] = Math.round(sum / chans.length);
    }
  }
  void fmt;
  return samples;
}
