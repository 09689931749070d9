import type { Config } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import * as repo from './billing.repository.js';
import { addMonth, type BillingService, periodRef } from './billing.service.js';
import { verifyStripeEvent } from './billing.stripe.js';
import type { SubscriptionStatus } from './billing.tables.js';

/**
 * Stripe's events: received (verified, stored once by event id, handed to a job in the same transaction) and
 * applied by that job. Events may arrive in any order and more than once, so:
 *  - the account comes from the metadata every session, subscription and invoice carries (set at checkout),
 *    falling back to the ids stored from earlier events, never from which event came first;
 *  - credits are granted through the ledger with a ref naming the session or invoice, so once each;
 *  - a subscription's state is only overwritten by an event created after the one that set it.
 */

type Obj = Record<string, unknown>;
const asObj = (value: unknown): Obj | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : undefined;
/** An id, whether Stripe sent it as a string or as an expanded object. */
const idOf = (value: unknown): string | null =>
  typeof value === 'string' ? value : typeof asObj(value)?.id === 'string' ? (asObj(value)?.id as string) : null;
const accountIdOf = (metadata: Obj | undefined): number | null => {
  const raw = metadata?.account_id;
  const n = typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : typeof raw === 'number' ? raw : Number.NaN;
  return Number.isInteger(n) && n > 0 && n < 2 ** 31 ? n : null;
};
const seconds = (value: unknown): Date | null => (typeof value === 'number' && value > 0 ? new Date(value * 1000) : null);

const STATUS: Record<string, SubscriptionStatus> = {
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  unpaid: 'past_due',
  incomplete: 'past_due',
  paused: 'past_due',
  canceled: 'canceled',
  incomplete_expired: 'canceled',
};

class Skip extends Error {}

