import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@voxpipe/core";
import { FluxClient } from "@voxpipe/deepgram";
import type { Carrier, FluxEndOfTurnEvent, FluxEvent } from "@voxpipe/deepgram";
import type { FluxModel } from "@voxpipe/flux-protocol";
import { checkedCarrier } from "./checked-carrier.js";
import type { RecordedEvent } from "./score.js";

/** Audio is sent as Flux recommends: 16 kHz mono linear16 in 80 ms chunks (protocol reference §1.4). */
export const EVAL_SAMPLE_RATE = 16000;
const CHUNK_SECONDS = 0.08;

/** How a session's audio goes out: Flux's `encoding` and `sample_rate`, mono. */
export interface EvalAudioFormat {
  /** `linear16` (PCM s16le, 2 bytes a sample) or `mulaw` (G.711 μ-law, 1 byte a sample). */
  readonly encoding: "linear16" | "mulaw";
  /** Hz. */
  readonly sampleRate: number;
}
/** `--fast`: audio sent ahead of what Flux has answered, at most (s). */
const FAST_LEAD_SECONDS = 3;
/** Flux sends an `Update` every 240 ms of audio: the last one lands within this of the end. */
const LAST_UPDATE_SLACK_SECONDS = 0.33;
/** Connection attempts per outage before a session fails. */
const RECONNECT_ATTEMPTS = 3;
/** Give up on a target that answers nothing for this long (wall ms). */
const NO_ANSWER_TIMEOUT_MS = 15_000;

/** One Flux setting of a sweep (TS names; wire names in `@voxpipe/flux-protocol`). */
export interface EvalSetting {
  /** `eot_threshold`, 0.5–1.0. */
  readonly eotThreshold: number;
  /** `eager_eot_threshold`, 0.3–0.9 and ≤ eot; unset = eager mode off. */
  readonly eagerEotThreshold?: number;
  /** `eot_timeout_ms`, 500–60000; unset = Flux's default (5000). */
  readonly eotTimeoutMs?: number;
}

/** Where sessions connect. */
export interface EvalTarget {
  /** `ws(s)://…` of the Flux endpoint; unset when the carrier names its own target (SageMaker). */
  readonly url?: string | undefined;
  /** Deepgram API key; unset for local servers. Never logged. */
  readonly apiKey?: string | undefined;
  /** Transport override (e.g. a SageMaker carrier); default the `@deepgram/sdk` carrier. */
  readonly carrier?: Carrier | undefined;
}

