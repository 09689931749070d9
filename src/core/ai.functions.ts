import type { Static, TObject } from 'typebox';

/**
 * What an AI function is, as the engine (core/ai.ts) runs it. The functions themselves belong to the modules
 * that use them (planner.ai.ts, ...), which register them with the engine in src/modules.ts and declare them
 * in `AiFunctionRegistry` for the types; core names none of them.
 *
 * Each function has the billing operation it is charged as, the variables its caller provides (the only ones
 * a template may use), the default prompt (system + user, `{{variable}}` placeholders) and the schema its JSON
 * answer must follow. Accounts override the prompts (system/prompts/<function>/), never the variables or the
 * schema: the code that consumes the answer depends on them.
 *
 * `language`, `tone` and `brand_guidelines` come from the account's AI settings unless the caller gives them.
 */
export interface AiFunctionDefinition<Name extends string = string, Output extends TObject = TObject> {
  name: Name;
  operation: string;
  variables: readonly string[];
  output: Output;
  system: string;
  user: string;
}

/** The variables every function gets from the account's settings. */
export const SHARED_AI_VARIABLES = ['language', 'tone', 'brand_guidelines'] as const;

/** Keeps a definition's literal types (name, variables, schema) for the registry's typing. */
export const defineAiFunction = <const D extends AiFunctionDefinition>(definition: D): D => definition;

/**
 * The registered functions by name, for the types: each module adds its own by declaration merging
 * (`declare module '../../core/ai.functions.js' { interface AiFunctionRegistry { ideas: typeof ideas } }`).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the modules through declaration merging.
export interface AiFunctionRegistry {}

export type AiFunctionName = keyof AiFunctionRegistry & string;
type DefinitionOf<F extends AiFunctionName> = AiFunctionRegistry[F] extends AiFunctionDefinition ? AiFunctionRegistry[F] : never;
/** The validated answer of a function. */
export type AiOutput<F extends AiFunctionName> = Static<DefinitionOf<F>['output']>;
/** What a caller passes: any of the function's variables (missing ones render empty; shared ones from settings). */
export type AiVariables<F extends AiFunctionName> = Partial<
  Record<DefinitionOf<F>['variables'][number], string | number | readonly string[] | Record<string, unknown> | null>
>;

/** The functions the engine runs and the prompts API lists, in registration order. */
export interface AiFunctions {
  readonly names: readonly string[];
  get(name: string): AiFunctionDefinition | undefined;
  has(name: string): name is AiFunctionName;
}

/** One registry per app, made in src/modules.ts from the modules' functions; a name given twice is a bug. */
export function createAiFunctions(definitions: readonly AiFunctionDefinition[]): AiFunctions {
  const byName = new Map<string, AiFunctionDefinition>();
  for (const definition of definitions) {
    if (byName.has(definition.name)) throw new Error(`AI function "${definition.name}" is registered twice`);
    byName.set(definition.name, definition);
  }
  return {
    names: [...byName.keys()],
    get: (name) => byName.get(name),
    has: (name): name is AiFunctionName => byName.has(name),
  };
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

/** The placeholder names a template uses. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** Fills `{{name}}`: lists one per line, objects as JSON, absent values as nothing. */
export function renderTemplate(template: string, variables: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = variables[name];
    if (value === undefined || value === null) return '';
    if (Array.isArray(value)) return value.map(String).join('\n');
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  });
}
