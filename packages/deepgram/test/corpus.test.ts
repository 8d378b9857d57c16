/**
 * Receive leniently: every server message example from the Flux docs, the AsyncAPI spec,
 * the SDKs' types and a live capture (as listed in shared/reference/flux-protocol.md §3,
 * with the sources that disagree) is fed through a real FluxClient, and each must yield
 * the event a user expects. The carrier here is a fake by design: it plays a scripted
 * server (these exact frames), which no real server would send in this combination.
 */
import { describe, expect, it } from "vitest";
import type { ClientMessage } from "@voxpipe/flux-protocol";
import { FluxClient } from "../src/flux-client.js";
import type { Carrier, CarrierHandlers } from "../src/carriers/carrier.js";
import type { FluxEvent } from "../src/events.js";
import { SETTINGS, sleep } from "./helpers.js";

const RID = "3f9c2a10-5d1e-4c8b-9a77-2b1e0c4d5e6f";

/** Connected (AS; live capture: a UUIDv7). */
const CONNECTED = `{"type":"Connected","request_id":"01a059ba-1583-7360-917e-c766366a6787","sequence_id":0}`;
/** Connected as a server that omits the ids (the reproduction). */
const CONNECTED_BARE = `{"type":"Connected"}`;
/** D-state: an Update before speech. */
const UPDATE = `{"type":"TurnInfo","request_id":"${RID}","event":"Update","turn_index":0,"audio_window_start":0.0,"audio_window_end":0.47999996,"transcript":"","words":[],"end_of_turn_confidence":0.0009,"sequence_id":2}`;
/** D-state: StartOfTurn. */
const START = `{"type":"TurnInfo","request_id":"${RID}","event":"StartOfTurn","turn_index":0,"audio_window_start":0.0,"audio_window_end":0.64,"transcript":"Hi I","words":[{"word":"Hi","confidence":0.95,"start":0.4,"end":0.56},{"word":"I","confidence":0.92,"start":0.56,"end":0.64}],"end_of_turn_confidence":0.1,"sequence_id":3}`;
const WORDS = `[{"word":"Hi","confidence":0.95,"start":0.4,"end":0.56},{"word":"I","confidence":0.92,"start":0.56,"end":0.64},{"word":"need","confidence":0.9,"start":0.64,"end":0.8},{"word":"to","confidence":0.9,"start":0.8,"end":0.88},{"word":"cancel","confidence":0.9,"start":0.88,"end":1.04},{"word":"my","confidence":0.9,"start":1.04,"end":1.12},{"word":"subscription","confidence":0.9,"start":1.12,"end":1.36},{"word":"please.","confidence":0.9,"start":1.36,"end":1.52}]`;
const TEXT = "Hi I need to cancel my subscription please.";
/** D-cfg: EagerEndOfTurn (eager mode on). */
const EAGER = `{"type":"TurnInfo","request_id":"${RID}","event":"EagerEndOfTurn","turn_index":0,"audio_window_start":0.0,"audio_window_end":1.52,"transcript":"${TEXT}","words":${WORDS},"end_of_turn_confidence":0.41,"sequence_id":9}`;
/** D-state: TurnResumed carries the updated transcript. */
const RESUMED = `{"type":"TurnInfo","request_id":"${RID}","event":"TurnResumed","turn_index":0,"audio_window_start":0.0,"audio_window_end":1.6,"transcript":"${TEXT}","words":${WORDS},"end_of_turn_confidence":0.2,"sequence_id":10}`;
/** D-state: a model-triggered EndOfTurn. */
const END = `{"type":"TurnInfo","request_id":"${RID}","event":"EndOfTurn","turn_index":0,"audio_window_start":0.0,"audio_window_end":1.76,"transcript":"${TEXT}","words":${WORDS},"end_of_turn_confidence":0.72,"trigger":"model","sequence_id":11}`;
/** D-lang: EndOfTurn on flux-general-multi (words without times, languages). */
const END_MULTI = `{"type":"TurnInfo","request_id":"ad12514a-0d38-4f7e-8fba-cce10d8f174c","event":"EndOfTurn","turn_index":0,"audio_window_start":0,"audio_window_end":1.3,"transcript":"Hello, how are you?","words":[{"word":"Hello,","confidence":0.96},{"word":"how","confidence":0.94},{"word":"are","confidence":0.97},{"word":"you?","confidence":0.92}],"languages":["en"],"languages_hinted":["en","es","de"],"end_of_turn_confidence":0.86,"trigger":"model","sequence_id":11}`;
/** D-fet: a manual EndOfTurn (ForceEndTurn). */
const END_MANUAL = `{"type":"TurnInfo","request_id":"${RID}","event":"EndOfTurn","turn_index":3,"audio_window_start":4.2,"audio_window_end":6.8,"transcript":"That is all.","words":[{"word":"That","confidence":0.9},{"word":"is","confidence":0.9},{"word":"all.","confidence":0.9}],"end_of_turn_confidence":0.35,"trigger":"manual","sequence_id":40}`;
/** Live capture (multi): a StartOfTurn with an empty transcript (CONFLICT with D-state rule 7). */
const START_EMPTY = `{"type":"TurnInfo","request_id":"01a059ba-1583-7360-917e-c766366a6787","event":"StartOfTurn","turn_index":0,"audio_window_start":0,"audio_window_end":0.24,"transcript":"","words":[],"languages":[],"languages_hinted":[],"end_of_turn_confidence":0.01,"sequence_id":1}`;
/** Live capture (multi): an EndOfTurn without `end_of_turn_confidence` and `trigger`. */
const END_CAPTURE = `{"type":"TurnInfo","request_id":"01a059ba-1583-7360-917e-c766366a6787","event":"EndOfTurn","turn_index":0,"audio_window_start":0,"audio_window_end":0.96,"transcript":"I am fine","words":[{"word":"I am","confidence":0.9,"start":0.24,"end":0.48},{"word":"fine","confidence":0.88,"start":0.48,"end":0.72}],"languages":["en"],"languages_hinted":[]}`;
/** SDK type ListenV2TurnInfo: an EndOfTurn with only the typed fields (no trigger, no languages, no ids). */
const END_SDK_MINIMAL = `{"type":"TurnInfo","event":"EndOfTurn","turn_index":0,"audio_window_start":0,"audio_window_end":1.2,"transcript":"Yes.","words":[{"word":"Yes.","confidence":0.99}],"end_of_turn_confidence":0.9}`;
/** AS / SK 1.7.0: ConfigureSuccess echoes the full active configuration. */
const CONFIGURE_SUCCESS = `{"type":"ConfigureSuccess","request_id":"${RID}","thresholds":{"eager_eot_threshold":0.4,"eot_threshold":0.7,"eot_timeout_ms":6000},"keyterms":["apple","banana","orange"],"language_hints":["en","es"],"numerals":false,"sequence_id":17}`;
/** D-conf example: ConfigureSuccess without request_id and sequence_id. */
const CONFIGURE_SUCCESS_DOCS = `{"type":"ConfigureSuccess","thresholds":{"eot_threshold":0.8},"keyterms":["apple"]}`;
/** REF: ConfigureFailure with code and description. */
const CONFIGURE_FAILURE = `{"type":"ConfigureFailure","request_id":"${RID}","sequence_id":42,"code":"INVALID_THRESHOLD","description":"eager_eot_threshold must be less than or equal to eot_threshold"}`;
/** AS (JS 5.13 type): ConfigureFailure without code/description or request_id. */
const CONFIGURE_FAILURE_BARE = `{"type":"ConfigureFailure","sequence_id":42}`;
/** REF / SK: Warning. */
const WARNING = `{"type":"Warning","request_id":"${RID}","sequence_id":23,"code":"FORCE_END_TURN_NO_ACTIVE_TURN","description":"Received ForceEndTurn while no turn was active; the request was ignored."}`;
/** AS / RS: a fatal Error has no request_id. */
const ERROR = `{"type":"Error","sequence_id":5,"code":"UNPARSABLE_CLIENT_MESSAGE","description":"Could not deserialize last text message: unknown variant \`KeepAlive\`, expected one of \`CloseStream\`, \`Configure\`, \`ForceEndTurn\`"}`;
/** RS tests (flux_unknown_messages.rs): a type this client does not know. */
const UNKNOWN_TYPE = `{"type":"Metadata","request_id":"${RID}","sequence_id":4,"duration":1.5}`;
/** RS: an unknown TurnInfo event (open enum). */
const UNKNOWN_EVENT = `{"type":"TurnInfo","request_id":"${RID}","event":"SpeechStarted","turn_index":0,"audio_window_start":0,"audio_window_end":0.24,"transcript":"","words":[],"sequence_id":2}`;

