import { type Static, Type } from 'typebox';
import { type AnyJobDefinition, defineJob } from '../../core/jobs.js';
import type { SyncRunner } from './integration.sync.js';
import type { IncomingWebhooks } from './integration.webhooks.js';

/** The integration's background work: a site's sync (a task) and each incoming webhook delivery. */

export const SyncPayload = Type.Object({
  integration_id: Type.Integer({ minimum: 1 }),
  sector_id: Type.Integer({ minimum: 1 }),
});
export const WebhookEventPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  event_id: Type.Integer({ minimum: 1 }),
});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'integration.sync': Static<typeof SyncPayload>;
    'integration.webhook_event': Static<typeof WebhookEventPayload>;
  }
}

export function integrationJobs(deps: { sync: SyncRunner; webhooks: () => IncomingWebhooks }): AnyJobDefinition[] {
  return [
    defineJob({
      name: 'integration.sync',
      payload: SyncPayload,
      concurrency: 1,
      timeoutSeconds: 1800,
      retryLimit: 4,
      retryDelaySeconds: 15,
      handler: (ctx) => deps.sync.run(ctx),
    }),
    defineJob({
      name: 'integration.webhook_event',
      payload: WebhookEventPayload,
      timeoutSeconds: 60,
      retryLimit: 8,
      retryDelaySeconds: 10,
      handler: (ctx) => deps.webhooks().apply(ctx.payload.account_id, ctx.payload.event_id),
    }),
  ];
}
