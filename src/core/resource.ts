import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, eq, getTableColumns, getTableName, inArray, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type TObject, type TSchema, Type } from 'typebox';
import type { Access } from './access.js';
import { Id } from './columns.js';
import type { ThrottleScope } from './config.js';
import type { Db } from './db.js';
import { Envelope, noContent, ok, PageEnvelope, sendPage } from './envelope.js';
import { AppError, type ErrorCode, notFound, validationError } from './errors.js';
import { byCaller, record } from './events.js';
import { type ListSpec, listQuerySchema, runList } from './lists.js';
import { rowCacheOf } from './read-cache.js';
import { accountContext, type RequestContext, type SiteAccess } from './tenancy.js';

/**
 * Declarative CRUD on one table: list (with the contract's pagination, filters, search, ordering), retrieve
 * (with ETag / If-None-Match), create, update (PATCH and PUT, with If-Match) and delete, scoped to the caller's
 * account (and reachable sites, for site-scoped resources) so a module cannot forget tenancy. A resource with
 * real rules passes `hooks`, which run inside the write's transaction.
 */

export type Scope = 'global' | 'account' | 'site';
type Action = 'list' | 'retrieve' | 'create' | 'update' | 'delete';
type Row = Record<string, unknown>;
export type ScopedContext = RequestContext & { accountId: number };

/** A row of the resource's table, as Drizzle selects it. */
export type RowOf<T extends PgTable> = T['$inferSelect'];
/** Values on their way into the table: the body's fields (named as the columns) and what hooks add. */
export type ValuesOf<T extends PgTable> = Partial<T['$inferInsert']> & Row;

/** The rules a resource really has, run inside the write's transaction, with the table's own row type. */
export interface ResourceHooks<T extends PgTable = PgTable> {
  /** Validates and completes a new row's values (slugs, derived fields); throws field errors. */
  beforeCreate?(tx: Db, ctx: ScopedContext, values: ValuesOf<T>): Promise<ValuesOf<T>> | ValuesOf<T>;
  beforeUpdate?(tx: Db, ctx: ScopedContext, current: RowOf<T>, changes: ValuesOf<T>): Promise<ValuesOf<T>> | ValuesOf<T>;
  afterCreate?(tx: Db, ctx: ScopedContext, row: RowOf<T>): Promise<void> | void;
  afterUpdate?(tx: Db, ctx: ScopedContext, before: RowOf<T>, row: RowOf<T>): Promise<void> | void;
  beforeDelete?(tx: Db, ctx: ScopedContext, row: RowOf<T>): Promise<void> | void;
  afterDelete?(tx: Db, ctx: ScopedContext, row: RowOf<T>): Promise<void> | void;
}

export interface ResourceSpec<T extends PgTable = PgTable> {
  /** e.g. `/api/v1/auth/sites` (no trailing slash). */
  path: string;
  tag: string;
  /** Singular and plural names for docs and messages: `['site', 'sites']`. */
  names: [string, string];
  table: T;
  scope: Scope;
  /** The wire shape of one row (detail) and, when lists leave out large fields, of a list row. */
  item: TObject;
  listItem?: TObject;
  /** Columns a list selects (default: all). */
  listColumns?: Record<string, PgColumn>;
  create?: TObject;
  update?: TObject;
  list?: ListSpec;
  actions: Action[];
  access?: Partial<Record<Action, Access>>;
  throttle?: ThrottleScope;
  /** Error codes an action can answer beyond those the docs derive (e.g. `conflict` for a state transition). */
  errors?: Partial<Record<Action, ErrorCode[]>>;
  hooks?: ResourceHooks<T>;
  /**
   * The column naming the site a row belongs to, for callers limited to some sites (site-bound keys, members
   * with `site_ids`): `site_id` by default on site-scoped tables; a site's own `id` for sites.
   */
  siteColumn?: PgColumn;
  /** Conditions every query adds (e.g. revoked rows are never shown). */
  baseWhere?: SQL[];
  /** Required for `site` scope: checks body site_id/sector_id against the caller. */
  siteAccess?: SiteAccess;
  /** How a row becomes its wire shape, when it is not already it (table fields are named as on the wire). */
  present?: (row: RowOf<T>) => Row;
  /**
   * The event object type (`site` → `site.created`, `site.updated`, `site.deleted`), required for a writable
   * account or site resource: every write records its event in the write's own transaction.
   */
  objectType?: string;
  /**
   * Row fields copied into every event's payload (e.g. `name`), declared so that nothing secret is copied by
   * accident; an update's payload also lists the names (never the values) of the fields it changed.
   */
  eventFields?: string[];
}

const DEFAULT_ACCESS: Record<Action, Access> = {
  list: 'read',
  retrieve: 'read',
  create: 'write',
  update: 'write',
  delete: 'write',
};

