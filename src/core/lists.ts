import {
  type AnyColumn,
  and,
  asc,
  Column,
  count,
  desc,
  eq,
  getTableColumns,
  getTableName,
  gt,
  gte,
  ilike,
  inArray,
  is,
  isNull,
  like,
  lt,
  lte,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import { type PgColumn, PgDialect, type PgTable } from 'drizzle-orm/pg-core';
import { type TInteger, type TObject, type TOptional, type TSchema, type TString, Type } from 'typebox';
import { type Db, directClientOf, directRows, queryRows } from './db.js';
import { AppError, type FieldErrors, validationError } from './errors.js';
import { INT4_MAX, INT4_MIN } from './input-schema.js';
import { countCacheOf, pageCacheOf } from './read-cache.js';

/**
 * Lists the contract's way: page (`page`, `page_size`) or offset (`limit`, `offset`) pagination, cursor pages
 * for feeds, declared filters (`field`, `field__in`, `field__gte`, `field__lte`, `created_after`,
 * `created_before`), `search` over declared text fields, and `ordering` over declared fields, always ending in
 * `id`. Everything not declared is a 400, through the query schema built here.
 */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 200;

type FilterKind = 'integer' | 'string' | 'boolean' | 'decimal';
export interface FilterSpec {
  column: PgColumn;
  kind: FilterKind;
  /** Allowed values (an enum field); checked for `field` and each item of `field__in`. */
  values?: readonly string[];
  /** `__gte`/`__lte` (numbers and dates). */
  range?: boolean;
  /** `__in` (comma-separated list). */
  in?: boolean;
  /** Accepts `null` as a value meaning "is null" (e.g. `?cluster_id=null`). */
  nullable?: boolean;
}

export interface ListSpec {
  filters?: Record<string, FilterSpec>;
  search?: PgColumn[];
  /**
   * The search columns hold lower-cased text (normalised on write), so search is a plain LIKE on the lower-cased
   * term: the same rows as ILIKE, at a fraction of its cost (ILIKE folds case row by row; measured ~10× on
   * 5,000 keywords).
   */
  searchLowercased?: boolean;
  ordering?: Record<string, PgColumn>;
  /** e.g. `-created_at`; `id` is appended. */
  defaultOrdering?: string;
  /** `created_after`/`created_before` filter this column (default: the table's `created_at`). */
  createdColumn?: PgColumn;
  /** Feeds: accept `?cursor=` and page by id, newest first, at a cost that does not grow with depth. */
  cursor?: boolean;
}

export interface ListQuery {
  page?: number;
  page_size?: number;
  limit?: number;
  offset?: number;
  cursor?: string;
  search?: string;
  ordering?: string;
  [filter: string]: unknown;
}

/**
 * The values a filter's column can hold, from its type: Postgres refuses to compare an int4 column with
 * 2147483648 (`integer out of range`) rather than answering no rows, so a value past the column's range is a
 * field error naming the filter. Decimals are bounded by their precision (`numeric(10,2)`: below 10^8).
 */
function integerRange(column: PgColumn): [number, number] {
  switch (column.columnType) {
    case 'PgSmallInt':
    case 'PgSmallSerial':
      return [-32_768, 32_767];
    case 'PgBigInt53':
    case 'PgBigInt64':
    case 'PgBigSerial53':
    case 'PgBigSerial64':
      return [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    default:
      return [INT4_MIN, INT4_MAX];
  }
}

function decimalIntegerDigits(column: PgColumn): number | null {
  const { precision, scale } = column as PgColumn & { precision?: number; scale?: number };
  return precision === undefined ? null : precision - (scale ?? 0);
}

const integerSchema = (column: PgColumn, description?: string) => {
  const [minimum, maximum] = integerRange(column);
  return Type.Integer({ minimum, maximum, ...(description ? { description } : {}) });
};

const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:?\\d{2})?)?$';

