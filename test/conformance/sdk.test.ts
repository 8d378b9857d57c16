/**
 * Conformance: the official `@deepgram/sdk` 5.x client (`listen.v2`) against the local
 * server. If the SDK can connect, stream, Configure, ForceEndTurn and CloseStream, and
 * the stream it receives passes the protocol checker, the server speaks Flux as the SDK
 * understands it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DeepgramClient } from "@deepgram/sdk";
import {
  checkTurnSequence,
  parseServerMessageObject,
  type ServerMessage,
  type TurnInfoMessage,
} from "@voxpipe/flux-protocol";
import { startFluxServer, type FluxServer } from "@voxpipe/flux-server";
import { chunks, silence, tone } from "@voxpipe/flux-server/testing";

const RATE = 16000;
const API_KEY = "conformance-test-key";
let server: FluxServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

type SdkSocket = Awaited<ReturnType<DeepgramClient["listen"]["v2"]["connect"]>>;

/** Opens an SDK socket with its reconnection off and records every message and the close. */
async function openSdk(
  url: string,
  args: Omit<
    Parameters<DeepgramClient["listen"]["v2"]["connect"]>[0],
    "reconnectAttempts" | "shouldReconnect"
  >,
) {
  const client = new DeepgramClient({ apiKey: API_KEY, baseUrl: url });
  const socket: SdkSocket = await client.listen.v2.connect({
    ...args,
    reconnectAttempts: 0,
    shouldReconnect: () => false,
  });
  const messages: ServerMessage[] = [];
  const waiters: { test: (m: ServerMessage) => boolean; resolve: () => void }[] = [];
  socket.on("message", (raw) => {
    const message = parseServerMessageObject(raw);
    messages.push(message);
    for (const w of waiters.filter((w) => w.test(message))) w.resolve();
  });
  const closed = new Promise<number>((resolve) =>
    socket.on("close", (event: { code: number }) => resolve(event.code)),
  );
  socket.connect();
  await socket.waitForOpen();
  const waitFor = (test: (m: ServerMessage) => boolean) =>
    messages.some(test)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ test, resolve }));
  return { socket, messages, closed, waitFor };
}

const turnInfos = (messages: ServerMessage[]) =>
  messages.filter((m): m is TurnInfoMessage => m.type === "TurnInfo");

describe("@deepgram/sdk listen.v2 against the local server", () => {
  it("connects with a Token API key, streams, configures, forces an end of turn and closes the stream", async () => {
    server = await startFluxServer({
      apiKey: API_KEY,
      engineOptions: { transcripts: ["Hello from the SDK.", "Second turn here."] },
    });
    const sdk = await openSdk(server.url, {
      model: "flux-general-en",
      encoding: "linear16",
      sample_rate: RATE,
      eot_threshold: 0.7,
      eager_eot_threshold: 0.4,
      eot_timeout_ms: 5000,
      keyterm: ["voxpipe", "Flux"],
      tag: "conformance",
    });
    await sdk.waitFor((m) => m.type === "Connected");
    const send = (audio: Buffer) => {
      for (const chunk of chunks(audio, RATE)) sdk.socket.sendMedia(chunk);
    };
    send(Buffer.concat([silence(320, RATE), tone(960, RATE), silence(1200, RATE)]));
    sdk.socket.sendConfigure({
      type: "Configure",
      thresholds: { eot_threshold: 0.8 },
      keyterms: ["voxpipe"],
    });
    await sdk.waitFor((m) => m.type === "ConfigureSuccess");
    send(Buffer.concat([tone(720, RATE), silence(160, RATE)]));
    sdk.socket.sendForceEndTurn({ type: "ForceEndTurn" });
    send(silence(400, RATE));
    sdk.socket.sendCloseStream({ type: "CloseStream" });
    expect(await sdk.closed).toBe(1005);

    expect(checkTurnSequence(sdk.messages, { maxUpdateGapSeconds: 0.24 }).violations).toEqual([]);
    const ends = turnInfos(sdk.messages).filter((m) => m.event === "EndOfTurn");
    expect(ends.map((m) => [m.turn_index, m.trigger, m.transcript])).toEqual([
      [0, "model", "Hello from the SDK."],
      [1, "manual", "Second turn here."],
    ]);
    expect(turnInfos(sdk.messages).some((m) => m.event === "EagerEndOfTurn")).toBe(true);
    expect(sdk.messages.find((m) => m.type === "ConfigureSuccess")).toMatchObject({
      thresholds: { eager_eot_threshold: 0.4, eot_threshold: 0.8, eot_timeout_ms: 5000 },
      keyterms: ["voxpipe"],
    });
    expect(turnInfos(sdk.messages).at(-1)?.audio_window_end).toBeCloseTo(
      0.32 + 0.96 + 1.2 + 0.72 + 0.16 + 0.4,
      5,
    );
  });

  it("carries repeated language_hint keys on flux-general-multi and gets languages on every TurnInfo", async () => {
    server = await startFluxServer({
      engineOptions: { transcripts: ["Bonjour tout le monde."], language: "fr" },
    });
    const sdk = await openSdk(server.url, {
      model: "flux-general-multi",
      encoding: "linear16",
      sample_rate: RATE,
      language_hint: ["fr", "en"],
    });
    for (const chunk of chunks(Buffer.concat([tone(800, RATE), silence(1200, RATE)]), RATE))
      sdk.socket.sendMedia(chunk);
    sdk.socket.sendCloseStream({ type: "CloseStream" });
    expect(await sdk.closed).toBe(1005);
    expect(
      checkTurnSequence(sdk.messages, { model: "flux-general-multi", maxUpdateGapSeconds: 0.24 })
        .violations,
    ).toEqual([]);
    expect(turnInfos(sdk.messages).find((m) => m.event === "EndOfTurn")).toMatchObject({
      languages: ["fr"],
      languages_hinted: ["fr", "en"],
    });
  });

  it("sees a 401 as a failed connection when the key is wrong", async () => {
    server = await startFluxServer({ apiKey: "another-key" });
    const client = new DeepgramClient({ apiKey: API_KEY, baseUrl: server.url });
    const socket = await client.listen.v2.connect({
      model: "flux-general-en",
      encoding: "linear16",
      sample_rate: RATE,
      reconnectAttempts: 0,
      shouldReconnect: () => false,
    });
    const error = new Promise<Error>((resolve) => socket.on("error", resolve));
    socket.connect();
    expect((await error).message).toContain("401");
    socket.close();
    expect(server.counters()).toMatchObject({ sessions: 0, refused: 1 });
  });
});
