/**
 * `voxpipe serve`'s HTTP side: the documents providers fetch to connect a call (and the busy
 * answer when full), health for load balancers, the browser page, capacity and drain —
 * with a minimal per-call pipeline (the agent's is tested end to end in test/e2e).
 */
import { afterEach, describe, expect, it } from "vitest";
import { Pipeline, PipelineTask } from "@voxpipe/core";
import { SimulatedTwilioCall } from "@voxpipe/transports/testing";
import { connectDocument, startVoxpipeServer } from "../src/serve/server.js";
import type { VoxpipeServer } from "../src/serve/server.js";

let server: VoxpipeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(maxCalls?: number): Promise<VoxpipeServer> {
  server = await startVoxpipeServer({
    port: 0,
    maxCalls,
    pipeline: ({ session }) =>
      new PipelineTask(new Pipeline([session.input, session.output]), { idleTimeoutMs: null }),
  });
  return server;
}

describe("voxpipe serve: HTTP", () => {
  it("returns the TwiML/TeXML/XML that connects a call to the stream, on the request's host", async () => {
    const s = await start();
    const twiml = await fetch(`${s.url}/twilio/twiml`, {
      method: "POST",
      headers: { "x-forwarded-host": "agent.example.com", "x-forwarded-proto": "https" },
    });
    expect(twiml.headers.get("content-type")).toContain("text/xml");
    expect(await twiml.text()).toContain(
      '<Response><Connect><Stream url="wss://agent.example.com/twilio"/></Connect></Response>',
    );
    expect(await (await fetch(`${s.url}/plivo/xml`)).text()).toContain(
      `<Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000">ws://127.0.0.1:${s.port}/plivo</Stream>`,
    );
    expect(await (await fetch(`${s.url}/telnyx/texml`)).text()).toContain(
      'bidirectionalMode="rtp"',
    );
    expect(await (await fetch(`${s.url}/exotel/url`)).json()).toEqual({
      url: `ws://127.0.0.1:${s.port}/exotel`,
    });
    expect(connectDocument("twilio", 'wss://x/"a"', false).body).toContain("&quot;a&quot;");
  });

  it("serves the browser page and its scripts; unknown paths are 404", async () => {
    const s = await start();
    const page = await fetch(`${s.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    expect((await fetch(`${s.url}/mic-worklet.js`)).status).toBe(200);
    expect(await (await fetch(`${s.url}/app.js`)).text()).toContain("AudioWorkletNode");
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  });

  it("--max-calls: the next call gets 1013 and a busy TwiML; health says full", async () => {
    const s = await start(1);
    const first = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${s.port}/twilio`);
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${s.url}/healthz`)).status).toBe(503);
    expect(await (await fetch(`${s.url}/twilio/twiml`)).text()).toContain(
      '<Reject reason="busy"/>',
    );
    const second = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${s.port}/twilio`);
    await second.whenClosed();
    expect(second.closed?.code).toBe(1013);
    await first.hangUp();
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it("drain: refuses new calls, lets live ones finish, then ends the rest gracefully", async () => {
    const s = await start();
    const live = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${s.port}/twilio`);
    await new Promise((r) => setTimeout(r, 100));
    const drained = s.drain(300);
    await new Promise((r) => setTimeout(r, 50));
    const health = await fetch(`${s.url}/healthz`).catch(() => undefined);
    expect(health?.status).toBe(503);
    expect(await drained).toBe(1);
    await live.whenClosed();
    expect(live.closed?.code).toBe(1000);
    server = undefined;
  });
});
