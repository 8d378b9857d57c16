import { describe, expect, it } from "vitest";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { fromUtf8 } from "@smithy/util-utf8";
import { buildListenQuery } from "@voxpipe/flux-protocol";
import {
  codec,
  encodeException,
  encodePayloadPart,
  readResponseEvent,
} from "../src/event-stream.js";
import { modelQueryString } from "../src/carrier.js";
import { verifyEvent, verifyRequest } from "../src/local-endpoint/sigv4.js";
import { LOCAL_TEST_CREDENTIALS } from "../src/local-endpoint/index.js";

const region = "us-east-1";
const signer = new SignatureV4({
  service: "sagemaker",
  region,
  credentials: LOCAL_TEST_CREDENTIALS,
  sha256: Hash.bind(null, "sha256"),
});

async function signedHeaders(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const signed = (await signer.sign(
    new HttpRequest({
      method: "POST",
      hostname: "127.0.0.1",
      port: 8443,
      path: "/endpoints/flux/invocations-bidirectional-stream",
      headers: {
        host: "127.0.0.1:8443",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-EVENTS",
        "x-amzn-sagemaker-model-invocation-path": "v2/listen",
        ...extra,
      },
    }),
  )) as HttpRequest;
  return signed.headers;
}

const expected = { credentials: LOCAL_TEST_CREDENTIALS, region, service: "sagemaker" };
const path = "/endpoints/flux/invocations-bidirectional-stream";

describe("X-Amzn-SageMaker-Model-Query-String", () => {
  it("percent-encodes spaces as %20, never +, and keeps a literal + escaped", () => {
    const query = new URLSearchParams(
      buildListenQuery({
        model: "flux-general-en",
        encoding: "linear16",
        sampleRate: 16000,
        keyterms: ["order number", "C++"],
      }),
    );
    const text = modelQueryString(query);
    expect(text).toContain("keyterm=order%20number");
    expect(text).toContain("keyterm=C%2B%2B");
    expect(text).not.toContain("+");
  });
});

describe("SigV4 verification of the local endpoints", () => {
  it("accepts a request signed with the test credentials", async () => {
    const headers = await signedHeaders();
    expect("signer" in (await verifyRequest({ method: "POST", path, headers }, expected))).toBe(
      true,
    );
  });

  it("refuses a changed signed header, an unknown key and a stale date, with AWS's error types", async () => {
    const headers = await signedHeaders();
    const tampered = { ...headers, "x-amzn-sagemaker-model-invocation-path": "v1/listen" };
    expect(
      await verifyRequest({ method: "POST", path, headers: tampered }, expected),
    ).toMatchObject({
      status: 403,
      type: "InvalidSignatureException",
    });
    const otherKey = {
      ...expected,
      credentials: { accessKeyId: "AKIAOTHER", secretAccessKey: "x" },
    };
    expect(await verifyRequest({ method: "POST", path, headers }, otherKey)).toMatchObject({
      type: "UnrecognizedClientException",
    });
    const later = Date.now() + 10 * 60_000;
    expect(await verifyRequest({ method: "POST", path, headers }, expected, later)).toMatchObject({
      type: "InvalidSignatureException",
    });
    const { authorization: _a, ...unsigned } = headers;
    expect(
      await verifyRequest({ method: "POST", path, headers: unsigned }, expected),
    ).toMatchObject({
      type: "MissingAuthenticationTokenException",
    });
  });

  it("verifies a chain of event signatures and refuses a changed event", async () => {
    const seed = "a".repeat(64);
    const date = new Date();
    const body = encodePayloadPart(new Uint8Array([1, 2, 3, 4]), "BINARY");
    const sign = async (prior: string, b: Uint8Array): Promise<string> =>
      (
        await signer.sign(
          {
            message: { headers: { ":date": { type: "timestamp", value: date } }, body: b },
            priorSignature: prior,
          },
          { signingDate: date },
        )
      ).signature;
    const first = await sign(seed, body);
    const second = await sign(first, body);
    const bin = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));
    expect(await verifyEvent(signer, seed, date, bin(first), body)).toBe(first);
    expect(await verifyEvent(signer, first, date, bin(second), body)).toBe(second);
    // Replaying an event out of order breaks the chain.
    expect(await verifyEvent(signer, seed, date, bin(second), body)).toBeUndefined();
    const changed = encodePayloadPart(new Uint8Array([1, 2, 3, 5]), "BINARY");
    expect(await verifyEvent(signer, seed, date, bin(first), changed)).toBeUndefined();
  });
});

describe("response events", () => {
  it("reads PayloadPart (UTF8/BINARY), ModelStreamError and error messages", () => {
    const text = readResponseEvent(
      codec.decode(encodePayloadPart(fromUtf8('{"type":"Connected"}'), "UTF8")),
    );
    expect(text).toMatchObject({ kind: "payload", dataType: "UTF8" });
    const audio = readResponseEvent(
      codec.decode(encodePayloadPart(new Uint8Array([0, 1]), "BINARY")),
    );
    expect(audio).toMatchObject({ kind: "payload", dataType: "BINARY" });
    const failure = readResponseEvent(
      codec.decode(
        encodeException("ModelStreamError", {
          Message: "container died",
          ErrorCode: "ModelStreamError",
        }),
      ),
    );
    expect(failure).toEqual({
      kind: "exception",
      type: "ModelStreamError",
      message: "container died",
      errorCode: "ModelStreamError",
    });
    const error = readResponseEvent(
      codec.decode(
        codec.encode({
          headers: {
            ":message-type": { type: "string", value: "error" },
            ":error-code": { type: "string", value: "InvalidSignatureException" },
            ":error-message": { type: "string", value: "bad" },
          },
          body: new Uint8Array(0),
        }),
      ),
    );
    expect(error).toMatchObject({ kind: "exception", type: "InvalidSignatureException" });
    // Missing DataType means BINARY (the operation's documented default).
    const untyped = codec.encode({
      headers: {
        ":message-type": { type: "string", value: "event" },
        ":event-type": { type: "string", value: "PayloadPart" },
      },
      body: new Uint8Array([9]),
    });
    expect(readResponseEvent(codec.decode(untyped))).toMatchObject({ dataType: "BINARY" });
  });
});
