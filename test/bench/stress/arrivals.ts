import { createRequire } from "node:module";

/**
 * When each Flux `TurnInfo` message reached the client's socket, so the benchmark can measure
 * message-to-frame delay: from a message's arrival to the client delivering the frame (voxpipe)
 * or speech event (LiveKit) made from it.
 *
 * Both clients receive through the `ws` package (LiveKit's plugin directly, voxpipe through
 * `@deepgram/sdk`). This module wraps `WebSocket.prototype.emit` of every copy of `ws` it is
 * pointed at and, for each text message, notes the arrival time under its `request_id` (unique
 * per connection) and `event`. The work per message is two `indexOf`s and two short slices of
 * the raw buffer, the same for both clients. It is measurement instrumentation for benchmarks,
 * never loaded by voxpipe itself.
 */
export class SocketArrivals {
  /** Arrival times (performance.now) of unmatched messages, oldest first, by `request_id|event`. */
  readonly #pending = new Map<string, number[]>();
  readonly #events: ReadonlySet<string>;
  /** `request_id`s of the connections that received `Connected`. */
  readonly connections = new Set<string>();
  /** TurnInfo messages noted. */
  messages = 0;

  /** @param events TurnInfo events to note (others are only counted as connections' traffic). */
  constructor(events: readonly string[]) {
    this.#events = new Set(events);
  }

  /**
   * Instruments the `ws` copy that `fromModule`'s package resolves (e.g. `import.meta.url` of a
   * module inside the client package, or a package.json path of it). Idempotent per copy.
   */
  instrument(fromModule: string): void {
    const require = createRequire(fromModule);
    const ws = require("ws") as {
      WebSocket: { prototype: { emit: (...args: unknown[]) => boolean } };
    };
    const proto = ws.WebSocket.prototype as {
      emit: (...args: unknown[]) => boolean;
      [MARK]?: true;
    };
    if (proto[MARK]) return;
    const original = proto.emit;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper needs both `this`es
    const arrivals = this;
    proto.emit = function (this: unknown, ...args: unknown[]): boolean {
      if (args[0] === "message" && args[2] === false) arrivals.#note(args[1]);
      return original.apply(this, args);
    };
    proto[MARK] = true;
  }

  /**
   * Takes the arrival time of the oldest unmatched `event` message of connection `requestId`, or
   * undefined when there is none.
   */
  take(requestId: string, event: string): number | undefined {
    const queue = this.#pending.get(`${requestId}|${event}`);
    return queue?.shift();
  }

  #note(data: unknown): void {
    const at = performance.now();
    if (data instanceof ArrayBuffer) data = Buffer.from(data);
    if (!Buffer.isBuffer(data)) return;
    const requestId = field(data, REQUEST_ID);
    if (requestId === undefined) return;
    const event = field(data, EVENT);
    if (event === undefined) {
      if (data.includes(CONNECTED)) this.connections.add(requestId);
      return;
    }
    this.messages += 1;
    if (!this.#events.has(event)) return;
    const key = `${requestId}|${event}`;
    let queue = this.#pending.get(key);
    if (queue === undefined) this.#pending.set(key, (queue = []));
    queue.push(at);
    // A message the client never delivers (e.g. after its stream closed) must not pile up.
    if (queue.length > 16) queue.shift();
  }
}

const MARK = Symbol.for("voxpipe.bench.socketArrivals");
const REQUEST_ID = Buffer.from('"request_id":"');
const EVENT = Buffer.from('"event":"');
const CONNECTED = Buffer.from('"type":"Connected"');

/** The string value of a `"key":"` prefix in a JSON buffer, without parsing it. */
function field(data: Buffer, prefix: Buffer): string | undefined {
  const start = data.indexOf(prefix);
  if (start < 0) return undefined;
  const from = start + prefix.length;
  const end = data.indexOf(0x22, from);
  return end < 0 ? undefined : data.toString("latin1", from, end);
}
