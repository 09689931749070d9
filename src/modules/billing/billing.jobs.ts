import { type Static, Type } from 'typebox';
import { type AnyJobDefinition, defineJob } from '../../core/jobs.js';
import type { BillingService } from './billing.service.js';
import type { StripeWebhooks } from './billing.webhooks.js';

/** Billing's background work: applying Stripe's events, and renewing plans that no provider bills. */

export const StripeEventPayload = Type.Object({ event_id: Type.Integer({ minimum: 1 }) });
export const RenewPlansPayload = Type.Object({});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'billing.stripe_event': Static<typeof StripeEventPayload>;
    'billing.renew_plans': Static<typeof RenewPlansPayload>;
  }
}

export function billingJobs(deps: { billing: BillingService; webhooks: StripeWebhooks }): AnyJobDefinition[] {
  return [
    defineJob({
      name: 'billing.stripe_event',
      payload: StripeEventPayload,
      timeoutSeconds: 60,
      retryLimit: 8,
      retryDelaySeconds: 10,
      handler: async (ctx) => deps.webhooks.apply(ctx.payload.event_id),
    }),
    defineJob({
      name: 'billing.renew_plans',
      payload: RenewPlansPayload,
      // Hourly: each due renewal happens once (its ref names account and period), however often this runs.
      cron: '7 * * * *',
      timeoutSeconds: 600,
      retryLimit: 3,
      handler: async () => deps.billing.renewDue(),
    }),
  ];
}
