/**
 * `@voxpipe/transports/testing`: a simulated Twilio caller — a small client that speaks the
 * Media Streams protocol (twilio.com/docs/voice/media-streams/websocket-messages) the way
 * Twilio does: `connected`, `start`, 20 ms `media` messages of base64 μ-law at real-time pace,
 * `dtmf`, `stop`; it "plays" the bot's `media` on a real-time playhead, answers each `mark`
 * when the audio before it has played, and on `clear` drops buffered audio and answers the
 * pending marks at once (as Twilio documents). For tests and benchmarks; no real phone call.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { WebSocket } from "ws";

/** Options of {@link SimulatedTwilioCall.connect}. */
export interface SimulatedTwilioCallOptions {
  readonly streamSid?: string;
  readonly callSid?: string;
  readonly accountSid?: string;
  readonly customParameters?: Readonly<Record<string, string>>;
}

/** One bot `media` message as received. */
export interface ReceivedMedia {
  /** `performance.now()` at arrival, ms. */
  readonly at: number;
  readonly streamSid: string;
  /** μ-law bytes. */
  readonly audio: Uint8Array;
}

/** A simulated Twilio Media Streams caller. */
export class SimulatedTwilioCall {
  readonly streamSid: string;
  readonly callSid: string;
  /** Every message received, parsed, in order. */
  readonly received: Record<string, unknown>[] = [];
  /** Bot audio received. */
  readonly media: ReceivedMedia[] = [];
  /** `performance.now()` of each `clear`. */
  readonly clears: number[] = [];
  /** Marks answered (name, and whether they were played or cleared). */
  readonly marksAnswered: { name: string; played: boolean }[] = [];
  /** Close code and reason, once closed. */
  closed: { code: number; reason: string } | undefined;
  readonly #ws: WebSocket;
  #seq = 1;
  #chunk = 1;
  #playhead = 0;
  #pendingMarks: { name: string; timer: ReturnType<typeof setTimeout> }[] = [];
  readonly #closedPromise: Promise<void>;
  #listeners: ((m: Record<string, unknown>) => void)[] = [];

  private constructor(ws: WebSocket, options: SimulatedTwilioCallOptions) {
    this.#ws = ws;
    this.streamSid = options.streamSid ?? `MZ${randomHex(32)}`;
    this.callSid = options.callSid ?? `CA${randomHex(32)}`;
    this.#closedPromise = new Promise((resolve) =>
      ws.once("close", (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        for (const m of this.#pendingMarks) clearTimeout(m.timer);
        resolve();
      }),
    );
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse((data as Buffer).toString("utf8")) as Record<string, unknown>;
      } catch {
        return;
      }
      this.received.push(msg);
      this.#handle(msg);
      for (const l of this.#listeners) l(msg);
    });
  }

  /** Opens the socket, sends `connected` and `start` (μ-law 8000 Hz mono, as Twilio does). */
  static async connect(
    url: string,
    options: SimulatedTwilioCallOptions & { accountSid?: string } = {},
  ): Promise<SimulatedTwilioCall> {
    const ws = new WebSocket(url);
    const call = new SimulatedTwilioCall(ws, options);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`HTTP ${res.statusCode} on upgrade`)),
      );
    });
    call.sendJson({ event: "connected", protocol: "Call", version: "1.0.0" });
    call.sendJson({
      event: "start",
      sequenceNumber: String(call.#seq++),
      start: {
        accountSid: options.accountSid ?? `AC${randomHex(32)}`,
        streamSid: call.streamSid,
        callSid: call.callSid,
        tracks: ["inbound"],
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
        customParameters: options.customParameters ?? {},
      },
      streamSid: call.streamSid,
    });
    return call;
  }

  /** Sends any JSON message (tests of bad input use it too). */
  sendJson(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  /** Sends a raw text message. */
  sendRaw(text: string): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(text);
  }

  /**
   * Streams μ-law 8 kHz audio as 20 ms `media` messages at real-time pace (as Twilio does).
   * Stops early if `signal` aborts or the socket closes.
   */
  async sendAudio(mulaw: Uint8Array, signal?: AbortSignal): Promise<void> {
    const t0 = performance.now();
    for (let off = 0, n = 0; off < mulaw.byteLength; off += 160, n++) {
      if (signal?.aborted || this.#ws.readyState !== this.#ws.OPEN) return;
      this.sendJson({
        event: "media",
        sequenceNumber: String(this.#seq++),
        media: {
          track: "inbound",
          chunk: String(this.#chunk++),
          timestamp: String(n * 20),
          payload: Buffer.from(mulaw.subarray(off, off + 160)).toString("base64"),
        },
        streamSid: this.streamSid,
      });
      const wait = t0 + (n + 1) * 20 - performance.now();
      if (wait > 1) await sleep(wait);
    }
  }

  /** A key press. */
  sendDtmf(digit: string): void {
    this.sendJson({
      event: "dtmf",
      streamSid: this.streamSid,
      sequenceNumber: String(this.#seq++),
      dtmf: { track: "inbound_track", digit },
    });
  }

  /** The caller hangs up: `stop`, then the socket closes (as Twilio does). */
  async hangUp(): Promise<void> {
    this.sendJson({
      event: "stop",
      sequenceNumber: String(this.#seq++),
      streamSid: this.streamSid,
      stop: { accountSid: "AC", callSid: this.callSid },
    });
    await sleep(50);
    this.#ws.close(1000);
    await this.#closedPromise;
  }

  /** Resolves when the server closes the socket (or it closed already). */
  whenClosed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Resolves with the first received message matching `predicate` (from now on), or rejects after `timeoutMs`. */
  waitFor(
    predicate: (m: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((l) => l !== listener);
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (m: Record<string, unknown>): void => {
        if (!predicate(m)) return;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((l) => l !== listener);
        resolve(m);
      };
      this.#listeners.push(listener);
    });
  }

  #handle(msg: Record<string, unknown>): void {
    const now = performance.now();
    if (msg.event === "media") {
      const media = msg.media as { payload?: string } | undefined;
      const audio = new Uint8Array(Buffer.from(media?.payload ?? "", "base64"));
      this.media.push({ at: now, streamSid: String(msg.streamSid), audio });
      this.#playhead = Math.max(this.#playhead, now) + audio.byteLength / 8;
    } else if (msg.event === "mark") {
      const name = String((msg.mark as { name?: string } | undefined)?.name);
      const delay = Math.max(0, this.#playhead - now);
      const timer = setTimeout(() => {
        this.#pendingMarks = this.#pendingMarks.filter((m) => m.timer !== timer);
        this.#answerMark(name, true);
      }, delay);
      this.#pendingMarks.push({ name, timer });
    } else if (msg.event === "clear") {
      this.clears.push(now);
      this.#playhead = now;
      const pending = this.#pendingMarks;
      this.#pendingMarks = [];
      for (const m of pending) {
        clearTimeout(m.timer);
        this.#answerMark(m.name, false);
      }
    }
  }

  #answerMark(name: string, played: boolean): void {
    this.marksAnswered.push({ name, played });
    this.sendJson({
      event: "mark",
      sequenceNumber: String(this.#seq++),
      streamSid: this.streamSid,
      mark: { name },
    });
  }
}

function randomHex(n: number): string {
  let s = "";
  while (s.length < n) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
