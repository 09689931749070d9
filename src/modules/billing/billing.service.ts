import { randomUUID } from 'node:crypto';
import type { UsageInput } from '../../core/ai.js';
import type { Config } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { AppError, fieldError, notFound, validationError } from '../../core/errors.js';
import { record, type SourceAgent } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ListQuery, ListResult } from '../../core/lists.js';
import * as repo from './billing.repository.js';
import { createBillingStaff } from './billing.staff.js';
import { createStripeProvider, type PaymentProvider } from './billing.stripe.js';
import type { LedgerType } from './billing.tables.js';

/**
 * The one way credits move, used by every module: estimate, ensure, charge, refund, grant, adjust, and the
 * usage log. Each change locks the account's row (`SELECT ... FOR UPDATE`), checks the idempotency `ref`,
 * moves the balance with a conditional UPDATE that can never take it below zero, and writes one ledger row
 * with the balance after it, all in one transaction. Concurrent changes of one account therefore queue on
 * that row lock, on Postgres and PGlite alike, and the balance always equals the ledger's sum.
 */

export interface AccountRef {
  accountId: number;
}

export interface ChargeMeta {
  object_type?: string;
  object_id?: number;
  description?: string;
  /** Run inside the caller's transaction (the balance row stays locked until it ends). */
  tx?: Db;
  /** Who caused it, for the events feed; default `worker` for charges and refunds, `api` otherwise. */
  source_agent?: SourceAgent;
}

export interface GrantMeta {
  type?: 'grant' | 'purchase' | 'adjustment';
  description?: string;
  tx?: Db;
  source_agent?: SourceAgent;
  actor_id?: number | null;
}

interface Entry {
  type: LedgerType;
  operation?: string | null;
  object_type?: string | null;
  object_id?: number | null;
  description?: string;
  source_agent: SourceAgent;
  actor_id?: number | null;
}

type Outcome =
  | { applied: true; amount: number; balance: number }
  | { applied: false; amount: number; balance: number; refused: boolean };

const COSTS_TTL_MS = 30_000;
const EVENT_TYPES: Record<LedgerType, string> = {
  usage: 'credits.debited',
  refund: 'credits.refunded',
  grant: 'credits.granted',
  purchase: 'credits.purchased',
  adjustment: 'credits.adjusted',
};

export const insufficientCredits = (required: number, balance: number) =>
  new AppError('insufficient_credits', `This needs ${required} credits and the balance is ${balance}.`, {
    details: { required, balance },
  });

/** The same day of the next month, clamped to its last day (31 Jan → 28/29 Feb), in UTC. */
export function addMonth(date: Date): Date {
  const next = new Date(date.getTime());
  const day = next.getUTCDate();
  next.setUTCDate(1);
  next.setUTCMonth(next.getUTCMonth() + 1);
  const last = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
  next.setUTCDate(Math.min(day, last));
  return next;
}

/** The ledger ref of a plan's credits for one period: at most one grant per account and period start. */
export const periodRef = (accountId: number, periodStart: Date) => `plan:${accountId}:${periodStart.toISOString()}`;

/**
 * The balance and the plan of an account, kept on auth's accounts and moved only by billing, through this
 * (auth implements it: auth.balances.ts, wired in modules.ts).
 */
export interface AccountBalances {
  /** Locks the account's row for the rest of the transaction and answers its balance (undefined: no account). */
  lock(tx: Db, accountId: number): Promise<number | undefined>;
  read(accountId: number): Promise<number | undefined>;
  /** Moves the balance unless it would go below zero; the new balance, or undefined when refused. */
  move(tx: Db, accountId: number, amount: number): Promise<number | undefined>;
  /** The plan whose limits auth applies follows the subscription. */
  setPlan(tx: Db, accountId: number, planId: number): Promise<void>;
  totals(): Promise<{ accounts: number; outstanding_credits: number }>;
  account(accountId: number): Promise<StaffAccountRow | undefined>;
  /** Every account with its balance and plan, as staff list them (`ACCOUNT_LIST`'s filters and orderings). */
  list(query: ListQuery): Promise<ListResult<StaffAccountRow>>;
}

