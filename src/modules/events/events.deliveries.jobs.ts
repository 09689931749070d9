import { type Static, Type } from 'typebox';
import { type AnyJobDefinition, defineJob } from '../../core/jobs.js';
import type { WebhookDeliveries } from './events.deliveries.service.js';

/** Outgoing webhooks' background work (events.deliveries.service.ts says how the two fit together). */

export const DeliverPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  subscription_id: Type.Integer({ minimum: 1 }),
  delivery_id: Type.Integer({ minimum: 1 }),
  /** The subscription's lease this attempt was started under. */
  lease: Type.String({ minLength: 1, maxLength: 40 }),
});

/** One subscription whose retry has come (scheduled by its last attempt), or none: the sweep of every one. */
export const DispatchPayload = Type.Object({ subscription_id: Type.Optional(Type.Integer({ minimum: 1 })) });

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'events.deliver': Static<typeof DeliverPayload>;
    'events.dispatch': Static<typeof DispatchPayload>;
  }
}

export function eventsJobs(deps: { deliveries: WebhookDeliveries }): AnyJobDefinition[] {
  return [
    defineJob({
      name: 'events.deliver',
      payload: DeliverPayload,
      // Waiting on receivers, not the CPU: many at once, so slow receivers do not take every slot.
      concurrency: 16,
      // A job makes attempts in a row for 20 s at most, each within WEBHOOK_TIMEOUT_MS (at most 60 s), plus bookkeeping.
      timeoutSeconds: 150,
      // The queue retries only a lost database; the receiver's failures are retried on the webhook schedule.
      retryLimit: 3,
      handler: (ctx) => deps.deliveries.attempt(ctx.payload),
    }),
    defineJob({
      name: 'events.dispatch',
      payload: DispatchPayload,
      // With a subscription: its retry is due. Without (every minute): the sweep of deliveries whose process died
      // before dispatching them, or whose lease ran out with it.
      cron: '* * * * *',
      // Retries wait on receivers like first attempts: as many at once, so a hanging one holds only its own.
      concurrency: 16,
      // A retry's run makes attempts like `events.deliver` (20 s in a row at most, each within its timeout).
      timeoutSeconds: 150,
      retryLimit: 1,
      async handler(ctx) {
        const id = ctx.payload.subscription_id;
        if (id !== undefined) return deps.deliveries.retryDue(id);
        return { started: await deps.deliveries.dispatch(null) };
      },
    }),
  ];
}
