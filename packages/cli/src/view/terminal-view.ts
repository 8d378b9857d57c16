// cli-truncate cuts by visible width (colour codes and wide characters counted right).
import cliTruncate from "cli-truncate";
import pc from "picocolors";
import type { Colors } from "picocolors/types.js";
import type { TranscriptViewEvent, TurnEvent, TurnWord } from "./turn-event.js";
import { meanConfidence } from "./turn-event.js";

/** Where the view writes, and whether it may redraw a line in place. */
export interface TerminalViewOptions {
  /** Transcripts (stdout). */
  write: (text: string) => void;
  /** Errors and reconnects (stderr). Default: `write`. */
  writeErr?: (text: string) => void;
  /**
   * Terminal width in columns, read at every redraw (it changes when the window is resized).
   * An interim line is cut to it with `…`, so the in-place redraw never wraps. Default 80.
   */
  columns?: () => number | undefined;
  /** True on an interactive terminal: interim updates redraw one line. Otherwise only `~`, `…`, `✓` lines print. */
  interactive: boolean;
  /** Colour output. Default: picocolors' detection (`NO_COLOR`, `FORCE_COLOR`, TTY). */
  color?: boolean;
}

/**
 * Confidence bands of the Flux quickstart's live view: ≥ 0.90 green, ≥ 0.80 yellow,
 * ≥ 0.70 orange, else red (Deepgram Flux quickstart, "colour words by confidence").
 */
export function confidenceBand(confidence: number): "green" | "yellow" | "orange" | "red" {
  if (confidence >= 0.9) return "green";
  if (confidence >= 0.8) return "yellow";
  if (confidence >= 0.7) return "orange";
  return "red";
}

/**
 * The live terminal view of `voxpipe transcribe`: one line per turn. While a turn is open its
 * interim transcript redraws in place (interactive terminals only); `~` marks an eager end of
 * turn, `… resumed` a turn that continued after it, and `✓` the final transcript with each word
 * coloured by confidence.
 */
export class TerminalTurnView {
  readonly #write: (text: string) => void;
  readonly #writeErr: (text: string) => void;
  readonly #columns: () => number | undefined;
  readonly #interactive: boolean;
  readonly #c: Colors;
  readonly #colorOn: boolean;
  /** An interim line is on screen without a newline. */
  #lineOpen = false;

  constructor(options: TerminalViewOptions) {
    this.#write = options.write;
    this.#writeErr = options.writeErr ?? options.write;
    this.#columns = options.columns ?? (() => undefined);
    this.#interactive = options.interactive;
    this.#colorOn = options.color ?? pc.isColorSupported;
    this.#c = pc.createColors(this.#colorOn);
  }

  /** Renders one event. */
  handle(event: TranscriptViewEvent): void {
    const c = this.#c;
    switch (event.event) {
      case "StartOfTurn":
      case "Update":
        if (this.#interactive)
          this.#redraw(`${c.dim("…")} ${this.#label(event)} ${c.dim(event.transcript)}`);
        return;
      case "EagerEndOfTurn":
        this.#line(`${c.cyan("~")} ${this.#label(event)} ${event.transcript}`);
        return;
      case "TurnResumed":
        this.#line(`${c.magenta("…")} ${this.#label(event)} ${c.magenta("resumed")}`);
        return;
      case "EndOfTurn":
        if (event.droppedBelowMinConfidence === true) {
          this.#line(
            `${c.dim("✗")} ${this.#label(event)} ${c.dim(`dropped below --min-confidence: ${event.transcript}`)}${this.#details(event)}`,
          );
          return;
        }
        this.#line(
          `${c.green("✓")} ${this.#label(event)} ${this.#words(event.words, event.transcript)}${this.#details(event)}`,
        );
        return;
      case "Error":
        this.#errorLine(
          `${c.red("✗")} ${c.red(event.fatal ? "error" : "error (retrying)")}${event.code ? ` ${event.code}` : ""}: ${event.message}`,
        );
        return;
      case "Reconnecting":
        this.#errorLine(
          `${c.yellow("↻")} reconnecting${event.attempt ? ` (attempt ${event.attempt})` : ""}${event.reason ? `: ${event.reason}` : ""}`,
        );
        return;
      case "Reconnected":
        this.#errorLine(`${c.green("↻")} reconnected`);
        return;
      case "Connected":
        return; // the request_id is in --json output; the live view stays on the turns
    }
  }

  /** Ends an open interim line so later output starts on a fresh line. */
  close(): void {
    if (this.#lineOpen) this.#write("\n");
    this.#lineOpen = false;
  }

  /** Colours each word by its confidence band; falls back to the plain transcript without words. */
  #words(words: readonly TurnWord[], transcript: string): string {
    if (words.length === 0) return transcript;
    return words.map((w) => this.#paint(confidenceBand(w.confidence), w.word)).join(" ");
  }

  #paint(band: ReturnType<typeof confidenceBand>, text: string): string {
    if (band === "orange") {
      // picocolors has no orange; xterm-256 colour 208 is the common one.
      return this.#colorOn ? `\x1b[38;5;208m${text}\x1b[39m` : text;
    }
    return this.#c[band](text);
  }

  #label(event: TurnEvent): string {
    return this.#c.dim(`[turn ${event.turnIndex}]`);
  }

  #details(event: TurnEvent): string {
    const parts: string[] = [];
    if (event.audioWindowStart !== undefined && event.audioWindowEnd !== undefined) {
      parts.push(`${event.audioWindowStart.toFixed(2)}–${event.audioWindowEnd.toFixed(2)} s`);
    }
    const mean = meanConfidence(event.words);
    if (mean !== undefined) parts.push(`conf ${mean.toFixed(2)}`);
    if (event.languages?.length) parts.push(event.languages.join(","));
    return parts.length ? `  ${this.#c.dim(`(${parts.join(", ")})`)}` : "";
  }

  /**
   * Redraws the interim line in place. `\r\x1b[2K` clears one terminal row only, so the line
   * is cut to one column less than the width: it never wraps, and never leaves rows behind.
   */
  #redraw(text: string): void {
    const width = Math.max(10, (this.#columns() ?? 80) - 1);
    this.#write(`\r\x1b[2K${cliTruncate(text, width, { position: "start" })}`);
    this.#lineOpen = true;
  }

  /** A line on the error stream; an open interim line on the transcript stream is cleared first. */
  #errorLine(text: string): void {
    if (this.#lineOpen) this.#write("\r\x1b[2K");
    this.#lineOpen = false;
    this.#writeErr(`${text}\n`);
  }

  #line(text: string): void {
    this.#write(`${this.#lineOpen ? "\r\x1b[2K" : ""}${text}\n`);
    this.#lineOpen = false;
  }
}
