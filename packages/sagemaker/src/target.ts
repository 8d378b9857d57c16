import type { FluxEndpoint, FluxTarget } from "@voxpipe/deepgram";
import { FluxEndpointError } from "@voxpipe/deepgram";
import { endpointNameProblem, sagemakerCarrier, type SageMakerCarrierOptions } from "./carrier.js";

/** The prefix that names a SageMaker endpoint where a Flux URL is expected: `sagemaker:<endpoint-name>`. */
export const SAGEMAKER_SCHEME = "sagemaker:";

/**
 * The endpoint name of a `sagemaker:<endpoint-name>` target, `undefined` for anything else.
 * @throws FluxEndpointError when it is a `sagemaker:` target whose name AWS would reject.
 */
export function parseSageMakerTarget(spec: string | undefined): string | undefined {
  if (spec === undefined || !spec.startsWith(SAGEMAKER_SCHEME)) return undefined;
  const name = spec.slice(SAGEMAKER_SCHEME.length);
  const problem = endpointNameProblem(name);
  if (problem !== undefined) throw new FluxEndpointError(`sagemaker:<endpoint-name>: ${problem}`);
  return name;
}

/**
 * A `FluxTarget` for `resolveFluxEndpoint` (`@voxpipe/deepgram`): applies when the URL is
 * `sagemaker:<endpoint-name>` and returns an endpoint whose `carrier` is a
 * {@link sagemakerCarrier} (region, credentials and endpoint override from `options` and the
 * standard AWS settings). Put it before the default targets.
 *
 * @example
 * ```ts
 * const flux = await resolveFluxEndpoint({
 *   url: "sagemaker:my-flux-endpoint",
 *   targets: [sagemakerTarget({ region: "us-east-1" }), ...FLUX_TARGETS],
 * });
 * const stt = new DeepgramFluxSTTService({ carrier: flux.carrier });
 * ```
 */
export function sagemakerTarget(
  options: Omit<SageMakerCarrierOptions, "endpointName"> = {},
): FluxTarget {
  return {
    kind: "sagemaker",
    resolve(request): Promise<FluxEndpoint | undefined> {
      const endpointName = parseSageMakerTarget(request.url);
      if (endpointName === undefined) return Promise.resolve(undefined);
      const carrier = sagemakerCarrier({ env: request.env, ...options, endpointName });
      request.notify(`using Flux on Amazon SageMaker endpoint ${endpointName}`);
      return Promise.resolve({
        url: undefined,
        apiKey: undefined,
        kind: "sagemaker",
        carrier,
        close: () => {
          carrier.destroy();
          return Promise.resolve();
        },
      });
    },
  };
}
