import type { Logger } from "@voxpipe/core";
import { startFluxServer } from "@voxpipe/flux-server";
import { CliUsageError } from "../options/flux.js";
import { DEEPGRAM_FLUX_URL, resolveEndpoint } from "../stress/options.js";
import { importSageMaker } from "../sagemaker.js";
import type { EvalTarget } from "./session.js";

/** An open evaluation target: where sessions connect, how it is shown, how to release it. */
export interface OpenTarget extends EvalTarget {
  /** `deepgram`, `url`, `local` or `sagemaker`. */
  readonly kind: string;
  /** Address for reports (never a key or a query string). */
  readonly shown: string;
  /** Whether `--fast` is allowed (only on servers the user runs). */
  readonly allowsFast: boolean;
  close(): Promise<void>;
}

/** Options of {@link openTarget}. */
export interface OpenTargetOptions {
  /** Environment (`DEEPGRAM_API_KEY`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Engine of the in-process server for `local`. Default `local` (real offline speech). */
  readonly localEngine?: string;
  readonly logger?: Logger;
  /** Says which target was chosen when none was given. */
  readonly notify: (text: string) => void;
}

/**
 * Opens `--target`: `deepgram` (needs `DEEPGRAM_API_KEY`), `local` (a Flux server with the
 * local engine started in this process on a free port), any `ws(s)://…/v2/listen`, or
 * `sagemaker:<endpoint-name>` (Flux on Amazon SageMaker through `@voxpipe/sagemaker`'s
 * carrier; region, runtime URL, CA bundle and credentials from the standard AWS variables).
 * Without one: Deepgram when `DEEPGRAM_API_KEY` is set, else `local` — and `notify` says so.
 * @throws {CliUsageError} for an unknown target, a missing key or a bad endpoint name.
 */
export async function openTarget(
  raw: string | undefined,
  options: OpenTargetOptions,
): Promise<OpenTarget> {
  const key = options.env.DEEPGRAM_API_KEY || undefined;
  let spec = raw;
  if (spec === undefined) {
    spec = key !== undefined ? "deepgram" : "local";
    options.notify(
      key !== undefined
        ? "evaluating Deepgram Flux (DEEPGRAM_API_KEY is set; --target local for the offline engine)"
        : "DEEPGRAM_API_KEY is not set: evaluating the embedded local Flux server (--target deepgram|local|ws://…/v2/listen to choose)",
    );
  }
  const endpoint = resolveEndpoint(spec);
  if (endpoint.kind === "sagemaker") return openSageMaker(spec, options.env);
  if (endpoint.kind === "local") {
    const engine = options.localEngine ?? "local";
    const server = await startFluxServer({
      port: 0,
      engine,
      ...(options.logger !== undefined && {
        logger: options.logger.child({ component: "flux-server" }),
      }),
    });
    const url = `${server.url}/v2/listen`;
    return {
      kind: "local",
      url,
      shown: `local Flux server (${engine} engine)`,
      allowsFast: true,
      close: () => server.close(),
    };
  }
  if (endpoint.kind === "deepgram") {
    if (key === undefined) {
      throw new CliUsageError(
        "--target deepgram needs DEEPGRAM_API_KEY: set it, or use --target local or a ws(s)://…/v2/listen URL",
      );
    }
    return {
      kind: "deepgram",
      url: DEEPGRAM_FLUX_URL,
      apiKey: key,
      shown: `Deepgram (${DEEPGRAM_FLUX_URL})`,
      allowsFast: false,
      close: () => Promise.resolve(),
    };
  }
  return {
    kind: "url",
    url: endpoint.url,
    apiKey: key,
    shown: endpoint.url,
    allowsFast: true,
    close: () => Promise.resolve(),
  };
}

/**
 * `sagemaker:<endpoint-name>`: `FluxClient` over SageMaker's bidirectional stream. The AWS
 * SDK loads only for this target: `@voxpipe/sagemaker` is an optional peer, imported on demand.
 */
async function openSageMaker(
  raw: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<OpenTarget> {
  const endpointName = raw.slice("sagemaker:".length);
  const { sagemakerCarrier } = await importSageMaker(`--target ${raw}`);
  let carrier;
  try {
    carrier = sagemakerCarrier({ endpointName, env });
  } catch (error) {
    throw new CliUsageError(
      `--target ${raw}: ${error instanceof Error ? ((error as { description?: string }).description ?? error.message) : String(error)}`,
    );
  }
  return {
    kind: "sagemaker",
    carrier,
    shown: `SageMaker endpoint ${endpointName}`,
    allowsFast: false,
    close: () => {
      carrier.destroy();
      return Promise.resolve();
    },
  };
}
