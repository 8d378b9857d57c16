import type { EndpointStatus } from "@aws-sdk/client-sagemaker";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { FluxError } from "@voxpipe/deepgram";
import { configError } from "./config.js";

/** `EndpointStatus` values (SageMaker API reference, EndpointSummary). */
export const ENDPOINT_STATUSES = [
  "OutOfService",
  "Creating",
  "Updating",
  "SystemUpdating",
  "RollingBack",
  "InService",
  "Deleting",
  "Failed",
  "UpdateRollbackFailed",
] as const;

/** One endpoint as listed. */
export interface SageMakerEndpointSummary {
  readonly name: string;
  readonly status: string;
  readonly arn: string;
  readonly creationTime: Date | undefined;
  readonly lastModifiedTime: Date | undefined;
}

/** Options of {@link listSageMakerEndpoints}. */
export interface ListSageMakerEndpointsOptions {
  /** Default: the SDK's region chain (`AWS_REGION`, profile). */
  readonly region?: string;
  /**
   * Only endpoints in this status; case-insensitive (`inservice` → `InService`).
   * One of {@link ENDPOINT_STATUSES}.
   */
  readonly status?: string;
  /** Only names containing this. */
  readonly nameContains?: string;
  /** Control-plane URL. Default: the SDK's (`AWS_ENDPOINT_URL_SAGEMAKER`, `AWS_ENDPOINT_URL`, regional). */
  readonly endpointUrl?: string;
  /** Default: the standard credential chain. */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/**
 * Lists SageMaker endpoints, every page, through `@aws-sdk/client-sagemaker` `ListEndpoints`
 * (what Deepgram's `flux_stress.py list-endpoints` shows), newest first.
 * @throws FluxError (`input`, `INVALID_STATUS`) for an unknown status; (`handshake`) with
 *   AWS's error name and HTTP status when the call is refused (403 → check credentials).
 */
export async function listSageMakerEndpoints(
  options: ListSageMakerEndpointsOptions = {},
): Promise<SageMakerEndpointSummary[]> {
  let status: EndpointStatus | undefined;
  if (options.status !== undefined) {
    const match = ENDPOINT_STATUSES.find((s) => s.toLowerCase() === options.status!.toLowerCase());
    if (match === undefined) {
      throw configError(
        "INVALID_STATUS",
        `status=${options.status}: allowed ${ENDPOINT_STATUSES.map((s) => s.toLowerCase()).join(", ")}`,
      );
    }
    status = match;
  }
  // Loaded on demand: the control-plane client is large and only this call needs it.
  const { SageMakerClient, paginateListEndpoints } = await import("@aws-sdk/client-sagemaker");
  const client = new SageMakerClient({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpointUrl !== undefined ? { endpoint: options.endpointUrl } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    maxAttempts: 3,
  });
  const out: SageMakerEndpointSummary[] = [];
  try {
    for await (const page of paginateListEndpoints(
      { client },
      {
        SortBy: "CreationTime",
        SortOrder: "Descending",
        ...(status ? { StatusEquals: status } : {}),
        ...(options.nameContains ? { NameContains: options.nameContains } : {}),
      },
    )) {
      for (const e of page.Endpoints ?? []) {
        out.push({
          name: e.EndpointName ?? "",
          status: e.EndpointStatus ?? "",
          arn: e.EndpointArn ?? "",
          creationTime: e.CreationTime,
          lastModifiedTime: e.LastModifiedTime,
        });
      }
    }
  } catch (error) {
    throw asListError(error);
  } finally {
    client.destroy();
  }
  return out;
}

function asListError(error: unknown): FluxError {
  if (error instanceof FluxError) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === "CredentialsProviderError" || /credential/i.test(e.name ?? "")) {
    return configError(
      "NO_AWS_CREDENTIALS",
      "no AWS credentials could be loaded; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    );
  }
  if (/region/i.test(e.message ?? "") && status === undefined) {
    return configError("MISSING_REGION", "region: not set; pass --region or set AWS_REGION");
  }
  return new FluxError({
    source: status !== undefined ? "handshake" : "network",
    kind: status !== undefined && status < 500 && status !== 429 ? "permanent" : "retryable",
    ...(status !== undefined ? { status } : {}),
    code: e.name ?? "ListEndpointsFailed",
    description: (e.message ?? "ListEndpoints failed").slice(0, 300),
  });
}
