/**
 * Where a SageMaker bidirectional stream goes and who signs it, resolved the way AWS's own
 * SDKs do: region from the option, else `AWS_REGION` / `AWS_DEFAULT_REGION` / the shared
 * config profile (`@smithy/node-config-provider`); credentials from the option, else the
 * standard Node chain (`@aws-sdk/credential-providers` `fromNodeProviderChain`: env, SSO,
 * shared files, process, web identity, container and instance metadata); the endpoint from
 * the option, else the standard endpoint overrides, else the regional runtime host on port
 * 8443 (the endpoint rules of `@aws-sdk/client-sagemaker-runtime-http2` hard-code 8443).
 */
import { readFileSync } from "node:fs";
import { loadConfig } from "@smithy/node-config-provider";
import {
  NODE_REGION_CONFIG_FILE_OPTIONS,
  NODE_REGION_CONFIG_OPTIONS,
} from "@smithy/config-resolver";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { FluxError } from "@voxpipe/deepgram";

/** The SigV4 signing name of SageMaker's runtime (and control plane). */
export const SIGNING_SERVICE = "sagemaker";

/**
 * Endpoint override variables, in precedence order. `…_SAGEMAKER_RUNTIME_HTTP2` is the name
 * the AWS SDKs derive from this API's service id (`SageMaker Runtime HTTP2`);
 * `…_SAGEMAKER_RUNTIME` is the one most users already set for the runtime; `AWS_ENDPOINT_URL`
 * is the global override (AWS SDKs and Tools reference guide, "Service-specific endpoints").
 */
export const ENDPOINT_ENV_VARS = [
  "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME_HTTP2",
  "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
  "AWS_ENDPOINT_URL",
] as const;

/** Where and how to reach SageMaker (every field optional; see {@link resolveSageMakerTarget}). */
export interface SageMakerTargetOptions {
  /** AWS region, e.g. `us-east-1`. Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`. */
  readonly region?: string;
  /**
   * Base URL of the runtime, e.g. `https://runtime.sagemaker.us-east-1.amazonaws.com:8443` or a
   * local endpoint `http://127.0.0.1:8443` (h2c) / `https://127.0.0.1:8443`. Default: the
   * override variables in {@link ENDPOINT_ENV_VARS}, else the regional host on port 8443.
   */
  readonly endpointUrl?: string;
  /**
   * Credentials or a provider. Default: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` of
   * {@link env}, else `fromNodeProviderChain()` (the standard chain: env, SSO, shared files,
   * process, web identity, container and instance metadata).
   */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * CA certificates (PEM) to trust instead of Node's default list, e.g. a local endpoint's
   * generated certificate. Default: the file named by `AWS_CA_BUNDLE`, if set (the AWS CLI's
   * and SDKs' setting for a custom CA bundle).
   */
  readonly ca?: string;
  /** Environment to read. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A resolved target. */
export interface SageMakerTarget {
  readonly region: string;
  /** Base URL (`https://host:port` or `http://host:port` for h2c), no path. */
  readonly endpointUrl: URL;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly ca: string | undefined;
}

/**
 * Resolves region, endpoint, credentials and CA.
 * @throws FluxError (`input`, `MISSING_REGION`) when no region is configured anywhere;
 *   (`input`, `INVALID_ENDPOINT_URL`) for an endpoint that is not an http(s) URL without a path;
 *   (`input`, `CA_BUNDLE_UNREADABLE`) when `AWS_CA_BUNDLE` names a file that cannot be read.
 */
export async function resolveSageMakerTarget(
  options: SageMakerTargetOptions = {},
): Promise<SageMakerTarget> {
  const env = options.env ?? process.env;
  const region = options.region ?? (await regionFromEnvironment(env));
  if (region === undefined || region === "") {
    throw configError(
      "MISSING_REGION",
      "region: not set; pass region (--region), or set AWS_REGION or a profile region",
    );
  }
  const explicit = options.endpointUrl ?? ENDPOINT_ENV_VARS.map((v) => env[v]).find(Boolean);
  const endpointUrl = parseEndpointUrl(
    explicit ?? `https://runtime.sagemaker.${region}.amazonaws.com:8443`,
  );
  const credentials =
    toProvider(options.credentials) ?? keysFrom(env) ?? (await defaultCredentialChain());
  return { region, endpointUrl, credentials, ca: options.ca ?? readCaBundle(env.AWS_CA_BUNDLE) };
}

/**
 * Keys from `env` (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the
 * chain's first source, read from the environment given (it may not be `process.env`).
 */
function keysFrom(
  env: Readonly<Record<string, string | undefined>>,
): AwsCredentialIdentityProvider | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  return toProvider({ accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) });
}

/** The standard Node credential chain, loaded on demand (a large module graph). */
async function defaultCredentialChain(): Promise<AwsCredentialIdentityProvider> {
  const { fromNodeProviderChain } = await import("@aws-sdk/credential-providers");
  return fromNodeProviderChain();
}

/** Region from the environment or the shared config profile (`AWS_PROFILE`); `undefined` if none. */
async function regionFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  try {
    return await loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS)();
  } catch {
    return undefined;
  }
}

function parseEndpointUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError(
      "INVALID_ENDPOINT_URL",
      "endpointUrl: not a valid URL (expected https://host:port)",
    );
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search !== "") {
    throw configError(
      "INVALID_ENDPOINT_URL",
      `endpointUrl: ${url.protocol}//${url.host} must be http(s):// with no query`,
    );
  }
  return url;
}

function readCaBundle(path: string | undefined): string | undefined {
  if (path === undefined || path === "") return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw configError(
      "CA_BUNDLE_UNREADABLE",
      `AWS_CA_BUNDLE=${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

function toProvider(
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined,
): AwsCredentialIdentityProvider | undefined {
  if (credentials === undefined) return undefined;
  if (typeof credentials === "function") return credentials;
  return () => Promise.resolve(credentials);
}

/** A permanent configuration error (nothing was sent). */
export function configError(code: string, description: string): FluxError {
  return new FluxError({ source: "input", kind: "permanent", code, description });
}