export const IdParams = Type.Object({ id: Id });

/** ETags of frozen representations (a remembered detail row answers every request as the same object). */
const etags = new WeakMap<object, string>();

export function etagOf(data: unknown): string {
  const frozen = typeof data === 'object' && data !== null && Object.isFrozen(data);
  const known = frozen ? etags.get(data) : undefined;
  if (known) return known;
  const etag = `"${createHash('sha1').update(JSON.stringify(data)).digest('base64url')}"`;
  if (frozen) etags.set(data, etag);
  return etag;
}

/** 304 when the client's If-None-Match names the current representation. */
export function sendDetail<T>(request: FastifyRequest, reply: unknown, data: T) {
  const etag = etagOf(data);
  (reply as FastifyReply).header('ETag', etag);
  const given = request.headers['if-none-match'];
  if (given?.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
    (reply as FastifyReply).code(304).send();
    return undefined;
  }
  return ok(request, data);
}

/** 412 when the client's If-Match no longer names the current representation (another editor changed it). */
export function checkIfMatch(request: FastifyRequest, current: unknown): void {
  assertIfMatch(request.headers['if-match'], current);
}

/**
 * The same check without the request, for services that lock the row first: `given` is the If-Match header's
 * value (absent or `*` passes), `current` the representation its ETag is made of.
 */
export function assertIfMatch(given: string | undefined, current: unknown): void {
  if (!given || given.trim() === '*') return;
  const etag = etagOf(current);
  if (!given.split(',').some((tag) => tag.trim() === etag)) {
    throw new AppError('precondition_failed', 'The object changed since you read it; fetch it again and reapply your change.', {
      details: { current_etag: etag },
    });
  }
}

export function scopeConditions(
  spec: Pick<ResourceSpec, 'scope' | 'table' | 'siteColumn' | 'baseWhere'>,
  request: FastifyRequest,
): SQL[] {
  const conditions: SQL[] = [...(spec.baseWhere ?? [])];
  if (spec.scope === 'global') return conditions;
  const ctx = accountContext(request);
  const columns: Record<string, PgColumn | undefined> = getTableColumns(spec.table);
  conditions.push(eq(columns.account_id as PgColumn, ctx.accountId));
  const siteColumn = spec.siteColumn ?? (spec.scope === 'site' ? columns.site_id : undefined);
  if (siteColumn && ctx.siteIds !== null) {
    conditions.push(ctx.siteIds.length > 0 ? inArray(siteColumn, ctx.siteIds) : eq(siteColumn, -1));
  }
  return conditions;
}

/** What every action of one resource shares: its columns, names, route config, reads and event records. */
function resourceParts(db: Db, spec: ResourceSpec) {
  const columns: Record<string, PgColumn | undefined> = getTableColumns(spec.table);
  const idColumn = columns.id as PgColumn;
  const access = { ...DEFAULT_ACCESS, ...spec.access };
  const [singular, plural] = spec.names;
  const siteColumnName = (spec.siteColumn ?? (spec.scope === 'site' ? columns.site_id : undefined))?.name;
  const readOne = preparedDetailRead(db, spec, idColumn, columns.account_id as PgColumn);
  const rows = rowCacheOf(db);
  const tableName = getTableName(spec.table);

  async function findOwn(tx: Db, request: FastifyRequest, id: number, lock = false): Promise<Row> {
    const query = tx
      .select()
      .from(spec.table)
      .where(and(eq(idColumn, id), ...scopeConditions(spec, request)));
    const [row] = (await (lock ? query.for('update') : query)) as Row[];
    if (!row) throw notFound(capitalise(singular));
    return row;
  }

  return {
    spec,
    db,
    columns,
    idColumn,
    singular,
    plural,
    detailPath: `${spec.path}/:id`,
    present: spec.present ?? ((row: Row) => row),
    config: (action: Action) => ({
      access: access[action],
      throttle: spec.throttle ?? 'default',
      ...(spec.errors?.[action] ? { errors: spec.errors[action] } : {}),
    }),
    findOwn,

    /**
     * The caller's row for a detail read: the prepared statement unless the caller is limited to some sites, and
     * remembered until the account's rows of this table change (core/read-cache.ts), checked after a barrier so a
     * write committed anywhere before this request is never missed.
     */
    async readOwn(request: FastifyRequest, id: number): Promise<Row> {
      const siteLimited =
        spec.scope !== 'global' && accountContext(request).siteIds !== null && (spec.siteColumn ?? spec.scope === 'site');
      if (siteLimited) return findOwn(db, request, id);
      const account = spec.scope === 'global' ? undefined : accountContext(request).accountId;
      const cache = account !== undefined && rows?.covers(tableName) ? rows : undefined;
      const key = String(id);
      if (cache && account !== undefined && cache.get(tableName, account, key) !== undefined && (await cache.barrier())) {
        const known = cache.get(tableName, account, key);
        if (known !== undefined) return known;
      }
      const token = cache && account !== undefined ? cache.token(tableName, account) : null;
      const [row] = (await readOne.execute({ id, account })) as Row[];
      if (!row) throw notFound(capitalise(singular));
      // Frozen: the same object answers every request until a change, so nothing may alter it (and its ETag is kept).
      if (cache && account !== undefined && token) cache.store(tableName, account, key, Object.freeze(row), token);
      return row;
    },

    /** Every write records its event in the write's own transaction (global rows belong to no account's feed). */
    async recordChange(tx: Db, ctx: ScopedContext, verb: string, row: Row, extra: Row = {}): Promise<void> {
      if (spec.scope === 'global' || !spec.objectType) return;
      const payload: Row = {};
      for (const field of spec.eventFields ?? []) payload[field] = row[field] ?? null;
      await record(
        tx,
        byCaller(ctx, {
          type: `${spec.objectType}.${verb}`,
          object_type: spec.objectType,
          object_id: row.id as number,
          site_id: siteColumnName ? ((row[siteColumnName] as number | null) ?? null) : null,
          payload: { ...payload, ...extra },
        }),
      );
    },
  };
}
type Parts = ReturnType<typeof resourceParts>;

