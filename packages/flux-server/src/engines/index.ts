/**
 * The engine registry: engine names (as given to `startFluxServer({ engine })` and the
 * CLI's `--engine`) mapped to lazily imported providers, so an engine's dependencies load
 * only when it is used.
 */
import type { TurnEngineFactory, TurnEngineProvider } from "../engine.js";

/** Engine name → loader of its provider. */
export const ENGINE_REGISTRY: Readonly<Record<string, () => Promise<TurnEngineProvider>>> = {
  scripted: async () => (await import("./scripted.js")).createScriptedEngine,
  local: async () => (await import("./local.js")).createLocalEngine,
};

/** Names of the registered engines. */
export function engineNames(): string[] {
  return Object.keys(ENGINE_REGISTRY);
}

/**
 * Loads a registered engine and builds its factory.
 * @throws Error naming the engine and the registered names when `name` is unknown, or the provider's error for bad options.
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
