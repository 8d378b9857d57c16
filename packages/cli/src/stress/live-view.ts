import pc from "picocolors";
import type { ObservedTurnEvent } from "./stats.js";

/** Where the live view writes, and how. */
export interface LiveViewOptions {
  /** Receives the output text (lines end in `\n`; an interactive progress line does not). */
  write: (text: string) => void;
  /**
   * True on an interactive terminal: the progress line stays at the bottom and redraws in place.
   * Otherwise each progress report is printed as an ordinary line.
   */
  interactive: boolean;
  /** Colour output. Default: picocolors' detection (`NO_COLOR`, `FORCE_COLOR`, TTY). */
  color?: boolean;
}

/** Figures shown on the progress line. */
export interface ProgressFigures {
  /** Time since the run started, ms. */
  elapsedMs: number;
  /** Connections that have received `Connected` and are not lost. */
  up: number;
  /** Connections the run asked for. */
  total: number;
  /** `EndOfTurn`s received across all connections. */
  turns: number;
  /** Seconds of audio streamed across all connections. */
  audioSeconds: number;
}

/** A turn event with the fields the view prints. */
export type ViewTurnEvent = Pick<
  ObservedTurnEvent,
  "event" | "turnIndex" | "transcript" | "endOfTurnConfidence"
>;

/**
 * The live output of `voxpipe stress`: one line per event, prefixed by its connection.
 *
 * ```
 * [Conn 3] hello how are you [update]
 * [Conn 3] ~ hello, how are you? (87.3%) [eager, turn 0]
 * [Conn 3] ✓ hello, how are you? (91.2%) [turn 0]
 * [Conn 3] ... resumed [turn 1]
 * ```
 *
 * Percentages are Flux's `end_of_turn_confidence`. `Update`s with an empty transcript (silence
 * before a turn, protocol reference §4.2 rule 1) are not printed: they say nothing and would
 * drown the rest.
 */
export class StressLiveView {
  readonly #write: (text: string) => void;
  readonly #interactive: boolean;
  readonly #c: ReturnType<typeof pc.createColors>;
  /** The progress text currently on screen at the bottom (interactive only). */
  #progress: string | undefined;

  constructor(options: LiveViewOptions) {
    this.#write = options.write;
    this.#interactive = options.interactive;
    this.#c = pc.createColors(options.color ?? pc.isColorSupported);
  }

  /** Prints what the symbols mean. */
  legend(): void {
    const c = this.#c;
    this.#line(
      c.dim("Legend: ") +
        [
          `${c.dim("[update]")} interim transcript`,
          `${c.blue("[start]")} start of turn`,
          `${c.yellow("~")} eager end of turn`,
          `${c.magenta("...")} turn resumed`,
          `${c.green("✓")} end of turn`,
          `${c.dim("(%)")} end-of-turn confidence`,
          `${c.yellow("↻")} reconnect`,
          `${c.red("✗")} error`,
        ].join(c.dim(" · ")),
    );
  }

  /** Prints one TurnInfo event of connection `conn` (1-based). */
  turnEvent(conn: number, event: ViewTurnEvent): void {
    const c = this.#c;
    const turn = `turn ${event.turnIndex}`;
    switch (event.event) {
      case "Update":
        if (event.transcript === "") return;
        this.#line(`${this.#conn(conn)} ${event.transcript} ${c.dim("[update]")}`);
        return;
      case "StartOfTurn":
        this.#line(`${this.#conn(conn)} ${event.transcript} ${c.blue(`[start, ${turn}]`)}`);
        return;
      case "EagerEndOfTurn":
        this.#line(
          `${this.#conn(conn)} ${c.yellow("~")} ${event.transcript}${this.#confidence(event)} ${c.yellow(`[eager, ${turn}]`)}`,
        );
        return;
      case "TurnResumed":
        this.#line(`${this.#conn(conn)} ${c.magenta("... resumed")} ${c.dim(`[${turn}]`)}`);
        return;
      case "EndOfTurn":
        this.#line(
          `${this.#conn(conn)} ${c.green("✓")} ${c.bold(event.transcript)}${this.#confidence(event)} ${c.green(`[${turn}]`)}`,
        );
        return;
    }
  }

  /** Prints an error of connection `conn`; `fatal` errors ended the connection. */
  error(conn: number, error: { code?: string; message: string; fatal: boolean }): void {
    const c = this.#c;
    const what = error.fatal ? "error" : "error (retrying)";
    this.#line(
      `${this.#conn(conn)} ${c.red(`✗ ${what}`)}${error.code ? ` ${c.red(error.code)}` : ""}: ${error.message}`,
    );
  }

  /** Prints a reconnect attempt of connection `conn`. */
  reconnecting(conn: number, attempt?: number, reason?: string): void {
    const c = this.#c;
    this.#line(
      `${this.#conn(conn)} ${c.yellow("↻ reconnecting")}${attempt ? ` (attempt ${attempt})` : ""}${reason ? `: ${reason}` : ""}`,
    );
  }

  /** Prints that connection `conn` is back. */
  reconnected(conn: number): void {
    this.#line(`${this.#conn(conn)} ${this.#c.green("↻ reconnected")}`);
  }

  /** Prints a plain notice line (start-up, shutdown). */
  notice(text: string): void {
    this.#line(this.#c.dim(text));
  }

  /** Shows the progress line: redrawn in place when interactive, printed as a line otherwise. */
  progress(p: ProgressFigures): void {
    const c = this.#c;
    const text = c.cyan(
      `⏱ ${(p.elapsedMs / 1000).toFixed(1)} s · ${p.up}/${p.total} connections up · ${p.turns} turns completed · ${p.audioSeconds.toFixed(1)} s audio`,
    );
    if (!this.#interactive) {
      this.#write(`${text}\n`);
      return;
    }
    this.#progress = text;
    this.#write(`\r\x1b[2K${text}`);
  }

  /** Leaves the progress line in place and moves to a fresh line. */
  close(): void {
    if (this.#progress !== undefined) this.#write("\n");
    this.#progress = undefined;
  }

  #conn(conn: number): string {
    return this.#c.dim(`[Conn ${conn}]`);
  }

  #confidence(event: ViewTurnEvent): string {
    if (event.endOfTurnConfidence === undefined) return "";
    return ` ${this.#c.dim(`(${(event.endOfTurnConfidence * 100).toFixed(1)}%)`)}`;
  }

  /** Writes a line above the progress line, then redraws the progress line under it. */
  #line(text: string): void {
    if (this.#progress === undefined) {
      this.#write(`${text}\n`);
      return;
    }
    this.#write(`\r\x1b[2K${text}\n${this.#progress}`);
  }
}