/** The querystring schema for a list: its pagination, its filters, nothing else (unknown parameters are a 400). */
export function listQuerySchema(spec: ListSpec, extra: Record<string, TSchema> = {}) {
  const properties: Record<string, TSchema> = {
    page: Type.Optional(Type.Integer({ minimum: 1, description: 'Page number (page style).' })),
    page_size: Type.Optional(
      Type.Integer({ minimum: 1, description: `Rows per page; default ${DEFAULT_PAGE_SIZE}, capped at ${MAX_PAGE_SIZE}.` }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Rows per page (offset style).' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, description: 'Rows to skip (offset style).' })),
  };
  if (spec.cursor) {
    properties.cursor = Type.Optional(
      Type.String({ maxLength: 200, description: 'Cursor pagination: empty to start, then the `next`/`previous` links.' }),
    );
  }
  if (spec.search?.length) {
    properties.search = Type.Optional(Type.String({ maxLength: 200, description: 'Case-insensitive substring search.' }));
  }
  if (spec.ordering && Object.keys(spec.ordering).length > 0) {
    const fields = Object.keys(spec.ordering).join(', ');
    properties.ordering = Type.Optional(
      Type.String({ maxLength: 200, description: `Comma-separated fields among ${fields}; prefix - for descending.` }),
    );
  }
  properties.created_after = Type.Optional(Type.String({ pattern: DATE_PATTERN, description: 'Inclusive; ISO 8601.' }));
  properties.created_before = Type.Optional(Type.String({ pattern: DATE_PATTERN, description: 'Inclusive; ISO 8601.' }));
  for (const [name, filter] of Object.entries(spec.filters ?? {})) {
    const single =
      filter.values !== undefined
        ? Type.Union([...filter.values, ...(filter.nullable ? ['null'] : [])].map((v) => Type.Literal(v)))
        : filter.kind === 'integer' && !filter.nullable
          ? integerSchema(filter.column)
          : filter.kind === 'boolean'
            ? Type.Boolean()
            : Type.String({ maxLength: 200 });
    properties[name] = Type.Optional(single);
    if (filter.in) properties[`${name}__in`] = Type.Optional(Type.String({ maxLength: 4000, description: 'Comma-separated.' }));
    if (filter.range) {
      for (const suffix of ['__gte', '__lte']) {
        properties[`${name}${suffix}`] = Type.Optional(
          filter.kind === 'integer' ? integerSchema(filter.column) : Type.String({ maxLength: 64 }),
        );
      }
    }
  }
  Object.assign(properties, extra);
  return Type.Object(properties, { additionalProperties: false }) as TObject<ListQueryProperties>;
}

function parseValue(filter: FilterSpec, raw: string, field: string, errors: FieldErrors): unknown {
  if (filter.nullable && raw === 'null') return null;
  if (filter.values && !filter.values.includes(raw)) {
    errors[field] = [`"${raw}" is not one of: ${filter.values.join(', ')}.`];
    return undefined;
  }
  if (filter.kind === 'integer') {
    const [minimum, maximum] = integerRange(filter.column);
    if (!/^-?\d{1,20}$/.test(raw)) {
      errors[field] = [`"${raw}" is not a whole number.`];
      return undefined;
    }
    const value = Number(raw);
    if (value < minimum || value > maximum) {
      errors[field] = [`Must be between ${minimum} and ${maximum}.`];
      return undefined;
    }
    return value;
  }
  if (filter.kind === 'decimal') {
    const match = /^-?(\d+)(\.\d+)?$/.exec(raw);
    if (!match) {
      errors[field] = [`"${raw}" is not a number.`];
      return undefined;
    }
    const digits = decimalIntegerDigits(filter.column);
    if (digits !== null && (match[1] ?? '').replace(/^0+(?=\d)/, '').length > digits) {
      errors[field] = [`Must be below 10^${digits} in magnitude.`];
      return undefined;
    }
  }
  return raw;
}

function parseDate(raw: string, field: string, errors: FieldErrors, endOfDay: boolean): Date | undefined {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const parsed = new Date(dateOnly ? `${raw}T00:00:00.000Z` : raw);
  // Postgres has no year 0 and JavaScript dates go further than Postgres timestamps: years 1–9999 only.
  const year = parsed.getUTCFullYear();
  if (Number.isNaN(parsed.getTime()) || year < 1 || year > 9999) {
    errors[field] = ['Must be a valid ISO 8601 date or date-time.'];
    return undefined;
  }
  // `created_before=2026-11-21` is inclusive of that whole day.
  if (dateOnly && endOfDay) parsed.setUTCDate(parsed.getUTCDate() + 1), parsed.setUTCMilliseconds(-1);
  return parsed;
}

/** The WHERE conditions for a list's filters, search and created range; field errors for values that do not fit. */
export function listConditions(spec: ListSpec, query: ListQuery, table: PgTable): SQL[] {
  const conditions: SQL[] = [];
  const errors: FieldErrors = {};
  for (const [name, filter] of Object.entries(spec.filters ?? {})) {
    const exact = query[name];
    if (exact !== undefined) {
      const value = typeof exact === 'string' ? parseValue(filter, exact, name, errors) : exact;
      if (value === null) conditions.push(isNull(filter.column));
      else if (value !== undefined) conditions.push(eq(filter.column, value));
    }
    const list = query[`${name}__in`];
    if (typeof list === 'string') {
      const values = list
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
        .map((v) => parseValue(filter, v, `${name}__in`, errors));
      if (values.length === 0) errors[`${name}__in`] = ['Give at least one value.'];
      else if (values.length > 1000) errors[`${name}__in`] = ['At most 1,000 values.'];
      else if (!errors[`${name}__in`]) conditions.push(inArray(filter.column, values));
    }
    for (const [suffix, op] of [
      ['__gte', gte],
      ['__lte', lte],
    ] as const) {
      const bound = query[`${name}${suffix}`];
      if (bound === undefined) continue;
      const value = typeof bound === 'string' ? parseValue(filter, bound, `${name}${suffix}`, errors) : bound;
      if (value !== undefined && value !== null) conditions.push(op(filter.column, value));
    }
  }
  const createdColumn = spec.createdColumn ?? getTableColumns(table).created_at;
  if (createdColumn) {
    if (typeof query.created_after === 'string') {
      const after = parseDate(query.created_after, 'created_after', errors, false);
      if (after) conditions.push(gte(createdColumn, after));
    }
    if (typeof query.created_before === 'string') {
      const before = parseDate(query.created_before, 'created_before', errors, true);
      if (before) conditions.push(lte(createdColumn, before));
    }
  }
  if (query.search && spec.search?.length) {
    const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const matches = spec.search.map((column) =>
      spec.searchLowercased ? like(column, pattern.toLowerCase()) : ilike(column, pattern),
    );
    conditions.push((matches.length === 1 ? matches[0] : or(...matches)) as SQL);
  }
  if (Object.keys(errors).length > 0) throw validationError(errors);
  return conditions;
}

/** `?ordering=-volume,keyword` → ORDER BY volume DESC, keyword ASC, id DESC (the tie-breaker follows the last field). */
export function listOrdering(spec: ListSpec, query: ListQuery, idColumn: AnyColumn): SQL[] {
  const raw = query.ordering ?? spec.defaultOrdering ?? '-created_at';
  const terms = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const allowed: Record<string, PgColumn> = { ...(spec.ordering ?? {}), id: idColumn as PgColumn };
  const orderBy: SQL[] = [];
  let lastDescending = true;
  const bad: string[] = [];
  for (const term of terms) {
    const descending = term.startsWith('-');
    const name = descending ? term.slice(1) : term;
    const column = Object.hasOwn(allowed, name) ? allowed[name] : undefined; // `?ordering=__proto__`
    if (!column) {
      bad.push(name);
      continue;
    }
    lastDescending = descending;
    if (name === 'id') break;
    orderBy.push(descending ? desc(column) : asc(column));
  }
  if (bad.length > 0) {
    const fields = Object.keys(allowed).join(', ');
    throw validationError({ ordering: [`Cannot order by ${bad.map((b) => `"${b}"`).join(', ')}; choose among ${fields}.`] });
  }
  orderBy.push(lastDescending ? desc(idColumn) : asc(idColumn));
  return orderBy;
}

// ---------------------------------------------------------------------------------------------------------
// Pagination

export type Pagination =
  | { style: 'page'; page: number; size: number }
  | { style: 'offset'; limit: number; offset: number }
  | { style: 'cursor'; size: number; after: number | null; before: number | null };

export function pagination(_spec: ListSpec, query: ListQuery): Pagination {
  const pageStyle = query.page !== undefined || query.page_size !== undefined;
  const offsetStyle = query.limit !== undefined || query.offset !== undefined;
  const cursorStyle = query.cursor !== undefined;
  if (
    [pageStyle && !cursorStyle, offsetStyle, cursorStyle].filter(Boolean).length > 1 ||
    (cursorStyle && query.page !== undefined)
  ) {
    throw validationError({
      non_field_errors: ['Use one pagination style: page and page_size, limit and offset, or cursor (with page_size).'],
    });
  }
  const capped = (n: number | undefined) => Math.min(n ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  if (cursorStyle) {
    const decoded = decodeCursor(query.cursor ?? '');
    return { style: 'cursor', size: capped(query.page_size), ...decoded };
  }
  if (offsetStyle) return { style: 'offset', limit: capped(query.limit), offset: query.offset ?? 0 };
  return { style: 'page', page: query.page ?? 1, size: capped(query.page_size) };
}

function decodeCursor(cursor: string): { after: number | null; before: number | null } {
  if (cursor === '') return { after: null, before: null };
  const match = /^([ab])(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw validationError({ cursor: ['Invalid cursor; use the next or previous link as given.'] });
  const id = Number(match[2]);
  if (id > INT4_MAX) throw validationError({ cursor: ['Invalid cursor; use the next or previous link as given.'] });
  return match[1] === 'a' ? { after: id, before: null } : { after: null, before: id };
}

const encodeCursor = (direction: 'a' | 'b', id: number) => Buffer.from(`${direction}${id}`).toString('base64url');

/** Query-parameter replacements that lead from this page to another (null removes a parameter). */
export type PageParams = Record<string, string | number | null>;

/** The neighbouring pages, as replacements of the request's own query; the envelope layer makes them links. */
export interface PageLinks {
  next: PageParams | null;
  previous: PageParams | null;
}

/** A list's rows and paging state, without HTTP: `sendPage` (core/envelope.ts) turns it into the wire page. */
export interface ListResult<Row> {
  count: number | null;
  results: Row[];
  paging: PageLinks;
}

/** The links of a page or offset page: `hasNext` when rows remain after this one. */
function numberedLinks(
  paging: Extract<Pagination, { style: 'page' | 'offset' }>,
  offset: number,
  limit: number,
  hasNext: boolean,
): PageLinks {
  if (paging.style === 'page') {
    return {
      next: hasNext ? { page: paging.page + 1, page_size: paging.size } : null,
      previous: paging.page > 1 ? { page: paging.page - 1, page_size: paging.size } : null,
    };
  }
  return {
    next: hasNext ? { limit, offset: offset + limit } : null,
    previous: offset > 0 ? { limit, offset: offset - limit > 0 ? offset - limit : null } : null,
  };
}

export interface ListRun<Row> {
  db: Db;
  table: PgTable;
  idColumn: PgColumn;
  /** Columns to select (lists leave out large bodies); default: every column. */
  select?: Record<string, PgColumn | SQL.Aliased>;
  /** The tenant scope and any fixed conditions; always applied. */
  where: SQL[];
  spec: ListSpec;
  query: ListQuery;
  /** Turns a row into its wire shape when the row is not already it. */
  map?: (row: Record<string, unknown>) => Row;
  /**
   * The account whose rows these are (the tenant condition is in `where`): with it, the count is remembered per
   * (account, table, conditions) and forgotten when that account's rows of the table change (core/read-cache.ts).
   * Leave it out when the conditions read other tables (the count would not hear their changes); a condition
   * with a subquery is never remembered anyway.
   */
  accountId?: number;
}

/**
 * A page and the count of every matching row in one statement: one round trip and one plan instead of two.
 * The count is joined to the page laterally, so a page past the end still answers the count (one row of nulls);
 * a lateral join runs as a nested loop over the single count row, so the page's rows keep their ORDER BY.
 * Rows arrive as the driver sends them and are decoded column by column as Drizzle decodes its own selects.
 */
async function countedPage(
  db: Db,
  table: PgTable,
  select: ListRun<unknown>['select'],
  where: SQL | undefined,
  orderBy: SQL[],
  limit: number,
  offset: number,
): Promise<{ total: number; rows: Record<string, unknown>[] }> {
  const fields = (select ?? getTableColumns(table)) as Record<string, PgColumn | SQL.Aliased>;
  const page = (select ? db.select(select) : db.select())
    .from(table)
    .where(where)
    .orderBy(...orderBy)
    .limit(limit)
    .offset(offset);
  const counted = db
    .select({ total: count().as('total') })
    .from(table)
    .where(where);
  const raws = await queryRows<Record<string, unknown>>(
    db,
    sql`select c.total as "__total", p.* from (${counted}) c left join lateral (${page}) p on true`,
  );
  const decoders = Object.entries(fields).map(([key, field]) =>
    is(field, Column)
      ? { key, name: field.name, decode: (value: unknown) => field.mapFromDriverValue(value) }
      : { key, name: (field as SQL.Aliased).fieldAlias, decode: (value: unknown) => value },
  );
  const first = raws[0];
  const total = first ? Number(first.__total) : 0;
  const idName = decoders.find((d) => d.key === 'id')?.name ?? 'id';
  const rows = raws
    .filter((raw) => raw[idName] !== null && raw[idName] !== undefined)
    .map((raw) => {
      const row: Record<string, unknown> = {};
      for (const { key, name, decode } of decoders) {
        const value = raw[name];
        row[key] = value === null || value === undefined ? null : decode(value);
      }
      return row;
    });
  return { total, rows };
}

const dialect = new PgDialect();

/** The conditions as text and values: the same filters give the same text whatever order the query named them in. */
function compileConditions(where: SQL | undefined): Compiled | null {
  return where ? dialect.sqlToQuery(where) : null;
}

/** The count's key; null when it cannot be remembered (a subquery reads another table, whose changes it would miss). */
function countKey(conditions: Compiled | null): string | null {
  if (!conditions) return '';
  if (/\bselect\b/i.test(conditions.sql)) return null;
  return `${conditions.sql}\u0000${JSON.stringify(conditions.params)}`;
}

async function countOnly(db: Db, table: PgTable, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ total: count() }).from(table).where(where);
  return Number(row?.total ?? 0);
}

type Decoder = { key: string; decode: (value: unknown) => unknown };

/** A list's select list as SQL text and its columns' decoders, built once per select (or table). */
interface Selection {
  /** Tells selections apart in a remembered page's key. */
  id: number;
  prefix: string;
  decoders: Decoder[];
}
let selectionIds = 0;
const selections = new WeakMap<object, Selection>();

function selectionOf(db: Db, table: PgTable, select: ListRun<unknown>['select']): Selection {
  const owner = select ?? table;
  let known = selections.get(owner);
  if (!known) {
    const fields = (select ?? getTableColumns(table)) as Record<string, PgColumn | SQL.Aliased>;
    known = {
      id: ++selectionIds,
      prefix: dialect.sqlToQuery(db.select(fields).from(table).getSQL()).sql,
      decoders: Object.entries(fields).map(([key, field]) =>
        is(field, Column)
          ? { key, decode: (value: unknown) => field.mapFromDriverValue(value) }
          : { key, decode: (value) => value },
      ),
    };
    selections.set(owner, known);
  }
  return known;
}

/** ORDER BY text per list spec and `?ordering=` value: the same few orderings come back on every request. */
const orderings = new WeakMap<ListSpec, Map<string, string>>();

function orderText(spec: ListSpec, ordering: string, orderBy: SQL[]): string {
  let bySpec = orderings.get(spec);
  if (!bySpec) {
    bySpec = new Map();
    orderings.set(spec, bySpec);
  }
  let text = bySpec.get(ordering);
  if (text === undefined) {
    const compiled = dialect.sqlToQuery(sql.join(orderBy, sql`, `));
    if (compiled.params.length > 0) throw new Error('An ordering with parameters cannot be cached');
    text = compiled.sql;
    if (bySpec.size < 100) bySpec.set(ordering, text);
  }
  return text;
}

type Compiled = { sql: string; params: unknown[] };

/**
 * The page alone, for a list whose count is known. On the app's own handle it skips Drizzle's query building and
 * runs on the driver as a named statement (core/db.ts `directRows`): the conditions are already compiled for the
 * count's key, the select list and ordering are the same text every time, the page size is written in (a plan per
 * size) and the offset is a parameter. Rows are decoded by the columns as Drizzle's own selects decode them.
 */
async function pageOnly(
  run: ListRun<unknown>,
  where: SQL | undefined,
  conditions: Compiled | null,
  orderBy: SQL[],
  limit: number,
  offset: number,
): Promise<Record<string, unknown>[]> {
  const { db, table } = run;
  const client = directClientOf(db);
  if (!client) {
    const page = (run.select ? db.select(run.select) : db.select())
      .from(table)
      .where(where)
      .orderBy(...orderBy)
      .limit(limit)
      .offset(offset);
    return (await page) as Record<string, unknown>[];
  }
  const { prefix, decoders } = selectionOf(db, table, run.select);
  const params = conditions?.params ?? [];
  const ordering = orderText(run.spec, run.query.ordering ?? run.spec.defaultOrdering ?? '-created_at', orderBy);
  // The first page (most reads) has no OFFSET at all: its plan can then be cached as generic.
  const paged = offset > 0 ? ` offset $${params.length + 1}` : '';
  const text = `${prefix}${conditions ? ` where ${conditions.sql}` : ''} order by ${ordering} limit ${limit}${paged}`;
  const raw = await directRows(client, text, offset > 0 ? [...params, offset] : params);
  return raw.map((values) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < decoders.length; i++) {
      const { key, decode } = decoders[i] as Decoder;
      const value = values[i];
      row[key] = value === null || value === undefined ? null : decode(value);
    }
    return row;
  });
}

