/**
 * Build an OpenAI function tool schema from a zod schema. zod (v4) is used because its
 * `z.toJSONSchema` is the maintained zod → JSON Schema conversion; writing JSON Schema by
 * hand for every tool is where argument mistakes start.
 */
import { z } from "zod";
import type { LLMTool } from "../aggregators/context.js";

/** Input of {@link functionSchema}. */
export interface FunctionSchemaInit<TParams extends z.ZodObject> {
  /** Function name, `^[a-zA-Z0-9_-]{1,64}$` (OpenAI's rule). */
  readonly name: string;
  /** What the function does and when to call it (the model reads this). */
  readonly description: string;
  /** The arguments object, e.g. `z.object({ date: z.string().describe("YYYY-MM-DD") })`. */
  readonly parameters: TParams;
  /** OpenAI structured outputs (`strict: true`): every property required, no extras. Default unset. */
  readonly strict?: boolean;
}

/**
 * An `LLMTool` (OpenAI `tools[]` entry, `type: "function"`) whose `parameters` is the JSON
 * Schema of `parameters` (draft 2020-12 as zod emits it, without the `$schema` key).
 *
 * @example
 * ```ts
 * const checkAvailability = functionSchema({
 *   name: "check_availability",
 *   description: "Check whether a table is free.",
 *   parameters: z.object({ date: z.string(), time: z.string(), partySize: z.number().int().min(1) }),
 * });
 * const context = new LLMContext([{ role: "system", content: "…" }], [checkAvailability]);
 * ```
 * @throws {TypeError} when the schema cannot be expressed in JSON Schema (zod's error).
 */
export function functionSchema<TParams extends z.ZodObject>(
  init: FunctionSchemaInit<TParams>,
): LLMTool {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(init.parameters) as Record<
    string,
    unknown
  >;
  return {
    type: "function",
    function: {
      name: init.name,
      description: init.description,
      parameters,
      ...(init.strict !== undefined && { strict: init.strict }),
    },
  };
}
