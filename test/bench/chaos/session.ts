/**
 * One chaos-benchmark session: a real {@link FluxClient} streaming a labelled fixture WAV
 * (looped, whole passes only) at real-time pace, and the bookkeeping that says whether what
 * the user said came back exactly once: every labelled turn pushed is a turn **spoken**, at
 * a known place on the client's continuous timeline; every `EndOfTurn` is matched to the
 * spoken turn its audio window overlaps most.
 */
import { FluxClient, type FluxClientOptions, type FluxError } from "@voxpipe/deepgram";

/** The audio every session loops, cut into frames. */
export interface PassAudio {
  /** 20 ms (or `frameMs`) frames of PCM s16le, 16 kHz mono, one pass of the WAV. */
  frames: readonly Uint8Array[];
  frameMs: number;
  /** Labelled turns of one pass: seconds from the pass's start. */
  turns: readonly { start: number; end: number }[];
}

/** A turn pushed to the client: its place on the client's continuous timeline (s). */
export interface SpokenTurn {
  start: number;
  end: number;
  /** `EndOfTurn` events matched to it (1 = right; 2+ = duplicates). */
  ended: number;
}

/** An `EndOfTurn` the client emitted. */
export interface EndedTurn {
  start: number;
  end: number;
  trigger: string;
  synthetic: boolean;
}

/** One lost connection and its recovery. */
export interface Outage {
  /** `performance.now()` when the client noticed the loss (its first `Reconnecting`). */
  lostAt: number;
  /** Error code of that `Reconnecting` (`CONNECTION_CLOSED`, `STALLED`, …). */
  cause: string;
  /** Wall ms from the loss to the next `Connected` (the client's `downtimeMs`); undefined if never. */
  downtimeMs: number | undefined;
  /** Seconds of audio replayed on the new connection. */
  replayedSeconds: number;
  /** Attempts of this outage that failed (refused, timed out) before the one that connected. */
  failedAttempts: number;
}

/** Counters of one session, merged into the report. */
export interface SessionFigures {
  outages: Outage[];
  /** Why connections were lost (error code of each outage's first `Reconnecting`). */
  lossCauses: Record<string, number>;
  /** Failed reconnect attempts (`Reconnecting` with attempt ≥ 1), by code. */
  failedAttempts: Record<string, number>;
  configures: { sent: number; confirmed: number; failed: Record<string, number> };
  /** The fatal error that ended the client, if any. */
  fatal: FluxError | undefined;
}

/**
 * One session. Call {@link pushFrame} on every tick of the shared pacer; {@link finish} asks
 * it to stop at the end of the current pass, and resolves once it closed.
 */
export class ChaosSession {
  readonly client: FluxClient;
  readonly spoken: SpokenTurn[] = [];
  readonly ended: EndedTurn[] = [];
  readonly figures: SessionFigures = {
    outages: [],
    lossCauses: {},
    failedAttempts: {},
    configures: { sent: 0, confirmed: 0, failed: {} },
    fatal: undefined,
  };
  /** Between a lost connection and the next `Connected`. */
  inOutage = false;

  readonly #audio: PassAudio;
  readonly #turnStartFrame: number[];
  #frame = 0;
  #finishing = false;
  #stopped = false;
  #resolveStopped!: () => void;
  readonly #stoppedPushing = new Promise<void>((resolve) => (this.#resolveStopped = resolve));

  constructor(audio: PassAudio, options: FluxClientOptions) {
    this.#audio = audio;
    const frameSeconds = audio.frameMs / 1000;
    this.#turnStartFrame = audio.turns.map((t) => Math.floor(t.start / frameSeconds));
    this.client = new FluxClient(options);
    this.client.events$.subscribe((event) => {
      switch (event.type) {
        case "EndOfTurn":
          this.ended.push({
            start: event.audioWindowStart,
            end: event.audioWindowEnd,
            trigger: event.trigger,
            synthetic: event.synthetic,
          });
          break;
        case "Connected": {
          this.inOutage = false;
          const outage = this.figures.outages.at(-1);
          if (event.connection > 1 && outage?.downtimeMs === undefined && outage !== undefined) {
            outage.downtimeMs = event.downtimeMs;
            outage.replayedSeconds = event.replayedSeconds;
          }
          break;
        }
        case "Reconnecting": {
          const into = event.attempt === 0 ? this.figures.lossCauses : this.figures.failedAttempts;
          into[event.error.code] = (into[event.error.code] ?? 0) + 1;
          const current = this.figures.outages.at(-1);
          if (event.attempt > 0 && current?.downtimeMs === undefined && current !== undefined)
            current.failedAttempts += 1;
          if (event.attempt === 0) {
            this.inOutage = true;
            this.figures.outages.push({
              lostAt: performance.now(),
              cause: event.error.code,
              downtimeMs: undefined,
              replayedSeconds: 0,
              failedAttempts: 0,
            });
          }
          break;
        }
        case "Error":
          if (event.error.fatal) this.figures.fatal = event.error;
          break;
      }
    });
  }

  /** Connects (audio pushed meanwhile is buffered and replayed). */
  start(): void {
    this.client.start().catch(() => undefined); // a fatal error is recorded from events$
  }

  /** Pushes the next frame of the looped WAV (one pacer tick). */
  pushFrame(): void {
    if (this.#stopped) return;
    const frames = this.#audio.frames;
    const k = this.#frame % frames.length;
    if (k === 0 && this.#finishing) {
      this.#stopped = true;
      this.#resolveStopped();
      return;
    }
    const pass = Math.floor(this.#frame / frames.length);
    const passStart = pass * frames.length * (this.#audio.frameMs / 1000);
    this.#audio.turns.forEach((turn, i) => {
      // Silence the client streamed on its own (input gaps inside a turn) moves the timeline.
      if (k === this.#turnStartFrame[i]) {
        const at = passStart + turn.start + this.client.metrics.silenceSecondsInjected;
        this.spoken.push({ start: at, end: at + (turn.end - turn.start), ended: 0 });
      }
    });
    this.client.sendAudio(frames[k]);
    this.#frame += 1;
  }

  /** Asks Flux to change a live setting (keyterms: no effect on the scripted engine's turns). */
  configure(keyterms: string[]): void {
    this.figures.configures.sent += 1;
    this.client.configure({ keyterms }).then(
      () => (this.figures.configures.confirmed += 1),
      (error: unknown) => {
        const code = (error as FluxError).code ?? "error";
        const failed = this.figures.configures.failed;
        failed[code] = (failed[code] ?? 0) + 1;
      },
    );
  }

  /** Stops at the end of the current pass, then closes the client gracefully. */
  async finish(): Promise<void> {
    this.#finishing = true;
    if (this.client.state === "failed" || this.client.state === "closed") {
      this.#stopped = true;
      this.#resolveStopped();
    }
    await this.#stoppedPushing;
    await this.client.close().catch(() => undefined);
  }

  /** Matches every `EndOfTurn` to the spoken turn it overlaps most; returns those matching none. */
  match(): EndedTurn[] {
    const spurious: EndedTurn[] = [];
    for (const end of this.ended) {
      let best: SpokenTurn | undefined;
      let bestOverlap = 0;
      for (const turn of this.spoken) {
        const overlap = Math.min(end.end, turn.end) - Math.max(end.start, turn.start);
        if (overlap > bestOverlap) {
          best = turn;
          bestOverlap = overlap;
        }
      }
      if (best === undefined) spurious.push(end);
      else best.ended += 1;
    }
    return spurious;
  }
}
