import type { Logger } from "@voxpipe/core";
import { startFluxServer } from "@voxpipe/flux-server";
import { CliUsageError } from "../options/flux.js";
import { DEEPGRAM_FLUX_URL, resolveEndpoint } from "../stress/options.js";
import type { EvalTarget } from "./session.js";

/** An open evaluation target: where sessions connect, how it is shown, how to release it. */
export interface OpenTarget extends EvalTarget {
  /** `deepgram`, `url` or `local`. */
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
 * local engine started in this process on a free port), or any `ws(s)://…/v2/listen`.
 * Without one: Deepgram when `DEEPGRAM_API_KEY` is set, else `local` — and `notify` says so.
 * `sagemaker:<endpoint>` is refused: this voxpipe has no SageMaker carrier yet.
 * @throws {CliUsageError} for an unknown target, a missing key, or `sagemaker:`.
 */
export async function openTarget(
  raw: string | undefined,
  options: OpenTargetOptions,
): Promise<OpenTarget> {
  const key = options.env.DEEPGRAM_API_KEY || undefined;
  if (raw?.startsWith("sagemaker:")) {
    throw new CliUsageError(
      `--target ${raw}: this voxpipe has no Amazon SageMaker carrier yet; use deepgram, local or a ws(s)://…/v2/listen URL`,
    );
  }
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