/**
 * The page and its exact count: counted with the page in one statement, unless the count is remembered (the
 * account's rows of this table have not changed since); then the page alone, with a barrier on the change
 * notifications in parallel so that a write committed before this request, in any process, is heard first.
 */
async function pageWithCount(
  run: ListRun<unknown>,
  where: SQL | undefined,
  orderBy: SQL[],
  limit: number,
  offset: number,
): Promise<{ total: number; rows: Record<string, unknown>[] }> {
  const { db, table, accountId } = run;
  const cache = accountId === undefined ? undefined : countCacheOf(db);
  const name = cache ? getTableName(table) : '';
  const conditions = cache?.covers(name) ? compileConditions(where) : undefined;
  const key = conditions === undefined ? null : countKey(conditions);
  if (!cache || accountId === undefined || key === null) return countedPage(db, table, run.select, where, orderBy, limit, offset);
  // The whole page, when this very page was read since the last change.
  const pages = pageCacheOf(db);
  const ordering = run.query.ordering ?? run.spec.defaultOrdering ?? '-created_at';
  const selection = selectionOf(db, table, run.select).id;
  const pageKey = `${key}\u0001${ordering}\u0001${limit}\u0001${offset}\u0001${selection}`;
  if (pages?.get(name, accountId, pageKey) !== undefined && (await cache.barrier())) {
    const known = pages.get(name, accountId, pageKey);
    if (known) return { total: known.total, rows: known.rows as Record<string, unknown>[] };
  }
  const pageToken = pages?.token(name, accountId);
  const read = await pageAndCount(run, where, conditions ?? null, key, name, accountId, cache, orderBy, limit, offset);
  // Frozen: the same rows answer every request until a change, so nothing may alter them.
  if (pages && pageToken)
    pages.store(name, accountId, pageKey, { total: read.total, rows: read.rows.map((r) => Object.freeze(r)) }, pageToken);
  return read;
}