/** An account as staff see it: its balance and plan. */
export interface StaffAccountRow {
  id: number;
  name: string;
  slug: string;
  status: 'active' | 'suspended';
  plan_id: number;
  credits: number;
  created_at: Date;
  updated_at: Date;
}

/** The staff lists' specs and catalog kinds, for the admin module's query schemas. */
export { CATALOG_LISTS, type CatalogKind, STAFF_USAGE_LIST } from './billing.staff.js';

export interface BillingDeps {
  db: Db;
  accounts: AccountBalances;
  config: Config;
  jobs: Jobs;
  /** Tests and other providers; default: Stripe when STRIPE_SECRET_KEY is set. */
  payments?: PaymentProvider | null;
}

export function createBillingService(deps: BillingDeps) {
  const payments = deps.payments !== undefined ? deps.payments : createStripeProvider(deps.config.stripe);
  const ledger = createLedger(deps);
  return {
    payments,
    /** What platform staff see and edit (the admin module's routes). */
    staff: createBillingStaff({
      db: deps.db,
      accounts: deps.accounts,
      onChange: (kind) => {
        if (kind === 'credit_costs') ledger.invalidateCosts();
      },
    }),
    ...ledger,
    ...createPlans(deps, ledger),
    ...createFeeds(deps),
    ...createCheckout(deps, payments),
  };
}
export type BillingService = ReturnType<typeof createBillingService>;

/**
 * The balance and its ledger: estimates from the credit costs, charges, refunds, grants and staff adjustments,
 * each at most once per ref, and AI usage records.
 */
