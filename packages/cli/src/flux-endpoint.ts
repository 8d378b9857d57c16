import type { Logger } from "pino";
import { startFluxServer } from "@voxpipe/flux-server";

/** Where the STT connects, and how to release it. */
export interface FluxEndpoint {
  /** Base URL for the Flux client (`ws://127.0.0.1:PORT`, `--url`), or undefined for Deepgram's default. */
  readonly url: string | undefined;
  /** API key for Deepgram (from `DEEPGRAM_API_KEY`); undefined for local servers. Never printed. */
  readonly apiKey: string | undefined;
  /** `deepgram`, `url` (given explicitly), or `embedded` (a local server started in this process). */
  readonly kind: "deepgram" | "url" | "embedded";
  /** Stops the embedded server, if any. */
  close(): Promise<void>;
}

/** Options of {@link resolveFluxEndpoint}. */
export interface FluxEndpointOptions {
  /** An explicit Flux URL (the CLI's `--url`); wins over everything. */
  readonly url?: string | undefined;
  /** Engine of the embedded server. Default `local` (real offline speech). */
  readonly engine?: string;
  /** Environment to read `DEEPGRAM_API_KEY` from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where to say which Flux is used. Default: a `voxpipe: …` line on stderr. */
  readonly notify?: (text: string) => void;
  /** Logger for the embedded server. Default: silent. */
  readonly logger?: Logger;
}

/**
 * Decides where Flux runs, as every voxpipe command and example does (issue #6): an explicit
 * `url` wins; else with `DEEPGRAM_API_KEY` set it is Deepgram; else a local Flux-compatible
 * server (`@voxpipe/flux-server`, the `local` engine) is started in this process on a free
 * port — and `notify` says so.
 *
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
  const notify = options.notify ?? ((text: string) => process.stderr.write(`voxpipe: ${text}\n`));
  const apiKey = env.DEEPGRAM_API_KEY || undefined;
  if (options.url !== undefined) {
    return { url: options.url, apiKey, kind: "url", close: () => Promise.resolve() };
  }
  if (apiKey !== undefined) {
    notify("using Deepgram Flux (DEEPGRAM_API_KEY is set)");
    return { url: undefined, apiKey, kind: "deepgram", close: () => Promise.resolve() };
  }
  const engine = options.engine ?? "local";
  const server = await startFluxServer({
    port: 0,
    engine,
    ...(options.logger !== undefined && {
      logger: options.logger.child({ component: "flux-server" }),
    }),
  });
  notify(
    `DEEPGRAM_API_KEY is not set: using the embedded local Flux server (${engine} engine) at ${server.url}; set DEEPGRAM_API_KEY to use Deepgram`,
  );
  return { url: server.url, apiKey: undefined, kind: "embedded", close: () => server.close() };
}
