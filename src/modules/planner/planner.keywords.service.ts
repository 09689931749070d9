import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { Db } from '../../core/db.js';
import { AppError, conflict, fieldError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import { type ListQuery, type ListSpec, listConditions } from '../../core/lists.js';
import type { ResourceHooks, ScopedContext } from '../../core/resource.js';
import { checkClusterOf } from './planner.clusters.rules.js';
import type { PlannerSites } from './planner.deps.js';
import * as repo from './planner.repository.js';
import { type BulkIds, type BulkUpdate, skippedIds } from './planner.schemas.js';
import { INTENTS, KEYWORD_SOURCES, KEYWORD_STATUSES, type KeywordStatus, planner_keywords } from './planner.tables.js';

/**
 * The rules of keywords: normalised text unique per site and sector, the status that follows cluster
 * membership (`new` ⇄ `mapped`, any → `archived`, `archived` → `new`), cluster totals kept right in the same
 * transaction as every move, the plan's keyword limit, bulk actions and the streamed CSV export.
 */

/** Trimmed, inner whitespace collapsed, lower-cased (and Unicode-normalised so look-alike forms match). */
export function normaliseKeyword(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export const KEYWORD_LIST: ListSpec = {
  filters: {
    status: { column: planner_keywords.status, kind: 'string', values: KEYWORD_STATUSES, in: true },
    intent: { column: planner_keywords.intent, kind: 'string', values: INTENTS, in: true, nullable: true },
    source: { column: planner_keywords.source, kind: 'string', values: KEYWORD_SOURCES, in: true },
    cluster_id: { column: planner_keywords.cluster_id, kind: 'integer', in: true, nullable: true },
    volume: { column: planner_keywords.volume, kind: 'integer', range: true },
    difficulty: { column: planner_keywords.difficulty, kind: 'integer', range: true },
  },
  search: [planner_keywords.keyword],
  searchLowercased: true,
  ordering: {
    keyword: planner_keywords.keyword,
    volume: planner_keywords.volume,
    difficulty: planner_keywords.difficulty,
    cpc: planner_keywords.cpc,
    created_at: planner_keywords.created_at,
  },
};

type Current = { status: KeywordStatus; cluster_id: number | null };

/**
 * Where a keyword ends up when asked for a status and/or a cluster; null when that is not one of the allowed
 * moves. Joining a cluster makes it `mapped`, leaving one makes it `new`; archiving takes it out of its
 * cluster; an archived keyword comes back only as `new`.
 */
export function nextKeywordState(
  current: Current,
  asked: { status?: KeywordStatus; cluster_id?: number | null },
): Current | null {
  const joins = asked.cluster_id !== undefined && asked.cluster_id !== null;
  if (current.status === 'archived') {
    if (asked.status === undefined || asked.status === 'archived') return joins ? null : current;
    return asked.status === 'new' && !joins ? { status: 'new', cluster_id: null } : null;
  }
  if (asked.status === 'archived') return joins ? null : { status: 'archived', cluster_id: null };
  if (asked.status === 'new') return joins ? null : { status: 'new', cluster_id: null };
  const cluster = asked.cluster_id !== undefined ? asked.cluster_id : current.cluster_id;
  if (asked.status === 'mapped' && cluster === null) return null;
  return { status: cluster === null ? 'new' : 'mapped', cluster_id: cluster };
}

export function createKeywordsService(deps: { db: Db; sites: PlannerSites }) {
  const { db } = deps;

  /** Throws `403 plan_limit_reached` when adding `adding` keywords would pass the plan's limit. */
  async function checkLimit(tx: Db, accountId: number, adding: number): Promise<void> {
    // The limit first: it locks the account, so the count that follows is not raced by another import.
    const limit = await deps.sites.lockKeywordLimit(tx, accountId);
    const current = await repo.countKeywords(tx, accountId);
    if (limit !== null && current + adding > limit) {
      throw new AppError('plan_limit_reached', `Your plan allows ${limit} keywords; you have ${current}.`, {
        details: { limit, current },
      });
    }
  }

  const hooks: ResourceHooks<typeof planner_keywords> = {
    async beforeCreate(tx, ctx, values) {
      const keyword = normaliseKeyword(values.keyword ?? '');
      if (keyword === '') throw fieldError('keyword', 'This field may not be blank.');
      const clusterId = values.cluster_id ?? null;
      await checkClusterOf(tx, ctx, 'keyword', clusterId, { siteId: values.site_id, sectorId: values.sector_id });
      await checkLimit(tx, ctx.accountId, 1);
      return { ...values, keyword, cluster_id: clusterId, status: clusterId === null ? 'new' : 'mapped', source: 'manual' };
    },
    async afterCreate(tx, ctx, row) {
      await repo.refreshClusterStats(tx, ctx.accountId, [row.cluster_id]);
    },
    async beforeUpdate(tx, ctx, current, changes) {
      const values = { ...changes };
      if (typeof values.keyword === 'string') {
        values.keyword = normaliseKeyword(values.keyword);
        if (values.keyword === '') throw fieldError('keyword', 'This field may not be blank.');
      }
      if (values.status !== undefined || values.cluster_id !== undefined) {
        const before = current;
        const next = nextKeywordState(before, values);
        if (!next) {
          throw conflict(`A keyword in status "${before.status}" cannot move to the status or cluster asked for.`, before.status);
        }
        if (next.cluster_id !== null && next.cluster_id !== before.cluster_id) {
          await checkClusterOf(tx, ctx, 'keyword', next.cluster_id, { siteId: current.site_id, sectorId: current.sector_id });
        }
        values.status = next.status;
        values.cluster_id = next.cluster_id;
      }
      return values;
    },
    async afterUpdate(tx, ctx, before, row) {
      const moved = before.cluster_id !== row.cluster_id;
      const changedTotals = before.volume !== row.volume || before.difficulty !== row.difficulty;
      if (moved || changedTotals) {
        await repo.refreshClusterStats(tx, ctx.accountId, [before.cluster_id, row.cluster_id]);
      }
    },
    async afterDelete(tx, ctx, row) {
      await repo.refreshClusterStats(tx, ctx.accountId, [row.cluster_id]);
    },
  };

  return {
    checkLimit,
    hooks,

    async bulkDelete(ctx: ScopedContext, body: BulkIds): Promise<{ deleted: number; skipped: number[] }> {
      return db.transaction(async (tx) => {
        const own = await repo.keywordsByIds(tx, ctx.accountId, ctx.siteIds, body.ids, true);
        const deleted = await repo.deleteKeywords(
          tx,
          ctx.accountId,
          own.map((k) => k.id),
        );
        await repo.refreshClusterStats(
          tx,
          ctx.accountId,
          deleted.map((k) => k.cluster_id),
        );
        if (deleted.length > 0) {
          await record(
            tx,
            byCaller(ctx, {
              site_id: repo.soleSite(deleted),
              type: 'keywords.deleted',
              object_type: 'keyword',
              payload: { count: deleted.length, ids: deleted.map((k) => k.id) },
            }),
          );
        }
        return { deleted: deleted.length, skipped: skippedIds(body.ids, own) };
      });
    },

    /** All of the caller's ids make the move or none does (409 naming those that cannot). */
    async bulkUpdate(ctx: ScopedContext, body: BulkUpdate): Promise<{ updated: number; skipped: number[] }> {
      if (body.status === undefined && body.cluster_id === undefined) {
        throw fieldError('non_field_errors', 'Give status, cluster_id or both.');
      }
      return db.transaction(async (tx) => {
        const own = await repo.keywordsByIds(tx, ctx.accountId, ctx.siteIds, body.ids, true);
        const cluster =
          body.cluster_id != null ? await repo.clusterById(tx, ctx.accountId, ctx.siteIds, body.cluster_id) : undefined;
        if (body.cluster_id != null && !cluster) throw fieldError('cluster_id', 'Unknown cluster.');
        const refused: number[] = [];
        const groups = new Map<string, { state: Current; ids: number[] }>();
        for (const keyword of own) {
          const next = nextKeywordState(keyword, { status: body.status, cluster_id: body.cluster_id });
          const wrongPlace =
            cluster &&
            next?.cluster_id === cluster.id &&
            (keyword.site_id !== cluster.site_id || keyword.sector_id !== cluster.sector_id);
          if (!next || wrongPlace) {
            refused.push(keyword.id);
            continue;
          }
          if (next.status === keyword.status && next.cluster_id === keyword.cluster_id) continue;
          const key = `${next.status}:${next.cluster_id}`;
          const group = groups.get(key) ?? { state: next, ids: [] };
          group.ids.push(keyword.id);
          groups.set(key, group);
        }
        if (refused.length > 0) {
          throw new AppError('conflict', `${refused.length} of these keywords cannot make that change; nothing was changed.`, {
            details: { ids: refused },
          });
        }
        let updated = 0;
        for (const { state, ids } of groups.values()) updated += await repo.setKeywordState(tx, ctx.accountId, ids, state);
        const changed = new Set([...groups.values()].flatMap((g) => g.ids));
        const touched = own.filter((k) => changed.has(k.id)).map((k) => k.cluster_id);
        for (const { state } of groups.values()) touched.push(state.cluster_id);
        await repo.refreshClusterStats(tx, ctx.accountId, touched);
        if (updated > 0) {
          await record(
            tx,
            byCaller(ctx, {
              site_id: repo.soleSite(own.filter((k) => changed.has(k.id))),
              type: 'keywords.updated',
              object_type: 'keyword',
              payload: {
                count: updated,
                ids: [...changed].sort((a, b) => a - b),
                status: body.status ?? null,
                cluster_id: body.cluster_id ?? null,
              },
            }),
          );
        }
        return { updated, skipped: skippedIds(body.ids, own) };
      });
    },

    /**
     * The filtered list as CSV, read in keyset batches by id so memory stays flat whatever the size: each
     * batch is one indexed range query, never an OFFSET walk or one big SELECT. The filters are checked and the
     * first batch is read before the answer starts, so a refused or failing export is a whole error answer,
     * never a 200 cut off after its first line.
     */
    async exportCsv(ctx: ScopedContext, query: ListQuery & { site_id?: number; sector_id?: number }): Promise<Readable> {
      const { site_id: siteId, sector_id: sectorId, ...rest } = query;
      const scope = { siteIds: ctx.siteIds, siteId, sectorId, filters: listConditions(KEYWORD_LIST, rest, planner_keywords) };
      const columns = [
        'id',
        'keyword',
        'volume',
        'difficulty',
        'cpc',
        'intent',
        'status',
        'cluster_id',
        'source',
        'site_id',
        'sector_id',
        'created_at',
      ] as const;
      const BATCH = 2000;
      const batchAfter = (after: number) => repo.keywordsAfter(db, ctx.accountId, scope, after, BATCH);
      const first = await batchAfter(0);
      async function* lines() {
        yield stringify([[...columns]]);
        let rows = first;
        for (;;) {
          if (rows.length === 0) return;
          yield stringify(
            rows.map((r) => columns.map((c) => (c === 'created_at' ? r.created_at.toISOString() : spreadsheetSafe(r[c] ?? '')))),
          );
          if (rows.length < BATCH) return;
          rows = await batchAfter(rows[rows.length - 1]?.id ?? 0);
        }
      }
      return Readable.from(lines());
    },
  };
}
export type KeywordsService = ReturnType<typeof createKeywordsService>;

/**
 * A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is written
 * with a leading apostrophe, as OWASP advises for CSV exports; numbers are left alone.
 */
export function spreadsheetSafe(value: unknown): unknown {
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
