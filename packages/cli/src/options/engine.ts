import { InvalidArgumentError } from "commander";

/**
 * A commander parser for an engine-options flag (`voxpipe flux-server --engine-options`,
 * `voxpipe serve --local-engine-options`): a JSON object, whose keys and values the engine
 * checks when it starts (e.g. the local engine's `{"search":"fast"}`).
 * @throws InvalidArgumentError (commander: a usage error, exit 2) naming `flag`, when the value
 *   is not JSON or not an object.
 */
export function parseEngineOptions(flag: string) {
  return (value: string): Record<string, unknown> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new InvalidArgumentError(
        `${flag} must be a JSON object, e.g. '{"search":"fast"}': ${(err as Error).message}`,
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new InvalidArgumentError(
        `${flag} must be a JSON object, e.g. '{"search":"fast"}', got ${value}`,
      );
    }
    return parsed as Record<string, unknown>;
  };
}