export function createStripeWebhooks(deps: { db: Db; config: Config; jobs: Jobs; billing: BillingService }) {
  const { db, billing } = deps;

  /** The first delivery of an event stores it and enqueues its job; repeats change nothing. */
  async function receive(rawBody: string | undefined, signature: string | string[] | undefined) {
    const event = verifyStripeEvent(rawBody, signature, deps.config.stripe.webhookSecret);
    const first = await db.transaction(async (tx) => {
      const id = await repo.storeWebhookEvent(tx, {
        provider: 'stripe',
        event_id: event.id,
        type: event.type,
        payload: event.payload,
      });
      if (id !== null) await deps.jobs.enqueue(tx, 'billing.stripe_event', { event_id: id });
      return id !== null;
    });
    return { received: true as const, first };
  }

  async function accountFor(tx: Db, metadata: Obj | undefined, subscriptionId: string | null, customerId: string | null) {
    const fromMetadata = accountIdOf(metadata);
    if (fromMetadata !== null) return fromMetadata;
    const bySubscription = subscriptionId ? await repo.subscriptionByProviderId(tx, subscriptionId) : undefined;
    if (bySubscription) return bySubscription.account_id;
    const byCustomer = customerId ? await repo.subscriptionByCustomer(tx, customerId) : undefined;
    if (byCustomer) return byCustomer.account_id;
    throw new Skip('No account could be found for this event (no metadata.account_id, unknown subscription and customer).');
  }

  async function existingAccount(tx: Db, accountId: number): Promise<repo.SubscriptionRow> {
    const sub = await repo.subscriptionOf(tx, accountId, true);
    if (!sub) throw new Skip(`Account ${accountId} does not exist here.`);
    return sub;
  }

  const newer = (sub: repo.SubscriptionRow, at: Date) => sub.provider_event_at === null || sub.provider_event_at <= at;

  /** Points the account at a Stripe subscription on `plan`, unless a newer event already set its state. */
  async function linkSubscription(
    tx: Db,
    sub: repo.SubscriptionRow,
    at: Date,
    values: { plan: repo.PlanRow | undefined; subscriptionId: string; customerId: string | null; status: SubscriptionStatus } & {
      periodStart?: Date | null;
      periodEnd?: Date | null;
      cancelAtPeriodEnd?: boolean;
    },
  ): Promise<boolean> {
    if (!newer(sub, at)) return false;
    const planId = values.plan?.id ?? sub.plan_id;
    await repo.updateSubscription(tx, sub.account_id, {
      plan_id: planId,
      status: values.status,
      provider: 'stripe',
      provider_subscription_id: values.subscriptionId,
      provider_customer_id: values.customerId ?? sub.provider_customer_id,
      provider_event_at: at,
      ...(values.periodStart ? { current_period_start: values.periodStart } : {}),
      ...(values.periodEnd ? { current_period_end: values.periodEnd } : {}),
      ...(values.cancelAtPeriodEnd !== undefined ? { cancel_at_period_end: values.cancelAtPeriodEnd } : {}),
    });
    if (planId !== sub.plan_id) await deps.billing.setAccountPlan(tx, sub.account_id, planId);
    return true;
  }

  async function planFrom(tx: Db, metadata: Obj | undefined): Promise<repo.PlanRow | undefined> {
    const slug = metadata?.plan;
    return typeof slug === 'string' ? repo.planBySlug(tx, slug) : undefined;
  }

  async function checkoutCompleted(tx: Db, session: Obj, at: Date): Promise<number> {
    const metadata = asObj(session.metadata);
    const accountId =
      accountIdOf(metadata) ??
      accountIdOf({ account_id: session.client_reference_id }) ??
      (await accountFor(tx, undefined, idOf(session.subscription), idOf(session.customer)));
    const sub = await existingAccount(tx, accountId);
    const paid = session.payment_status === 'paid' || session.payment_status === 'no_payment_required';
    if (session.mode === 'payment' && typeof metadata?.credit_pack === 'string') {
      if (!paid) throw new Skip('The checkout is not paid yet; its async_payment_succeeded event grants the credits.');
      const pack = await repo.packBySlug(tx, metadata.credit_pack);
      if (!pack) throw new Skip(`Credit pack "${metadata.credit_pack}" no longer exists.`);
      await billing.grant({ accountId }, pack.credits, `stripe:checkout:${String(session.id)}`, {
        tx,
        type: 'purchase',
        description: `Credit pack ${pack.name}`,
        source_agent: 'webhook:stripe',
      });
      if (!sub.provider_customer_id && idOf(session.customer)) {
        await repo.updateSubscription(tx, accountId, { provider_customer_id: idOf(session.customer) });
      }
      return accountId;
    }
    if (session.mode === 'subscription') {
      const subscriptionId = idOf(session.subscription);
      if (!subscriptionId) throw new Skip('The checkout names no subscription.');
      await linkSubscription(tx, sub, at, {
        plan: await planFrom(tx, metadata),
        subscriptionId,
        customerId: idOf(session.customer),
        status: 'active',
      });
      return accountId;
    }
    throw new Skip('A checkout of neither a plan nor a credit pack.');
  }

  async function invoicePaid(tx: Db, invoice: Obj, at: Date): Promise<number> {
    // Older API versions put the subscription on the invoice; newer ones under parent.subscription_details.
    const parentDetails = asObj(asObj(invoice.parent)?.subscription_details);
    const subscriptionId = idOf(invoice.subscription) ?? idOf(parentDetails?.subscription);
    if (!subscriptionId) throw new Skip('An invoice of no subscription grants nothing.');
    const metadata = asObj(parentDetails?.metadata) ?? asObj(asObj(invoice.subscription_details)?.metadata);
    const accountId = await accountFor(tx, metadata, subscriptionId, idOf(invoice.customer));
    const sub = await existingAccount(tx, accountId);
    const plan =
      (await planFrom(tx, metadata)) ??
      (sub.provider_subscription_id === subscriptionId ? await repo.planById(tx, sub.plan_id) : undefined);
    if (!plan) throw new Skip('The invoice names no plan this server knows.');
    const line = asObj((asObj(invoice.lines)?.data as unknown[] | undefined)?.[0]);
    const period = asObj(line?.period);
    await linkSubscription(tx, sub, at, {
      plan,
      subscriptionId,
      customerId: idOf(invoice.customer),
      status: 'active',
      periodStart: seconds(period?.start),
      periodEnd: seconds(period?.end),
    });
    if (plan.monthly_credits > 0) {
      await billing.grant({ accountId }, plan.monthly_credits, `stripe:invoice:${String(invoice.id)}`, {
        tx,
        description: `${plan.name} plan: credits of invoice ${String(invoice.id)}`,
        source_agent: 'webhook:stripe',
      });
    }
    return accountId;
  }

  async function subscriptionChanged(tx: Db, subscription: Obj, at: Date, deleted: boolean): Promise<number> {
    const subscriptionId = idOf(subscription.id);
    if (!subscriptionId) throw new Skip('The subscription has no id.');
    const metadata = asObj(subscription.metadata);
    const accountId = await accountFor(tx, metadata, subscriptionId, idOf(subscription.customer));
    const sub = await existingAccount(tx, accountId);
    // Newer API versions keep the period on the items; older ones on the subscription.
    const item = asObj((asObj(subscription.items)?.data as unknown[] | undefined)?.[0]);
    const periodStart = seconds(subscription.current_period_start) ?? seconds(item?.current_period_start);
    const periodEnd = seconds(subscription.current_period_end) ?? seconds(item?.current_period_end);
    if (!deleted) {
      await linkSubscription(tx, sub, at, {
        plan: await planFrom(tx, metadata),
        subscriptionId,
        customerId: idOf(subscription.customer),
        status: STATUS[String(subscription.status)] ?? 'past_due',
        periodStart,
        periodEnd,
        cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
      });
      return accountId;
    }
    // The end of a paid subscription (not of an older one the account already replaced): back to the free plan,
    // renewed here from now on, with its first period's credits.
    if (!newer(sub, at) || (sub.provider_subscription_id !== null && sub.provider_subscription_id !== subscriptionId))
      return accountId;
    const free = await billing.freePlan(tx);
    const start = new Date();
    await repo.updateSubscription(tx, accountId, {
      plan_id: free.id,
      status: 'canceled',
      provider: null,
      provider_subscription_id: null,
      provider_event_at: at,
      cancel_at_period_end: false,
      current_period_start: start,
      current_period_end: addMonth(start),
    });
    if (sub.plan_id !== free.id) await deps.billing.setAccountPlan(tx, accountId, free.id);
    await billing.grant({ accountId }, free.monthly_credits, periodRef(accountId, start), {
      tx,
      description: `${free.name} plan: credits for the month`,
      source_agent: 'webhook:stripe',
    });
    return accountId;
  }

  /** Applies one stored event, once: the row is locked and marked in the same transaction as its effects. */
  async function apply(eventRowId: number): Promise<{ status: string; account_id: number | null }> {
    return db.transaction(async (tx) => {
      const row = await repo.lockWebhookEvent(tx, eventRowId);
      if (!row) return { status: 'missing', account_id: null };
      if (row.status !== 'received') return { status: row.status, account_id: row.account_id };
      const payload = row.payload;
      const object = asObj(asObj(payload.data)?.object) ?? {};
      const at = seconds(payload.created) ?? row.created_at;
      let accountId: number | null = null;
      try {
        switch (row.type) {
          case 'checkout.session.completed':
          case 'checkout.session.async_payment_succeeded':
            accountId = await checkoutCompleted(tx, object, at);
            break;
          case 'invoice.paid':
            accountId = await invoicePaid(tx, object, at);
            break;
          case 'customer.subscription.created':
          case 'customer.subscription.updated':
            accountId = await subscriptionChanged(tx, object, at, false);
            break;
          case 'customer.subscription.deleted':
            accountId = await subscriptionChanged(tx, object, at, true);
            break;
          default:
            throw new Skip(`Event type ${row.type} is not used here.`);
        }
      } catch (error) {
        // Skips are final (nothing a retry could change); anything else rolls back and the job retries.
        if (!(error instanceof Skip)) throw error;
        await repo.finishWebhookEvent(tx, row.id, {
          status: 'ignored',
          account_id: accountId,
          error: error.message.slice(0, 1000),
        });
        return { status: 'ignored', account_id: accountId };
      }
      await repo.finishWebhookEvent(tx, row.id, { status: 'processed', account_id: accountId, error: null });
      await record(tx, {
        account_id: accountId,
        type: 'webhook.ingested',
        source_agent: 'webhook:stripe',
        object_type: 'billing_webhook_event',
        object_id: row.id,
        payload: { provider: 'stripe', event_id: row.event_id, event_type: row.type },
      });
      return { status: 'processed', account_id: accountId };
    });
  }

  return { receive, apply };
}
export type StripeWebhooks = ReturnType<typeof createStripeWebhooks>;
