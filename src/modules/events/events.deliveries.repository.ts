import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { events_events } from '../../core/events.tables.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import { EVENT_WIRE } from './events.repository.js';
import { DELIVERY_STATUSES, events_deliveries, events_delivery_attempts, events_subscriptions } from './events.tables.js';

export type DeliveryRow = typeof events_deliveries.$inferSelect;
export type AttemptRow = typeof events_delivery_attempts.$inferSelect;

export const DELIVERY_WIRE = {
  id: events_deliveries.id,
  subscription_id: events_deliveries.subscription_id,
  event_id: events_deliveries.event_id,
  event_type: events_deliveries.event_type,
  status: events_deliveries.status,
  attempts: events_deliveries.attempts,
  next_attempt_at: events_deliveries.next_attempt_at,
  last_response_code: events_deliveries.last_response_code,
  last_error: events_deliveries.last_error,
  delivered_at: events_deliveries.delivered_at,
  created_at: events_deliveries.created_at,
  updated_at: events_deliveries.updated_at,
};
export type DeliveryWire = Pick<DeliveryRow, keyof typeof DELIVERY_WIRE>;

export const DELIVERY_LIST: ListSpec = {
  cursor: true,
  defaultOrdering: '-id',
  filters: {
    subscription_id: { column: events_deliveries.subscription_id, kind: 'integer', in: true },
    status: { column: events_deliveries.status, kind: 'string', values: DELIVERY_STATUSES, in: true },
    event_type: { column: events_deliveries.event_type, kind: 'string', in: true },
    event_id: { column: events_deliveries.event_id, kind: 'integer' },
  },
};

export function listDeliveries(db: Db, accountId: number, query: ListQuery) {
  return runList<DeliveryWire>({
    db,
    table: events_deliveries,
    idColumn: events_deliveries.id,
    select: DELIVERY_WIRE,
    where: [eq(events_deliveries.account_id, accountId)],
    spec: DELIVERY_LIST,
    query,
  });
}

