import type * as SageMaker from "@voxpipe/sagemaker";
import type * as LocalEndpoint from "@voxpipe/sagemaker/local-endpoint";
import { CliUsageError } from "./options/flux.js";

/** True when `error` says `specifier` itself could not be found (not one of its imports). */
function isMissing(error: unknown, specifier: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
    error.message.includes(`'${specifier}'`)
  );
}

function missing(what: string, error: unknown): CliUsageError {
  return new CliUsageError(
    `${what} needs the optional package @voxpipe/sagemaker (it brings the AWS SDK): npm install @voxpipe/sagemaker`,
    { cause: error },
  );
}

/**
 * Loads `@voxpipe/sagemaker`, an optional peer of the CLI loaded only for SageMaker targets
 * (it brings the AWS SDK).
 * @param what the flag or argument that asked for it, for the error (e.g. `--url sagemaker:x`).
 * @throws CliUsageError naming the package to install when it is missing.
 */
export async function importSageMaker(what: string): Promise<typeof SageMaker> {
  try {
    return await import("@voxpipe/sagemaker");
  } catch (error) {
    if (isMissing(error, "@voxpipe/sagemaker")) throw missing(what, error);
    throw error;
  }
}

/** Like {@link importSageMaker}, for `@voxpipe/sagemaker/local-endpoint`. */
export async function importLocalSageMakerEndpoint(what: string): Promise<typeof LocalEndpoint> {
  try {
    return await import("@voxpipe/sagemaker/local-endpoint");
  } catch (error) {
    if (isMissing(error, "@voxpipe/sagemaker/local-endpoint")) throw missing(what, error);
    throw error;
  }
}
