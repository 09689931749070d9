import type { Db } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import type { ListQuery } from '../../core/lists.js';
import type { CatalogKind, CatalogRow } from './billing.repository.js';
import * as repo from './billing.repository.js';
import type { AccountBalances } from './billing.service.js';

/**
 * Billing as platform staff see it, for the admin module's routes: every account's balance and plan, usage
 * and stats across accounts, and billing's reference data as staff edit it (plans, credit packs, credit costs): list, get, create, update,
 * delete, for the admin module's routes. Slug and operation uniqueness is the database's (a duplicate is a
 * field error through the one error path); a row still in use cannot be deleted (409: deactivate it instead).
 */

type Row = CatalogRow;

export type { CatalogKind };

/** What the rules say of each kind: its name in messages, and the rows that must never go. */
const KINDS: Record<CatalogKind, { what: string; protect?: (row: Row) => string | null }> = {
  plans: {
    what: 'Plan',
    // The free plan every account falls back to.
    protect: (row) =>
      row.slug === 'free' ? 'The free plan is where every account starts and returns; it cannot be deleted or renamed.' : null,
  },
  credit_packs: { what: 'Credit pack' },
  credit_costs: { what: 'Credit cost' },
};

/** The staff lists' specs, for the admin routes' query schemas (the queries stay in billing's repository). */
export const { STAFF_USAGE_LIST, CATALOG_LISTS } = repo;

/** A foreign key still pointing at the row (accounts on a plan). */
function inUse(error: unknown): boolean {
  let current = error as { code?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 3; depth++, current = current.cause as typeof current) {
    if (current.code === '23503') return true;
  }
  return false;
}

export function createBillingStaff(deps: {
  db: Db;
  accounts: Pick<AccountBalances, 'totals' | 'account' | 'list'>;
  onChange: (kind: CatalogKind) => void;
}) {
  const { db } = deps;

  async function find(tx: Db, kind: CatalogKind, id: number, lock = false): Promise<Row> {
    const row = await repo.findCatalogRow(tx, kind, id, lock);
    if (!row) throw notFound(KINDS[kind].what);
    return row;
  }

  return {
    /** Every account with its balance and plan. */
    async accounts(query: ListQuery) {
      const [page, slugs] = await Promise.all([deps.accounts.list(query), repo.planSlugs(db)]);
      return {
        ...page,
        results: page.results.map((a) => ({ ...a, plan_slug: slugs.get(a.plan_id) ?? null })),
      };
    },

    async account(accountId: number) {
      const [row, slugs, sub, ledgerSum] = await Promise.all([
        deps.accounts.account(accountId),
        repo.planSlugs(db),
        repo.subscriptionOf(db, accountId),
        repo.ledgerSum(db, accountId),
      ]);
      if (!row) throw notFound('Account');
      const plan = sub ? await repo.planById(db, sub.plan_id) : undefined;
      return {
        ...row,
        plan_slug: slugs.get(row.plan_id) ?? null,
        ledger_sum: ledgerSum,
        subscription:
          sub && plan
            ? {
                plan,
                status: sub.status,
                provider: sub.provider,
                current_period_start: sub.current_period_start,
                current_period_end: sub.current_period_end,
                cancel_at_period_end: sub.cancel_at_period_end,
              }
            : null,
      };
    },

    async stats(days: number) {
      const from = new Date(Date.now() - days * 86_400_000);
      const [accounts, totals, spent] = await Promise.all([
        deps.accounts.totals(),
        repo.ledgerTotals(db),
        repo.spentByOperationAndDay(db, { from }),
      ]);
      return { ...accounts, ...totals, spent_by_day: spent };
    },

    list(kind: CatalogKind, query: ListQuery) {
      return repo.listCatalog(db, kind, query);
    },

    get(kind: CatalogKind, id: number): Promise<Row> {
      return find(db, kind, id);
    },

    async create(kind: CatalogKind, values: Row): Promise<Row> {
      const row = await repo.insertCatalogRow(db, kind, values);
      deps.onChange(kind);
      return row;
    },

    async update(kind: CatalogKind, id: number, changes: Row, check?: (current: Row) => void): Promise<Row> {
      const row = await db.transaction(async (tx) => {
        const current = await find(tx, kind, id, true);
        check?.(current);
        const protectedWhy = KINDS[kind].protect?.(current);
        if (protectedWhy && changes.slug !== undefined && changes.slug !== current.slug) {
          throw new AppError('validation_error', protectedWhy, { errors: { slug: [protectedWhy], non_field_errors: [] } });
        }
        if (Object.keys(changes).length === 0) return current;
        return repo.updateCatalogRow(tx, kind, id, changes);
      });
      deps.onChange(kind);
      return row;
    },

    async remove(kind: CatalogKind, id: number): Promise<void> {
      const { what, protect } = KINDS[kind];
      try {
        await db.transaction(async (tx) => {
          const current = await find(tx, kind, id, true);
          const protectedWhy = protect?.(current);
          if (protectedWhy) throw new AppError('conflict', protectedWhy);
          await repo.deleteCatalogRow(tx, kind, id);
        });
      } catch (error) {
        if (inUse(error)) {
          throw new AppError('conflict', `This ${what.toLowerCase()} is in use; set is_active to false instead of deleting it.`);
        }
        throw error;
      }
      deps.onChange(kind);
    },
  };
}
export type BillingStaff = ReturnType<typeof createBillingStaff>;
