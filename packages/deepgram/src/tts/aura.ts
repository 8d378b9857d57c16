import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { DeepgramClient } from "@deepgram/sdk";

/** Options of the Deepgram Aura text-to-speech REST API (`POST /v1/speak`). */
export interface AuraOptions {
  /** Deepgram API key. Default: `DEEPGRAM_API_KEY` from the environment. Never logged. */
  apiKey?: string;
  /** Aura voice model, e.g. `"aura-2-thalia-en"` (Deepgram TTS models page). Default `"aura-2-thalia-en"`. */
  model?: string;
  /**
   * Output sample rate in Hz for `linear16` (Deepgram accepts 8000, 16000, 24000, 32000, 48000).
   * Default 24000.
   */
  sampleRate?: number;
  /** REST base URL. Default `https://api.deepgram.com`; a local fixture in tests. */
  baseUrl?: string;
  /** Request timeout in ms. Default 10000. */
  timeoutMs?: number;
  /** Retries on transient failures (the SDK's policy). Default 1. */
  maxRetries?: number;
}

/** Sample rates Deepgram Aura accepts for `linear16` (Deepgram TTS media output settings). */
export const AURA_SAMPLE_RATES = [8000, 16000, 24000, 32000, 48000] as const;

/** Defaults of {@link AuraOptions}. */
export const AURA_DEFAULTS = {
  model: "aura-2-thalia-en",
  sampleRate: 24000,
  timeoutMs: 10_000,
  maxRetries: 1,
} as const;

/** Validates Aura options; throws a `RangeError` naming the field, the value and what is allowed. */
export function validateAuraOptions(options: AuraOptions): void {
  if (
    options.sampleRate !== undefined &&
    !(AURA_SAMPLE_RATES as readonly number[]).includes(options.sampleRate)
  ) {
    throw new RangeError(
      `sampleRate must be one of ${AURA_SAMPLE_RATES.join(", ")} Hz for Aura linear16, got ${String(options.sampleRate)}`,
    );
  }
  if (options.model !== undefined && !/^aura-[a-z0-9-]+$/.test(options.model)) {
    throw new RangeError(
      `model must be an Aura model name like "aura-2-thalia-en", got ${JSON.stringify(options.model)}`,
    );
  }
}

/**
 * Streams speech for `text` from Deepgram Aura through `@deepgram/sdk`
 * (`client.speak.v1.audio.generate`, REST `POST /v1/speak`) as raw PCM: `encoding=linear16`,
 * `container=none`, mono, at `sampleRate`. Chunks are yielded as they arrive, so playback can
 * start before the whole sentence is synthesized.
 *
 * @throws the SDK's `DeepgramError` (with `statusCode`) on HTTP errors; an `AbortError` when
 *   `signal` aborts (the HTTP request is cancelled).
 */
export async function* streamAuraSpeech(
  text: string,
  options: AuraOptions,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  validateAuraOptions(options);
  const apiKey = options.apiKey ?? process.env.DEEPGRAM_API_KEY;
  if (!apiKey) throw new Error("Deepgram Aura needs an API key: set apiKey or DEEPGRAM_API_KEY");
  const client = new DeepgramClient({
    apiKey,
    ...(options.baseUrl !== undefined && { baseUrl: options.baseUrl }),
  });
  const response = await client.speak.v1.audio.generate(
    {
      text,
      model: options.model ?? AURA_DEFAULTS.model,
      encoding: "linear16",
      container: "none",
      sample_rate: options.sampleRate ?? AURA_DEFAULTS.sampleRate,
    },
    {
      abortSignal: signal,
      timeoutInSeconds: (options.timeoutMs ?? AURA_DEFAULTS.timeoutMs) / 1000,
      maxRetries: options.maxRetries ?? AURA_DEFAULTS.maxRetries,
    },
  );
  const body = response.stream();
  if (!body) return;
  // Node's web streams are async iterable; leaving the loop early (an interruption) cancels
  // the body and with it the HTTP request.
  for await (const chunk of body as unknown as WebReadableStream<Uint8Array>) {
    if (chunk.byteLength) yield chunk;
  }
}