/** Options of {@link runSession}. */
export interface SessionOptions {
  readonly target: EvalTarget;
  readonly setting: EvalSetting;
  readonly model: FluxModel;
  readonly keyterms?: readonly string[];
  /** Mono audio in `format` (default 16 kHz PCM s16le). */
  readonly audio: Uint8Array;
  /** Encoding and sample rate of `audio`, sent as such; default 16 kHz linear16. */
  readonly format?: EvalAudioFormat;
  /** Send as fast as Flux answers (within 3 s ahead) instead of at real-time pace. */
  readonly fast: boolean;
  /** Called with seconds of audio sent so far (progress). */
  readonly onProgress?: (sentSeconds: number) => void;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/** What one session recorded. */
export interface SessionRecord {
  /** Every `TurnInfo` in arrival order (Updates included: the timeline draws them). */
  readonly events: RecordedEvent[];
  readonly audioSeconds: number;
  readonly wallSeconds: number;
  readonly reconnects: number;
  /**
   * Broken Flux guarantees (`TurnSequenceChecker` of `@voxpipe/flux-protocol`: event order,
   * `turn_index`, `sequence_id`, audio times, …) in every message of every connection, each
   * connection checked on its own.
   */
  readonly violations: number;
  /** Set when the session failed; the events are what arrived before. */
  readonly error?: string;
}

/**
 * Streams one file's audio to a Flux target through {@link FluxClient} (so reconnection,
 * replay and the watchdog are the client's, as in production) and records every turn event
 * with its audio time and arrival time. At real-time pace each 80 ms chunk leaves on a
 * drift-free clock; with `fast`, chunks leave as soon as Flux has answered all but the last
 * 3 s. After the last chunk the session waits until Flux answered the whole file and any
 * open turn ended (the client streams silence meanwhile, as a quiet caller would, up to
 * `eot_timeout_ms` + 2 s), then closes gracefully. Every message each connection receives is
 * checked against Flux's guarantees ({@link SessionRecord.violations}). Never throws: a
 * failure is recorded in {@link SessionRecord.error} with what arrived before it.
 */
export async function runSession(options: SessionOptions): Promise<SessionRecord> {
  const format = options.format ?? { encoding: "linear16", sampleRate: EVAL_SAMPLE_RATE };
  const bytesPerSecond = format.sampleRate * (format.encoding === "linear16" ? 2 : 1);
  const chunkBytes = Math.round(bytesPerSecond * CHUNK_SECONDS);
  const audioSeconds = options.audio.byteLength / bytesPerSecond;
  const events: RecordedEvent[] = [];
  const sentAt: number[] = [];
  let t0 = performance.now();
  let answered = 0;
  let openTurn = false;
  let reconnects = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => wake?.();
  const nextMessage = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const checked = checkedCarrier(options.target.carrier);
  let client: FluxClient;
  try {
    client = new FluxClient({
      ...(options.target.url !== undefined && { url: options.target.url }),
      ...(options.target.apiKey !== undefined && { apiKey: options.target.apiKey }),
      carrier: checked.carrier,
      ...(options.logger !== undefined && { logger: options.logger }),
      // A target that cannot be reached fails the session in about a second, not after the
      // client's 20 attempts; a drop mid-file is still resumed (replayed audio, same turns).
      reconnect: { maxAttempts: RECONNECT_ATTEMPTS },
      settings: {
        model: options.model,
        encoding: format.encoding,
        sampleRate: format.sampleRate,
        eotThreshold: options.setting.eotThreshold,
        ...(options.setting.eagerEotThreshold !== undefined && {
          eagerEotThreshold: options.setting.eagerEotThreshold,
        }),
        ...(options.setting.eotTimeoutMs !== undefined && {
          eotTimeoutMs: options.setting.eotTimeoutMs,
        }),
        ...(options.keyterms !== undefined &&
          options.keyterms.length > 0 && { keyterm: [...options.keyterms] }),
      },
    });
  } catch (error) {
    return {
      events,
      audioSeconds,
      wallSeconds: 0,
      reconnects,
      violations: 0,
      error: message(error),
    };
  }

  const subscription = client.events$.subscribe({
    next: (e: FluxEvent) => {
      if (e.type === "Connected" && e.connection > 1) reconnects += 1;
      if (
        e.type !== "StartOfTurn" &&
        e.type !== "Update" &&
        e.type !== "EagerEndOfTurn" &&
        e.type !== "TurnResumed" &&
        e.type !== "EndOfTurn"
      ) {
        return;
      }
      answered = Math.max(answered, e.audioWindowEnd);
      if (e.type === "StartOfTurn") openTurn = true;
      if (e.type === "EndOfTurn") openTurn = false;
      const wallMs = e.receivedAt - t0;
      const chunk = Math.ceil(e.audioWindowEnd / CHUNK_SECONDS - 1e-6) - 1;
      // At real-time pace only: with --fast the delay would be the backlog this client made.
      const sent = !options.fast && chunk >= 0 && chunk < sentAt.length ? sentAt[chunk] : undefined;
      events.push({
        event: e.type,
        turnIndex: e.turnIndex,
        time: e.audioWindowEnd,
        wallMs,
        transcript: e.transcript,
        ...(e.endOfTurnConfidence !== undefined && { endOfTurnConfidence: e.endOfTurnConfidence }),
        ...(e.type === "EndOfTurn" && { trigger: e.trigger, speech: speechOf(e) }),
        // The final words with their confidences: what confidence quality is scored on.
        ...(e.type === "EndOfTurn" && {
          words: e.words.map((w) => ({ word: w.word, confidence: w.confidence })),
        }),
        ...(sent !== undefined && { delayMs: wallMs - sent }),
      });
      notify();
    },
    error: (error: unknown) => {
      failure = error instanceof Error ? error : new Error(String(error));
      notify();
    },
  });

  const aborted = (): boolean => failure !== undefined || options.signal?.aborted === true;
  try {
    await client.start();
    t0 = performance.now();
    for (let offset = 0; offset < options.audio.byteLength && !aborted(); offset += chunkBytes) {
      const start = offset / bytesPerSecond;
      if (options.fast) {
        let last = performance.now();
        let seen = answered;
        while (start - answered > FAST_LEAD_SECONDS && !aborted()) {
          await nextMessage(100);
          if (answered > seen) [seen, last] = [answered, performance.now()];
          else if (performance.now() - last > NO_ANSWER_TIMEOUT_MS) throw noAnswer(answered);
        }
      } else {
        const due = t0 + start * 1000 - performance.now();
        if (due > 0) await sleep(due);
      }
      sentAt.push(performance.now() - t0);
      client.sendAudio(options.audio.subarray(offset, offset + chunkBytes));
      options.onProgress?.(Math.min(audioSeconds, start + CHUNK_SECONDS));
    }
    // Wait until Flux has answered the whole file (bounded by progress), then for an open turn.
    let last = performance.now();
    let seen = answered;
    while (answered < audioSeconds - LAST_UPDATE_SLACK_SECONDS && !aborted()) {
      await nextMessage(100);
      if (answered > seen) [seen, last] = [answered, performance.now()];
      else if (performance.now() - last > NO_ANSWER_TIMEOUT_MS) throw noAnswer(answered);
    }
    const turnBound = performance.now() + (options.setting.eotTimeoutMs ?? 5000) + 2000;
    while (openTurn && !aborted() && performance.now() < turnBound) {
      await nextMessage(Math.max(1, turnBound - performance.now()));
    }
    await client.close();
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
    client.destroy();
  } finally {
    subscription.unsubscribe();
  }
  if (options.signal?.aborted && failure === undefined) failure = new Error("interrupted");
  return {
    events,
    audioSeconds,
    wallSeconds: (performance.now() - t0) / 1000,
    reconnects,
    violations: checked.checkers.reduce((n, c) => n + c.violations.length, 0),
    ...(failure !== undefined && { error: message(failure) }),
  };
}

/** Where the turn's words start and end (s): from the words' times, else the audio window. */
function speechOf(e: FluxEndOfTurnEvent): { start: number; end: number } {
  const timed = e.words.filter((w) => w.start !== undefined && w.end !== undefined);
  return timed.length > 0
    ? { start: timed[0].start!, end: timed[timed.length - 1].end! }
    : { start: e.audioWindowStart, end: e.audioWindowEnd };
}

function noAnswer(answered: number): Error {
  return new Error(
    `the Flux target answered nothing for ${NO_ANSWER_TIMEOUT_MS / 1000} s (last audio answered: ${answered.toFixed(2)} s)`,
  );
}

function message(error: unknown): string {
  if (error instanceof Error) {
    const description = (error as { description?: unknown }).description;
    return typeof description === "string" && description !== "" ? description : error.message;
  }
  return String(error);
}
