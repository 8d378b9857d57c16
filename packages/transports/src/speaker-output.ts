import { once } from "node:events";
import { isAbortError } from "@voxpipe/core";
import { BaseOutputTransport } from "./base-output.js";
import type { OutputTransportOptions } from "./base-output.js";
import { TOOLS, spawnTool } from "./process.js";
import type { ToolProcess } from "./process.js";

/** Options of {@link SpeakerOutputTransport}. */
export interface SpeakerOutputOptions extends OutputTransportOptions {
  /** Player program: `aplay` (ALSA) or `ffplay` (SDL: ALSA/PulseAudio/CoreAudio). Default `aplay` on Linux, else `ffplay`. */
  readonly player?: "aplay" | "ffplay";
  /** ALSA device for `aplay` (`default`, `hw:0,0`, `null`…). Default: the system default. */
  readonly device?: string;
}

/** How far ahead of the playhead audio is written to the player, ms: enough to never starve it. */
const SPEAKER_LEAD_MS = 60;

/**
 * Plays the bot's audio on the speaker through `aplay` or `ffplay` (a subprocess reading mono
 * PCM s16le on stdin). Writes are paced in real time with a small lead, so an interruption
 * silences the speaker within the player's own buffer (aplay's is set to 100 ms).
 * A missing or failing player is a fatal error naming the package to install.
 */
export class SpeakerOutputTransport extends BaseOutputTransport {
  readonly #player: "aplay" | "ffplay";
  readonly #device: string | undefined;
  #proc: ToolProcess | undefined;
  #closing = false;

  constructor(options: SpeakerOutputOptions = {}) {
    super({ ...options, realtime: true });
    const player = options.player ?? (process.platform === "linux" ? "aplay" : "ffplay");
    if (player !== "aplay" && player !== "ffplay") {
      throw new RangeError(`player must be "aplay" or "ffplay", got ${JSON.stringify(player)}`);
    }
    this.#player = player;
    this.#device = options.device;
  }

  /** The player command line for `sampleRate` (exposed for tests and logs). */
  playerArgs(sampleRate: number): string[] {
    if (this.#player === "aplay") {
      return [
        "-q",
        "-t",
        "raw",
        "-f",
        "S16_LE",
        "-c",
        "1",
        "-r",
        String(sampleRate),
        "--buffer-time=100000",
        ...(this.#device ? ["-D", this.#device] : []),
      ];
    }
    return [
      "-nodisp",
      "-autoexit",
      "-loglevel",
      "error",
      "-f",
      "s16le",
      "-ar",
      String(sampleRate),
      "-ch_layout",
      "mono",
      "-i",
      "pipe:0",
    ];
  }

  protected override get writeAheadMs(): number {
    return SPEAKER_LEAD_MS;
  }

  protected override open(): void {
    const proc = spawnTool(
      this.#player === "aplay" ? TOOLS.aplay : TOOLS.ffplay,
      this.playerArgs(this.sampleRate),
    );
    this.#proc = proc;
    void this.createTask("player", async () => {
      try {
        await proc.exited;
        if (!this.#closing)
          this.pushError(`${this.name}: ${this.#player} exited before the end of the run`, {
            fatal: true,
          });
      } catch (err) {
        if (!this.#closing)
          this.pushError(err instanceof Error ? err : String(err), { fatal: true });
      }
    });
  }

  protected override async writeAudio(chunk: Uint8Array): Promise<void> {
    const stdin = this.#proc?.stdin;
    if (stdin === undefined || stdin.destroyed) return;
    try {
      if (!stdin.write(chunk)) await once(stdin, "drain", { signal: this.signal });
    } catch (err) {
      // A dead player (EPIPE) is reported once, with its own message, by the "player" task.
      if (stdin.destroyed || isAbortError(err)) return;
      throw err;
    }
  }

  protected override async close(reason: "end" | "cancel"): Promise<void> {
    this.#closing = true;
    const proc = this.#proc;
    if (proc === undefined) return;
    if (reason === "end") {
      // Let the player drain what it has, but never hang the end of the run on it.
      proc.stdin.end();
      const exited = proc.exited.then(
        () => true,
        () => true,
      );
      const timer = new Promise<boolean>((resolve) =>
        setTimeout(() => resolve(false), 1000).unref(),
      );
      if (await Promise.race([exited, timer])) return;
    }
    await proc.stop(500);
  }
}
