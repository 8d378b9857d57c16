import { FluxSettingsError, validateSettings, type FluxSettings } from "@voxpipe/flux-protocol";
import type { Logger } from "@voxpipe/core";
import { RAW_ENCODINGS, type AudioFormat, type RawEncoding } from "../audio/format.js";
import { endpointOf, isLocalUrl, type Carrier } from "../carriers/carrier.js";
import { inputError } from "../errors.js";

/** Deepgram's production endpoint. */
export const DEEPGRAM_URL = "wss://api.deepgram.com";

/** Reconnection policy: jittered exponential backoff with a cap. */
export interface FluxReconnectOptions {
  /** Delay before the 2nd attempt of an outage, in ms (the 1st is immediate). Default 100. */
  minDelayMs?: number;
  /** Cap on any delay, in ms. Default 5000. */
  maxDelayMs?: number;
  /** Growth factor per attempt. Default 2. Each delay is multiplied by a random 1–2 (jitter). */
  factor?: number;
  /** Attempts per outage before the client gives up with a fatal `exhausted` error. Default 20. */
  maxAttempts?: number;
  /**
   * Attempts for the first connection, before Flux was ever reached: a wrong URL, no
   * network or a closed port should fail fast, naming the cause, not retry for minutes.
   * Default 3.
   */
  firstConnectAttempts?: number;
  /** Bound on the whole first connection (every attempt and backoff), in ms. Default 10000. */
  firstConnectTimeoutMs?: number;
  /**
   * Reconnection handshakes to one endpoint (`url`) in flight at once, shared by every
   * `FluxClient` of the process with the same value: when a network blip cuts many sessions
   * at once, they reconnect (and replay their unconfirmed audio) a few at a time instead of
   * all in the same instant; the others wait their turn, their audio kept for replay. A lone
   * reconnect never waits; first connections are not limited. Default 16 (500 sessions cut
   * at once are all back after ≈ 30 handshake times).
   */
  maxConcurrentReconnects?: number;
}

/** Options of a `FluxClient`. Durations in ms. */
export interface FluxClientOptions {
  /**
   * Connection settings (`@voxpipe/flux-protocol` {@link FluxSettings}). Validated before
   * anything connects. `encoding` and `sampleRate` are required and must be a raw
   * encoding (`linear16`, `linear32`, `mulaw`, `alaw`): the client times audio by bytes.
   */
  settings: FluxSettings;
  /** API key. Default: env `DEEPGRAM_API_KEY`. Required unless {@link url} is a loopback address. */
  apiKey?: string;
  /** Deepgram, a regional host, a self-hosted or a local server. Default `wss://api.deepgram.com`. */
  url?: string;
  /** Transport. Default `sdkCarrier` (`@deepgram/sdk` `listen.v2`, SDK reconnection off). */
  carrier?: Carrier;
  /** Logger (pino). Default: voxpipe's root logger, child `flux-client`. */
  logger?: Logger;
  /** Chunk length sent to Flux. Default 80 (Flux's recommendation, flux-protocol.md §1.4). */
  chunkMs?: number;
  /** Bound on the WebSocket handshake plus Flux's `Connected`. Default 10000. */
  connectTimeoutMs?: number;
  reconnect?: FluxReconnectOptions;
  /** Most audio kept for replay, in seconds of audio. Default 30. */
  replayBufferSeconds?: number;
  /**
   * Audio kept and replayed before the first point Flux has not confirmed (the open
   * turn's first word, else the end of the processed audio), so speech cut by a drop,
   * or not yet detected, is heard whole on the new connection. Default 1000.
   */
  replayMarginMs?: number;
  /**
   * Input gap inside an open turn after which silence is streamed (at least twice the
   * duration of the last input frame, so large, sparse frames are not taken for a gap).
   * Silence waits until Flux has answered the audio already sent (its `audio_window_end`
   * within one chunk plus 240 ms of it), so a pause in flow-controlled input (a file sent
   * faster than real time) never lands inside speech; if Flux's answered time stands still
   * for `stallTimeoutMs`, silence is streamed anyway. Default 500.
   */
  silenceAfterMs?: number;
  /** No message for this long while ≥ 0.5 s of audio went unanswered → stalled, reconnect. Default 5000. */
  stallTimeoutMs?: number;
  /**
   * Keep-alive after this long without sending anything: a WebSocket ping, or on a carrier
   * without pings (SageMaker) {@link keepAliveSilenceMs} of silence. Default 10000.
   */
  pingIntervalMs?: number;
  /**
   * Silence streamed as the keep-alive on carriers without pings (Deepgram's SageMaker tooling
   * sends a tiny silent frame). It is audio on the client's timeline, so Flux's times stay
   * aligned. Default 20.
   */
  keepAliveSilenceMs?: number;
  /** Wait for a Configure acknowledgement. Default 5000. */
  configureTimeoutMs?: number;
  /**
   * Wait for Flux's last result on `FluxClient.close`: the client gives up after this long
   * without a message from Flux. A Flux still answering a backlog (a busy local engine) is
   * waited for up to this plus three times the audio it had not answered. Default 3000.
   */
  closeTimeoutMs?: number;
  /**
   * Backpressure (`FluxClient.whenWritable`): seconds of accepted audio Flux may leave
   * unanswered before a fast producer is held back. Default 3.
   */
  maxAheadSeconds?: number;
  /** Backpressure: bytes the socket may hold unsent before a fast producer is held back. Default 262144. */
  maxBufferedBytes?: number;
  /** Period of the watchdog (silence, stall, ping, configure timeout). Default 100. */
  watchdogIntervalMs?: number;
}