function createLedger(deps: BillingDeps) {
  const { db } = deps;
  let costs: { rows: Map<string, repo.CostRow>; loadedAt: number } | null = null;

  async function costOf(operation: string): Promise<repo.CostRow> {
    if (!costs || Date.now() - costs.loadedAt > COSTS_TTL_MS) {
      const rows = await repo.allCosts(db);
      costs = { rows: new Map(rows.map((r) => [r.operation, r])), loadedAt: Date.now() };
    }
    const row = costs.rows.get(operation);
    if (!row) {
      throw fieldError('operation', `Unknown operation "${operation}"; known: ${[...costs.rows.keys()].sort().join(', ')}.`);
    }
    return row;
  }

  const inTx = <T>(tx: Db | undefined, work: (tx: Db) => Promise<T>): Promise<T> => (tx ? work(tx) : db.transaction(work));

  /**
   * One change of the balance, at most once per `ref`. Refused (nothing changes) when it would take the
   * balance below zero; a ref already in the ledger is answered with what it did then.
   */
  async function change(tx: Db, accountId: number, amount: number, ref: string, entry: Entry): Promise<Outcome> {
    const current = await deps.accounts.lock(tx, accountId);
    if (current === undefined) throw notFound('Account');
    const done = await repo.ledgerByRef(tx, ref);
    if (done) {
      if (done.account_id !== accountId) throw new Error(`Ledger ref "${ref}" belongs to another account`);
      return { applied: false, amount: done.amount, balance: current, refused: false };
    }
    if (current + amount < 0) return { applied: false, amount, balance: current, refused: true };
    const balance = await deps.accounts.move(tx, accountId, amount);
    if (balance === undefined) throw new Error('The balance moved under a held row lock');
    const row = await repo.insertLedger(tx, {
      account_id: accountId,
      amount,
      type: entry.type,
      balance_after: balance,
      operation: entry.operation ?? null,
      object_type: entry.object_type ?? null,
      object_id: entry.object_id ?? null,
      description: (entry.description ?? '').slice(0, 500),
      ref,
    });
    await record(tx, {
      account_id: accountId,
      type: EVENT_TYPES[entry.type],
      source_agent: entry.source_agent,
      actor_id: entry.actor_id ?? null,
      object_type: entry.object_type ?? 'credit_transaction',
      object_id: entry.object_id ?? row.id,
      payload: { amount, balance_after: balance, operation: entry.operation ?? null, ref, transaction_id: row.id },
    });
    return { applied: true, amount, balance };
  }

  function checkRef(ref: string): void {
    if (typeof ref !== 'string' || ref.length === 0 || ref.length > 255) throw new Error('A ledger ref is 1-255 characters');
  }

  const ledger = {
    /** Credits for a whole request of `units` (rounded up per request). Unknown operation: a field error. */
    async estimate(operation: string, units: number): Promise<number> {
      if (!Number.isInteger(units) || units < 0) throw fieldError('units', 'Must be a whole number of 0 or more.');
      const cost = await costOf(operation);
      return Math.ceil(units / cost.per_units) * cost.credits;
    },

    async balance(ctx: AccountRef): Promise<number> {
      const value = await deps.accounts.read(ctx.accountId);
      if (value === undefined) throw notFound('Account');
      return value;
    },

    /**
     * Credits taken from the account under refs starting with `prefix`, refunds netted: what the units of one
     * piece of work (an automation run's) cost, read from the ledger itself.
     */
    async chargedUnder(ctx: AccountRef, prefix: string): Promise<number> {
      return repo.chargedUnder(db, ctx.accountId, prefix);
    },

    /** Throws 402 when the balance is short of `credits`; changes nothing. */
    async ensure(ctx: AccountRef, credits: number): Promise<void> {
      const balance = await ledger.balance(ctx);
      if (balance < credits) throw insufficientCredits(credits, balance);
    },

    /**
     * Takes the credits of `units` of `operation`, once per `ref`: a repeat is a no-op (`charged: false`).
     * Short of credits: 402 and nothing changes. A free operation charges 0 and writes no ledger row.
     */
    async charge(
      ctx: AccountRef,
      operation: string,
      units: number,
      ref: string,
      meta: ChargeMeta = {},
    ): Promise<{ charged: boolean; credits: number; balance: number }> {
      checkRef(ref);
      const credits = await ledger.estimate(operation, units);
      if (credits === 0) return { charged: true, credits: 0, balance: await ledger.balance(ctx) };
      const outcome = await inTx(meta.tx, (tx) =>
        change(tx, ctx.accountId, -credits, ref, {
          type: 'usage',
          operation,
          object_type: meta.object_type,
          object_id: meta.object_id,
          description: meta.description ?? `${operation}: ${units} unit${units === 1 ? '' : 's'}`,
          source_agent: meta.source_agent ?? 'worker',
        }),
      );
      if (!outcome.applied && outcome.refused) throw insufficientCredits(credits, outcome.balance);
      return { charged: outcome.applied, credits: -outcome.amount, balance: outcome.balance };
    },

    /** Gives back what the usage row named by `ref` took, once. */
    async refund(
      ctx: AccountRef,
      ref: string,
      meta: ChargeMeta = {},
    ): Promise<{ refunded: boolean; credits: number; balance: number }> {
      checkRef(ref);
      return inTx(meta.tx, async (tx) => {
        const usage = await repo.ledgerByRef(tx, ref);
        if (!usage || usage.account_id !== ctx.accountId || usage.type !== 'usage') throw notFound('Charge');
        const outcome = await change(tx, ctx.accountId, -usage.amount, `refund:${ref}`, {
          type: 'refund',
          operation: usage.operation,
          object_type: meta.object_type ?? usage.object_type,
          object_id: meta.object_id ?? usage.object_id,
          description: meta.description ?? `Refund of ${usage.operation ?? 'a charge'}`,
          source_agent: meta.source_agent ?? 'worker',
        });
        return { refunded: outcome.applied, credits: outcome.amount, balance: outcome.balance };
      });
    },

    /** Adds credits (plan grants, purchases, positive adjustments), once per `ref`. */
    async grant(
      ctx: AccountRef,
      credits: number,
      ref: string,
      meta: GrantMeta = {},
    ): Promise<{ granted: boolean; credits: number; balance: number }> {
      checkRef(ref);
      if (!Number.isInteger(credits) || credits < 0) throw new Error('grant() takes a whole number of credits, 0 or more');
      const type = meta.type ?? 'grant';
      const outcome = await inTx(meta.tx, (tx) =>
        change(tx, ctx.accountId, credits, ref, {
          type,
          description: meta.description ?? '',
          source_agent: meta.source_agent ?? 'api',
          actor_id: meta.actor_id,
        }),
      );
      return { granted: outcome.applied, credits: outcome.amount, balance: outcome.balance };
    },

    /** A staff correction, positive or negative; one that would take the balance below zero is a 400. */
    async adjust(ctx: AccountRef, amount: number, ref: string, meta: { reason: string; actor_id: number | null; tx?: Db }) {
      checkRef(ref);
      if (!Number.isInteger(amount) || amount === 0) throw fieldError('amount', 'Must be a whole number other than 0.');
      const outcome = await inTx(meta.tx, (tx) =>
        change(tx, ctx.accountId, amount, ref, {
          type: 'adjustment',
          description: meta.reason,
          source_agent: 'api',
          actor_id: meta.actor_id,
        }),
      );
      if (!outcome.applied && outcome.refused) {
        throw validationError(
          { amount: [`The balance is ${outcome.balance}; taking ${-amount} would leave it below zero.`] },
          `The balance is ${outcome.balance}; an adjustment of ${amount} would take it below zero.`,
        );
      }
      return { adjusted: outcome.applied, amount: outcome.amount, balance: outcome.balance };
    },

    /**
     * Staff's correction of an account's balance (admin's adjust_credits): the reason is required, and each
     * request is its own ledger entry (a fresh ref), so two equal corrections both apply.
     */
    async adjustByStaff(accountId: number, input: { amount: number; reason: string }, actorId: number | null) {
      if (input.amount === 0) throw fieldError('amount', 'Must be a whole number other than 0.');
      const reason = input.reason.trim();
      if (reason === '') throw fieldError('reason', 'This field may not be blank.');
      const done = await ledger.adjust({ accountId }, input.amount, `adjust:${accountId}:${randomUUID()}`, {
        reason,
        actor_id: actorId,
      });
      return { account_id: accountId, amount: done.amount, balance: done.balance };
    },

    /** The account's plan follows its subscription (webhooks, renewals). */
    setAccountPlan(tx: Db, accountId: number, planId: number): Promise<void> {
      return deps.accounts.setPlan(tx, accountId, planId);
    },

    /** One AI call's usage; a repeated `ref` is recorded once. */
    async recordUsage(ctx: AccountRef, usage: UsageInput): Promise<void> {
      await repo.insertUsage(usage.tx ?? db, {
        account_id: ctx.accountId,
        operation: usage.operation,
        model: usage.model,
        tokens_in: usage.tokens_in,
        tokens_out: usage.tokens_out,
        credits: usage.credits,
        cost_micros: usage.cost_micros,
        latency_ms: usage.latency_ms,
        ref: usage.ref ?? null,
        object_type: usage.object_type ?? null,
        object_id: usage.object_id ?? null,
      });
    },

    /** Admin edits of costs take effect here at once (other processes within the cache's 30 s). */
    invalidateCosts(): void {
      costs = null;
    },
  };
  return ledger;
}
type Ledger = ReturnType<typeof createLedger>;

