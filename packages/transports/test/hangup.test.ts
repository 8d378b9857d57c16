/**
 * REST hang-up against local fakes of the providers' APIs. Each fake checks the request the
 * way the provider documents it (method, path, auth scheme, body) and answers as documented:
 * Twilio "Update a Call" (POST …/Calls/{CallSid}.json, Status=completed → 200; unknown → 404
 * code 20404), Telnyx "Hangup call" (POST /v2/calls/{id}/actions/hangup, Bearer → 200; ended →
 * 422 code 90018), Plivo "Hang up a call" (DELETE /v1/Account/{id}/Call/{uuid}/ → 204; 404).
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import {
  EndTaskFrame,
  FrameProcessor,
  InputDTMFFrame,
  Pipeline,
  PipelineTask,
} from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import {
  HangUpError,
  PlivoRestHangUp,
  TelnyxRestHangUp,
  TwilioFrameSerializer,
  TwilioRestHangUp,
  WebSocketServerTransport,
} from "../src/index.js";
import type { CallInfo } from "../src/index.js";
import { SimulatedTwilioCall } from "../src/testing.js";

interface Seen {
  method: string;
  path: string;
  auth: string;
  contentType: string;
  body: string;
}

let fake: Server | undefined;
let server: WebSocketServerTransport | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await new Promise<void>((r) => (fake ? fake.close(() => r()) : r()));
  fake = undefined;
});

async function fakeApi(
  handle: (req: Seen, res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  fake = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const s: Seen = {
        method: req.method ?? "",
        path: req.url ?? "",
        auth: req.headers.authorization ?? "",
        contentType: req.headers["content-type"] ?? "",
        body,
      };
      seen.push(s);
      handle(s, res);
    });
  });
  await new Promise<void>((r) => fake!.listen(0, "127.0.0.1", r));
  const addr = fake.address();
  return { url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`, seen };
}

const call = (callId: string, accountId?: string): CallInfo => ({
  streamId: "MZ1",
  callId,
  accountId,
  customParameters: {},
  inputFormat: { encoding: "mulaw", sampleRate: 8000 },
});

/** A fake of Twilio's Calls resource: only CA-live is in progress. */
function twilioFake(req: Seen, res: ServerResponse): void {
  const m = /^\/2010-04-01\/Accounts\/(AC\w+)\/Calls\/(CA[\w-]+)\.json$/.exec(req.path);
  const expectedAuth = `Basic ${Buffer.from("AC123:secret-token").toString("base64")}`;
  if (req.method !== "POST" || !m) return void res.writeHead(405).end();
  if (req.auth !== expectedAuth)
    return void res.writeHead(401, { "content-type": "application/json" }).end('{"code":20003}');
  if (
    !req.contentType.startsWith("application/x-www-form-urlencoded") ||
    req.body !== "Status=completed"
  )
    return void res.writeHead(400, { "content-type": "application/json" }).end('{"code":21218}');
  if (m[2] !== "CA-live")
    return void res
      .writeHead(404, { "content-type": "application/json" })
      .end('{"code":20404,"message":"The requested resource was not found","status":404}');
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(JSON.stringify({ sid: m[2], status: "completed" }));
}

