import { and, eq } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import * as repo from './billing.repository.js';
import type { AccountBalances } from './billing.service.js';
import { billing_credit_costs, billing_credit_packs, billing_plans } from './billing.tables.js';

/**
 * Billing as platform staff see it, for the admin module's routes: every account's balance and plan, usage
 * and stats across accounts, and billing's reference data as staff edit it (plans, credit packs, credit costs): list, get, create, update,
 * delete, for the admin module's routes. Slug and operation uniqueness is the database's (a duplicate is a
 * field error through the one error path); a row still in use cannot be deleted (409: deactivate it instead).
 */

type Row = Record<string, unknown>;
export type CatalogKind = 'plans' | 'credit_packs' | 'credit_costs';

interface Kind {
  table: PgTable;
  id: PgColumn;
  what: string;
  list: ListSpec;
  /** Rows that must never go (the free plan every account falls back to). */
  protect?: (row: Row) => string | null;
}

const KINDS: Record<CatalogKind, Kind> = {
  plans: {
    table: billing_plans,
    id: billing_plans.id,
    what: 'Plan',
    list: {
      filters: { is_active: { column: billing_plans.is_active, kind: 'boolean' } },
      search: [billing_plans.name, billing_plans.slug],
      ordering: { price_cents: billing_plans.price_cents, created_at: billing_plans.created_at, name: billing_plans.name },
      defaultOrdering: 'price_cents',
    },
    protect: (row) =>
      row.slug === 'free' ? 'The free plan is where every account starts and returns; it cannot be deleted or renamed.' : null,
  },
  credit_packs: {
    table: billing_credit_packs,
    id: billing_credit_packs.id,
    what: 'Credit pack',
    list: {
      filters: { is_active: { column: billing_credit_packs.is_active, kind: 'boolean' } },
      search: [billing_credit_packs.name, billing_credit_packs.slug],
      ordering: {
        price_cents: billing_credit_packs.price_cents,
        credits: billing_credit_packs.credits,
        created_at: billing_credit_packs.created_at,
      },
      defaultOrdering: 'price_cents',
    },
  },
  credit_costs: {
    table: billing_credit_costs,
    id: billing_credit_costs.id,
    what: 'Credit cost',
    list: {
      search: [billing_credit_costs.operation, billing_credit_costs.description],
      ordering: { operation: billing_credit_costs.operation, created_at: billing_credit_costs.created_at },
      defaultOrdering: 'operation',
    },
  },
};

/** The staff usage list's spec, for the admin routes' query schemas (the query stays in billing's repository). */
export const { STAFF_USAGE_LIST } = repo;

export const CATALOG_LISTS: Record<CatalogKind, ListSpec> = {
  plans: KINDS.plans.list,
  credit_packs: KINDS.credit_packs.list,
  credit_costs: KINDS.credit_costs.list,
};

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

  async function find(tx: Db, kind: Kind, id: number, lock = false): Promise<Row> {
    const query = tx.select().from(kind.table).where(eq(kind.id, id));
    const [row] = (await (lock ? query.for('update') : query)) as Row[];
    if (!row) throw notFound(kind.what);
    return row;
  }

  async function planSlugs(): Promise<Map<number, string>> {
    const rows = (await db.select({ id: billing_plans.id, slug: billing_plans.slug }).from(billing_plans)) as {
      id: number;
      slug: string;
    }[];
    return new Map(rows.map((r) => [r.id, r.slug]));
  }

  return {
    /** Every account with its balance and plan. */
    async accounts(query: ListQuery) {
      const [page, slugs] = await Promise.all([deps.accounts.list(query), planSlugs()]);
      return {
        ...page,
        results: page.results.map((a) => ({ ...a, plan_slug: slugs.get(a.plan_id) ?? null })),
      };
    },

    async account(accountId: number) {
      const [row, slugs, sub, ledgerSum] = await Promise.all([
        deps.accounts.account(accountId),
        planSlugs(),
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

    list(kindName: CatalogKind, query: ListQuery) {
      const kind = KINDS[kindName];
      return runList<Row>({
        db,
        table: kind.table,
        idColumn: kind.id,
        where: [],
        spec: kind.list,
        query,
      });
    },

    get(kindName: CatalogKind, id: number): Promise<Row> {
      return find(db, KINDS[kindName], id);
    },

    async create(kindName: CatalogKind, values: Row): Promise<Row> {
      const kind = KINDS[kindName];
      const [row] = (await db.insert(kind.table).values(values).returning()) as Row[];
      deps.onChange(kindName);
      return row as Row;
    },

    async update(kindName: CatalogKind, id: number, changes: Row, check?: (current: Row) => void): Promise<Row> {
      const kind = KINDS[kindName];
      const row = await db.transaction(async (tx) => {
        const current = await find(tx, kind, id, true);
        check?.(current);
        const protectedWhy = kind.protect?.(current);
        if (protectedWhy && changes.slug !== undefined && changes.slug !== current.slug) {
          throw new AppError('validation_error', protectedWhy, { errors: { slug: [protectedWhy], non_field_errors: [] } });
        }
        if (Object.keys(changes).length === 0) return current;
        const [updated] = (await tx
          .update(kind.table)
          .set({ ...changes, updated_at: new Date() })
          .where(and(eq(kind.id, id)))
          .returning()) as Row[];
        return updated as Row;
      });
      deps.onChange(kindName);
      return row;
    },

    async remove(kindName: CatalogKind, id: number): Promise<void> {
      const kind = KINDS[kindName];
      try {
        await db.transaction(async (tx) => {
          const current = await find(tx, kind, id, true);
          const protectedWhy = kind.protect?.(current);
          if (protectedWhy) throw new AppError('conflict', protectedWhy);
          await tx.delete(kind.table).where(eq(kind.id, id));
        });
      } catch (error) {
        if (inUse(error)) {
          throw new AppError(
            'conflict',
            `This ${kind.what.toLowerCase()} is in use; set is_active to false instead of deleting it.`,
          );
        }
        throw error;
      }
      deps.onChange(kindName);
    },
  };
}
export type BillingStaff = ReturnType<typeof createBillingStaff>;
