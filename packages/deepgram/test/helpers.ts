/**
 * Test helpers: a local Flux server (scripted engine, energy mode: tone = speech,
 * silence = pause) and synthetic audio. The tone and silence are fakes by design —
 * the scripted engine decides what is "heard" from audio energy.
 */
import { firstValueFrom, filter, toArray, type Observable } from "rxjs";
import {
  createScriptedEngine,
  startFluxServer,
  type FluxServer,
  type TurnEngineFactory,
  type SessionPlan,
  type HandshakeInfo,
} from "@voxpipe/flux-server";
import { silence, tone } from "@voxpipe/flux-server/testing";
import type { FluxSettings } from "@voxpipe/flux-protocol";
import { FluxClient, type FluxClientOptions } from "../src/flux-client.js";
import type { FluxEndOfTurnEvent, FluxEvent } from "../src/events.js";
import type { Carrier } from "../src/carriers/carrier.js";
import type { ClientMessage } from "@voxpipe/flux-protocol";

export const RATE = 16000;
export const SETTINGS: FluxSettings = {
  model: "flux-general-en",
  encoding: "linear16",
  sampleRate: RATE,
};
export const TRANSCRIPTS = ["Hello there.", "I would like to book a table.", "Thank you, goodbye."];

/** Speech for the scripted engine: a tone of `ms` milliseconds. */
export const speech = (ms: number): Buffer => tone(ms, RATE);
/** A pause: digital silence of `ms` milliseconds. */
export const pause = (ms: number): Buffer => silence(ms, RATE);

/** `turns` utterances of `speechMs` each, followed by `pauseMs` of silence. */
export function conversation(turns: number, speechMs = 1200, pauseMs = 1500): Buffer {
  const parts: Buffer[] = [pause(300)];
  for (let i = 0; i < turns; i++) parts.push(speech(speechMs), pause(pauseMs));
  return Buffer.concat(parts);
}

/**
 * The scripted engine, made slow on purpose (a fake of a busy local engine): hearing a
 * frame takes `slowdown` times its audio duration, so Flux's answers trail the audio sent.
 */
export function slowScriptedEngine(
  slowdown: number,
  transcripts: readonly string[] = TRANSCRIPTS,
): TurnEngineFactory {
  const inner = createScriptedEngine({ transcripts: [...transcripts] });
  return {
    name: "slow-scripted",
    async createSession(context) {
      const engine = await inner.createSession(context);
      return {
        hear: async (frame) => {
          await sleep((frame.end - frame.start) * 1000 * slowdown);
          return engine.hear(frame);
        },
        resetTurn: (at) => engine.resetTurn(at),
        close: () => engine.close(),
      };
    },
  };
}

/** Starts a scripted-engine server; `plans[i]` is the plan of the i-th handshake. */
export async function server(
  plans: (SessionPlan | undefined)[] = [],
  options: { apiKey?: string; idleTimeoutMs?: number; engine?: TurnEngineFactory } = {},
): Promise<FluxServer & { attempts: HandshakeInfo[] }> {
  const attempts: HandshakeInfo[] = [];
  const s = await startFluxServer({
    engine: "scripted",
    engineOptions: { transcripts: TRANSCRIPTS },
    sessionPlan: (info) => {
      attempts.push(info);
      return plans[info.index];
    },
    ...options,
  });
  return Object.assign(s, { attempts });
}

/** Fast test timings (ms). */
export const FAST: Partial<FluxClientOptions> = {
  connectTimeoutMs: 2000,
  reconnect: { minDelayMs: 20, maxDelayMs: 200, maxAttempts: 5 },
  stallTimeoutMs: 400,
  silenceAfterMs: 150,
  configureTimeoutMs: 1000,
  closeTimeoutMs: 1000,
  watchdogIntervalMs: 20,
};

export function client(url: string, options: Partial<FluxClientOptions> = {}): FluxClient {
  return new FluxClient({ settings: SETTINGS, url, ...FAST, ...options });
}

/** Records everything until the client completes or fails. */
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

/** Resolves with the first event matching `predicate`. */
export function next<T extends FluxEvent>(
  events$: Observable<FluxEvent>,
  predicate: (e: FluxEvent) => e is T,
): Promise<T> {
  return firstValueFrom(events$.pipe(filter(predicate)));
}

export function endOfTurns(
  events$: Observable<FluxEvent>,
  count: number,
): Promise<FluxEndOfTurnEvent[]> {
  return new Promise((resolve) => {
    const out: FluxEndOfTurnEvent[] = [];
    const sub = events$.subscribe((e) => {
      if (e.type === "EndOfTurn") {
        out.push(e);
        if (out.length === count) {
          sub.unsubscribe();
          resolve(out);
        }
      }
    });
  });
}

export const isEndOfTurn = (e: FluxEvent): e is FluxEndOfTurnEvent => e.type === "EndOfTurn";

/** Sends audio in `chunkMs` pieces; `realtime` paces them on the wall clock. */
export async function stream(
  c: FluxClient,
  audio: Buffer,
  { chunkMs = 20, realtime = false } = {},
): Promise<void> {
  const size = (RATE * 2 * chunkMs) / 1000;
  for (let offset = 0; offset < audio.length; offset += size) {
    c.sendAudio(audio.subarray(offset, offset + size));
    if (realtime) await sleep(chunkMs);
    else if ((offset / size) % 50 === 49) await sleep(0); // let the socket breathe
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wraps a carrier and records every control message the client sends. */
export function recordingCarrier(inner: Carrier, sent: ClientMessage[]): Carrier {
  return async (request, handlers) => {
    const conn = await inner(request, handlers);
    return {
      sendBinary: (d) => conn.sendBinary(d),
      sendControl: (m) => {
        sent.push(m);
        conn.sendControl(m);
      },
      ping: () => conn.ping?.(),
      close: () => conn.close(),
      get bufferedAmount() {
        return conn.bufferedAmount;
      },
    };
  };
}

export { toArray };
