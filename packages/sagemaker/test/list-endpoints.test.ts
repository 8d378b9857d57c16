import { afterEach, describe, expect, it } from "vitest";
import type { FluxError } from "@voxpipe/deepgram";
import { listSageMakerEndpoints } from "../src/index.js";
import {
  LOCAL_TEST_CREDENTIALS,
  startFakeSageMakerControlPlane,
  type FakeControlPlane,
} from "../src/local-endpoint/index.js";

let fake: FakeControlPlane | undefined;
const saved = { ...process.env };
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  process.env = { ...saved };
});

/** 11 InService endpoints and one Creating: more than one page of the API's default 10. */
const ENDPOINTS = [
  ...Array.from({ length: 11 }, (_, i) => ({ name: `flux-${i}`, status: "InService" })),
  { name: "flux-new", status: "Creating" },
];

describe("listSageMakerEndpoints (through @aws-sdk/client-sagemaker, against the fake ListEndpoints)", () => {
  it("follows NextToken across pages, reached through AWS_ENDPOINT_URL_SAGEMAKER", async () => {
    fake = await startFakeSageMakerControlPlane({ endpoints: ENDPOINTS });
    process.env.AWS_ENDPOINT_URL_SAGEMAKER = fake.url;
    process.env.AWS_ACCESS_KEY_ID = LOCAL_TEST_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_TEST_CREDENTIALS.secretAccessKey;
    const list = await listSageMakerEndpoints({ region: "us-east-1" });
    expect(list).toHaveLength(12);
    expect(new Set(list.map((e) => e.name)).size).toBe(12);
    expect(fake.requests).toBe(2);
    const first = list.find((e) => e.name === "flux-0");
    expect(first?.arn).toMatch(/^arn:aws:sagemaker:us-east-1:\d{12}:endpoint\//);
    expect(first?.creationTime).toBeInstanceOf(Date);
  });

  it("filters by status, case-insensitively, as flux_stress.py's --status does", async () => {
    fake = await startFakeSageMakerControlPlane({ endpoints: ENDPOINTS });
    const list = await listSageMakerEndpoints({
      region: "us-east-1",
      endpointUrl: fake.url,
      credentials: LOCAL_TEST_CREDENTIALS,
      status: "creating",
    });
    expect(list.map((e) => [e.name, e.status])).toEqual([["flux-new", "Creating"]]);
  });

  it("an unknown status is refused before any request; bad credentials are a permanent 403", async () => {
    fake = await startFakeSageMakerControlPlane({ endpoints: ENDPOINTS });
    const base = { region: "us-east-1", endpointUrl: fake.url };
    await expect(
      listSageMakerEndpoints({ ...base, credentials: LOCAL_TEST_CREDENTIALS, status: "sleeping" }),
    ).rejects.toThrow(/status=sleeping: allowed outofservice, creating/);
    expect(fake.requests).toBe(0);
    const error = (await listSageMakerEndpoints({
      ...base,
      credentials: { accessKeyId: LOCAL_TEST_CREDENTIALS.accessKeyId, secretAccessKey: "wrong" },
    }).catch((e: unknown) => e)) as FluxError;
    expect(error.kind).toBe("permanent");
    expect(error.status).toBe(403);
    expect(error.code).toBe("InvalidSignatureException");
  });
});