/** Plans and subscriptions renewed here: the free plan, a new account's first period, renewals, status. */
function createPlans(deps: BillingDeps, ledger: Pick<Ledger, 'grant'>) {
  const { db } = deps;
  return {
    /** A plan's caps, which auth applies to sites and members and the planner to keywords (null: none). */
    async planLimits(
      tx: Db,
      planId: number,
    ): Promise<{ max_sites: number; max_users: number; max_keywords: number | null } | undefined> {
      const plan = await repo.planById(tx, planId);
      return plan ? { max_sites: plan.max_sites, max_users: plan.max_users, max_keywords: plan.max_keywords } : undefined;
    },

    async freePlan(tx: Db = db): Promise<repo.PlanRow> {
      const plan = await repo.planBySlug(tx, 'free');
      if (!plan) throw new Error('The free plan is missing: migrations have not seeded billing_plans.');
      return plan;
    },

    /**
     * A new account's subscription (renewed here, no provider) and its first period's credits, through the
     * ledger, in the registration's transaction.
     */
    async startPlan(tx: Db, accountId: number, plan: repo.PlanRow): Promise<void> {
      const start = new Date();
      await repo.insertSubscription(tx, {
        account_id: accountId,
        plan_id: plan.id,
        status: 'active',
        current_period_start: start,
        current_period_end: addMonth(start),
      });
      await ledger.grant({ accountId }, plan.monthly_credits, periodRef(accountId, start), {
        tx,
        description: `${plan.name} plan: credits for the month`,
      });
    },

    /**
     * Renews subscriptions without a provider whose period ended: moves the period on and grants its credits,
     * once (the ledger ref names account and period start). Months missed while nothing ran are not granted
     * retroactively; the current one is.
     */
    async renewDue(now = new Date()): Promise<{ renewed: number }> {
      let renewed = 0;
      for (;;) {
        const due = await repo.dueRenewals(db, now, 200);
        if (due.length === 0) return { renewed };
        for (const accountId of due) {
          await db.transaction(async (tx) => {
            const sub = await repo.subscriptionOf(tx, accountId, true);
            if (!sub || sub.provider !== null || sub.current_period_end > now) return;
            let start = sub.current_period_end;
            let end = addMonth(start);
            while (end <= now) [start, end] = [end, addMonth(end)];
            await repo.updateSubscription(tx, accountId, { current_period_start: start, current_period_end: end });
            const plan = await repo.planById(tx, sub.plan_id);
            if (plan && plan.monthly_credits > 0) {
              await ledger.grant({ accountId }, plan.monthly_credits, periodRef(accountId, start), {
                tx,
                description: `${plan.name} plan: credits for the month`,
                source_agent: 'worker',
              });
            }
            renewed++;
          });
        }
      }
    },

    async status(ctx: AccountRef) {
      const sub = await repo.subscriptionOf(db, ctx.accountId);
      if (!sub) throw notFound('Subscription');
      const plan = await repo.planById(db, sub.plan_id);
      if (!plan) throw notFound('Plan');
      return {
        plan,
        status: sub.status,
        provider: sub.provider,
        current_period_start: sub.current_period_start,
        current_period_end: sub.current_period_end,
        cancel_at_period_end: sub.cancel_at_period_end,
        balance: (await deps.accounts.read(ctx.accountId)) ?? 0,
      };
    },
  };
}

