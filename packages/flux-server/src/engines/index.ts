/**
 * The engine registry: engine names (as given to `startFluxServer({ engine })` and the
 * CLI's `--engine`) mapped to lazily imported providers, so an engine's dependencies load
 * only when it is used.
 */
import { aptInstallCommand, systemPackagesUsedBy } from "@voxpipe/core";
import type { TurnEngineFactory, TurnEngineProvider } from "../engine.js";

/** The engine needs an optional package that is not installed; the message says what to install. */
export class EngineNotInstalledError extends Error {
  override readonly name = "EngineNotInstalledError";
}

/**
 * The `local` engine's provider. Its speech stack (`@voxpipe/speech-local`: pocketsphinx,
 * a VAD, onnxruntime) is an optional peer dependency, so it loads only here, and an absent
 * package is named rather than crashing the import of the server.
 */
async function loadLocalEngine(): Promise<TurnEngineProvider> {
  try {
    return (await import("./local.js")).createLocalEngine;
  } catch (error) {
    const missing =
      (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
      String((error as Error).message).includes("'@voxpipe/speech-local'");
    if (!missing) throw error;
    throw new EngineNotInstalledError(
      "the local engine needs @voxpipe/speech-local, which is not installed: npm install @voxpipe/speech-local " +
        `(and its system packages: ${aptInstallCommand(systemPackagesUsedBy("@voxpipe/speech-local"))}); ` +
        "or use the scripted engine",
      { cause: error },
    );
  }
}

/** Engine name → loader of its provider. */
export const ENGINE_REGISTRY: Readonly<Record<string, () => Promise<TurnEngineProvider>>> = {
  scripted: async () => (await import("./scripted.js")).createScriptedEngine,
  local: loadLocalEngine,
};

/** One line per registered engine, for help texts. */
export const ENGINE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  scripted: "deterministic scripted turns for tests and demos (no speech recognition)",
  local:
    "real offline speech: pocketsphinx + VAD + turn-end estimator (needs @voxpipe/speech-local)",
};

/** Names of the registered engines. */
export function engineNames(): string[] {
  return Object.keys(ENGINE_REGISTRY);
}

/**
 * Loads a registered engine and builds its factory.
 * @throws Error naming the engine and the registered names when `name` is unknown,
 *   {@link EngineNotInstalledError} when its optional package is absent, or the provider's error for bad options.
 */
export async function loadEngine(
  name: string,
  options: Readonly<Record<string, unknown>> = {},
): Promise<TurnEngineFactory> {
  const load = Object.hasOwn(ENGINE_REGISTRY, name) ? ENGINE_REGISTRY[name] : undefined;
  if (load === undefined)
    throw new Error(`unknown engine ${JSON.stringify(name)}: allowed ${engineNames().join(", ")}`);
  const provider = await load();
  return provider(options);
}
