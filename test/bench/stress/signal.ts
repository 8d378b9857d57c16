/**
 * The benchmark's synthetic "speech": a tone burst, then silence, repeated. The local server's
 * scripted engine (energy mode) hears each burst as one spoken turn and the silence after it as
 * the end of the turn, so every session produces a steady stream of real Flux turn events
 * without any speech recognition cost. Synthetic on purpose: the benchmark measures the clients,
 * not the recognizer.
 */
export interface SignalOptions {
  /** Hz. */
  sampleRate: number;
  /** Tone length, seconds. */
  toneSeconds: number;
  /** Silence after the tone, seconds. */
  silenceSeconds: number;
  /** Tone frequency, Hz. Default 440. */
  frequency?: number;
  /** Peak amplitude, 0–1 of full scale. Default 0.3 (about −13 dBFS RMS, far above the engine's −40 dBFS gate). */
  amplitude?: number;
}

/** One period of the signal, mono PCM s16. */
export function toneAndSilence(options: SignalOptions): Int16Array {
  const { sampleRate, toneSeconds, silenceSeconds } = options;
  const frequency = options.frequency ?? 440;
  const peak = Math.round((options.amplitude ?? 0.3) * 32767);
  const tone = Math.round(toneSeconds * sampleRate);
  const out = new Int16Array(tone + Math.round(silenceSeconds * sampleRate));
  for (let i = 0; i < tone; i++)
    out[i] = Math.round(peak * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
  return out;
}

/** The `index`-th frame of `samplesPerFrame` samples of a looped period (a view; copy it to keep it). */
export function loopedFrame(
  period: Int16Array,
  samplesPerFrame: number,
  index: number,
): Int16Array {
  const framesPerPeriod = Math.floor(period.length / samplesPerFrame);
  const start = (index % framesPerPeriod) * samplesPerFrame;
  return period.subarray(start, start + samplesPerFrame);
}
