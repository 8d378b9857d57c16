/**
 * The connection lifecycle's transition table (src/client/lifecycle.ts), checked twice:
 * as a table (every state reachable, terminal states stay terminal, an illegal event is
 * reported and changes nothing), and in the real client against the local Flux server
 * (scripted engine, faults per handshake): each scenario records the transitions the client
 * logs and must walk exactly the documented path; together the scenarios walk every row.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loggerFromSink } from "@voxpipe/core";
import {
  LIFECYCLE,
  Lifecycle,
  type LifecycleEffect,
  type LifecycleEvent,
} from "../src/client/lifecycle.js";
import type { FluxClientState } from "../src/client/options.js";
import type { FluxClient } from "../src/flux-client.js";
import {
  TRANSCRIPTS,
  client,
  conversation,
  endOfTurns,
  pause,
  server,
  speech,
  stream,
} from "./helpers.js";

type Step = `${FluxClientState} -${LifecycleEvent}-> ${FluxClientState}`;

const STATES = Object.keys(LIFECYCLE) as FluxClientState[];
const ROWS: Step[] = STATES.flatMap((from) =>
  Object.entries(LIFECYCLE[from]).map(
    ([event, t]): Step => `${from} -${event as LifecycleEvent}-> ${t.to}`,
  ),
);

/** A logger that keeps the lifecycle's transitions and its illegal-event reports. */
function lifecycleLog(): {
  logger: ReturnType<typeof loggerFromSink>;
  steps: Step[];
  illegal: string[];
} {
  const steps: Step[] = [];
  const illegal: string[] = [];
  const logger = loggerFromSink(
    {
      debug: (message, f) => {
        if (message === "flux client lifecycle") {
          steps.push(`${String(f.from)} -${String(f.event)}-> ${String(f.to)}` as Step);
        }
      },
      info: () => {},
      warn: () => {},
      error: (message, f) => {
        if (message.startsWith("illegal")) illegal.push(`${String(f.state)}/${String(f.event)}`);
      },
    },
    "debug",
  );
  return { logger, steps, illegal };
}

/** Resolves when the client's event stream completes (closed or failed). */
const completed = (c: FluxClient): Promise<void> =>
  new Promise((resolve) => c.events$.subscribe({ complete: resolve }));

/** Resolves on the client's first `Reconnecting` event. */
const firstReconnecting = (c: FluxClient): Promise<void> =>
  new Promise((resolve) => c.events$.subscribe((e) => e.type === "Reconnecting" && resolve()));

describe("the lifecycle table", () => {
  it("reaches every state from idle, and only close/destroy leave a terminal state unchanged", () => {
    const seen = new Set<FluxClientState>(["idle"]);
    const queue: FluxClientState[] = ["idle"];
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      for (const t of Object.values(LIFECYCLE[s])) {
        if (!seen.has(t.to)) {
          seen.add(t.to);
          queue.push(t.to);
        }
      }
    }
    expect([...seen].sort()).toEqual([...STATES].sort());
    for (const terminal of ["closed", "failed"] as const) {
      expect(Object.keys(LIFECYCLE[terminal]).sort()).toEqual(["close", "destroy"]);
      for (const t of Object.values(LIFECYCLE[terminal])) {
        expect(t).toEqual({ to: terminal, effects: [] });
      }
    }
    // every way into `failed` tells everyone once and completes the stream
    for (const from of STATES) {
      for (const t of Object.values(LIFECYCLE[from])) {
        if (t.to === "failed" && from !== "failed") {
          expect(t.effects).toEqual([
            "endTurnsLost",
            "teardown",
            "rejectWaiters",
            "emitFatal",
            "complete",
          ]);
        }
      }
    }
  });

  it("runs a transition's effects in order, after the state changed", () => {
    const ran: [LifecycleEffect, FluxClientState][] = [];
    const lifecycle: Lifecycle<undefined> = new Lifecycle(
      (effect) => ran.push([effect, lifecycle.state]),
      lifecycleLog().logger,
    );
    expect(lifecycle.fire("start", undefined)).toBe(true);
    expect(ran).toEqual([
      ["startWatchdog", "connecting"],
      ["connect", "connecting"],
    ]);
  });

  it("reports an illegal event (logged at error, counted) and applies nothing", () => {
    const ran: LifecycleEffect[] = [];
    const log = lifecycleLog();
    const lifecycle = new Lifecycle<undefined>((effect) => ran.push(effect), log.logger);
    expect(lifecycle.fire("connected", undefined)).toBe(false);
    expect(lifecycle.fire("drained", undefined)).toBe(false);
    expect(lifecycle.state).toBe("idle");
    expect(ran).toEqual([]);
    expect(lifecycle.illegal).toBe(2);
    expect(log.illegal).toEqual(["idle/connected", "idle/drained"]);
  });
});