/**
 * Client states. `failed` and `closed` are final. How and when each changes is the
 * transition table `LIFECYCLE` in `client/lifecycle.ts`: `idle` → `connecting` (`start()`)
 * → `open` (Flux sent `Connected`) ⇄ `reconnecting` (a drop, or a new connection for new
 * settings) → `closing` (`close()`) → `closed`; `failed` after a permanent error or when
 * retries run out; `destroy()` → `closed` from anywhere.
 */
export type FluxClientState =
  "idle" | "connecting" | "open" | "reconnecting" | "closing" | "closed" | "failed";

/** The tuning options of {@link FluxClientOptions} with every default filled in. */
export type ResolvedFluxClientOptions = Required<
  Omit<FluxClientOptions, "settings" | "apiKey" | "url" | "carrier" | "logger" | "reconnect">
> & { reconnect: Required<FluxReconnectOptions> };

/**
 * Fills in the defaults documented on {@link FluxClientOptions}.
 * @throws FluxError (`input`, `INVALID_OPTION`) when `reconnect.maxConcurrentReconnects` is not an integer ≥ 1.
 */
export function resolveOptions(options: FluxClientOptions): ResolvedFluxClientOptions {
  const r = options.reconnect ?? {};
  const slots = r.maxConcurrentReconnects;
  if (slots !== undefined && !(Number.isInteger(slots) && slots >= 1)) {
    throw inputError(
      "INVALID_OPTION",
      `reconnect.maxConcurrentReconnects must be an integer ≥ 1, got ${String(slots)}`,
    );
  }
  return {
    chunkMs: options.chunkMs ?? 80,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    replayBufferSeconds: options.replayBufferSeconds ?? 30,
    replayMarginMs: options.replayMarginMs ?? 1000,
    silenceAfterMs: options.silenceAfterMs ?? 500,
    stallTimeoutMs: options.stallTimeoutMs ?? 5_000,
    pingIntervalMs: options.pingIntervalMs ?? 10_000,
    keepAliveSilenceMs: options.keepAliveSilenceMs ?? 20,
    configureTimeoutMs: options.configureTimeoutMs ?? 5_000,
    closeTimeoutMs: options.closeTimeoutMs ?? 3_000,
    watchdogIntervalMs: options.watchdogIntervalMs ?? 100,
    maxAheadSeconds: options.maxAheadSeconds ?? 3,
    maxBufferedBytes: options.maxBufferedBytes ?? 256 * 1024,
    reconnect: {
      minDelayMs: r.minDelayMs ?? 100,
      maxDelayMs: r.maxDelayMs ?? 5_000,
      factor: r.factor ?? 2,
      maxAttempts: r.maxAttempts ?? 20,
      firstConnectAttempts: r.firstConnectAttempts ?? 3,
      firstConnectTimeoutMs: r.firstConnectTimeoutMs ?? 10_000,
      maxConcurrentReconnects: r.maxConcurrentReconnects ?? 16,
    },
  };
}

/**
 * Checks what must hold before anything connects: settings (with
 * `@voxpipe/flux-protocol`), raw encoding, URL, API key (option, else env
 * `DEEPGRAM_API_KEY`; not needed for a loopback URL, nor for a carrier with its own
 * `target`, such as SageMaker's).
 * @returns the API key to use (`undefined`: connect without auth).
 * @throws FluxSettingsError naming each bad field, its value and the allowed range.
 * @throws FluxError (`input`) for a non-raw encoding, a bad URL or a missing API key.
 */
export function validateClientOptions(
  options: Pick<FluxClientOptions, "settings" | "url" | "apiKey" | "carrier">,
): { apiKey: string | undefined } {
  const issues = validateSettings(options.settings);
  if (issues.length > 0) throw new FluxSettingsError(issues);
  rawFormat(options.settings);
  // A carrier with its own target (SageMaker) authenticates itself: no URL, no Deepgram key.
  if (options.carrier?.target !== undefined) return { apiKey: undefined };
  const url = options.url ?? DEEPGRAM_URL;
  endpointOf(url);
  const key = options.apiKey ?? process.env.DEEPGRAM_API_KEY;
  const apiKey = key === "" ? undefined : key;
  if (apiKey === undefined && !isLocalUrl(url)) {
    throw inputError(
      "MISSING_API_KEY",
      "apiKey: required for a non-local url; pass apiKey or set DEEPGRAM_API_KEY",
    );
  }
  return { apiKey };
}

/**
 * The byte format of the audio `settings` describe.
 * @throws FluxError (`input`, `UNSUPPORTED_ENCODING`) unless the encoding is raw and the sample rate set.
 */
export function rawFormat(settings: FluxSettings): AudioFormat {
  const encoding = settings.encoding;
  if (
    encoding === undefined ||
    !(RAW_ENCODINGS as readonly string[]).includes(encoding) ||
    settings.sampleRate === undefined
  ) {
    throw inputError(
      "UNSUPPORTED_ENCODING",
      `encoding=${String(encoding)}: the client needs raw audio with a sample rate: allowed ${RAW_ENCODINGS.join(", ")}`,
    );
  }
  return { encoding: encoding as RawEncoding, sampleRate: settings.sampleRate };
}