describe("REST hang-up", () => {
  it("Twilio: POST Status=completed with Basic auth; unknown call = already ended; 401 is an error without the token", async () => {
    const { url, seen } = await fakeApi(twilioFake);
    const h = new TwilioRestHangUp({
      accountSid: "AC123",
      authToken: "secret-token",
      baseUrl: url,
    });
    await expect(h.hangUp(call("CA-live"))).resolves.toBe("ended");
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: "/2010-04-01/Accounts/AC123/Calls/CA-live.json",
      body: "Status=completed",
    });
    await expect(h.hangUp(call("CA-gone"))).resolves.toBe("already-ended");
    const wrong = new TwilioRestHangUp({ accountSid: "AC123", authToken: "wrong", baseUrl: url });
    const err = await wrong.hangUp(call("CA-live")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HangUpError);
    expect(String(err)).toContain("HTTP 401");
    expect(String(err)).not.toContain("wrong");
  });

  it("Telnyx: POST …/actions/hangup with Bearer; 422 90018 = already ended", async () => {
    const { url, seen } = await fakeApi((req, res) => {
      const m = /^\/v2\/calls\/([^/]+)\/actions\/hangup$/.exec(req.path);
      if (req.method !== "POST" || !m || req.auth !== "Bearer KEY123")
        return void res.writeHead(401).end();
      if (decodeURIComponent(m[1]) === "v3:live")
        return void res
          .writeHead(200, { "content-type": "application/json" })
          .end('{"data":{"result":"ok"}}');
      res
        .writeHead(422, { "content-type": "application/json" })
        .end('{"errors":[{"code":"90018","title":"Call has already ended"}]}');
    });
    const h = new TelnyxRestHangUp({ apiKey: "KEY123", baseUrl: url });
    await expect(h.hangUp(call("v3:live"))).resolves.toBe("ended");
    expect(seen[0].path).toBe("/v2/calls/v3%3Alive/actions/hangup");
    await expect(h.hangUp(call("v3:old"))).resolves.toBe("already-ended");
  });

  it("Plivo: DELETE /v1/Account/{id}/Call/{uuid}/ → 204; 404 = already ended", async () => {
    const { url, seen } = await fakeApi((req, res) => {
      const auth = `Basic ${Buffer.from("MA1:tok").toString("base64")}`;
      if (req.method !== "DELETE" || req.auth !== auth) return void res.writeHead(401).end();
      res.writeHead(req.path === "/v1/Account/MA1/Call/uuid-live/" ? 204 : 404).end();
    });
    const h = new PlivoRestHangUp({ authId: "MA1", authToken: "tok", baseUrl: url });
    await expect(h.hangUp(call("uuid-live"))).resolves.toBe("ended");
    expect(seen[0]).toMatchObject({ method: "DELETE", path: "/v1/Account/MA1/Call/uuid-live/" });
    await expect(h.hangUp(call("uuid-old"))).resolves.toBe("already-ended");
  });

  it("an unreachable API is a clear error naming the host", async () => {
    const h = new TwilioRestHangUp({
      accountSid: "AC1",
      authToken: "t",
      baseUrl: "http://127.0.0.1:1",
    });
    await expect(h.hangUp(call("CA1"))).rejects.toThrow(
      /twilio hang-up failed: http:\/\/127\.0\.0\.1:1 unreachable/,
    );
  });

  it("the agent ending the call (EndTaskFrame) hangs up through the API; a caller's stop does not", async () => {
    const { url, seen } = await fakeApi(twilioFake);
    /** Ends the call when the caller presses #. */
    class HangUpOnPound extends FrameProcessor {
      override process(frame: Frame, direction: FrameDirection): void {
        if (frame instanceof InputDTMFFrame && frame.button === "#")
          this.push(new EndTaskFrame({ reason: "caller asked" }), "upstream");
        this.push(frame, direction);
      }
    }
    server = new WebSocketServerTransport({
      serializer: () => new TwilioFrameSerializer(),
      hangUp: () => new TwilioRestHangUp({ authToken: "secret-token", baseUrl: url }),
    });
    const runs: Promise<unknown>[] = [];
    server.on("session", (s) => {
      runs.push(
        new PipelineTask(new Pipeline([s.input, new HangUpOnPound(), s.output]), {
          idleTimeoutMs: null,
        }).run(),
      );
    });
    const port = await server.listen();
    const a = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${port}`, {
      callSid: "CA-live",
      accountSid: "AC123",
    });
    await new Promise((r) => setTimeout(r, 100));
    a.sendDtmf("#");
    await a.whenClosed();
    expect(a.closed?.code).toBe(1000);
    expect(seen).toHaveLength(1);
    expect(seen[0].path).toBe("/2010-04-01/Accounts/AC123/Calls/CA-live.json");
    const b = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${port}`, { accountSid: "AC123" });
    await new Promise((r) => setTimeout(r, 100));
    await b.hangUp();
    await Promise.all(runs);
    expect(seen).toHaveLength(1);
  });
});
