import { monotonicClock, type Clock } from "@voxpipe/core";
import { FluxError } from "../errors.js";
import type { Connection } from "./connection.js";

/** Timing of a {@link Watchdog} (ms; see `FluxClientOptions`). */
export interface WatchdogOptions {
  readonly intervalMs: number;
  readonly silenceAfterMs: number;
  /**
   * How far (seconds of audio) Flux's answered time may trail the audio sent and still
   * count as caught up: one chunk plus Flux's 240 ms `Update` cadence (flux-protocol.md §4.2).
   */
  readonly caughtUpMarginSeconds: number;
  readonly stallTimeoutMs: number;
  readonly pingIntervalMs: number;
}

/** What the watchdog reads and does on a connection (a {@link Connection}). */
export type WatchedConnection = Pick<
  Connection,
  | "id"
  | "ready"
  | "closeRequested"
  | "sentUntil"
  | "unanswered"
  | "stallSince"
  | "lastSentAt"
  | "ping"
  | "excuseBlockedTime"
  | "countWritten"
>;

/** What the watchdog watches and how it acts (`C`: the host's connection type). */
export interface WatchdogHost<C extends WatchedConnection = WatchedConnection> {
  /** The current connection, if any. */
  connection(): C | undefined;
  /** Whether input gaps must be filled with silence now (a turn is open and the client is open). */
  wantsSilence(): boolean;
  /** Continuous-timeline end of the audio Flux answered (its latest `audio_window_end`), seconds. */
  answeredUntil(): number;
  /** Stream `ms` of silence (Flux only advances its turn timers on streamed audio). */
  injectSilence(ms: number): void;
  /** Keep an idle connection alive on a carrier without pings (streams a little silence). */
  keepAlive(): void;
  /** `conn` stalled: audio went unanswered for too long. */
  stalled(conn: C, error: FluxError): void;
  /** Called on every tick, after the checks above (e.g. for Configure deadlines). */
  tick(now: number): void;
}

/**
 * Periodic checks of a Flux connection: streams silence while a turn is open, input
 * stopped and Flux has answered the audio already sent (so Flux can end the turn,
 * flux-protocol.md §4.3; silence sent while Flux still lags behind would land in the
 * middle of speech on its timeline when input is merely flow-controlled), detects a stalled
 * connection (audio flows, Flux says nothing), and keeps an idle connection alive: WebSocket
 * pings (never a JSON `KeepAlive` on v2), or a little silence on carriers without pings. Time the event loop spent blocked counts
 * neither as a stall nor as an input gap.
 */
export class Watchdog<C extends WatchedConnection = WatchedConnection> {
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt: number;
  private lastInputAt: number;
  /** Duration of the last input (ms): big, sparse frames must not look like silence. */
  private lastInputMs = 0;
  private lastSilenceAt = 0;
  /** Flux's answered time at the last tick, and since when it has not advanced. */
  private answered = 0;
  private answeredSince: number;

  /**
   * @param clock the time source (ms): `performance.now()`, which a {@link Connection}'s
   *   times also come from. A seam for tests: under fake timers a test moves it forward
   *   without running the ticks in between, as a blocked event loop does.
   */
  constructor(
    private readonly options: WatchdogOptions,
    private readonly host: WatchdogHost<C>,
    private readonly clock: Clock = monotonicClock,
  ) {
    this.lastTickAt = this.lastInputAt = this.answeredSince = clock.now();
  }

  /** Starts ticking every `intervalMs`. */
  start(): void {
    this.lastTickAt = this.clock.now();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
  }

  /** Stops ticking. Idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Input audio of `durationMs` arrived now. */
  input(durationMs: number): void {
    this.lastInputAt = this.clock.now();
    this.lastInputMs = durationMs;
  }

  private tick(): void {
    const now = this.clock.now();
    const conn = this.host.connection();
    const o = this.options;
    // After the event loop was blocked, timers run before pending socket reads: time the
    // loop spent blocked is not time Flux stayed silent, so it does not count as a stall.
    const blocked = now - this.lastTickAt - o.intervalMs;
    this.lastTickAt = now;
    // Likewise input audio could not arrive while the loop was blocked: not an input gap.
    if (blocked > 20) {
      conn?.excuseBlockedTime(blocked);
      this.lastInputAt += blocked;
      this.answeredSince += blocked;
    }
    const answered = this.host.answeredUntil();
    if (answered !== this.answered) {
      this.answered = answered;
      this.answeredSince = now;
    }
    // Silence: Flux only advances its turn timers on streamed audio (flux-protocol.md §4.3).
    // Silence covers the whole input gap, so audio time keeps pace with wall time. While
    // Flux still lags behind the audio sent, the user's audio has not stopped on Flux's
    // timeline: wait for it to catch up, unless its answered time stood still for the
    // stall window (a server that answers but no longer advances must still end the turn).
    if (
      conn?.ready &&
      this.host.wantsSilence() &&
      now - this.lastInputAt >= Math.max(o.silenceAfterMs, 2 * this.lastInputMs) &&
      (conn.sentUntil - answered <= o.caughtUpMarginSeconds ||
        now - this.answeredSince >= o.stallTimeoutMs)
    ) {
      this.host.injectSilence(Math.min(now - Math.max(this.lastInputAt, this.lastSilenceAt), 1000));
      this.lastSilenceAt = now;
    }
    if (conn?.ready && !conn.closeRequested) {
      conn.countWritten(now);
      if (conn.stallSince !== undefined && now - conn.stallSince > o.stallTimeoutMs) {
        this.host.stalled(
          conn,
          new FluxError({
            source: "stall",
            kind: "retryable",
            code: "STALLED",
            description: `no message for ${o.stallTimeoutMs} ms while ${conn.unanswered.toFixed(2)} s of audio went unanswered`,
          }),
        );
      } else if (now - conn.lastSentAt >= o.pingIntervalMs && !conn.ping()) {
        this.host.keepAlive();
      }
    }
    this.host.tick(now);
  }
}
