import type { FluxServerOptions } from "@voxpipe/flux-server";

/**
 * The scripted engine every load benchmark's server runs: energy segmentation (the
 * benchmark's tone bursts are speech) with these transcripts assigned to the segments.
 */
export const BENCH_SCRIPTED_ENGINE = {
  engine: "scripted",
  engineOptions: {
    transcripts: [
      "Hello there, how are you?",
      "I would like to book a table for two.",
      "Thank you, goodbye.",
    ],
  },
} as const satisfies Pick<FluxServerOptions, "engine" | "engineOptions">;
