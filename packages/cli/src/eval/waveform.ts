import { pcmToInt16 } from "@voxpipe/core";

/** Slices of the audio in a timeline's waveform (enough for a page-wide chart). */
export const WAVEFORM_POINTS = 600;

/**
 * The waveform as min/max pairs: the audio (mono PCM s16le) cut into `points` equal slices,
 * each giving its lowest and highest sample scaled to −1…1 — `[min0, max0, min1, max1, …]`.
 */
export function waveformEnvelope(pcm: Uint8Array, points = WAVEFORM_POINTS): number[] {
  const samples = pcmToInt16(pcm);
  const out: number[] = [];
  const n = Math.min(points, samples.length);
  for (let p = 0; p < n; p++) {
    const from = Math.floor((p * samples.length) / n);
    const to = Math.floor(((p + 1) * samples.length) / n);
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to; i++) {
      const v = samples[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out.push(Math.round((lo / 32768) * 1000) / 1000, Math.round((hi / 32768) * 1000) / 1000);
  }
  return out;
}