/**
 * The detail read of a caller who may see every site, built once and prepared: building the same query on
 * every request was a sixth of a detail GET's CPU, and a named statement spares Postgres the parse as well.
 */
function preparedDetailRead(db: Db, spec: ResourceSpec, idColumn: PgColumn, accountColumn: PgColumn) {
  const own =
    spec.scope === 'global'
      ? and(eq(idColumn, sql.placeholder('id')), ...(spec.baseWhere ?? []))
      : and(eq(idColumn, sql.placeholder('id')), eq(accountColumn, sql.placeholder('account')), ...(spec.baseWhere ?? []));
  return db.select().from(spec.table).where(own).prepare(`detail ${spec.path}`);
}

function listRoute(app: FastifyInstance, r: Parts): void {
  const { spec, columns } = r;
  const list = spec.list ?? {};
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    spec.path,
    {
      schema: {
        tags: [spec.tag],
        summary: `List ${r.plural}`,
        querystring: listQuerySchema(list, spec.scope === 'site' ? siteFilters() : {}),
        response: { 200: PageEnvelope(spec.listItem ?? spec.item) },
      },
      config: r.config('list'),
    },
    async (request) => {
      const query: Row = request.query;
      const where = scopeConditions(spec, request);
      if (spec.scope === 'site') {
        if (query.site_id !== undefined) where.push(eq(columns.site_id as PgColumn, query.site_id));
        if (query.sector_id !== undefined) where.push(eq(columns.sector_id as PgColumn, query.sector_id));
      }
      const { site_id: _s, sector_id: _t, ...rest } = query;
      const page = await runList({
        db: r.db,
        table: spec.table,
        idColumn: r.idColumn,
        select: spec.listColumns,
        where,
        spec: list,
        query: spec.scope === 'site' ? rest : query,
        map: r.present,
        // Exact counts remembered per account until its rows of this table change (core/read-cache.ts).
        ...(spec.scope === 'global' ? {} : { accountId: accountContext(request).accountId }),
      });
      return sendPage(request, page);
    },
  );
}

function retrieveRoute(app: FastifyInstance, r: Parts): void {
  const { spec } = r;
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    r.detailPath,
    {
      schema: { tags: [spec.tag], summary: `Get a ${r.singular}`, params: IdParams, response: { 200: Envelope(spec.item) } },
      config: r.config('retrieve'),
    },
    async (request, reply) => sendDetail(request, reply, r.present(await r.readOwn(request, request.params.id))),
  );
}

function createRoute(app: FastifyInstance, r: Parts, body: TObject): void {
  const { spec } = r;
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    spec.path,
    {
      schema: { tags: [spec.tag], summary: `Create a ${r.singular}`, body, response: { 201: Envelope(spec.item) } },
      config: r.config('create'),
    },
    async (request, reply) => {
      const ctx = accountContext(request);
      const fields: Row = { ...request.body };
      const row = await r.db.transaction(async (tx) => {
        if (spec.scope === 'site') await checkSite(tx, spec, ctx, fields);
        let values: Row = { ...fields, account_id: ctx.accountId };
        if (spec.hooks?.beforeCreate) values = await spec.hooks.beforeCreate(tx, ctx, values);
        const [created] = (await tx.insert(spec.table).values(values).returning()) as Row[];
        if (!created) throw new Error(`Inserting into ${spec.path} returned no row`);
        await spec.hooks?.afterCreate?.(tx, ctx, created);
        await r.recordChange(tx, ctx, 'created', created);
        return created;
      });
      reply.code(201).header('Location', `${spec.path}/${row.id}/`);
      return ok(request, r.present(row));
    },
  );
}

