import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

/**
 * Response serialization through fast-json-stringify, with schemas rewritten once, at start, into shapes it
 * serializes without validating. TypeBox writes a nullable field as `anyOf: [T, {type: 'null'}]` and an enum
 * as `anyOf` of `const`s; for every `anyOf` fast-json-stringify checks each value against the branches with
 * ajv at run time, which made a page of 20 keywords cost several times its queries. A primitive `T | null`
 * becomes `type: [T, 'null']` and a set of string constants becomes `enum`: the same JSON out, and the
 * documentation (built from the original schemas) unchanged.
 */

type Schema = Record<string, unknown>;
const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean']);
const isObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `{type: 'null'}`, possibly with a description. */
const isNull = (s: Schema) => s.type === 'null' && Object.keys(s).every((k) => k === 'type' || k === 'description');

function simplifyAnyOf(branches: Schema[], rest: Schema): Schema | null {
  const nullable = branches.some(isNull);
  const others = branches.filter((b) => !isNull(b));
  if (others.length === 0) return null;
  // String (or number) constants: an enum.
  if (others.every((b) => 'const' in b && PRIMITIVES.has(String(b.type)) && b.type === others[0]?.type)) {
    const values = others.map((b) => b.const);
    return { ...rest, type: nullable ? [others[0]?.type, 'null'] : others[0]?.type, enum: nullable ? [...values, null] : values };
  }
  // One primitive or null: a type list.
  const [only] = others;
  if (nullable && others.length === 1 && only && PRIMITIVES.has(String(only.type)) && !('anyOf' in only)) {
    return { ...only, ...rest, type: [only.type, 'null'] };
  }
  return null;
}

export function serializableSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(serializableSchema);
  if (!isObject(schema)) return schema;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    copy[key] =
      key === 'properties' || key === 'patternProperties' || key === '$defs' || key === 'definitions'
        ? Object.fromEntries(Object.entries(value as Schema).map(([name, sub]) => [name, serializableSchema(sub)]))
        : key === 'const' || key === 'enum' || key === 'default' || key === 'examples' || key === 'required'
          ? value
          : serializableSchema(value);
  }
  if (Array.isArray(copy.anyOf) && copy.anyOf.every(isObject)) {
    const { anyOf, ...rest } = copy;
    return simplifyAnyOf(anyOf as Schema[], rest) ?? copy;
  }
  return copy;
}

/**
 * Serializers made, by their schema's text (with the shared schemas and options they were built with): routes
 * share most response schemas (every error status answers the same envelope), and a process that builds several
 * apps (the tests) builds each once. A serializer is a pure function of its schema.
 */
const built = new Map<string, (data: unknown) => string>();

/** Fastify's own serializer factory, fed the rewritten schemas (shared `$id` schemas included). */
export function serializerFactory() {
  const build = SerializerSelector();
  return (externalSchemas: Record<string, unknown>, options: unknown) => {
    const shared = Object.fromEntries(Object.entries(externalSchemas ?? {}).map(([id, s]) => [id, serializableSchema(s)]));
    const compile = build(shared as never, options as never);
    const context = `${JSON.stringify(shared)}\0${JSON.stringify(options ?? null)}\0`;
    return ({ schema }: { schema: unknown }) => {
      const serializable = serializableSchema(schema);
      const key = context + JSON.stringify(serializable);
      let serializer = built.get(key);
      if (!serializer) {
        serializer = compile({ schema: serializable } as never) as (data: unknown) => string;
        built.set(key, serializer);
      }
      return serializer;
    };
  };
}
