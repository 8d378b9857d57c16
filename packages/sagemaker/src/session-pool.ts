import { connect, type ClientHttp2Session } from "node:http2";

/** Streams per HTTP/2 connection before another connection is opened. */
const DEFAULT_MAX_STREAMS_PER_SESSION = 100;

/** A place for one stream on a pooled session; `release` once the stream closed. */
export interface PooledStreamSlot {
  readonly session: ClientHttp2Session;
  readonly release: () => void;
}

interface PooledSession {
  readonly session: ClientHttp2Session;
  streams: number;
}

/**
 * HTTP/2 connections shared by the streams to one origin. Many streams ride one TLS
 * connection (HTTP/2 multiplexing): Deepgram's SageMaker transport found that one TLS
 * connection per stream was refused at a few hundred streams, and one connection per
 * stream also costs a TLS handshake per reconnect. A connection carries at most
 * `maxStreamsPerSession` streams; it is unref'd while it carries none, so an idle pool never
 * keeps the process alive, and is dropped from the pool as soon as it closes, errors or
 * receives GOAWAY.
 */
export class SessionPool {
  private readonly sessions = new Map<string, PooledSession[]>();

  constructor(private readonly maxStreamsPerSession = DEFAULT_MAX_STREAMS_PER_SESSION) {}

  /**
   * A session to `origin` with room for one more stream; call the returned `release` once
   * that stream closed.
   */
  acquire(origin: string, ca: string | undefined): PooledStreamSlot {
    const key = `${origin}\n${ca ?? ""}`;
    const list = this.sessions.get(key) ?? [];
    this.sessions.set(key, list);
    let pooled = list.find(
      (p) => p.streams < this.maxStreamsPerSession && !p.session.closed && !p.session.destroyed,
    );
    if (pooled === undefined) {
      const session = connect(origin, ca !== undefined ? { ca } : {});
      const entry: PooledSession = { session, streams: 0 };
      const drop = (): void => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
      };
      // Errors reach each stream through its own events; the session only leaves the pool.
      session.on("error", drop);
      session.on("goaway", drop);
      session.on("close", drop);
      list.push(entry);
      pooled = entry;
    }
    const entry = pooled;
    if (entry.streams++ === 0) entry.session.ref();
    let released = false;
    return {
      session: entry.session,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.streams === 0 && !entry.session.destroyed) entry.session.unref();
      },
    };
  }

  /** Closes every pooled connection (streams still open on them are reset). */
  destroy(): void {
    for (const list of this.sessions.values()) for (const p of list) p.session.destroy();
    this.sessions.clear();
  }
}
