import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import {
  INTEGRATION_PLATFORMS,
  INTEGRATION_STATUSES,
  type IntegrationPlatform,
  integration_integrations,
  integration_webhook_events,
} from './integration.tables.js';

/** The integration module's queries: every one takes the account id (the webhook receiver's lookup excepted). */

export type IntegrationRow = typeof integration_integrations.$inferSelect;
export type WebhookEventRow = typeof integration_webhook_events.$inferSelect;
type SiteLimit = number[] | null | undefined;

const reachable = (siteIds: SiteLimit): SQL[] =>
  siteIds ? [siteIds.length > 0 ? inArray(integration_integrations.site_id, siteIds) : sql`false`] : [];

export async function integrationOfSite(
  db: Db,
  accountId: number,
  siteId: number,
  platform: IntegrationPlatform,
): Promise<IntegrationRow | null> {
  const [row] = await db
    .select()
    .from(integration_integrations)
    .where(
      and(
        eq(integration_integrations.account_id, accountId),
        eq(integration_integrations.site_id, siteId),
        eq(integration_integrations.platform, platform),
      ),
    );
  return row ?? null;
}

export const INTEGRATION_LIST: ListSpec = {
  filters: {
    site_id: { column: integration_integrations.site_id, kind: 'integer' },
    platform: { column: integration_integrations.platform, kind: 'string', values: INTEGRATION_PLATFORMS, in: true },
    status: { column: integration_integrations.status, kind: 'string', values: INTEGRATION_STATUSES, in: true },
  },
  search: [integration_integrations.base_url],
  ordering: {
    created_at: integration_integrations.created_at,
    updated_at: integration_integrations.updated_at,
    last_checked_at: integration_integrations.last_checked_at,
  },
};

export function listIntegrations(db: Db, accountId: number, siteIds: SiteLimit, query: ListQuery) {
  return runList<IntegrationRow>({
    db,
    table: integration_integrations,
    idColumn: integration_integrations.id,
    where: [eq(integration_integrations.account_id, accountId), ...reachable(siteIds)],
    spec: INTEGRATION_LIST,
    query,
  });
}

export async function integrationById(
  db: Db,
  accountId: number,
  id: number,
  siteIds?: SiteLimit,
  lock = false,
): Promise<IntegrationRow | null> {
  const query = db
    .select()
    .from(integration_integrations)
    .where(and(eq(integration_integrations.account_id, accountId), eq(integration_integrations.id, id), ...reachable(siteIds)));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

export type NewIntegration = Omit<
  typeof integration_integrations.$inferInsert,
  'id' | 'account_id' | 'created_at' | 'updated_at'
>;

export async function insertIntegration(tx: Db, accountId: number, values: NewIntegration): Promise<IntegrationRow> {
  const [row] = await tx
    .insert(integration_integrations)
    .values({ ...values, account_id: accountId })
    .returning();
  if (!row) throw new Error('Inserting an integration returned no row');
  return row;
}

export type IntegrationChanges = Partial<NewIntegration>;

export async function updateIntegration(
  tx: Db,
  accountId: number,
  id: number,
  changes: IntegrationChanges,
): Promise<IntegrationRow> {
  const [row] = await tx
    .update(integration_integrations)
    .set({ ...changes, updated_at: new Date() })
    .where(and(eq(integration_integrations.account_id, accountId), eq(integration_integrations.id, id)))
    .returning();
  if (!row) throw new Error(`Updating integration ${id} returned no row`);
  return row;
}

export async function deleteIntegration(tx: Db, accountId: number, id: number): Promise<void> {
  await tx
    .delete(integration_integrations)
    .where(and(eq(integration_integrations.account_id, accountId), eq(integration_integrations.id, id)));
}

/**
 * The integration a webhook delivery names, whoever's it is: the sender is not signed in, so the account comes
 * from the row (and the delivery is trusted only once its signature verifies with the row's secret).
 */
export async function integrationForWebhook(db: Db, id: number): Promise<IntegrationRow | null> {
  const [row] = await db.select().from(integration_integrations).where(eq(integration_integrations.id, id));
  return row ?? null;
}

/**
 * Stores a delivery once per (integration, event id): the first insert returns the new row's id; a repeat
 * counts the delivery on the existing row and returns null.
 */
export async function storeWebhookEvent(
  tx: Db,
  accountId: number,
  values: { integration_id: number; provider: string; event_id: string; event_type: string; payload: unknown },
): Promise<number | null> {
  const [inserted] = await tx
    .insert(integration_webhook_events)
    .values({ ...values, account_id: accountId })
    .onConflictDoNothing({ target: [integration_webhook_events.integration_id, integration_webhook_events.event_id] })
    .returning({ id: integration_webhook_events.id });
  if (inserted) return inserted.id;
  await tx
    .update(integration_webhook_events)
    .set({ deliveries: sql`${integration_webhook_events.deliveries} + 1` })
    .where(
      and(
        eq(integration_webhook_events.account_id, accountId),
        eq(integration_webhook_events.integration_id, values.integration_id),
        eq(integration_webhook_events.event_id, values.event_id),
      ),
    );
  return null;
}

export async function lockWebhookEvent(tx: Db, accountId: number, id: number): Promise<WebhookEventRow | null> {
  const [row] = await tx
    .select()
    .from(integration_webhook_events)
    .where(and(eq(integration_webhook_events.account_id, accountId), eq(integration_webhook_events.id, id)))
    .for('update');
  return row ?? null;
}

export async function finishWebhookEvent(
  tx: Db,
  accountId: number,
  id: number,
  outcome: { status: 'processed' | 'failed'; error: string | null },
): Promise<void> {
  await tx
    .update(integration_webhook_events)
    .set({ ...outcome, processed_at: new Date() })
    .where(and(eq(integration_webhook_events.account_id, accountId), eq(integration_webhook_events.id, id)));
}
