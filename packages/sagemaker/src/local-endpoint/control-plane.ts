import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AwsCredentialIdentity } from "@smithy/types";
import { SIGNING_SERVICE } from "../config.js";
import { LOCAL_TEST_CREDENTIALS } from "./server.js";
import { verifyRequest } from "./sigv4.js";

/** One endpoint the fake lists. */
export interface FakeEndpoint {
  readonly name: string;
  /** `InService`, `Creating`, `Updating`, `SystemUpdating`, `RollingBack`, `OutOfService`, `Deleting`, `Failed`, `UpdateRollbackFailed`. */
  readonly status: string;
  /** Default: now. */
  readonly creationTime?: Date;
}

/** Options of {@link startFakeSageMakerControlPlane}. */
export interface FakeControlPlaneOptions {
  readonly endpoints: readonly FakeEndpoint[];
  /** Default {@link LOCAL_TEST_CREDENTIALS}. */
  readonly credentials?: AwsCredentialIdentity;
  /** Default `us-east-1`. */
  readonly region?: string;
  /** Port. Default 0 (a free port). */
  readonly port?: number;
}

/** A running fake. */
export interface FakeControlPlane {
  /** Base URL for `AWS_ENDPOINT_URL_SAGEMAKER` / the client's `endpoint`. */
  readonly url: string;
  /** `ListEndpoints` requests answered (including refused ones). */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * A **fake** of SageMaker's control plane, only `ListEndpoints`, for testing `voxpipe stress
 * list-endpoints` through the standard endpoint override. It speaks what AWS documents
 * (SageMaker API reference, ListEndpoints and EndpointSummary; protocol awsJson1_1): `POST /`
 * with `X-Amz-Target: SageMaker.ListEndpoints` and `Content-Type: application/x-amz-json-1.1`,
 * SigV4-signed (verified against the test credentials); request fields `StatusEquals`,
 * `NameContains`, `MaxResults` (1–100, default 10), `NextToken`, `SortBy`/`SortOrder`
 * (default CreationTime, Descending); response `{ Endpoints: [{ EndpointName, EndpointArn,
 * CreationTime, LastModifiedTime, EndpointStatus }], NextToken? }` with timestamps as epoch
 * seconds. Errors carry `__type` in the body and `x-amzn-errortype`.
 */
export async function startFakeSageMakerControlPlane(
  options: FakeControlPlaneOptions,
): Promise<FakeControlPlane> {
  const credentials = options.credentials ?? LOCAL_TEST_CREDENTIALS;
  const region = options.region ?? "us-east-1";
  let requests = 0;
  const created = new Date();
  const all = options.endpoints.map((e, i) => ({
    EndpointName: e.name,
    EndpointArn: `arn:aws:sagemaker:${region}:123456789012:endpoint/${e.name.toLowerCase()}`,
    CreationTime: (e.creationTime ?? new Date(created.getTime() - i * 1000)).getTime() / 1000,
    LastModifiedTime: created.getTime() / 1000,
    EndpointStatus: e.status,
  }));

  const fail = (res: ServerResponse, status: number, type: string, message: string): void => {
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-errortype": type,
    });
    res.end(JSON.stringify({ __type: type, message }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    requests++;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const verified = await verifyRequest(
      { method: req.method ?? "", path: req.url ?? "/", headers },
      { credentials, region, service: SIGNING_SERVICE },
    );
    if (!("signer" in verified)) return fail(res, verified.status, verified.type, verified.message);
    if (headers["x-amz-target"] !== "SageMaker.ListEndpoints") {
      return fail(res, 400, "UnknownOperationException", "only ListEndpoints is faked");
    }
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      return fail(res, 400, "SerializationException", "the body is not JSON");
    }
    const max = input.MaxResults === undefined ? 10 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      return fail(res, 400, "ValidationException", "MaxResults must be between 1 and 100");
    }
    let list = all.filter(
      (e) =>
        (input.StatusEquals === undefined || e.EndpointStatus === input.StatusEquals) &&
        (typeof input.NameContains !== "string" || e.EndpointName.includes(input.NameContains)),
    );
    const key =
      input.SortBy === "Name"
        ? "EndpointName"
        : input.SortBy === "Status"
          ? "EndpointStatus"
          : "CreationTime";
    const sign = input.SortOrder === "Ascending" ? 1 : -1;
    list = [...list].sort((a, b) => (a[key] < b[key] ? -sign : a[key] > b[key] ? sign : 0));
    const start = typeof input.NextToken === "string" ? Number(input.NextToken) : 0;
    const page = list.slice(start, start + max);
    const next = start + max < list.length ? String(start + max) : undefined;
    res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
    res.end(JSON.stringify({ Endpoints: page, ...(next ? { NextToken: next } : {}) }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => fail(res, 500, "InternalFailure", "fake failed"));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
