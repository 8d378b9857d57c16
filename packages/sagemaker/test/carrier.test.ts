import { afterEach, describe, expect, it } from "vitest";
import type { FluxError } from "@voxpipe/deepgram";
import { conversation, finals, record, rig, stream, TRANSCRIPTS, type Rig } from "./helpers.js";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe("sagemakerCarrier through the local SageMaker endpoint", () => {
  it("streams a conversation over h2c and gets one final per turn, every event signature verified", async () => {
    r = await rig();
    const c = r.client();
    const events = record(c);
    await c.start();
    await stream(c, conversation(3));
    await c.close();
    expect(finals(await events)).toEqual(TRANSCRIPTS);
    const counters = r.endpoint.counters();
    expect(counters.opened).toBe(1);
    expect(counters.eventsRejected).toBe(0);
    expect(counters.eventsVerified).toBeGreaterThan(20);
  });

  it("works over TLS with the endpoint's generated certificate", async () => {
    r = await rig({ tls: true });
    expect(r.endpoint.url).toMatch(/^https:/);
    const c = r.client();
    const events = record(c);
    await c.start();
    await stream(c, conversation(1));
    await c.close();
    expect(finals(await events)).toEqual([TRANSCRIPTS[0]]);
  });

  it("wrong credentials: one permanent error naming the cause, no retries", async () => {
    r = await rig();
    const c = r.client(
      {},
      {
        credentials: { accessKeyId: r.endpoint.credentials.accessKeyId, secretAccessKey: "wrong" },
      },
    );
    const error = (await c.start().catch((e: unknown) => e)) as FluxError;
    expect(error.kind).toBe("permanent");
    expect(error.status).toBe(403);
    expect(error.code).toBe("InvalidSignatureException");
    expect(error.message).toMatch(/check the AWS credentials/);
    expect(error.message).not.toContain("wrong");
    expect(r.endpoint.counters().requests).toBe(1);
  });
});