async function pageAndCount(
  run: ListRun<unknown>,
  where: SQL | undefined,
  conditions: Compiled | null,
  key: string,
  name: string,
  accountId: number,
  cache: NonNullable<ReturnType<typeof countCacheOf>>,
  orderBy: SQL[],
  limit: number,
  offset: number,
): Promise<{ total: number; rows: Record<string, unknown>[] }> {
  const { db, table } = run;
  if (cache.get(name, accountId, key) === undefined) {
    const token = cache.token(name, accountId);
    const counted = await countedPage(db, table, run.select, where, orderBy, limit, offset);
    cache.store(name, accountId, key, counted.total, token);
    return counted;
  }
  const [rows, heard] = await Promise.all([pageOnly(run, where, conditions, orderBy, limit, offset), cache.barrier()]);
  const known = heard ? cache.get(name, accountId, key) : undefined;
  if (known !== undefined) return { total: known, rows };
  // A change came in while the page was read: count again (and remember it, unless yet another change came).
  const token = cache.token(name, accountId);
  const total = await countOnly(db, table, where);
  cache.store(name, accountId, key, total, token);
  return { total, rows };
}

/** Runs a list: the page with the count of every match (page and offset styles), or a cursor page (no count). */
export async function runList<Row>(run: ListRun<Row>): Promise<ListResult<Row>> {
  const { db, table, idColumn, spec, query } = run;
  const paging = pagination(spec, query);
  const conditions = [...run.where, ...listConditions(spec, query, table)];
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const base = () => (run.select ? db.select(run.select) : db.select()).from(table);
  const map = run.map ?? ((row: Record<string, unknown>) => row as Row);

  if (paging.style === 'cursor') {
    if (query.ordering !== undefined)
      throw validationError({ ordering: ['Cursor pages are ordered newest first; drop ordering.'] });
    const backwards = paging.before !== null;
    const bound = backwards
      ? gt(idColumn, paging.before as number)
      : paging.after !== null
        ? lt(idColumn, paging.after)
        : undefined;
    const rows = (await base()
      .where(and(where, bound))
      .orderBy(backwards ? asc(idColumn) : desc(idColumn))
      .limit(paging.size + 1)) as Record<string, unknown>[];
    const more = rows.length > paging.size;
    const page = rows.slice(0, paging.size);
    if (backwards) page.reverse();
    const firstId = page[0]?.id as number | undefined;
    const lastId = page[page.length - 1]?.id as number | undefined;
    const hasNext = backwards ? true : more;
    const hasPrevious = backwards ? more : paging.after !== null;
    return {
      count: null,
      results: page.map(map),
      paging: {
        next: hasNext && lastId !== undefined ? { cursor: encodeCursor('a', lastId) } : null,
        previous: hasPrevious && firstId !== undefined ? { cursor: encodeCursor('b', firstId) } : null,
      },
    };
  }

  const limit = paging.style === 'page' ? paging.size : paging.limit;
  const offset = paging.style === 'page' ? (paging.page - 1) * paging.size : paging.offset;
  const orderBy = listOrdering(spec, query, idColumn);
  const { total, rows } = await pageWithCount(run, where, orderBy, limit, offset);
  if (paging.style === 'page' && rows.length === 0 && paging.page > 1) {
    throw new AppError('not_found', 'Invalid page: past the last one.');
  }
  const hasNext = offset + rows.length < total;
  return { count: total, results: rows.map(map), paging: numberedLinks(paging, offset, limit, hasNext) };
}

