import { validationError } from './errors.js';

/**
 * The contract lets a body's top-level keys arrive in camelCase; they mean the same as snake_case. Sending both
 * spellings of one key is a 400. Keys inside free-form fields (`metadata`) are left alone, since only the top
 * level is renamed. Read-only fields sent back on PUT/PATCH are dropped, as DRF does.
 */

const READ_ONLY_FIELDS = ['id', 'created_at', 'updated_at'];

export function toSnakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

export function normaliseBodyKeys(body: unknown, method: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const source = body as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  const duplicates: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(source)) {
    const snake = /[A-Z]/.test(key) ? toSnakeCase(key) : key;
    if (snake !== key && Object.hasOwn(source, snake)) {
      duplicates[snake] = [`Sent twice, as "${snake}" and "${key}"; send one.`];
      continue;
    }
    result[snake] = value;
  }
  if (Object.keys(duplicates).length > 0) throw validationError(duplicates);
  if (method === 'PUT' || method === 'PATCH') for (const field of READ_ONLY_FIELDS) delete result[field];
  return result;
}

/**
 * Bodies are strict even where a schema forgets to say so: an object schema that lists its properties and says
 * nothing about others accepts no others. Free-form objects (no properties listed, or `additionalProperties`,
 * `patternProperties` or `unevaluatedProperties` given) stay open, and so do the members of an `allOf`, which
 * each see only part of the keys. Works on a copy: the route's own schema, and so the docs, are untouched.
 */
export function closedBodySchema(schema: unknown, inAllOf = false): unknown {
  if (Array.isArray(schema)) return schema.map((item) => closedBodySchema(item, inAllOf));
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'const' || key === 'default' || key === 'enum' || key === 'examples') copy[key] = value;
    else if (key === 'properties' && value && typeof value === 'object') {
      copy[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, closedBodySchema(sub)]));
    } else copy[key] = closedBodySchema(value, key === 'allOf');
  }
  const listed = copy.properties && typeof copy.properties === 'object' && Object.keys(copy.properties).length > 0;
  const open = ['additionalProperties', 'patternProperties', 'unevaluatedProperties'].some((key) => copy[key] !== undefined);
  if (listed && !open && !inAllOf) copy.additionalProperties = false;
  return copy;
}