describe("the real client walks the table", () => {
  const walked = new Set<Step>();
  const open: { close(): Promise<void> | void }[] = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });

  async function run(
    plans: Parameters<typeof server>[0],
    options: Parameters<typeof client>[1],
    act: (c: FluxClient) => Promise<unknown>,
  ): Promise<Step[]> {
    const s = await server(plans);
    open.push(s);
    const log = lifecycleLog();
    const c = client(s.url, { ...options, logger: log.logger });
    open.push({ close: () => c.destroy() });
    await act(c).catch(() => {});
    c.destroy(); // idempotent once closed/failed: a legal no-op row
    expect(log.illegal).toEqual([]);
    for (const step of log.steps) walked.add(step);
    return log.steps;
  }

  it("connect → connected → reconnecting (a drop) → connected → closing → closed", async () => {
    const steps = await run(
      [
        { faults: { drop: { afterAudioSeconds: 0.3 + 1.2 + 1.5 + 1.0 } } },
        { engineOptions: { transcripts: TRANSCRIPTS.slice(1) } },
      ],
      {},
      async (c) => {
        const done = endOfTurns(c.events$, 2);
        await c.start();
        await stream(c, conversation(2));
        await done;
        await c.close();
      },
    );
    expect(steps).toEqual([
      "idle -start-> connecting",
      "connecting -connected-> open",
      "open -dropped-> reconnecting",
      "reconnecting -connected-> open",
      "open -close-> closing",
      "closing -dropped-> closing", // Flux closes the socket after CloseStream
      "closing -drained-> closed",
      "closed -destroy-> closed",
    ]);
  });

  it("fatal: a 401 fails the first connection at once", async () => {
    const steps = await run([{ faults: { refuseHandshake: { status: 401 } } }], {}, (c) =>
      c.start(),
    );
    expect(steps).toEqual([
      "idle -start-> connecting",
      "connecting -gaveUp-> failed",
      "failed -destroy-> failed",
    ]);
  });

  it("fatal: Flux's protocol Error on the live connection", async () => {
    const fatalError = { afterAudioSeconds: 0.5, code: "UNPARSABLE_CLIENT_MESSAGE" };
    const steps = await run([{ faults: { fatalError } }], {}, async (c) => {
      await c.start();
      await stream(c, conversation(1));
      await completed(c);
      await c.close();
    });
    expect(steps).toEqual([
      "idle -start-> connecting",
      "connecting -connected-> open",
      "open -rejected-> failed",
      "failed -close-> failed",
      "failed -destroy-> failed",
    ]);
  });

  it("give-up: a drop, then every reconnect refused until the attempts run out", async () => {
    const refuse = { faults: { refuseHandshake: { status: 503 } } };
    const steps = await run(
      [{ faults: { drop: { afterAudioSeconds: 0.5 } } }, refuse, refuse, refuse],
      { reconnect: { minDelayMs: 5, maxDelayMs: 20, maxAttempts: 2 } },
      async (c) => {
        await c.start();
        await stream(c, conversation(1));
        await completed(c);
      },
    );
    expect(steps).toEqual([
      "idle -start-> connecting",
      "connecting -connected-> open",
      "open -dropped-> reconnecting",
      "reconnecting -gaveUp-> failed",
      "failed -destroy-> failed",
    ]);
  });

  it("renew: a model change reconnects at the turn boundary", async () => {
    const steps = await run([], {}, async (c) => {
      await c.start();
      await c.configure({ model: "flux-general-multi" });
      await c.close();
    });
    expect(steps.slice(0, 4)).toEqual([
      "idle -start-> connecting",
      "connecting -connected-> open",
      "open -renew-> reconnecting",
      "reconnecting -connected-> open",
    ]);
  });

  it("close while connecting waits for the connection; close while reconnecting too", async () => {
    const refuse = { faults: { refuseHandshake: { status: 503 } } };
    const first = await run([refuse], { silenceAfterMs: 10_000 }, async (c) => {
      const started = c.start();
      await stream(c, Buffer.concat([pause(300), speech(600)]));
      await c.close();
      await started;
    });
    expect(first.slice(0, 3)).toEqual([
      "idle -start-> connecting",
      "connecting -close-> closing",
      "closing -connected-> closing",
    ]);
    const second = await run(
      [{ faults: { drop: { afterAudioSeconds: 0.5 } } }, refuse],
      {},
      async (c) => {
        await c.start();
        const reconnecting = firstReconnecting(c);
        await stream(c, conversation(1));
        await reconnecting;
        await c.close();
      },
    );
    expect(second).toContain("reconnecting -close-> closing");
  });

  it("closing gives up when the connection never comes back; a rejected close still closes", async () => {
    const refuse = { faults: { refuseHandshake: { status: 503 } } };
    const gaveUp = await run(
      [refuse, refuse, refuse],
      { reconnect: { minDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, firstConnectAttempts: 3 } },
      async (c) => {
        void c.start().catch(() => {});
        await c.close();
      },
    );
    expect(gaveUp).toContain("closing -gaveUp-> failed");
    const fatalError = { afterAudioSeconds: 0.5, code: "UNPARSABLE_CLIENT_MESSAGE" };
    const rejected = await run([{ faults: { fatalError } }], {}, async (c) => {
      await c.start();
      c.sendAudio(pause(600));
      await c.close(); // Flux's fatal Error arrives while closing
    });
    expect(rejected).toContain("closing -rejected-> closing");
    expect(rejected).toContain("closing -drained-> closed");
  });

  it("destroy and close from every other state", async () => {
    await run([], {}, (c) => c.close()); // idle: nothing to flush
    await run([], {}, () => Promise.resolve()); // idle -destroy
    const refuse = { faults: { refuseHandshake: { status: 503 } } };
    // connecting, open, reconnecting, closing -destroy
    await run([refuse], {}, (c) => {
      void c.start().catch(() => {});
      return Promise.resolve();
    });
    await run([], {}, (c) => c.start());
    await run([{ faults: { drop: { afterAudioSeconds: 0.5 } } }, refuse], {}, async (c) => {
      await c.start();
      const reconnecting = firstReconnecting(c);
      await stream(c, conversation(1));
      await reconnecting;
    });
    await run([refuse], {}, (c) => {
      void c.start().catch(() => {});
      void c.close();
      return Promise.resolve();
    });
    await run([], {}, (c) => {
      c.destroy();
      return c.close(); // closed -close-> closed
    });
  });

  it("together, the scenarios above walked every row of the table", () => {
    expect([...walked].sort()).toEqual([...ROWS].sort());
  });
});
