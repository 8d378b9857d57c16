/**
 * A fault-injecting TCP proxy for the chaos benchmark: it sits between Flux clients and the
 * local Flux server and, at random times on each connection, does what real networks do to
 * a WebSocket — the server's side, as the client sees it:
 *
 * - **drop**: both sockets destroyed without a close frame (the client sees 1006);
 * - **short stall**: nothing reaches the client for `shortStallMs` (shorter than the client's
 *   stall timeout), then everything held back arrives at once — a client must ride it out
 *   without reconnecting;
 * - **long stall**: nothing reaches the client until it gives up on the connection (the
 *   server keeps hearing audio, as a hung Flux behind a load balancer would);
 * - **blip** (on request, {@link FaultProxy.blip}): every connection dropped at once.
 *
 * It works on bytes, below the WebSocket protocol: it never parses or rewrites a frame, so
 * what the client receives is exactly what the server sent, only late or cut. Refusals
 * (429/500) and messages without optional fields are the server's own faults
 * (`@voxpipe/flux-server` `FaultPlan`), chosen per session by the benchmark's server.
 */
import { connect, createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";

/** Fault kinds the proxy injects. */
export type ProxyFault = "drop" | "shortStall" | "longStall";

/** Options of {@link FaultProxy}. Durations in ms. */
export interface FaultProxyOptions {
  /** The server's port on 127.0.0.1. */
  targetPort: number;
  /** Mean time between faults on one connection (exponentially distributed). */
  meanFaultIntervalMs: number;
  /** Relative weight of each fault kind. */
  weights: Readonly<Record<ProxyFault, number>>;
  /** Length of a short stall (below the client's stall timeout). */
  shortStallMs: number;
  /** A long stall ends when the client closes the connection, or after this long at most. */
  longStallMs: number;
}

/** What the proxy did, for the report. */
export interface ProxyCounters {
  connections: number;
  faults: Record<ProxyFault, number>;
  /** {@link FaultProxy.blip}s: every live connection dropped at once. */
  blips: number;
}

/** One proxied connection. */
class Link {
  #stalled = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly client: Socket,
    readonly server: Socket,
    private readonly onClose: (link: Link) => void,
  ) {
    client.setNoDelay(true);
    server.setNoDelay(true);
    client.pipe(server);
    server.pipe(client);
    const close = (): void => this.close();
    for (const socket of [client, server]) {
      socket.on("error", close);
      socket.on("close", close);
    }
  }

  /** Arms `fire` after `ms`; one pending fault per link. */
  schedule(ms: number, fire: () => void): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(fire, ms);
  }

  /** Cancels the pending fault. */
  cancel(): void {
    clearTimeout(this.#timer);
  }

  drop(): void {
    this.client.destroy();
    this.server.destroy();
  }

  /** Holds back what the server sends (TCP backpressure reaches the server) until {@link release}. */
  stall(): void {
    if (this.#stalled || this.#closed) return;
    this.#stalled = true;
    this.server.unpipe(this.client);
    this.server.pause();
  }

  release(): void {
    if (!this.#stalled || this.#closed) return;
    this.#stalled = false;
    this.server.pipe(this.client);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.client.destroy();
    this.server.destroy();
    this.onClose(this);
  }
}

/** The proxy. Listens on an ephemeral port of 127.0.0.1. */
export class FaultProxy {
  readonly counters: ProxyCounters = {
    connections: 0,
    faults: { drop: 0, shortStall: 0, longStall: 0 },
    blips: 0,
  };
  readonly #links = new Set<Link>();
  readonly #server: Server;
  #faulting = true;

  private constructor(private readonly options: FaultProxyOptions) {
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Starts listening. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once("error", reject);
      proxy.#server.listen(0, "127.0.0.1", resolve);
    });
    return proxy;
  }

  /** `ws://` base URL of the proxy. */
  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Stops injecting: pending faults are cancelled and stalled links released. */
  calm(): void {
    this.#faulting = false;
    for (const link of this.#links) {
      link.cancel();
      link.release();
    }
  }

  /**
   * A network blip (a load balancer restarting): every live connection is dropped at the same
   * instant, so every session reconnects at once.
   */
  blip(): void {
    if (!this.#faulting) return;
    this.counters.blips += 1;
    for (const link of this.#links) link.drop();
  }

  async close(): Promise<void> {
    this.calm();
    for (const link of this.#links) link.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.counters.connections += 1;
    const server = connect(this.options.targetPort, "127.0.0.1");
    const link = new Link(client, server, (l) => this.#links.delete(l));
    this.#links.add(link);
    this.#arm(link);
  }

  #arm(link: Link): void {
    if (!this.#faulting) return;
    const wait = -Math.log(1 - Math.random()) * this.options.meanFaultIntervalMs;
    link.schedule(wait, () => this.#fire(link));
  }

  #fire(link: Link): void {
    if (!this.#faulting) return;
    const fault = this.#pick();
    this.counters.faults[fault] += 1;
    if (fault === "drop") {
      link.drop();
      return;
    }
    // A long stall is expected to end with the client giving up and closing; its bound only
    // keeps a link whose client did not from staying stalled for the rest of the run.
    link.stall();
    const ms = fault === "shortStall" ? this.options.shortStallMs : this.options.longStallMs;
    link.schedule(ms, () => {
      link.release();
      this.#arm(link);
    });
  }

  #pick(): ProxyFault {
    const entries = Object.entries(this.options.weights) as [ProxyFault, number][];
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let r = Math.random() * total;
    for (const [fault, weight] of entries) {
      r -= weight;
      if (r < 0) return fault;
    }
    return "drop";
  }
}
