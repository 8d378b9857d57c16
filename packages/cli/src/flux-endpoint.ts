import type { Logger } from "pino";
import { startFluxServer } from "@voxpipe/flux-server";
import type { CliIO } from "./io.js";
import { note } from "./io.js";

/** Where the STT connects, and how to release it. */
export interface FluxEndpoint {
  /** Base URL for the Flux client (`wss://api.deepgram.com`, `ws://127.0.0.1:PORT`, or `--url`). */
  readonly url: string | undefined;
  /** API key for Deepgram (from `DEEPGRAM_API_KEY`); undefined for local servers. Never printed. */
  readonly apiKey: string | undefined;
  /** `deepgram`, `url` (the user's `--url`), or `embedded` (a local server started by the CLI). */
  readonly kind: "deepgram" | "url" | "embedded";
  /** Stops the embedded server, if any. */
  close(): Promise<void>;
}

/** Options of {@link resolveFluxEndpoint}. */
export interface FluxEndpointOptions {
  /** `--url`, if given. */
  readonly url?: string | undefined;
  /** Engine of the embedded server. Default `local` (real offline speech). */
  readonly engine?: string;
  readonly logger: Logger;
}

/**
 * Decides where Flux runs (issue #6): `--url` wins; else with `DEEPGRAM_API_KEY` set it is
 * Deepgram; else a local Flux-compatible server is started in this process on a free port,
 * and stderr says so.
 */
export async function resolveFluxEndpoint(
  io: CliIO,
  options: FluxEndpointOptions,
): Promise<FluxEndpoint> {
  const apiKey = io.env.DEEPGRAM_API_KEY || undefined;
  if (options.url !== undefined) {
    return { url: options.url, apiKey, kind: "url", close: () => Promise.resolve() };
  }
  if (apiKey !== undefined) {
    note(io, "using Deepgram Flux (DEEPGRAM_API_KEY is set)");
    return { url: undefined, apiKey, kind: "deepgram", close: () => Promise.resolve() };
  }
  const engine = options.engine ?? "local";
  const server = await startFluxServer({
    port: 0,
    engine,
    logger: options.logger.child({ component: "flux-server" }),
  });
  note(
    io,
    `DEEPGRAM_API_KEY is not set: using the embedded local Flux server (${engine} engine) at ${server.url}; set DEEPGRAM_API_KEY to use Deepgram`,
  );
  return { url: server.url, apiKey: undefined, kind: "embedded", close: () => server.close() };
}