/** The account's ledger and usage feeds, and usage totals. */
function createFeeds(deps: BillingDeps) {
  const { db } = deps;
  return {
    transactions(ctx: AccountRef, query: ListQuery) {
      return repo.listTransactions(db, ctx.accountId, feedQuery(query));
    },

    usage(ctx: AccountRef | null, query: ListQuery) {
      return repo.listUsage(db, ctx?.accountId ?? null, feedQuery(query));
    },

    async usageSummary(ctx: AccountRef | null, query: { period?: repo.Period; created_after?: string; created_before?: string }) {
      const period = query.period ?? 'day';
      const range = dateRange(query);
      const results = await repo.usageSummary(db, ctx?.accountId ?? null, period, range);
      return { period, results };
    },
  };
}

/** Checkout and the customer portal, through the payment provider. */
function createCheckout(deps: BillingDeps, payments: PaymentProvider | null) {
  const { db } = deps;
  function requirePayments(): PaymentProvider {
    if (!payments) {
      throw new AppError('service_unavailable', 'Payments are not configured on this server (set STRIPE_SECRET_KEY).');
    }
    return payments;
  }

  return {
    /** A checkout URL for a plan (subscription) or a credit pack (one payment). */
    async checkoutSession(
      ctx: AccountRef & { user: { email: string } | null },
      input: { plan?: string; credit_pack?: string; success_url?: string; cancel_url?: string },
      origin: string,
    ): Promise<{ url: string; id: string }> {
      if ((input.plan === undefined) === (input.credit_pack === undefined)) {
        throw validationError({ non_field_errors: ['Give either plan or credit_pack (a slug), not both.'] });
      }
      const plan = input.plan !== undefined ? await repo.planBySlug(db, input.plan) : undefined;
      const pack = input.credit_pack !== undefined ? await repo.packBySlug(db, input.credit_pack) : undefined;
      if (input.plan !== undefined && !plan?.is_active) throw fieldError('plan', `No active plan "${input.plan}".`);
      if (plan && plan.price_cents === 0) throw fieldError('plan', `The ${plan.name} plan is free; it needs no checkout.`);
      if (input.credit_pack !== undefined && !pack?.is_active) {
        throw fieldError('credit_pack', `No active credit pack "${input.credit_pack}".`);
      }
      const provider = requirePayments();
      const sub = await repo.subscriptionOf(db, ctx.accountId);
      if (!sub) throw notFound('Subscription');
      if (plan && sub.provider === 'stripe' && sub.status !== 'canceled') {
        throw new AppError('conflict', 'The account already has a paid subscription; change it in the billing portal.', {
          details: { current_status: sub.status },
        });
      }
      const customerId = await provider.ensureCustomer({
        accountId: ctx.accountId,
        email: ctx.user?.email ?? null,
        existing: sub.provider_customer_id,
      });
      if (customerId !== sub.provider_customer_id) {
        await repo.updateSubscription(db, ctx.accountId, { provider_customer_id: customerId });
      }
      const back = `${origin}/api/v1/billing/status/`;
      return provider.checkout({
        accountId: ctx.accountId,
        customerId,
        successUrl: input.success_url ?? back,
        cancelUrl: input.cancel_url ?? back,
        item: plan
          ? {
              kind: 'plan',
              slug: plan.slug,
              name: plan.name,
              priceCents: plan.price_cents,
              currency: plan.currency,
              interval: plan.interval,
            }
          : {
              kind: 'credit_pack',
              slug: (pack as repo.PackRow).slug,
              name: (pack as repo.PackRow).name,
              priceCents: (pack as repo.PackRow).price_cents,
              currency: (pack as repo.PackRow).currency,
            },
      });
    },

    async portal(ctx: AccountRef, input: { return_url?: string }, origin: string): Promise<{ url: string }> {
      const provider = requirePayments();
      const sub = await repo.subscriptionOf(db, ctx.accountId);
      if (!sub?.provider_customer_id) {
        throw new AppError('conflict', 'The account has no billing customer yet; start a checkout first.', {
          details: { current_status: 'no_customer' },
        });
      }
      return provider.portal(sub.provider_customer_id, input.return_url ?? `${origin}/api/v1/billing/status/`);
    },
  };
}
const PAGING = ['page', 'page_size', 'limit', 'offset', 'cursor'];

/**
 * Feeds answer the first cursor page when neither pagination nor ordering is asked for: a page then costs the
 * same at any depth.
 */
export function feedQuery(query: ListQuery): ListQuery {
  const paged = PAGING.some((k) => query[k] !== undefined) || query.ordering !== undefined;
  return paged ? query : { ...query, cursor: '' };
}

function dateRange(query: { created_after?: string; created_before?: string }): { from?: Date; to?: Date } {
  const parse = (raw: string | undefined, field: string) => {
    if (raw === undefined) return undefined;
    const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00.000Z` : raw);
    if (Number.isNaN(date.getTime())) throw fieldError(field, 'Must be a valid ISO 8601 date or date-time.');
    return date;
  };
  return { from: parse(query.created_after, 'created_after'), to: parse(query.created_before, 'created_before') };
}
