/**
 * Where Flux runs, decided the same way by every voxpipe command and example: an explicit
 * URL, else Deepgram when `DEEPGRAM_API_KEY` is set, else a local Flux-compatible server
 * (`@voxpipe/flux-server`, an optional peer) started in this process — and saying so.
 *
 * The decision is a list of {@link FluxTarget}s tried in order ({@link FLUX_TARGETS}); a new
 * way to reach Flux (another carrier, another host) is one more target in that list.
 */
import type { Logger } from "@voxpipe/core";
import type { Carrier } from "./carriers/carrier.js";
// Types only: the package itself is loaded on demand (an optional peer dependency).
import type * as FluxServerModule from "@voxpipe/flux-server";

/** Where the Flux client connects, and how to release it. */
export interface FluxEndpoint {
  /** Base URL for the Flux client (`ws://127.0.0.1:PORT`, an explicit URL), or undefined for Deepgram's default. */
  readonly url: string | undefined;
  /** API key for Deepgram (from `DEEPGRAM_API_KEY`); undefined for local servers. Never printed. */
  readonly apiKey: string | undefined;
  /** The target that produced it: `deepgram`, `url` (given explicitly), `embedded` (a local server started in this process), or another target's kind. */
  readonly kind: string;
  /**
   * The carrier to use, when the target needs its own (e.g. `@voxpipe/sagemaker`'s for
   * `sagemaker:<endpoint>`); undefined = the client's default WebSocket carrier.
   */
  readonly carrier?: Carrier;
  /** Releases what the target started (stops the embedded server); a no-op otherwise. */
  close(): Promise<void>;
}

/** Options of {@link resolveFluxEndpoint}. */
export interface FluxEndpointOptions {
  /** An explicit Flux URL (the CLI's `--url`); wins over everything. */
  readonly url?: string | undefined;
  /** Engine of the embedded server: `local` (real offline speech, the default) or `scripted`. */
  readonly engine?: string;
  /**
   * Options of the embedded server's engine (`startFluxServer`'s `engineOptions`), e.g. the
   * local engine's `{ search: "fast" }`. Default `{}`.
   */
  readonly engineOptions?: Readonly<Record<string, unknown>>;
  /** Environment to read `DEEPGRAM_API_KEY` from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where to say which Flux is used. Default: a `voxpipe: …` line on stderr. */
  readonly notify?: (text: string) => void;
  /** Logger for the embedded server. Default: voxpipe's root logger. */
  readonly logger?: Logger;
  /** The targets to try, in order. Default {@link FLUX_TARGETS}. */
  readonly targets?: readonly FluxTarget[];
}

/** What a {@link FluxTarget} decides from: the options with their defaults applied. */
export interface FluxEndpointRequest {
  /** The explicit URL, if any. */
  readonly url: string | undefined;
  /** `DEEPGRAM_API_KEY` from the environment, if set and non-empty. */
  readonly apiKey: string | undefined;
  /** Engine for an embedded server. */
  readonly engine: string;
  /** Its options, if any. */
  readonly engineOptions: Readonly<Record<string, unknown>> | undefined;
  /** The whole environment (for targets reading their own variables). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Says which Flux is used (one line, for the user). */
  readonly notify: (text: string) => void;
  /** Logger for what a target starts. */
  readonly logger: Logger | undefined;
}

/** One way to reach Flux: returns an endpoint when it applies to the request, else undefined. */
export interface FluxTarget {
  /** Name of the target; becomes {@link FluxEndpoint.kind}. */
  readonly kind: string;
  /**
   * The endpoint, or undefined when this target does not apply.
   * @throws FluxEndpointError when it applies but cannot be reached or started.
   */
  resolve(request: FluxEndpointRequest): Promise<FluxEndpoint | undefined>;
}

/** A Flux endpoint could not be set up; the message says what to do. */
export class FluxEndpointError extends Error {
  override readonly name = "FluxEndpointError";
}

const noop = (): Promise<void> => Promise.resolve();

/** An explicit URL (`options.url`, the CLI's `--url`) wins; the key is passed along when set. */
export const explicitUrlTarget: FluxTarget = {
  kind: "url",
  resolve: (request) =>
    Promise.resolve(
      request.url === undefined
        ? undefined
        : { url: request.url, apiKey: request.apiKey, kind: "url", close: noop },
    ),
};

