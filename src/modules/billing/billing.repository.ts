import { and, asc, desc, eq, gte, isNull, lte, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import {
  billing_credit_costs,
  billing_credit_packs,
  billing_credit_transactions,
  billing_plans,
  billing_subscriptions,
  billing_usage,
  billing_webhook_events,
  LEDGER_TYPES,
  type LedgerType,
} from './billing.tables.js';

/**
 * Billing's queries. The balance (`auth_accounts.credits`) and the account's plan live on auth's accounts and
 * are read and moved through `AccountBalances` (billing.service.ts), which auth implements.
 */

export type PlanRow = typeof billing_plans.$inferSelect;
export type PackRow = typeof billing_credit_packs.$inferSelect;
export type SubscriptionRow = typeof billing_subscriptions.$inferSelect;
export type LedgerRow = typeof billing_credit_transactions.$inferSelect;
export type CostRow = typeof billing_credit_costs.$inferSelect;
export type WebhookEventRow = typeof billing_webhook_events.$inferSelect;
export type UsageRow = typeof billing_usage.$inferSelect;

// ---------------------------------------------------------------------------------------------------------
// Plans, packs, costs (global reference data)

export async function planBySlug(db: Db, slug: string): Promise<PlanRow | undefined> {
  const [row] = await db.select().from(billing_plans).where(eq(billing_plans.slug, slug));
  return row;
}

export async function planById(db: Db, id: number): Promise<PlanRow | undefined> {
  const [row] = await db.select().from(billing_plans).where(eq(billing_plans.id, id));
  return row;
}

export async function packBySlug(db: Db, slug: string): Promise<PackRow | undefined> {
  const [row] = await db.select().from(billing_credit_packs).where(eq(billing_credit_packs.slug, slug));
  return row;
}

export async function allCosts(db: Db): Promise<CostRow[]> {
  return db.select().from(billing_credit_costs);
}

// ---------------------------------------------------------------------------------------------------------
// The catalogue as staff edit it: plans, credit packs and credit costs, one set of queries for the three

export type CatalogKind = 'plans' | 'credit_packs' | 'credit_costs';
export type CatalogRow = Record<string, unknown>;

interface CatalogTable {
  table: PgTable;
  id: PgColumn;
  list: ListSpec;
}

const CATALOG: Record<CatalogKind, CatalogTable> = {
  plans: {
    table: billing_plans,
    id: billing_plans.id,
    list: {
      filters: { is_active: { column: billing_plans.is_active, kind: 'boolean' } },
      search: [billing_plans.name, billing_plans.slug],
      ordering: { price_cents: billing_plans.price_cents, created_at: billing_plans.created_at, name: billing_plans.name },
      defaultOrdering: 'price_cents',
    },
  },
  credit_packs: {
    table: billing_credit_packs,
    id: billing_credit_packs.id,
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
    list: {
      search: [billing_credit_costs.operation, billing_credit_costs.description],
      ordering: { operation: billing_credit_costs.operation, created_at: billing_credit_costs.created_at },
      defaultOrdering: 'operation',
    },
  },
};

/** Each kind's list spec, for the admin routes' query schemas. */
export const CATALOG_LISTS: Record<CatalogKind, ListSpec> = {
  plans: CATALOG.plans.list,
  credit_packs: CATALOG.credit_packs.list,
  credit_costs: CATALOG.credit_costs.list,
};

export function listCatalog(db: Db, kind: CatalogKind, query: ListQuery) {
  const { table, id, list } = CATALOG[kind];
  return runList<CatalogRow>({ db, table, idColumn: id, where: [], spec: list, query });
}

/** One row, locked for the caller's transaction when `lock` is set. */
export async function findCatalogRow(db: Db, kind: CatalogKind, id: number, lock = false): Promise<CatalogRow | undefined> {
  const { table, id: idColumn } = CATALOG[kind];
  const query = db.select().from(table).where(eq(idColumn, id));
  const [row] = (await (lock ? query.for('update') : query)) as CatalogRow[];
  return row;
}

export async function insertCatalogRow(db: Db, kind: CatalogKind, values: CatalogRow): Promise<CatalogRow> {
  const [row] = (await db.insert(CATALOG[kind].table).values(values).returning()) as CatalogRow[];
  return row as CatalogRow;
}

export async function updateCatalogRow(tx: Db, kind: CatalogKind, id: number, changes: CatalogRow): Promise<CatalogRow> {
  const { table, id: idColumn } = CATALOG[kind];
  const [row] = (await tx
    .update(table)
    .set({ ...changes, updated_at: new Date() })
    .where(eq(idColumn, id))
    .returning()) as CatalogRow[];
  return row as CatalogRow;
}

export async function deleteCatalogRow(tx: Db, kind: CatalogKind, id: number): Promise<void> {
  const { table, id: idColumn } = CATALOG[kind];
  await tx.delete(table).where(eq(idColumn, id));
}

/** Every plan's slug by id (a handful of rows), to name the plan on each account staff list. */
export async function planSlugs(db: Db): Promise<Map<number, string>> {
  const rows = await db.select({ id: billing_plans.id, slug: billing_plans.slug }).from(billing_plans);
  return new Map(rows.map((r) => [r.id, r.slug]));
}

// ---------------------------------------------------------------------------------------------------------
// The balance and the ledger

export async function ledgerByRef(db: Db, ref: string): Promise<LedgerRow | undefined> {
  const [row] = await db.select().from(billing_credit_transactions).where(eq(billing_credit_transactions.ref, ref));
  return row;
}

export async function insertLedger(tx: Db, values: typeof billing_credit_transactions.$inferInsert): Promise<LedgerRow> {
  const [row] = await tx.insert(billing_credit_transactions).values(values).returning();
  return row as LedgerRow;
}

/** Credits taken under refs that start with `prefix` (usage less refunds), within one account. */
export async function chargedUnder(db: Db, accountId: number, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const [row] = await db
    .select({ total: sql<number>`coalesce(-sum(${billing_credit_transactions.amount}), 0)::int` })
    .from(billing_credit_transactions)
    .where(
      and(
        eq(billing_credit_transactions.account_id, accountId),
        sql`${billing_credit_transactions.type} in ('usage', 'refund')`,
        sql`${billing_credit_transactions.ref} like ${pattern}`,
      ),
    );
  return Number(row?.total ?? 0);
}

export async function ledgerSum(db: Db, accountId: number): Promise<number> {
  const [row] = await db
    .select({ total: sql<number>`coalesce(sum(${billing_credit_transactions.amount}), 0)::int` })
    .from(billing_credit_transactions)
    .where(eq(billing_credit_transactions.account_id, accountId));
  return Number(row?.total ?? 0);
}

export const TRANSACTION_LIST: ListSpec = {
  cursor: true,
  filters: {
    type: { column: billing_credit_transactions.type, kind: 'string', values: LEDGER_TYPES, in: true },
    operation: { column: billing_credit_transactions.operation, kind: 'string', in: true },
    object_type: { column: billing_credit_transactions.object_type, kind: 'string' },
    object_id: { column: billing_credit_transactions.object_id, kind: 'integer' },
    amount: { column: billing_credit_transactions.amount, kind: 'integer', range: true },
  },
  search: [billing_credit_transactions.description],
  ordering: { created_at: billing_credit_transactions.created_at, amount: billing_credit_transactions.amount },
};

const LEDGER_WIRE = {
  id: billing_credit_transactions.id,
  account_id: billing_credit_transactions.account_id,
  amount: billing_credit_transactions.amount,
  type: billing_credit_transactions.type,
  balance_after: billing_credit_transactions.balance_after,
  operation: billing_credit_transactions.operation,
  object_type: billing_credit_transactions.object_type,
  object_id: billing_credit_transactions.object_id,
  description: billing_credit_transactions.description,
  ref: billing_credit_transactions.ref,
  created_at: billing_credit_transactions.created_at,
  updated_at: billing_credit_transactions.updated_at,
};

/** The account's ledger (accountId null: every account's, for staff). */
export function listTransactions(db: Db, accountId: number | null, query: ListQuery) {
  return runList<LedgerRow>({
    db,
    table: billing_credit_transactions,
    idColumn: billing_credit_transactions.id,
    select: LEDGER_WIRE,
    where: accountId === null ? [] : [eq(billing_credit_transactions.account_id, accountId)],
    spec: TRANSACTION_LIST,
    query,
    ...(accountId === null ? {} : { accountId }),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Usage

export async function insertUsage(tx: Db, values: typeof billing_usage.$inferInsert): Promise<void> {
  // A retried call with the same ref is recorded once.
  await tx.insert(billing_usage).values(values).onConflictDoNothing({ target: billing_usage.ref });
}

export const USAGE_LIST: ListSpec = {
  cursor: true,
  filters: {
    operation: { column: billing_usage.operation, kind: 'string', in: true },
    model: { column: billing_usage.model, kind: 'string' },
    object_type: { column: billing_usage.object_type, kind: 'string' },
    object_id: { column: billing_usage.object_id, kind: 'integer' },
    credits: { column: billing_usage.credits, kind: 'integer', range: true },
  },
  ordering: { created_at: billing_usage.created_at, credits: billing_usage.credits, cost_micros: billing_usage.cost_micros },
};

export const STAFF_USAGE_LIST: ListSpec = {
  ...USAGE_LIST,
  filters: { ...USAGE_LIST.filters, account_id: { column: billing_usage.account_id, kind: 'integer' } },
};

export function listUsage(db: Db, accountId: number | null, query: ListQuery) {
  return runList<UsageRow>({
    db,
    table: billing_usage,
    idColumn: billing_usage.id,
    where: accountId === null ? [] : [eq(billing_usage.account_id, accountId)],
    spec: accountId === null ? STAFF_USAGE_LIST : USAGE_LIST,
    query,
    ...(accountId === null ? {} : { accountId }),
  });
}

export type Period = 'day' | 'week' | 'month';

/** Totals per operation per bucket (UTC), newest bucket first. */
export async function usageSummary(db: Db, accountId: number | null, period: Period, range: { from?: Date; to?: Date }) {
  // Drizzle has both drivers answer timestamps as text for its columns to map; a raw expression is not mapped.
  const bucket = sql<string>`date_trunc(${sql.raw(`'${period}'`)}, ${billing_usage.created_at} at time zone 'UTC') at time zone 'UTC'`;
  const where: SQL[] = [];
  if (accountId !== null) where.push(eq(billing_usage.account_id, accountId));
  if (range.from) where.push(gte(billing_usage.created_at, range.from));
  if (range.to) where.push(lte(billing_usage.created_at, range.to));
  const rows = await db
    .select({
      bucket,
      operation: billing_usage.operation,
      calls: sql<number>`count(*)::int`,
      credits: sql<number>`coalesce(sum(${billing_usage.credits}), 0)::int`,
      tokens_in: sql<number>`coalesce(sum(${billing_usage.tokens_in}), 0)::bigint`,
      tokens_out: sql<number>`coalesce(sum(${billing_usage.tokens_out}), 0)::bigint`,
      cost_micros: sql<number>`coalesce(sum(${billing_usage.cost_micros}), 0)::bigint`,
    })
    .from(billing_usage)
    .where(where.length ? and(...where) : undefined)
    .groupBy(bucket, billing_usage.operation)
    .orderBy(desc(bucket), asc(billing_usage.operation));
  return rows.map((r) => ({
    ...r,
    bucket: new Date(r.bucket),
    tokens_in: Number(r.tokens_in),
    tokens_out: Number(r.tokens_out),
    cost_micros: Number(r.cost_micros),
  }));
}

/** Credits spent (usage rows of the ledger, net of refunds) per operation per day, across accounts. */
export async function spentByOperationAndDay(db: Db, range: { from: Date; to?: Date }) {
  const day = sql<string>`to_char(date_trunc('day', ${billing_credit_transactions.created_at} at time zone 'UTC'), 'YYYY-MM-DD')`;
  const where: SQL[] = [
    sql`${billing_credit_transactions.type} in ('usage', 'refund')`,
    gte(billing_credit_transactions.created_at, range.from),
  ];
  if (range.to) where.push(lte(billing_credit_transactions.created_at, range.to));
  const rows = await db
    .select({
      day,
      operation: sql<string>`coalesce(${billing_credit_transactions.operation}, 'other')`,
      credits: sql<number>`(-sum(${billing_credit_transactions.amount}))::int`,
      charges: sql<number>`(count(*) filter (where ${billing_credit_transactions.type} = 'usage'))::int`,
    })
    .from(billing_credit_transactions)
    .where(and(...where))
    .groupBy(day, sql`2`)
    .orderBy(desc(day), asc(sql`2`));
  return rows;
}

export async function ledgerTotals(db: Db) {
  const [row] = await db
    .select({
      granted: sql<number>`coalesce(sum(${billing_credit_transactions.amount}) filter (where ${billing_credit_transactions.type} in ('grant', 'purchase')), 0)::bigint`,
      spent: sql<number>`coalesce(-sum(${billing_credit_transactions.amount}) filter (where ${billing_credit_transactions.type} in ('usage', 'refund')), 0)::bigint`,
      adjusted: sql<number>`coalesce(sum(${billing_credit_transactions.amount}) filter (where ${billing_credit_transactions.type} = 'adjustment'), 0)::bigint`,
    })
    .from(billing_credit_transactions);
  return {
    granted_credits: Number(row?.granted ?? 0),
    spent_credits: Number(row?.spent ?? 0),
    adjusted_credits: Number(row?.adjusted ?? 0),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Subscriptions

export async function subscriptionOf(db: Db, accountId: number, lock = false): Promise<SubscriptionRow | undefined> {
  const query = db.select().from(billing_subscriptions).where(eq(billing_subscriptions.account_id, accountId));
  const [row] = await (lock ? query.for('update') : query);
  return row;
}

export async function subscriptionByProviderId(db: Db, providerSubscriptionId: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db
    .select()
    .from(billing_subscriptions)
    .where(eq(billing_subscriptions.provider_subscription_id, providerSubscriptionId));
  return row;
}

export async function subscriptionByCustomer(db: Db, customerId: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db.select().from(billing_subscriptions).where(eq(billing_subscriptions.provider_customer_id, customerId));
  return row;
}

export async function insertSubscription(tx: Db, values: typeof billing_subscriptions.$inferInsert): Promise<SubscriptionRow> {
  const [row] = await tx.insert(billing_subscriptions).values(values).returning();
  return row as SubscriptionRow;
}

export async function updateSubscription(
  tx: Db,
  accountId: number,
  values: Partial<typeof billing_subscriptions.$inferInsert>,
): Promise<SubscriptionRow | undefined> {
  const [row] = await tx
    .update(billing_subscriptions)
    .set({ ...values, updated_at: new Date() })
    .where(eq(billing_subscriptions.account_id, accountId))
    .returning();
  return row;
}

/** Subscriptions renewed here (no provider) whose period has ended, oldest first. */
export async function dueRenewals(db: Db, now: Date, limit: number): Promise<number[]> {
  const rows = await db
    .select({ account_id: billing_subscriptions.account_id })
    .from(billing_subscriptions)
    .where(and(isNull(billing_subscriptions.provider), lte(billing_subscriptions.current_period_end, now)))
    .orderBy(asc(billing_subscriptions.current_period_end))
    .limit(limit);
  return rows.map((r) => r.account_id);
}

// ---------------------------------------------------------------------------------------------------------
// Webhook events

/** Stores an event once; returns its row id when this delivery was the first, null when it was seen before. */
export async function storeWebhookEvent(
  tx: Db,
  values: { provider: string; event_id: string; type: string; payload: Record<string, unknown> },
): Promise<number | null> {
  const [row] = await tx
    .insert(billing_webhook_events)
    .values(values)
    .onConflictDoNothing({ target: [billing_webhook_events.provider, billing_webhook_events.event_id] })
    .returning({ id: billing_webhook_events.id });
  return row?.id ?? null;
}

export async function lockWebhookEvent(tx: Db, id: number): Promise<WebhookEventRow | undefined> {
  const [row] = await tx.select().from(billing_webhook_events).where(eq(billing_webhook_events.id, id)).for('update');
  return row;
}

export async function finishWebhookEvent(
  tx: Db,
  id: number,
  values: { status: WebhookEventRow['status']; account_id?: number | null; error?: string | null },
): Promise<void> {
  await tx
    .update(billing_webhook_events)
    .set({ ...values, processed_at: new Date(), updated_at: new Date() })
    .where(eq(billing_webhook_events.id, id));
}

export type { LedgerType };
