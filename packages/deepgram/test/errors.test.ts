import { describe, expect, it } from "vitest";
import { endpointOf, isLocalUrl } from "../src/carriers/carrier.js";
import {
  handshakeError,
  redactUrls,
  serverError,
  statusFromHandshakeMessage,
} from "../src/errors.js";

describe("error classification", () => {
  it("treats 400/401/402/403 handshakes as permanent and 408/429/5xx as retryable", () => {
    for (const status of [400, 401, 402, 403, 404])
      expect(handshakeError(status).kind).toBe("permanent");
    for (const status of [408, 429, 500, 502, 503])
      expect(handshakeError(status).kind).toBe("retryable");
  });

  it("treats protocol errors as permanent and server failures as retryable", () => {
    expect(serverError("UNPARSABLE_CLIENT_MESSAGE", "x").kind).toBe("permanent");
    expect(serverError("INTERNAL_SERVER_ERROR", "x").kind).toBe("retryable");
  });

  it("copies an error with changes, keeping what was not changed", () => {
    const refused = handshakeError(429, "TOO_MANY", "slow down");
    const copy = refused.with({ description: "redacted" });
    expect([copy.code, copy.status, copy.kind, copy.description, copy.fatal]).toEqual([
      refused.code,
      429,
      "retryable",
      "redacted",
      false,
    ]);
    expect(copy.message).toContain("redacted");
    expect(refused.asFatal()).toMatchObject({ fatal: true, status: 429, description: "slow down" });
  });

  it("reads the status of a refused upgrade from the ws error text", () => {
    expect(statusFromHandshakeMessage("Unexpected server response: 429")).toBe(429);
    expect(statusFromHandshakeMessage("connect ECONNREFUSED 127.0.0.1:1")).toBeUndefined();
  });

  it("never lets a query string through", () => {
    expect(redactUrls("failed: wss://api.deepgram.com/v2/listen?keyterm=secret&model=x")).toBe(
      "failed: wss://api.deepgram.com/v2/listen?…",
    );
  });
});

describe("endpoint URLs", () => {
  it("accepts base URLs, full endpoints and http(s) spellings", () => {
    expect(endpointOf("wss://api.eu.deepgram.com").endpoint).toBe(
      "wss://api.eu.deepgram.com/v2/listen",
    );
    expect(endpointOf("ws://127.0.0.1:8080/v2/listen/").base).toBe("ws://127.0.0.1:8080");
    expect(endpointOf("https://dg.example.com/proxy").endpoint).toBe(
      "wss://dg.example.com/proxy/v2/listen",
    );
  });

  it("refuses a query string and a foreign protocol without echoing the URL", () => {
    expect(() => endpointOf("wss://x.test/v2/listen?keyterm=secret")).toThrow(
      /must not carry a query/,
    );
    try {
      endpointOf("ftp://x.test/?keyterm=secret");
    } catch (e) {
      expect(String(e)).not.toContain("secret");
    }
  });

  it("knows loopback addresses", () => {
    expect(isLocalUrl("ws://127.0.0.1:1234")).toBe(true);
    expect(isLocalUrl("ws://localhost:1")).toBe(true);
    expect(isLocalUrl("wss://api.deepgram.com")).toBe(false);
  });
});
