/**
 * Fault injection, kept out of a session's production path: a decorator around a
 * {@link FluxSession}'s output (messages on their way to the socket) and input (frames
 * from the socket), installed only when a test configured faults for the session (its
 * `sessionPlan`, or live through the session handle). A healthy session never calls
 * anything here.
 */
import type { Logger } from "@voxpipe/core";
import { parseClientMessage } from "@voxpipe/flux-protocol";
import type { FaultPlan, FaultTrigger } from "./faults.js";
import type { FluxSession, Unsequenced } from "./session.js";

/** Faults that fire on a trigger, in the order they fire when several match at once. */
const TRIGGERED_FAULTS = ["malformedMessage", "drop", "stall", "fatalError"] as const;

/** What the injector may do to its session (given by the session when it installs one). */
export interface FaultTarget {
  readonly session: FluxSession;
  readonly logger: Logger;
  /** The `sequence_id` the next message written will carry. */
  readonly nextSequenceId: number;
  /** Seconds of audio received so far (before the frame being handled). */
  readonly audioSeconds: number;
  /** Seconds of audio `bytes` of the session's encoding hold. */
  secondsOf(bytes: number): number;
  /** Whether the session stopped sending (closing or closed). */
  readonly finished: boolean;
  /** Sends a message the way the session sends its own (through this injector's {@link FaultInjector.send}). */
  send(message: Unsequenced): void;
  /** Writes one text frame as is: not a message (no `sequence_id`, not counted). */
  writeRaw(text: string): void;
  /** Runs `action` in stream order: after every operation already queued (audio, Configure…). */
  inStreamOrder(action: () => void): void;
}

/** How a message goes on once the injector let it through (`rewrite` changes its encoded text). */
export type MessageWriter = (message: Unsequenced, rewrite?: (text: string) => string) => void;

/**
 * The faults of one session: triggers (audio seconds, a message's `sequence_id`, wall
 * clock), a stall, delayed and refused Configure answers, messages without optional fields.
 */
export class FaultInjector {
  private faults: FaultPlan = {};
  private stalled = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  /** An injector with no faults yet ({@link setFaults} gives them). */
  constructor(private readonly target: FaultTarget) {
    void target.session.ended.then(() => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
    });
  }

  /** Replaces the fault plan (wall-clock triggers are armed from now). */
  setFaults(faults: FaultPlan): void {
    this.faults = faults;
    this.armWallClockFaults(faults);
  }

  /** Stops sending (audio is still read and pings answered); a fatal `Error` still goes out. */
  stall(): void {
    if (!this.stalled) this.target.logger.info("fault: stall");
    this.stalled = true;
  }

  /** Ends a {@link stall}: messages flow again (those produced meanwhile are lost). */
  resume(): void {
    this.stalled = false;
  }

  /** Sends one text frame that is not valid JSON (a truncated TurnInfo). */
  sendMalformed(): void {
    if (this.target.finished || this.stalled) return;
    this.target.logger.info("fault: malformed message");
    this.target.writeRaw(
      `{"type":"TurnInfo","request_id":"${this.target.session.requestId}","event":"Upd`,
    );
  }

  /** The output decorator: a message the session sends. */
  send(message: Unsequenced, write: MessageWriter): void {
    const delay = this.faults.configureDelayMs;
    const ack = message.type === "ConfigureSuccess" || message.type === "ConfigureFailure";
    if (ack && delay !== undefined && delay > 0) {
      this.later(delay, () => {
        if (!this.target.finished) this.deliver(message, write);
      });
      return;
    }
    this.deliver(message, write);
  }

  /** The input decorator: a frame from the client (`receive` hands it to the session). */
  receive(data: Buffer, isBinary: boolean, receive: () => void): void {
    if (isBinary) {
      const seconds = this.target.audioSeconds + this.target.secondsOf(data.length);
      this.fireFaults((t) => t.afterAudioSeconds !== undefined && seconds >= t.afterAudioSeconds);
      receive();
      return;
    }
    const refusal = this.faults.configureRefusal;
    if (refusal !== undefined && parseClientMessage(data.toString("utf8")).type === "Configure") {
      // Refused in stream order, as Flux answers a Configure it cannot apply: nothing applied.
      this.target.inStreamOrder(() => {
        this.target.logger.info({ code: refusal.code }, "fault: configure refused");
        this.target.send({
          type: "ConfigureFailure",
          request_id: this.target.session.requestId,
          code: refusal.code,
          description: refusal.description,
        });
      });
      return;
    }
    receive();
  }

  private deliver(message: Unsequenced, write: MessageWriter): void {
    if (this.fireFaults((t) => t.atMessage === this.target.nextSequenceId)) return;
    // A fatal Error goes out even while stalled (Flux's last word before it closes).
    if (this.stalled && message.type !== "Error") return;
    write(message, this.faults.omitOptionalFields === true ? withoutOptionalFields : undefined);
  }

  private armWallClockFaults(faults: FaultPlan): void {
    for (const kind of TRIGGERED_FAULTS) {
      const trigger = faults[kind];
      if (trigger?.afterMs === undefined) continue;
      this.later(trigger.afterMs, () => {
        if (this.faults[kind] === trigger) this.fireFaults((t) => t === trigger);
      });
    }
  }

  /**
   * Fires, once each, the faults whose trigger matches (the first trigger reached wins).
   * Returns true when the message about to be sent must not go out.
   */
  private fireFaults(matches: (trigger: FaultTrigger) => boolean): boolean {
    for (const kind of TRIGGERED_FAULTS) {
      const trigger = this.faults[kind];
      if (trigger === undefined || !matches(trigger)) continue;
      this.faults = { ...this.faults, [kind]: undefined };
      switch (kind) {
        case "malformedMessage":
          this.sendMalformed();
          break;
        case "stall":
          this.stall();
          return true;
        case "drop":
          this.target.session.drop();
          return true;
        case "fatalError": {
          const { code, description } = trigger as NonNullable<FaultPlan["fatalError"]>;
          this.target.session.sendFatalError(code, description);
          return true;
        }
      }
    }
    return false;
  }

  private later(ms: number, fire: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fire();
    }, ms);
    this.timers.add(timer);
  }
}

/** Whether `faults` asks for anything of a live session (a refused handshake is the server's). */
export function hasSessionFaults(faults: FaultPlan): boolean {
  return Object.entries(faults).some(([k, v]) => k !== "refuseHandshake" && v !== undefined);
}

/** A server message as the docs' examples print some: no `request_id`, `sequence_id`, `trigger`. */
function withoutOptionalFields(text: string): string {
  const {
    request_id: _r,
    sequence_id: _s,
    trigger: _t,
    ...rest
  } = JSON.parse(text) as Record<string, unknown>;
  return JSON.stringify(rest);
}