/** PATCH (any subset of the fields) and PUT (all of them), both with If-Match. */
function updateRoutes(app: FastifyInstance, r: Parts, body: TObject): void {
  const { spec } = r;
  const partial = Type.Partial(body, { additionalProperties: false });
  for (const method of ['PATCH', 'PUT'] as const) {
    app.withTypeProvider<TypeBoxTypeProvider>().route({
      method,
      url: r.detailPath,
      schema: {
        tags: [spec.tag],
        summary: method === 'PATCH' ? `Update part of a ${r.singular}` : `Replace a ${r.singular}`,
        params: IdParams,
        body: method === 'PATCH' ? partial : body,
        response: { 200: Envelope(spec.item) },
      },
      config: r.config('update'),
      handler: async (request) => {
        const ctx = accountContext(request);
        const { id } = request.params;
        const changes: Row = { ...request.body };
        const row = await r.db.transaction(async (tx) => {
          const current = await r.findOwn(tx, request, id, true);
          checkIfMatch(request, r.present(current));
          if (spec.scope === 'site' && (changes.site_id !== undefined || changes.sector_id !== undefined)) {
            await checkSite(tx, spec, ctx, { site_id: current.site_id, sector_id: current.sector_id, ...changes });
          }
          let values = changes;
          if (spec.hooks?.beforeUpdate) values = await spec.hooks.beforeUpdate(tx, ctx, current, values);
          if (Object.keys(values).length === 0) return current;
          const [updated] = (await tx
            .update(spec.table)
            .set({ ...values, updated_at: new Date() })
            .where(eq(r.idColumn, id))
            .returning()) as Row[];
          if (!updated) throw notFound(capitalise(r.singular));
          await spec.hooks?.afterUpdate?.(tx, ctx, current, updated);
          await r.recordChange(tx, ctx, 'updated', updated, { fields: Object.keys(values).sort() });
          return updated;
        });
        return ok(request, r.present(row));
      },
    });
  }
}

function deleteRoute(app: FastifyInstance, r: Parts): void {
  const { spec } = r;
  app.withTypeProvider<TypeBoxTypeProvider>().delete(
    r.detailPath,
    {
      schema: { tags: [spec.tag], summary: `Delete a ${r.singular}`, params: IdParams, response: { 204: Type.Null() } },
      config: r.config('delete'),
    },
    async (request, reply) => {
      const ctx = accountContext(request);
      const { id } = request.params;
      await r.db.transaction(async (tx) => {
        const row = await r.findOwn(tx, request, id, true);
        await spec.hooks?.beforeDelete?.(tx, ctx, row);
        await tx.delete(spec.table).where(eq(r.idColumn, id));
        await spec.hooks?.afterDelete?.(tx, ctx, row);
        await r.recordChange(tx, ctx, 'deleted', row);
      });
      return noContent(reply);
    },
  );
}

/**
 * Registers the resource's routes. The spec is typed over its table, so its hooks and `present` see the
 * table's rows; inside, rows are handled as plain records (Drizzle's types do not narrow over an abstract
 * table), which is what they are at run time. List links and `Location` come from the request and PUBLIC_URL
 * (core/envelope.ts).
 */
export function registerResource<T extends PgTable>(app: FastifyInstance, db: Db, typedSpec: ResourceSpec<T>): void {
  const spec = typedSpec as unknown as ResourceSpec;
  const writable = spec.actions.some((a) => a === 'create' || a === 'update' || a === 'delete');
  if (writable && spec.scope !== 'global' && !spec.objectType) {
    throw new Error(`Resource ${spec.path} is writable but declares no objectType: its changes would record no event.`);
  }
  const parts = resourceParts(db, spec);
  if (spec.actions.includes('list')) listRoute(app, parts);
  if (spec.actions.includes('retrieve')) retrieveRoute(app, parts);
  if (spec.actions.includes('create') && spec.create) createRoute(app, parts, spec.create);
  if (spec.actions.includes('update') && spec.update) updateRoutes(app, parts, spec.update);
  if (spec.actions.includes('delete')) deleteRoute(app, parts);
}

/** `?site_id=` and `?sector_id=` of site-scoped lists (and their exports). */
export function siteFilters(): Record<string, TSchema> {
  return { site_id: Type.Optional(Id), sector_id: Type.Optional(Id) };
}

async function checkSite(tx: Db, spec: ResourceSpec, ctx: ScopedContext, body: Row): Promise<void> {
  if (!spec.siteAccess) throw new Error(`Resource ${spec.path} is site-scoped but was given no siteAccess.`);
  const errors = await spec.siteAccess.check(tx, ctx, body.site_id as number, (body.sector_id as number | null) ?? null);
  if (errors) throw validationError(errors);
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