/** Deepgram's hosted Flux when `DEEPGRAM_API_KEY` is set. */
export const deepgramTarget: FluxTarget = {
  kind: "deepgram",
  resolve: (request) => {
    if (request.apiKey === undefined) return Promise.resolve(undefined);
    request.notify("using Deepgram Flux (DEEPGRAM_API_KEY is set)");
    return Promise.resolve({
      url: undefined,
      apiKey: request.apiKey,
      kind: "deepgram",
      close: noop,
    });
  },
};

/** True when `error` says `specifier` itself could not be found (not one of its imports). */
function isMissingPackage(error: unknown, specifier: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
    error.message.includes(`'${specifier}'`)
  );
}

/**
 * A local Flux-compatible server started in this process on a free port of 127.0.0.1
 * (`@voxpipe/flux-server`, loaded only now: an optional peer dependency).
 * @throws FluxEndpointError when `@voxpipe/flux-server` is not installed (names the package).
 */
export const embeddedServerTarget: FluxTarget = {
  kind: "embedded",
  async resolve(request) {
    let server: typeof FluxServerModule;
    try {
      server = await import("@voxpipe/flux-server");
    } catch (error) {
      if (!isMissingPackage(error, "@voxpipe/flux-server")) throw error;
      throw new FluxEndpointError(
        "DEEPGRAM_API_KEY is not set and @voxpipe/flux-server is not installed: set DEEPGRAM_API_KEY to use Deepgram Flux, " +
          "or install the local server (npm install @voxpipe/flux-server, plus @voxpipe/speech-local for the local engine)",
        { cause: error },
      );
    }
    const running = await server.startFluxServer({
      port: 0,
      engine: request.engine,
      ...(request.engineOptions !== undefined && { engineOptions: request.engineOptions }),
      ...(request.logger !== undefined && {
        logger: request.logger.child({ component: "flux-server" }),
      }),
    });
    request.notify(
      `DEEPGRAM_API_KEY is not set: using the embedded local Flux server (${request.engine} engine) at ${running.url}; set DEEPGRAM_API_KEY to use Deepgram`,
    );
    return { url: running.url, apiKey: undefined, kind: "embedded", close: () => running.close() };
  },
};

/** The default targets, in order: explicit URL, Deepgram (key set), embedded local server. */
export const FLUX_TARGETS: readonly FluxTarget[] = [
  explicitUrlTarget,
  deepgramTarget,
  embeddedServerTarget,
];

/**
 * Decides where Flux runs (design.md "Flux"): the first of `options.targets`
 * ({@link FLUX_TARGETS}) that applies — an explicit `url`; else Deepgram with
 * `DEEPGRAM_API_KEY`; else a local Flux-compatible server started in this process on a free
 * port, and `notify` says so.
 *
 * @throws FluxEndpointError when no target applies or the one that applies cannot be set up
 *   (e.g. no key and `@voxpipe/flux-server` not installed).
 * @example
 * ```ts
 * const flux = await resolveFluxEndpoint();
 * const stt = new DeepgramFluxSTTService({ url: flux.url, apiKey: flux.apiKey });
 * // … run the pipeline …
 * await flux.close();
 * ```
 */
export async function resolveFluxEndpoint(
  options: FluxEndpointOptions = {},
): Promise<FluxEndpoint> {
  const env = options.env ?? process.env;
  const request: FluxEndpointRequest = {
    url: options.url,
    apiKey: env.DEEPGRAM_API_KEY || undefined,
    engine: options.engine ?? "local",
    engineOptions: options.engineOptions,
    env,
    notify: options.notify ?? ((text: string) => process.stderr.write(`voxpipe: ${text}\n`)),
    logger: options.logger,
  };
  const targets = options.targets ?? FLUX_TARGETS;
  for (const target of targets) {
    const endpoint = await target.resolve(request);
    if (endpoint !== undefined) return endpoint;
  }
  throw new FluxEndpointError(
    `no Flux target applies (tried ${targets.map((t) => t.kind).join(", ")}): give a URL or set DEEPGRAM_API_KEY`,
  );
}