export async function findDelivery(db: Db, accountId: number, id: number, lock = false): Promise<DeliveryRow | null> {
  const query = db
    .select()
    .from(events_deliveries)
    .where(and(eq(events_deliveries.account_id, accountId), eq(events_deliveries.id, id)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

export function attemptsOf(db: Db, accountId: number, deliveryId: number): Promise<AttemptRow[]> {
  return db
    .select()
    .from(events_delivery_attempts)
    .where(and(eq(events_delivery_attempts.account_id, accountId), eq(events_delivery_attempts.delivery_id, deliveryId)))
    .orderBy(asc(events_delivery_attempts.attempt));
}

export async function updateDelivery(
  tx: Db,
  accountId: number,
  id: number,
  values: Partial<Omit<DeliveryRow, 'id' | 'account_id'>>,
): Promise<DeliveryRow | null> {
  const [row] = await tx
    .update(events_deliveries)
    .set({ ...values, updated_at: sql`now()` })
    .where(and(eq(events_deliveries.account_id, accountId), eq(events_deliveries.id, id)))
    .returning();
  return row ?? null;
}

/** Records an attempt once: a job run twice finds its attempt number taken and records nothing (null). */
export async function insertAttempt(
  tx: Db,
  values: Omit<typeof events_delivery_attempts.$inferInsert, 'id' | 'created_at'>,
): Promise<AttemptRow | null> {
  const [row] = await tx.insert(events_delivery_attempts).values(values).onConflictDoNothing().returning();
  return row ?? null;
}

/**
 * The active subscriptions with a delivery due and no attempt under way, for the dispatcher. For some accounts
 * (what a commit was heard for): their subscriptions, each probed on its pending deliveries' partial index. For
 * all (the sweep): the pending deliveries by due time, on theirs.
 */
export async function subscriptionsDue(db: Db, accounts: number[] | null, limit: number): Promise<number[]> {
  const leaseFree = sql`(${events_subscriptions.lease_until} IS NULL OR ${events_subscriptions.lease_until} < now())`;
  if (accounts) {
    const rows = await db
      .select({ id: events_subscriptions.id })
      .from(events_subscriptions)
      .where(
        and(
          inArray(events_subscriptions.account_id, accounts),
          eq(events_subscriptions.is_active, true),
          leaseFree,
          sql`EXISTS (SELECT 1 FROM ${events_deliveries} d WHERE d.subscription_id = ${events_subscriptions.id}
                       AND d.status = 'pending' AND d.next_attempt_at <= now())`,
        ),
      )
      .limit(limit);
    return rows.map((r) => r.id);
  }
  const rows = await db
    .selectDistinct({ id: events_deliveries.subscription_id })
    .from(events_deliveries)
    .innerJoin(events_subscriptions, eq(events_subscriptions.id, events_deliveries.subscription_id))
    .where(
      and(
        eq(events_deliveries.status, 'pending'),
        lte(events_deliveries.next_attempt_at, sql`now()`),
        eq(events_subscriptions.is_active, true),
        leaseFree,
      ),
    )
    .limit(limit);
  return rows.map((r) => r.id);
}

/** What one attempt needs, in one read: the subscription, the delivery and its event (null when any is gone). */
export async function attemptParts(db: Db, accountId: number, subscriptionId: number, deliveryId: number) {
  const [row] = await db
    .select({ subscription: events_subscriptions, delivery: events_deliveries, event: EVENT_WIRE })
    .from(events_deliveries)
    .innerJoin(events_subscriptions, eq(events_subscriptions.id, events_deliveries.subscription_id))
    .innerJoin(
      events_events,
      and(eq(events_events.id, events_deliveries.event_id), eq(events_events.account_id, events_deliveries.account_id)),
    )
    .where(
      and(
        eq(events_deliveries.account_id, accountId),
        eq(events_deliveries.id, deliveryId),
        eq(events_deliveries.subscription_id, subscriptionId),
      ),
    );
  return row ?? null;
}

/** A subscription locked for its dispatcher, or null when another transaction holds it (it is dispatching). */
export async function lockSubscription(tx: Db, id: number, skipLocked: boolean) {
  const query = tx.select().from(events_subscriptions).where(eq(events_subscriptions.id, id));
  const [row] = await (skipLocked ? query.for('update', { skipLocked: true }) : query.for('update'));
  return row ?? null;
}

/** The subscription's next delivery in event order among those due now, or null. */
export async function nextDue(tx: Db, subscriptionId: number): Promise<DeliveryRow | null> {
  const [row] = await tx
    .select()
    .from(events_deliveries)
    .where(
      and(
        eq(events_deliveries.subscription_id, subscriptionId),
        eq(events_deliveries.status, 'pending'),
        lte(events_deliveries.next_attempt_at, sql`now()`),
      ),
    )
    .orderBy(asc(events_deliveries.event_id), asc(events_deliveries.id))
    .limit(1);
  return row ?? null;
}

export async function setLease(
  tx: Db,
  id: number,
  lease: { token: string; deliveryId: number; seconds: number } | null,
): Promise<void> {
  await tx
    .update(events_subscriptions)
    .set(
      lease
        ? {
            lease_token: lease.token,
            lease_delivery_id: lease.deliveryId,
            lease_until: sql`now() + make_interval(secs => ${lease.seconds})`,
          }
        : { lease_token: null, lease_delivery_id: null, lease_until: null },
    )
    .where(eq(events_subscriptions.id, id));
}

/** Extends the lease while it is still this attempt's (and not run out); false when it is not any more. */
export async function renewLease(db: Db, id: number, token: string, seconds: number): Promise<boolean> {
  const rows = await db
    .update(events_subscriptions)
    .set({ lease_until: sql`now() + make_interval(secs => ${seconds})` })
    .where(
      and(
        eq(events_subscriptions.id, id),
        eq(events_subscriptions.lease_token, token),
        sql`${events_subscriptions.lease_until} > now()`,
      ),
    )
    .returning({ id: events_subscriptions.id });
  return rows.length > 0;
}

/** A disabled subscription's pending deliveries end as failed, with the reason. */
export async function failPending(tx: Db, subscriptionId: number, reason: string): Promise<void> {
  await tx
    .update(events_deliveries)
    .set({ status: 'failed', next_attempt_at: null, last_error: reason.slice(0, 500), updated_at: sql`now()` })
    .where(and(eq(events_deliveries.subscription_id, subscriptionId), eq(events_deliveries.status, 'pending')));
}
