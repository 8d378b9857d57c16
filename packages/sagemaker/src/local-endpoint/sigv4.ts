/**
 * Server-side SigV4 verification for the local endpoints: recomputes the signature of a
 * request, or of one signed event, with `@smithy/signature-v4` (the signer AWS's clients
 * use) and compares. Errors are AWS's common ones (AWS "Common Errors"; for JSON protocols
 * the type travels in `x-amzn-errortype`): 403 `MissingAuthenticationTokenException`,
 * 403 `UnrecognizedClientException` (unknown access key), 403 `InvalidSignatureException`
 * (signature mismatch, or a date more than 5 minutes off).
 */
import { timingSafeEqual } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import type { AwsCredentialIdentity } from "@smithy/types";

/** Largest clock difference AWS accepts on a signed request (ms). */
const MAX_SKEW_MS = 5 * 60_000;

/** A refused signature: the HTTP status, AWS error type and message. */
export interface SigV4Failure {
  readonly status: 400 | 403;
  readonly type: string;
  readonly message: string;
}

/** A verified request: the signer for its events and the seed signature of the chain. */
export interface SigV4Verified {
  readonly signer: SignatureV4;
  readonly signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex`. */
function parseAuthorization(
  value: string,
):
  { accessKeyId: string; scope: string[]; signedHeaders: string[]; signature: string } | undefined {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([0-9a-f]{64})$/.exec(
      value.trim(),
    );
  if (!m) return undefined;
  return {
    accessKeyId: m[1],
    scope: m[2].split("/"),
    signedHeaders: m[3].split(";"),
    signature: m[4],
  };
}

/** `20260101T120000Z` → Date. */
function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/**
 * Verifies a request signed for `service` in `region` against the one accepted key pair.
 * @param headers lower-case header names; `host` must be set (HTTP/2: from `:authority`).
 */
export async function verifyRequest(
  request: { method: string; path: string; headers: Record<string, string> },
  expected: { credentials: AwsCredentialIdentity; region: string; service: string },
  now = Date.now(),
): Promise<SigV4Verified | SigV4Failure> {
  const auth = parseAuthorization(request.headers.authorization ?? "");
  if (auth === undefined) {
    return {
      status: 403,
      type: "MissingAuthenticationTokenException",
      message: "Missing Authentication Token",
    };
  }
  if (auth.accessKeyId !== expected.credentials.accessKeyId) {
    return {
      status: 403,
      type: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
    };
  }
  const date = parseAmzDate(request.headers["x-amz-date"]);
  if (date === undefined || Math.abs(now - date.getTime()) > MAX_SKEW_MS) {
    return {
      status: 403,
      type: "InvalidSignatureException",
      message: "Signature expired or x-amz-date missing.",
    };
  }
  const [, region, service] = auth.scope;
  if (region !== expected.region || service !== expected.service) {
    return {
      status: 403,
      type: "InvalidSignatureException",
      message: `Credential should be scoped to a valid region and service (${expected.region}/${expected.service}).`,
    };
  }
  const signer = new SignatureV4({
    service: expected.service,
    region: expected.region,
    credentials: expected.credentials,
    sha256: Hash.bind(null, "sha256"),
  });
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const [host, port] = (request.headers.host ?? "").split(":");
  const resigned = (await signer.sign(
    new HttpRequest({
      method: request.method,
      hostname: host ?? "",
      ...(port ? { port: Number(port) } : {}),
      path: request.path,
      headers,
    }),
    { signingDate: date },
  )) as HttpRequest;
  const signature =
    /Signature=([0-9a-f]{64})/.exec(resigned.headers.authorization ?? "")?.[1] ?? "";
  if (!sameHex(signature, auth.signature)) {
    return {
      status: 403,
      type: "InvalidSignatureException",
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    };
  }
  return { signer, signature: auth.signature };
}

/**
 * Verifies one signed event (`:date`, `:chunk-signature` over the inner message), chained
 * from `priorSignature`.
 * @returns the event's signature (the next prior), or `undefined` when it does not match.
 */
export async function verifyEvent(
  signer: SignatureV4,
  priorSignature: string,
  date: Date,
  chunkSignature: Uint8Array,
  body: Uint8Array,
): Promise<string | undefined> {
  const { signature } = await signer.sign(
    { message: { headers: { ":date": { type: "timestamp", value: date } }, body }, priorSignature },
    { signingDate: date },
  );
  return sameHex(signature, Buffer.from(chunkSignature).toString("hex")) ? signature : undefined;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
