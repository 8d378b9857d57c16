/**
 * Conformance: every error path of the protocol reference's tables (§1.5, §5), over a raw
 * `ws` client, so the exact HTTP status, headers, body, messages and close codes are seen.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTurnSequence } from "@voxpipe/flux-protocol";
import { startFluxServer, type FluxServer } from "@voxpipe/flux-server";
import { FluxTestClient, HandshakeRefusedError, silence } from "@voxpipe/flux-server/testing";

const KEY = "conformance-key";
const OK = "model=flux-general-en&encoding=linear16&sample_rate=16000";
const AUTH = { headers: { Authorization: `Token ${KEY}` } };
let server: FluxServer;

beforeAll(async () => {
  server = await startFluxServer({ apiKey: KEY, accessToken: "a-temporary-jwt" });
});
afterAll(async () => {
  await server.close();
});

async function refused(
  query: string,
  options: Parameters<typeof FluxTestClient.connect>[2] = AUTH,
): Promise<HandshakeRefusedError> {
  const error = await FluxTestClient.connect(server.url, query, options).then(
    async (client) => {
      await client.close();
      return new Error("handshake was accepted");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HandshakeRefusedError);
  const refusal = error as HandshakeRefusedError;
  expect(refusal.headers["dg-request-id"]).toMatch(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  );
  expect(refusal.headers["dg-error"]).toBeTruthy();
  return refusal;
}

describe("handshake refusals (reference §1.5, §5)", () => {
  it("401 INVALID_AUTH for a missing key, a wrong key, and a Bearer API key", async () => {
    for (const options of [
      {},
      { headers: { Authorization: "Token wrong" } },
      { headers: { Authorization: `Bearer ${KEY}` } },
    ]) {
      const r = await refused(OK, options);
      expect(r.status).toBe(401);
      expect(r.json()).toMatchObject({
        err_code: "INVALID_AUTH",
        err_msg: "Invalid credentials.",
        request_id: r.headers["dg-request-id"],
      });
    }
  });

  it("accepts Token and Bearer headers and the `token, <key>` subprotocol pair, echoing `token`", async () => {
    for (const options of [
      AUTH,
      { headers: { Authorization: "Bearer a-temporary-jwt" } },
      { protocols: ["token", KEY] },
    ]) {
      const client = await FluxTestClient.connect(server.url, OK, options);
      expect(client.responseHeaders["dg-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      if ("protocols" in options) expect(client.socket.protocol).toBe("token");
      const connected = await client.waitFor((m) => m.type === "Connected");
      expect(connected).toMatchObject({
        sequence_id: 0,
        request_id: client.responseHeaders["dg-request-id"],
      });
      await client.close();
    }
  });

  it.each([
    [
      "an unknown parameter (`language`)",
      `${OK}&language=en`,
      "INVALID_QUERY_PARAMETER",
      "language",
    ],
    [
      "an unknown parameter (`channels`)",
      `${OK}&channels=1`,
      "INVALID_QUERY_PARAMETER",
      "channels",
    ],
    [
      "`language_hints` (plural)",
      `${OK}&language_hints=en`,
      "INVALID_QUERY_PARAMETER",
      "language_hints",
    ],
    [
      "eager_eot_threshold above eot_threshold",
      `${OK}&eot_threshold=0.6&eager_eot_threshold=0.7`,
      "INVALID_PARAMETER",
      "eager_eot_threshold",
    ],
    ["eot_threshold out of range", `${OK}&eot_threshold=1.5`, "INVALID_PARAMETER", "eot_threshold"],
    [
      "eot_timeout_ms out of range",
      `${OK}&eot_timeout_ms=100`,
      "INVALID_PARAMETER",
      "eot_timeout_ms",
    ],
    [
      "language_hint on flux-general-en",
      `${OK}&language_hint=en`,
      "INVALID_PARAMETER",
      "language_hint is not supported for model flux-general-en",
    ],
    [
      "an empty language_hint",
      "model=flux-general-multi&encoding=linear16&sample_rate=16000&language_hint=",
      "INVALID_PARAMETER",
      "language_hint",
    ],
    [
      "an unsupported language_hint",
      "model=flux-general-multi&encoding=linear16&sample_rate=16000&language_hint=zz",
      "INVALID_PARAMETER",
      "zz",
    ],
    [
      "a redact value other than numbers/aggressive_numbers",
      `${OK}&redact=pii`,
      "INVALID_PARAMETER",
      "redact",
    ],
    ["a blank keyterm", `${OK}&keyterm=%20`, "INVALID_PARAMETER", "keyterm"],
    [
      "a model that is not Flux",
      "model=nova-3&encoding=linear16&sample_rate=16000",
      "INVALID_PARAMETER",
      "model",
    ],
    ["a missing model", "encoding=linear16&sample_rate=16000", "INVALID_PARAMETER", "model"],
    [
      "an unsupported sample rate",
      "model=flux-general-en&encoding=linear16&sample_rate=22050",
      "INVALID_PARAMETER",
      "sample_rate",
    ],
    [
      "an encoding this server cannot decode",
      "model=flux-general-en&encoding=opus&sample_rate=48000",
      "INVALID_PARAMETER",
      "opus",
    ],
    [
      "containerized audio (no encoding)",
      "model=flux-general-en",
      "INVALID_PARAMETER",
      "containerized",
    ],
  ])("400 for %s", async (_name, query, code, mentions) => {
    const r = await refused(query);
    expect(r.status).toBe(400);
    const body = r.json();
    expect(body).toMatchObject({ code, request_id: r.headers["dg-request-id"] });
    expect(body.description).toContain(mentions);
    expect(r.headers["dg-error"]).toBe(body.description);
  });

  it("400 for keyterm limits without ever echoing the keyterm", async () => {
    const secret = "s".repeat(101);
    const r = await refused(`${OK}&keyterm=${secret}`);
    expect(r.status).toBe(400);
    expect(r.body).not.toContain(secret);
    expect(JSON.stringify(r.headers)).not.toContain(secret);
    const many = Array.from({ length: 101 }, (_, i) => `keyterm=t${i}`).join("&");
    expect((await refused(`${OK}&${many}`)).json().description).toContain("101 terms");
  });

  it("429 when the concurrency limit is reached", async () => {
    const limited = await startFluxServer({ maxSessions: 1 });
    const first = await FluxTestClient.connect(limited.url, OK);
    const error = (await FluxTestClient.connect(limited.url, OK).catch(
      (e: unknown) => e,
    )) as HandshakeRefusedError;
    expect(error.status).toBe(429);
    expect(error.headers["dg-request-id"]).toBeTruthy();
    await first.close();
    await limited.close();
  });
});

describe("stream errors (reference §2, §3.5, §3.6, §5)", () => {
  it.each([
    ["KeepAlive (v1 only)", '{"type":"KeepAlive"}', "unknown variant `KeepAlive`"],
    ["Finalize (v1 only)", '{"type":"Finalize"}', "unknown variant `Finalize`"],
    ["non-JSON text", "hello", "Could not deserialize last text message"],
    ["Configure with numerals as a string", '{"type":"Configure","numerals":"true"}', "numerals"],
    [
      "the v1 Configure form",
      '{"type":"Configure","features":{"numerals":true}}',
      "unknown field `features`",
    ],
  ])(
    "%s → Error UNPARSABLE_CLIENT_MESSAGE, then a close without status (1005)",
    async (_name, text, mentions) => {
      const client = await FluxTestClient.connect(server.url, OK, AUTH);
      client.sendAudio(silence(240, 16000));
      client.sendText(text);
      expect((await client.closed).code).toBe(1005);
      const error = client.messages.at(-1);
      expect(error).toMatchObject({ type: "Error", code: "UNPARSABLE_CLIENT_MESSAGE" });
      expect(error && "description" in error && error.description).toContain(mentions);
      expect(error).not.toHaveProperty("request_id");
      expect(checkTurnSequence(client.messages).violations).toEqual([]);
    },
  );

  it("Configure out of range → ConfigureFailure, and the stream continues", async () => {
    const client = await FluxTestClient.connect(server.url, OK, AUTH);
    client.sendText({
      type: "Configure",
      thresholds: { eot_threshold: 0.6, eager_eot_threshold: 0.7 },
    });
    client.sendText({
      type: "Configure",
      keyterms: Array.from({ length: 101 }, (_, i) => `k${i}`),
    });
    client.sendAudio(silence(240, 16000));
    await client.waitFor((m) => m.type === "TurnInfo");
    const failures = client.messages.filter((m) => m.type === "ConfigureFailure");
    expect(failures.map((m) => "code" in m && m.code)).toEqual([
      "INVALID_THRESHOLD",
      "INVALID_PARAMETER",
    ]);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    await client.close();
  });

  it("ForceEndTurn with no active turn → Warning FORCE_END_TURN_NO_ACTIVE_TURN, each time", async () => {
    const client = await FluxTestClient.connect(server.url, OK, AUTH);
    client.sendText({ type: "ForceEndTurn" });
    client.sendText({ type: "ForceEndTurn" });
    await client.waitFor((m) => m.type === "Warning" && m.sequence_id === 2);
    expect(client.messages.filter((m) => m.type === "Warning")).toHaveLength(2);
    expect(client.messages[1]).toMatchObject({
      code: "FORCE_END_TURN_NO_ACTIVE_TURN",
      request_id: client.responseHeaders["dg-request-id"],
    });
    await client.close();
  });

  it("a server-side failure → Error INTERNAL_SERVER_ERROR (no request_id), then a close without status (1005)", async () => {
    const failing = await startFluxServer({
      engine: {
        name: "failing-test-engine",
        createSession: () => ({
          hear: () => {
            throw new Error("decoder crashed");
          },
          resetTurn: () => undefined,
          close: () => undefined,
        }),
      },
    });
    const client = await FluxTestClient.connect(failing.url, OK);
    client.sendAudio(silence(80, 16000));
    expect((await client.closed).code).toBe(1005);
    expect(client.messages.at(-1)).toEqual({
      type: "Error",
      sequence_id: 1,
      code: "INTERNAL_SERVER_ERROR",
      description: "The speech engine failed while processing audio.",
    });
    await failing.close();
  });

  it("answers WebSocket pings (the v2 keep-alive)", async () => {
    const client = await FluxTestClient.connect(server.url, OK, AUTH);
    const pong = new Promise<Buffer>((resolve) => client.socket.once("pong", resolve));
    client.socket.ping(Buffer.from("keepalive"));
    expect((await pong).toString()).toBe("keepalive");
    await client.close();
  });
});
