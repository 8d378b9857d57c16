/**
 * Test helpers: the local Flux server (scripted engine: tone = speech, silence = pause — a
 * fake by design) behind the local SageMaker endpoint, and a FluxClient on the SageMaker carrier.
 */
import { startFluxServer, type FluxServer } from "@voxpipe/flux-server";
import { silence, tone } from "@voxpipe/flux-server/testing";
import { FluxClient, type FluxClientOptions, type FluxEvent } from "@voxpipe/deepgram";
import {
  startLocalSageMakerEndpoint,
  type LocalSageMakerEndpoint,
  type LocalSageMakerEndpointOptions,
} from "../src/local-endpoint/index.js";
import {
  sagemakerCarrier,
  type SageMakerCarrier,
  type SageMakerCarrierOptions,
} from "../src/index.js";

export const RATE = 16000;
export const TRANSCRIPTS = ["Hello there.", "I would like to book a table.", "Thank you, goodbye."];

/** `turns` utterances of `speechMs` each, each followed by `pauseMs` of silence. */
export function conversation(turns: number, speechMs = 1000, pauseMs = 1200): Buffer {
  const parts: Buffer[] = [silence(300, RATE)];
  for (let i = 0; i < turns; i++) parts.push(tone(speechMs, RATE), silence(pauseMs, RATE));
  return Buffer.concat(parts);
}

/** Fast test timings (ms). */
export const FAST: Partial<FluxClientOptions> = {
  connectTimeoutMs: 3000,
  reconnect: { minDelayMs: 20, maxDelayMs: 200, maxAttempts: 5 },
  stallTimeoutMs: 800,
  silenceAfterMs: 150,
  closeTimeoutMs: 1500,
  watchdogIntervalMs: 20,
};

export interface Rig {
  readonly flux: FluxServer;
  readonly endpoint: LocalSageMakerEndpoint;
  carrier(options?: Partial<SageMakerCarrierOptions>): SageMakerCarrier;
  client(
    options?: Partial<FluxClientOptions>,
    carrier?: Partial<SageMakerCarrierOptions>,
  ): FluxClient;
  close(): Promise<void>;
}

/** Flux server (scripted) + local SageMaker endpoint (h2c unless `tls`). */
export async function rig(
  endpointOptions: Partial<LocalSageMakerEndpointOptions> = {},
): Promise<Rig> {
  const flux = await startFluxServer({
    engine: "scripted",
    engineOptions: { transcripts: TRANSCRIPTS },
  });
  const endpoint = await startLocalSageMakerEndpoint({
    fluxUrl: flux.url,
    tls: false,
    ...endpointOptions,
  });
  const carriers: SageMakerCarrier[] = [];
  const carrier = (options: Partial<SageMakerCarrierOptions> = {}): SageMakerCarrier => {
    const c = sagemakerCarrier({
      endpointName: "flux-test",
      region: endpoint.region,
      endpointUrl: endpoint.url,
      credentials: endpoint.credentials,
      ...(endpoint.ca !== undefined ? { ca: endpoint.ca } : {}),
      ...options,
    });
    carriers.push(c);
    return c;
  };
  return {
    flux,
    endpoint,
    carrier,
    client: (options = {}, carrierOptions = {}) =>
      new FluxClient({
        settings: { model: "flux-general-en", encoding: "linear16", sampleRate: RATE },
        carrier: carrier(carrierOptions),
        ...FAST,
        ...options,
      }),
    async close() {
      for (const c of carriers) c.destroy();
      await endpoint.close();
      await flux.close();
    },
  };
}

/** Records every event until the client completes or fails. */
export function record(c: FluxClient): Promise<FluxEvent[]> {
  const events: FluxEvent[] = [];
  return new Promise((resolve) => {
    c.events$.subscribe({
      next: (e) => events.push(e),
      error: () => resolve(events),
      complete: () => resolve(events),
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends audio in 20 ms pieces, paced at `speed` × real time. */
export async function stream(c: FluxClient, audio: Buffer, speed = 4): Promise<void> {
  const size = (RATE * 2 * 20) / 1000;
  for (let offset = 0; offset < audio.length; offset += size) {
    c.sendAudio(audio.subarray(offset, offset + size));
    await sleep(20 / speed);
  }
}

/**
 * Each final as `[turnIndex, utterance]`, the utterance (0-based) of {@link conversation}
 * its first word falls in: a lost turn leaves a gap, a duplicated one repeats.
 */
export function turnsHeard(
  events: FluxEvent[],
  speechMs = 1000,
  pauseMs = 1200,
): [number, number][] {
  return events.flatMap((e) => {
    if (e.type !== "EndOfTurn") return [];
    const start = e.words[0]?.start ?? e.audioWindowStart;
    return [[e.turnIndex, Math.floor((start - 0.3 + 0.15) / ((speechMs + pauseMs) / 1000))]];
  });
}

/** Final transcripts, in order. */
export const finals = (events: FluxEvent[]): string[] =>
  events.flatMap((e) => (e.type === "EndOfTurn" ? [e.transcript] : []));
