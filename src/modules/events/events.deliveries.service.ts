import { randomUUID } from 'node:crypto';
import type { WebhooksConfig } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { conflict, notFound } from '../../core/errors.js';
import { byCaller, type EventInput, record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ListQuery } from '../../core/lists.js';
import type { Logger } from '../../core/logger.js';
import type { SecretBox } from '../../core/secrets.js';
import type { RequestContext } from '../../core/tenancy.js';
import { postSigned, type SendOutcome } from './events.deliveries.http.js';
import * as repo from './events.deliveries.repository.js';
import { findSubscription, updateSubscription } from './events.subscriptions.repository.js';
import { subscriptionSecretBinding } from './events.subscriptions.service.js';
import type { DeliveryStatus, events_subscriptions } from './events.tables.js';

type Ctx = RequestContext & { accountId: number };
type Subscription = typeof events_subscriptions.$inferSelect;
/** One attempt's right to a subscription: what an `events.deliver` job carries. */
type Lease = { account_id: number; subscription_id: number; delivery_id: number; lease: string };

/** How many attempts one job makes in a row for its subscription, and for how long, before queueing the next. */
const CHAIN_MAX = 100;
const CHAIN_MS = 20_000;

/**
 * Delivering events to subscriptions.
 *
 * Fan-out: the trigger on `events_events` (migration 0008) writes one `pending` delivery per matching
 * subscription in the event's own transaction, so deliveries exist exactly for committed events. The event's
 * commit notifies every process (core/changes.ts, table `events_events`), and the dispatcher here reacts at once;
 * a sweep job every minute catches whatever no process heard (a process that died between commit and dispatch).
 *
 * Per-subscription order and isolation: a subscription holds a lease naming the one delivery being attempted;
 * the dispatcher leases the subscription's earliest due delivery (by event id) and enqueues one `events.deliver`
 * job for that attempt in the same transaction, and the job, when done, records the attempt and leases the next
 * one in its closing transaction. So a receiver gets one request at a time, in event order, and a slow or dead
 * receiver only holds its own lease: every other subscription's jobs go on. (pg-boss's own `singleton` queue
 * policy was the other way, but its fetch fails as a whole when a key is already active, which stalls every
 * other subscription's deliveries behind the busy one.) A retry waits its turn by `next_attempt_at`: later
 * events are not held back for a day behind one failing event, as with Stripe and Svix.
 *
 * Exactly-once bookkeeping: the lease token travels in the job; a repeated or stale job finds it changed and
 * does nothing, and attempts are unique per (delivery, attempt number), so a job run twice records one attempt.
 */