/** The paging parameters alone (page and offset styles), for lists served by `pageOfRows`. */
export function pagingQuerySchema() {
  return Type.Pick(listQuerySchema({}), ['page', 'page_size', 'limit', 'offset'], { additionalProperties: false });
}

/**
 * The contract's page for a collection small enough to load whole (an account's members, a user's sessions,
 * both bounded by the plan or by expiry): the same styles, caps, links and past-the-end 404 as `runList`.
 */
export function pageOfRows<Row>(rows: Row[], query: ListQuery): ListResult<Row> {
  const paging = pagination({}, query);
  if (paging.style === 'cursor') throw validationError({ cursor: ['This list has no cursor pages.'] });
  const limit = paging.style === 'page' ? paging.size : paging.limit;
  const offset = paging.style === 'page' ? (paging.page - 1) * paging.size : paging.offset;
  const results = rows.slice(offset, offset + limit);
  if (paging.style === 'page' && results.length === 0 && paging.page > 1) {
    throw new AppError('not_found', 'Invalid page: past the last one.');
  }
  const hasNext = offset + results.length < rows.length;
  return { count: rows.length, results, paging: numberedLinks(paging, offset, limit, hasNext) };
}

/**
 * What the TypeBox type provider infers from `listQuerySchema`: a `ListQuery`, so routes pass `request.query`
 * on without a cast. The properties are built at run time from the spec; the optional ones a spec leaves out
 * are simply absent, which their static type allows.
 */
export type ListQueryProperties = {
  page: TOptional<TInteger>;
  page_size: TOptional<TInteger>;
  limit: TOptional<TInteger>;
  offset: TOptional<TInteger>;
  cursor: TOptional<TString>;
  search: TOptional<TString>;
  ordering: TOptional<TString>;
  [filter: string]: TSchema;
};