interface Scripted {
  /** Frames sent after the connection opened (the first is normally a Connected). */
  frames: string[];
  /** The answer to a Configure, if any. */
  onConfigure?: string;
}

/** A fake carrier playing one scripted server: `frames` after the open, `onConfigure` per Configure. */
function scriptedCarrier(script: Scripted): Carrier {
  return (_request, handlers: CarrierHandlers) => {
    setImmediate(() => {
      for (const f of script.frames) handlers.onMessage(f);
    });
    return Promise.resolve({
      sendBinary: () => {},
      sendControl: (m: ClientMessage) => {
        if (m.type === "Configure" && script.onConfigure !== undefined) {
          const answer = script.onConfigure;
          setImmediate(() => handlers.onMessage(answer));
        }
      },
      ping: () => {},
      close: () => {},
      bufferedAmount: 0,
    });
  };
}

async function run(
  script: Scripted,
  act?: (c: FluxClient) => Promise<unknown>,
): Promise<{ events: FluxEvent[]; client: FluxClient; outcome?: unknown }> {
  const client = new FluxClient({
    settings: SETTINGS,
    url: "ws://127.0.0.1:9/v2/listen",
    carrier: scriptedCarrier(script),
    connectTimeoutMs: 2000,
    reconnect: { maxAttempts: 1 },
  });
  const events: FluxEvent[] = [];
  client.events$.subscribe({ next: (e) => events.push(e), error: () => {} });
  await client.start();
  let outcome: unknown;
  if (act) outcome = await act(client).catch((e: unknown) => e);
  await sleep(20);
  client.destroy();
  return { events, client, outcome };
}