export function createWebhookDeliveries(deps: { db: Db; jobs: Jobs; config: WebhooksConfig; log: Logger; secrets: SecretBox }) {
  const { db, jobs, config, log } = deps;
  const open = (accountId: number, sealed: string) => deps.secrets.decrypt(sealed, subscriptionSecretBinding(accountId));
  // Past this, the lease is presumed lost with its process and the sweep starts the attempt again. Long, because
  // a lease run out under a live sender means the receiver gets that delivery twice; a crash costs this delay.
  const leaseSeconds = Math.ceil(config.timeoutMs / 1000) + 300;

  /**
   * Leases the subscription's next due delivery and enqueues its attempt, in `tx` where the subscription is
   * locked. A retry not yet due has its own dispatch job, scheduled with it.
   */
  async function leaseNext(tx: Db, subscription: Subscription, keep = false): Promise<Lease | null> {
    const next = subscription.is_active ? await repo.nextDue(tx, subscription.id) : null;
    if (!next) {
      if (subscription.lease_token !== null) await repo.setLease(tx, subscription.id, null);
      return null;
    }
    const lease = {
      account_id: subscription.account_id,
      subscription_id: subscription.id,
      delivery_id: next.id,
      lease: randomUUID(),
    };
    await repo.setLease(tx, subscription.id, { token: lease.lease, deliveryId: next.id, seconds: leaseSeconds });
    // Kept: the job that just finished an attempt goes on with the next one itself (no trip through the queue).
    if (!keep) await jobs.enqueue(tx, 'events.deliver', lease);
    return lease;
  }

  /** Starts the next attempt of one subscription unless one is under way (its lease still runs). */
  async function dispatchSubscription(subscriptionId: number): Promise<boolean> {
    const leased = await db.transaction(async (tx) => {
      const subscription = await repo.lockSubscription(tx, subscriptionId, true);
      if (!subscription?.is_active) return false;
      if (subscription.lease_until && subscription.lease_until.getTime() > Date.now()) return false;
      return (await leaseNext(tx, subscription)) !== null;
    });
    if (leased) jobs.nudge('events.deliver');
    return leased;
  }

  /**
   * A retry's time has come (its own dispatch job): unless an attempt is under way, this job makes the
   * subscription's next attempts itself, with no further trip through the queue.
   */
  async function retryDue(subscriptionId: number) {
    const lease = await db.transaction(async (tx) => {
      const subscription = await repo.lockSubscription(tx, subscriptionId, true);
      if (!subscription?.is_active) return null;
      if (subscription.lease_until && subscription.lease_until.getTime() > Date.now()) return null;
      return leaseNext(tx, subscription, true);
    });
    return lease ? { started: 1, ...(await attempt(lease)) } : { started: 0 };
  }

  /** Every subscription of these accounts (null: all) with a delivery due and no attempt under way. */
  async function dispatch(accounts: number[] | null): Promise<number> {
    let started = 0;
    for (;;) {
      const due = await repo.subscriptionsDue(db, accounts, 200);
      let round = 0;
      for (const id of due) if (await dispatchSubscription(id)) round++;
      started += round;
      // A full page whose subscriptions all started may hide more; otherwise the rest are busy or done.
      if (due.length < 200 || round === 0) return started;
    }
  }

  // Commits come in bursts (a busy account records many events a second): one dispatch at a time, and one more
  // after it for whatever was heard meanwhile.
  let running: Promise<void> | null = null;
  let queued: Set<number> | 'all' | null = null;
  function wake(accounts: number[] | null): void {
    if (accounts === null) queued = 'all';
    else if (queued !== 'all') {
      const pending: Set<number> = queued ?? new Set();
      for (const id of accounts) pending.add(id);
      queued = pending;
    }
    if (running) return;
    running = (async () => {
      while (queued !== null) {
        const batch = queued;
        queued = null;
        await dispatch(batch === 'all' ? null : [...batch]).catch((error) => {
          // The sweep job retries whatever this missed.
          log.warn({ err: error }, 'webhook dispatch failed');
        });
      }
      running = null;
    })();
  }

  /**
   * The attempt the job was started for, then the subscription's next ones while they are due, up to a bound
   * (then the next goes back to the queue as a job of its own, so a busy subscription does not keep a worker).
   */
  async function attempt(payload: Lease) {
    const started = Date.now();
    let lease = payload;
    let outcome: Awaited<ReturnType<typeof attemptOne>>;
    let sent = 0;
    for (;;) {
      const chain = sent + 1 < CHAIN_MAX && Date.now() - started < CHAIN_MS;
      outcome = await attemptOne(lease, chain);
      sent++;
      if (!outcome.next) break;
      lease = outcome.next;
    }
    return sent > 1 ? { ...outcome.result, chained: sent } : outcome.result;
  }

  /** One attempt of one delivery, by the job that holds the subscription's lease. */
  async function attemptOne(payload: Lease, chain: boolean): Promise<{ result: Record<string, unknown>; next: Lease | null }> {
    const { account_id: accountId, delivery_id: deliveryId, lease } = payload;
    const parts = await repo.attemptParts(db, accountId, payload.subscription_id, deliveryId);
    if (!parts || parts.subscription.lease_token !== lease) {
      // Its subscription or delivery is gone, or another attempt holds the lease now: nothing to do.
      if (parts) return { result: { skipped: 'stale' }, next: null };
      await releaseAndContinue(accountId, payload.subscription_id, lease);
      return { result: { skipped: 'gone' }, next: null };
    }
    const { subscription, delivery, event } = parts;
    if (delivery.status !== 'pending') {
      await releaseAndContinue(accountId, payload.subscription_id, lease);
      return { result: { skipped: 'not pending' }, next: null };
    }
    // Never send on a lease that could run out before the answer (a slow database may have eaten into it).
    const left = (subscription.lease_until?.getTime() ?? 0) - Date.now();
    if (left < config.timeoutMs + 60_000 && !(await repo.renewLease(db, subscription.id, lease, leaseSeconds))) {
      return { result: { skipped: 'lease lost' }, next: null };
    }
    const number = delivery.attempts + 1;
    const body = JSON.stringify({ type: event.type, timestamp: event.created_at.toISOString(), data: event });
    const now = Date.now();
    const secrets = [open(subscription.account_id, subscription.secret)];
    if (subscription.previous_secret && (subscription.previous_secret_expires_at?.getTime() ?? 0) > now) {
      secrets.push(open(subscription.account_id, subscription.previous_secret));
    }
    const outcome = await postSigned({
      url: subscription.url,
      messageId: String(event.id),
      body,
      secrets,
      timeoutMs: config.timeoutMs,
      allowPrivate: config.allowPrivate,
    });
    const settled = await db.transaction(async (tx) => {
      const current = await repo.lockSubscription(tx, subscription.id, false);
      if (!current) return null;
      const recorded = await repo.insertAttempt(tx, {
        account_id: accountId,
        delivery_id: deliveryId,
        attempt: number,
        succeeded: isSuccess(outcome),
        response_code: outcome.status,
        response_body: outcome.body,
        latency_ms: outcome.latencyMs,
        error: outcome.error ?? (isSuccess(outcome) ? null : `The receiver answered ${outcome.status}.`),
      });
      // Another run of this attempt recorded it first: its outcome stands.
      if (!recorded) return null;
      const result = await settle(tx, current, delivery, number, outcome);
      const next =
        current.lease_token === lease
          ? await leaseNext(tx, { ...current, is_active: current.is_active && !result.disabled }, chain)
          : null;
      // Not kept, the next attempt is its own job's now: this one stops here.
      return { result: { status: result.status, attempt: number, response_code: outcome.status }, next: chain ? next : null };
    });
    if (!settled) return { result: { skipped: 'recorded by another run' }, next: null };
    if (!chain) jobs.nudge('events.deliver');
    return settled;
  }

  async function releaseAndContinue(accountId: number, subscriptionId: number, lease: string): Promise<void> {
    await db.transaction(async (tx) => {
      const current = await repo.lockSubscription(tx, subscriptionId, false);
      if (current && current.account_id === accountId && current.lease_token === lease) await leaseNext(tx, current);
    });
    jobs.nudge('events.deliver');
  }

  /** The delivery's new state after an attempt, and the subscription's (a success clears its failing streak). */
  async function settle(
    tx: Db,
    subscription: Subscription,
    delivery: repo.DeliveryRow,
    number: number,
    outcome: SendOutcome,
  ): Promise<{ status: DeliveryStatus; disabled: boolean }> {
    const accountId = subscription.account_id;
    const common = { attempts: number, last_response_code: outcome.status, last_error: outcome.error?.slice(0, 500) ?? null };
    if (isSuccess(outcome)) {
      await repo.updateDelivery(tx, accountId, delivery.id, {
        ...common,
        status: 'succeeded',
        next_attempt_at: null,
        delivered_at: new Date(),
      });
      if (subscription.failing_since) await updateSubscription(tx, accountId, subscription.id, { failing_since: null });
      return { status: 'succeeded', disabled: false };
    }
    const error = outcome.error ?? `The receiver answered ${outcome.status}.`;
    if (outcome.status === 410) {
      await repo.updateDelivery(tx, accountId, delivery.id, {
        ...common,
        last_error: error,
        status: 'failed',
        next_attempt_at: null,
      });
      await disable(tx, subscription, 'The receiver answered 410 Gone.');
      return { status: 'failed', disabled: true };
    }
    const failingSince = subscription.failing_since ?? new Date();
    if (Date.now() - failingSince.getTime() >= config.disableAfterSeconds * 1000) {
      await repo.updateDelivery(tx, accountId, delivery.id, {
        ...common,
        last_error: error,
        status: 'failed',
        next_attempt_at: null,
      });
      await disable(tx, subscription, `Every delivery failed for ${Math.round(config.disableAfterSeconds / 86_400)} days.`);
      return { status: 'failed', disabled: true };
    }
    if (!subscription.failing_since) await updateSubscription(tx, accountId, subscription.id, { failing_since: failingSince });
    // Retry n waits the n-th delay of the schedule, ±20 % so that receivers coming back are not hit all at once.
    const delay = config.retrySchedule[number - 1 - retriesBefore(delivery)];
    if (delay === undefined) {
      await repo.updateDelivery(tx, accountId, delivery.id, {
        ...common,
        last_error: error,
        status: 'failed',
        next_attempt_at: null,
      });
      return { status: 'failed', disabled: false };
    }
    const at = new Date(Date.now() + delay * 1000 * (0.8 + Math.random() * 0.4));
    await repo.updateDelivery(tx, accountId, delivery.id, {
      ...common,
      last_error: error,
      status: 'pending',
      next_attempt_at: at,
    });
    // Its turn comes then, even if the subscription has nothing else to send meanwhile.
    await jobs.enqueue(tx, 'events.dispatch', { subscription_id: subscription.id }, { startAfter: at });
    return { status: 'pending', disabled: false };
  }

  /** Switched off by the server: its pending deliveries fail, and the account's feed says why. */
  async function disable(tx: Db, subscription: Subscription, reason: string): Promise<void> {
    await updateSubscription(tx, subscription.account_id, subscription.id, { is_active: false, disabled_reason: reason });
    await repo.failPending(tx, subscription.id, `Not sent: the subscription was disabled (${reason})`);
    const event: EventInput = {
      account_id: subscription.account_id,
      type: 'subscription.disabled',
      source_agent: 'worker',
      object_type: 'subscription',
      object_id: subscription.id,
      payload: { url: subscription.url, reason },
    };
    await record(tx, event);
  }

  return {
    wake,
    dispatch,
    dispatchSubscription,
    retryDue,
    attempt,

    list(ctx: Ctx, query: ListQuery) {
      const paged = ['page', 'limit', 'offset', 'cursor'].some((k) => query[k] !== undefined);
      return repo.listDeliveries(db, ctx.accountId, paged ? query : { ...query, cursor: '' });
    },

    async detail(ctx: Ctx, id: number) {
      const delivery = await repo.findDelivery(db, ctx.accountId, id);
      if (!delivery) throw notFound('Delivery');
      const attempts = await repo.attemptsOf(db, ctx.accountId, id);
      return { ...wire(delivery), attempt_log: attempts.map(({ id: _i, account_id: _a, delivery_id: _d, ...rest }) => rest) };
    },

    /**
     * Sends the delivery again as soon as its subscription's turn comes, whatever its state: a new attempt,
     * counted after the earlier ones, with the retry schedule starting over.
     */
    async redeliver(ctx: Ctx, id: number) {
      const row = await db.transaction(async (tx) => {
        const delivery = await repo.findDelivery(tx, ctx.accountId, id, true);
        if (!delivery) throw notFound('Delivery');
        const subscription = await findSubscription(tx, ctx.accountId, delivery.subscription_id);
        if (!subscription?.is_active) {
          throw conflict('The subscription is disabled; turn it back on (is_active) before redelivering.', 'disabled');
        }
        const updated = await repo.updateDelivery(tx, ctx.accountId, id, {
          status: 'pending',
          next_attempt_at: new Date(),
          // The retry schedule restarts from here: remembered as the attempts made before this redelivery.
          redelivered_after: delivery.attempts,
        });
        await record(
          tx,
          byCaller(ctx, {
            type: 'delivery.redelivered',
            object_type: 'delivery',
            object_id: id,
            payload: { subscription_id: delivery.subscription_id, event_id: delivery.event_id },
          }),
        );
        return updated ?? delivery;
      });
      wake([ctx.accountId]);
      return wire(row);
    },
  };
}
export type WebhookDeliveries = ReturnType<typeof createWebhookDeliveries>;

const isSuccess = (outcome: SendOutcome) => outcome.status !== null && outcome.status >= 200 && outcome.status < 300;

/** Attempts made before the last redelivery: the retry schedule counts from there. */
const retriesBefore = (delivery: repo.DeliveryRow) => delivery.redelivered_after;

export function wire(row: repo.DeliveryRow): repo.DeliveryWire {
  const { account_id: _a, redelivered_after: _r, ...rest } = row;
  return rest;
}
