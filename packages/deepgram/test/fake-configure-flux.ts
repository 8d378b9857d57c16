/**
 * A fake Flux for the `Configure` bookkeeping tests, as a carrier (no socket, so it runs on
 * fake timers). It is a fake by design: the local server answers every Configure the same
 * way, and these tests need one that refuses only the first, or holds an answer past the
 * client's deadline. What it does answer follows the documented protocol
 * (shared/reference/flux-protocol.md §2.1, §3.3, §3.4): `Connected` first; each Configure
 * answered once, in order; applied atomically with the protocol's own rules
 * (`applyConfigure`); `ConfigureSuccess` echoes the full active configuration, floats
 * printed as float32; `ConfigureFailure` changes nothing; `CloseStream` closes the stream.
 */
import {
  applyConfigure,
  encodeServerMessage,
  FLUX_MULTILINGUAL_MODEL,
  initialActiveConfiguration,
  parseListenQuery,
  type ConfigureMessage,
  type FluxActiveConfiguration,
  type FluxModel,
} from "@voxpipe/flux-protocol";
import type { Carrier } from "../src/carriers/carrier.js";

/** How the fake answers one Configure (in the order they arrive). */
export type ConfigureAnswer =
  | "ok"
  | { refuse: { code: string; description: string } }
  /** Apply it now, answer only when {@link FakeConfigureFlux.release} is called. */
  | "hold";

/** The fake's state, for the test to check against the client's. */
export interface FakeConfigureFlux {
  readonly carrier: Carrier;
  /** Every Configure received, in order. */
  readonly configures: ConfigureMessage[];
  /** The configuration the fake has applied (what a real Flux would have). */
  readonly active: FluxActiveConfiguration;
  /** Sends the oldest held answer. */
  release(): void;
}

/**
 * @param answers how to answer the 1st, 2nd, … Configure; later ones are answered "ok".
 * @param delayMs wall-clock (or fake-clock) delay before each answer that is not held.
 */
export function fakeConfigureFlux(answers: ConfigureAnswer[] = [], delayMs = 0): FakeConfigureFlux {
  const configures: ConfigureMessage[] = [];
  const held: (() => void)[] = [];
  let active: FluxActiveConfiguration | undefined;
  let model: FluxModel = "flux-general-en";
  let sequence = 0;

  const carrier: Carrier = (request, handlers) => {
    const parsed = parseListenQuery(request.query);
    if (!parsed.ok) throw new Error(`fake Flux: bad query: ${parsed.issues[0]?.message ?? ""}`);
    model = parsed.settings.model;
    active = initialActiveConfiguration(parsed.settings);
    const send = (text: string): void => handlers.onMessage(text);
    setImmediate(() =>
      send(encodeServerMessage({ type: "Connected", request_id: "fake", sequence_id: sequence++ })),
    );
    return Promise.resolve({
      sendBinary: () => {},
      sendControl: (message) => {
        // CloseStream: Flux closes without a status code (the client sees 1005, §3.7).
        if (message.type === "CloseStream")
          setImmediate(() => handlers.onClose({ code: 1005, reason: "" }));
        if (message.type !== "Configure") return;
        configures.push(message);
        const answer = answers[configures.length - 1] ?? "ok";
        const reply = answerFor(message, answer);
        if (answer === "hold") held.push(() => send(reply()));
        else setTimeout(() => send(reply()), delayMs);
      },
      ping: () => {},
      close: () => {},
      bufferedAmount: 0,
    });
  };

  /** Applies the Configure now (Flux processes it in stream order), and builds its answer. */
  function answerFor(message: ConfigureMessage, answer: ConfigureAnswer): () => string {
    const current = active ?? initialActiveConfiguration({ model });
    if (typeof answer === "object") {
      const { code, description } = answer.refuse;
      return () =>
        encodeServerMessage({
          type: "ConfigureFailure",
          request_id: "fake",
          sequence_id: sequence++,
          code,
          description,
        });
    }
    const result = applyConfigure(current, message, model);
    if (!result.ok) {
      return () =>
        encodeServerMessage({
          type: "ConfigureFailure",
          request_id: "fake",
          sequence_id: sequence++,
          code: result.code,
          description: result.description,
        });
    }
    const c = result.configuration;
    active = c;
    return () =>
      encodeServerMessage({
        type: "ConfigureSuccess",
        request_id: "fake",
        sequence_id: sequence++,
        thresholds: {
          ...(c.eagerEotThreshold !== undefined && { eager_eot_threshold: c.eagerEotThreshold }),
          eot_threshold: c.eotThreshold,
          eot_timeout_ms: c.eotTimeoutMs,
        },
        keyterms: [...c.keyterms],
        ...(model === FLUX_MULTILINGUAL_MODEL && { language_hints: [...c.languageHints] }),
        numerals: c.numerals,
      });
  }

  return {
    carrier,
    configures,
    get active() {
      if (active === undefined) throw new Error("fake Flux: not connected");
      return active;
    },
    release() {
      held.shift()?.();
    },
  };
}