const types = (events: FluxEvent[]): string[] => events.map((e) => e.type);

describe("receive leniently: the docs', spec's and SDKs' example messages", () => {
  it("Connected, with ids (AS) and without (a server that omits them)", async () => {
    const full = await run({ frames: [CONNECTED] });
    expect(full.events[0]).toMatchObject({
      type: "Connected",
      requestId: "01a059ba-1583-7360-917e-c766366a6787",
    });
    const bare = await run({ frames: [CONNECTED_BARE] });
    expect(bare.events[0]).toMatchObject({ type: "Connected", requestId: "" });
  });

  it("a whole eager turn (D-state, D-cfg): Update, StartOfTurn, EagerEndOfTurn, TurnResumed, EndOfTurn", async () => {
    const { events } = await run({ frames: [CONNECTED, UPDATE, START, EAGER, RESUMED, END] });
    expect(types(events)).toEqual([
      "Connected",
      "Update",
      "StartOfTurn",
      "EagerEndOfTurn",
      "TurnResumed",
      "EndOfTurn",
    ]);
    expect(events.at(-1)).toMatchObject({ transcript: TEXT, trigger: "model" });
  });

  it("multi EndOfTurn (D-lang): words without times, languages kept", async () => {
    const { events } = await run({ frames: [CONNECTED, END_MULTI] });
    expect(events.find((e) => e.type === "EndOfTurn")).toMatchObject({
      transcript: "Hello, how are you?",
      languages: ["en"],
      languagesHinted: ["en", "es", "de"],
      trigger: "model",
    });
  });

  it("manual EndOfTurn (D-fet)", async () => {
    const { events } = await run({ frames: [CONNECTED, END_MANUAL] });
    expect(events.find((e) => e.type === "EndOfTurn")).toMatchObject({
      transcript: "That is all.",
      trigger: "manual",
    });
  });

  it("the live capture: an empty StartOfTurn, an EndOfTurn without confidence, trigger or ids", async () => {
    const { events } = await run({ frames: [CONNECTED, START_EMPTY, END_CAPTURE] });
    expect(types(events)).toEqual(["Connected", "StartOfTurn", "EndOfTurn"]);
    expect(events.at(-1)).toMatchObject({ transcript: "I am fine", trigger: "model" });
  });

  it("the SDK's minimal ListenV2TurnInfo (no ids, no trigger, no languages) after a bare Connected", async () => {
    const { events } = await run({ frames: [CONNECTED_BARE, END_SDK_MINIMAL] });
    expect(events.find((e) => e.type === "EndOfTurn")).toMatchObject({
      transcript: "Yes.",
      trigger: "model",
    });
  });

  it("ConfigureSuccess, full (AS) and as the D-conf example prints it (no ids)", async () => {
    const full = await run({ frames: [CONNECTED], onConfigure: CONFIGURE_SUCCESS }, (c) =>
      c.configure({ keyterms: ["apple", "banana", "orange"] }),
    );
    expect(full.outcome).toMatchObject({ keyterms: ["apple", "banana", "orange"] });
    expect(types(full.events)).toContain("Configured");
    const docs = await run({ frames: [CONNECTED], onConfigure: CONFIGURE_SUCCESS_DOCS }, (c) =>
      c.configure({ eotThreshold: 0.8 }),
    );
    expect(docs.outcome).toMatchObject({ eotThreshold: 0.8, keyterms: ["apple"] });
  });

  it("ConfigureFailure, with code (REF) and bare (AS, JS 5.13)", async () => {
    const coded = await run({ frames: [CONNECTED], onConfigure: CONFIGURE_FAILURE }, (c) =>
      c.configure({ eotThreshold: 0.8 }),
    );
    expect(coded.outcome).toMatchObject({ code: "INVALID_THRESHOLD", source: "configure" });
    const bare = await run({ frames: [CONNECTED], onConfigure: CONFIGURE_FAILURE_BARE }, (c) =>
      c.configure({ eotThreshold: 0.8 }),
    );
    expect(bare.outcome).toMatchObject({ code: "CONFIGURE_FAILURE", source: "configure" });
  });

  it("Warning (REF)", async () => {
    const { events } = await run({ frames: [CONNECTED, WARNING] });
    expect(events.at(-1)).toMatchObject({
      type: "Warning",
      code: "FORCE_END_TURN_NO_ACTIVE_TURN",
    });
  });

  it("a fatal Error without request_id (AS, RS) ends the client with Flux's code", async () => {
    const { events, client } = await run({ frames: [CONNECTED, ERROR] });
    expect(client.state).toBe("failed");
    expect(events.at(-1)).toMatchObject({
      type: "Error",
      error: { code: "UNPARSABLE_CLIENT_MESSAGE", fatal: true },
    });
  });

  it("an unknown type and an unknown TurnInfo event (RS) are skipped and counted, the stream goes on", async () => {
    const { events, client } = await run({
      frames: [CONNECTED, UNKNOWN_TYPE, UNKNOWN_EVENT, START, END],
    });
    expect(types(events)).toEqual(["Connected", "StartOfTurn", "EndOfTurn"]);
    expect(client.metrics.unknownMessages).toBe(2);
  });
});
