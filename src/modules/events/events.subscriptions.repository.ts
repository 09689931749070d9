import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import { events_subscriptions } from './events.tables.js';

export type SubscriptionRow = typeof events_subscriptions.$inferSelect;

/** The wire columns: never the secrets or the dispatcher's lease. */
export const SUBSCRIPTION_WIRE = {
  id: events_subscriptions.id,
  url: events_subscriptions.url,
  description: events_subscriptions.description,
  event_types: events_subscriptions.event_types,
  is_active: events_subscriptions.is_active,
  disabled_reason: events_subscriptions.disabled_reason,
  failing_since: events_subscriptions.failing_since,
  previous_secret_expires_at: events_subscriptions.previous_secret_expires_at,
  created_at: events_subscriptions.created_at,
  updated_at: events_subscriptions.updated_at,
};
export type SubscriptionWire = Pick<SubscriptionRow, keyof typeof SUBSCRIPTION_WIRE>;

export function toWire(row: SubscriptionRow): SubscriptionWire {
  const wire = {} as Record<string, unknown>;
  for (const key of Object.keys(SUBSCRIPTION_WIRE)) wire[key] = row[key as keyof SubscriptionRow];
  return wire as SubscriptionWire;
}

export const SUBSCRIPTION_LIST: ListSpec = {
  filters: {
    is_active: { column: events_subscriptions.is_active, kind: 'boolean' },
  },
  search: [events_subscriptions.url, events_subscriptions.description],
  ordering: { created_at: events_subscriptions.created_at, url: events_subscriptions.url },
};

export function listSubscriptions(db: Db, accountId: number, query: ListQuery) {
  return runList<SubscriptionWire>({
    db,
    table: events_subscriptions,
    idColumn: events_subscriptions.id,
    select: SUBSCRIPTION_WIRE,
    where: [eq(events_subscriptions.account_id, accountId)],
    spec: SUBSCRIPTION_LIST,
    query,
  });
}

export async function findSubscription(db: Db, accountId: number, id: number, lock = false): Promise<SubscriptionRow | null> {
  const query = db
    .select()
    .from(events_subscriptions)
    .where(and(eq(events_subscriptions.account_id, accountId), eq(events_subscriptions.id, id)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

export async function insertSubscription(
  tx: Db,
  accountId: number,
  values: Pick<SubscriptionRow, 'url' | 'description' | 'event_types' | 'is_active' | 'secret'>,
): Promise<SubscriptionRow> {
  const [row] = await tx
    .insert(events_subscriptions)
    .values({ ...values, account_id: accountId })
    .returning();
  if (!row) throw new Error('subscription not inserted');
  return row;
}

export async function updateSubscription(
  tx: Db,
  accountId: number,
  id: number,
  values: Partial<Omit<SubscriptionRow, 'id' | 'account_id' | 'created_at'>>,
): Promise<SubscriptionRow | null> {
  const [row] = await tx
    .update(events_subscriptions)
    .set({ ...values, updated_at: sql`now()` })
    .where(and(eq(events_subscriptions.account_id, accountId), eq(events_subscriptions.id, id)))
    .returning();
  return row ?? null;
}

export async function deleteSubscription(tx: Db, accountId: number, id: number): Promise<void> {
  await tx
    .delete(events_subscriptions)
    .where(and(eq(events_subscriptions.account_id, accountId), eq(events_subscriptions.id, id)));
}
