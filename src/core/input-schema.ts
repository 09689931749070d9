import type { Ajv } from 'ajv';

/**
 * What every request value must be before it may reach the database, whatever its route's schema says: a
 * string holds no NUL (Postgres text cannot store one) and no unpaired surrogate (not encodable as UTF-8); an
 * integer fits the int4 columns ids and counts live in unless its schema declares other bounds; a number is
 * finite (`1e400` parses as Infinity) and, when not zero, representable as a Postgres `real` (1e-320 underflows
 * one).
 * Applied by the validator compiler to every body, query and params schema, on a copy: the route's own
 * schema, and so the OpenAPI document, are untouched.
 */

export const INT4_MAX = 2_147_483_647;
export const INT4_MIN = -2_147_483_648;
/** The smallest positive normal `real` (FLT_MIN): below it, a non-zero value cannot be stored as one. */
const REAL_MIN_NORMAL = 1.1754943508222875e-38;

export const WELL_FORMED_TEXT = 'wellFormedText';
export const STORABLE_NUMBER = 'storableNumber';

export const INPUT_KEYWORD_MESSAGES: Record<string, () => string> = {
  [WELL_FORMED_TEXT]: () => 'Must not contain NUL characters or unpaired surrogates.',
  [STORABLE_NUMBER]: () => `Must be a finite number, 0 or at least ${REAL_MIN_NORMAL.toPrecision(3)} in magnitude.`,
};

/** Text Postgres can store: no NUL, no unpaired surrogate. For values that arrive outside a schema (CSV files). */
export function isStorableText(text: string): boolean {
  return !text.includes('\0') && (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Registers the two keywords on a validator; `strictNumbers` (no Infinity, NaN) is set with its options. */
export function addInputKeywords(ajv: Ajv): Ajv {
  ajv.addKeyword({
    keyword: WELL_FORMED_TEXT,
    type: 'string',
    schemaType: 'boolean',
    errors: false,
    validate: (_: boolean, data: string) => isStorableText(data),
  });
  // Untyped on purpose: ajv skips a type's keywords when coercing a query string gives Infinity (`?page=1e400`),
  // so this one must run whatever the value's type.
  ajv.addKeyword({
    keyword: STORABLE_NUMBER,
    schemaType: 'boolean',
    errors: false,
    validate: (_: boolean, data: unknown) =>
      typeof data !== 'number' || (Number.isFinite(data) && (data === 0 || Math.abs(data) >= REAL_MIN_NORMAL)),
  });
  return ajv;
}

const typesOf = (node: Record<string, unknown>): unknown[] =>
  Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type];

/** A copy of `schema` with the guards above on every string, integer and number it describes, at any depth. */
export function guardedInputSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(guardedInputSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // Literal values are data, not schemas.
    if (key === 'const' || key === 'default' || key === 'enum' || key === 'examples') copy[key] = value;
    else if ((key === 'properties' || key === 'patternProperties' || key === '$defs') && value && typeof value === 'object') {
      copy[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, guardedInputSchema(sub)]));
    } else copy[key] = guardedInputSchema(value);
  }
  const types = typesOf(copy);
  if (types.includes('string')) copy[WELL_FORMED_TEXT] = true;
  if (types.includes('integer') || types.includes('number')) copy[STORABLE_NUMBER] = true;
  if (types.includes('integer')) {
    if (copy.maximum === undefined && copy.exclusiveMaximum === undefined) copy.maximum = INT4_MAX;
    if (copy.minimum === undefined && copy.exclusiveMinimum === undefined) copy.minimum = INT4_MIN;
  }
  return copy;
}
