import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../core/db.js';
import { AppError, validationError } from '../../core/errors.js';
import { record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import { type SecretBox, SecretUnreadable } from '../../core/secrets.js';
import * as repo from './integration.repository.js';
import { secretBinding } from './integration.service.js';

/**
 * Incoming webhooks (API-CONTRACT "Webhooks"): `X-Signature: sha256=<hex>` is the HMAC-SHA256 of the raw body
 * under the integration's webhook secret; the integration is named by `X-Integration-Id` or `?integration=`.
 * A verified delivery is stored once per (integration, event id) and handed to a job in the same transaction;
 * a repeat only counts the delivery. Nothing from the body is trusted before the signature verifies.
 */

export interface WebhookDelivery {
  provider: string;
  integrationHeader: string | string[] | undefined;
  integrationQuery: number | undefined;
  signature: string | string[] | undefined;
  eventIdHeader: string | string[] | undefined;
  eventTypeHeader: string | string[] | undefined;
  rawBody: string | undefined;
  body: unknown;
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;
const ID = /^[1-9][0-9]{0,9}$/;
/** One answer for an unknown integration and for one without a secret: the sender learns nothing of which. */
const NO_SECRET = 'No webhook secret is configured for this integration, so its deliveries cannot be verified.';

/** A provider's event id: the `X-Event-Id` header, else the body's `id` (a string or a number). */
function eventIdOf(header: string | undefined, body: unknown): string | null {
  if (header !== undefined && header.trim() !== '') return header.trim();
  const id = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).id : undefined;
  if (typeof id === 'string' && id.trim() !== '') return id.trim();
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return null;
}

function eventTypeOf(header: string | undefined, body: unknown): string {
  if (header?.trim()) return header.trim().slice(0, 100);
  const type = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).type : undefined;
  return typeof type === 'string' ? type.slice(0, 100) : '';
}

/** The payload recorded on the event: the delivery itself when small, else only that it was too large. */
const EVENT_PAYLOAD_MAX = 16_384;

export function createIncomingWebhooks(deps: { db: Db; jobs: Jobs; secrets: SecretBox }) {
  const { db } = deps;

  function integrationId(delivery: WebhookDelivery): number {
    const header = single(delivery.integrationHeader)?.trim();
    if (header !== undefined && header !== '') {
      if (!ID.test(header) || Number(header) >= 2 ** 31) {
        throw validationError({ integration: ['X-Integration-Id must be an integration id.'] });
      }
      return Number(header);
    }
    if (delivery.integrationQuery !== undefined) return delivery.integrationQuery;
    throw validationError({ integration: ['Name the integration: the X-Integration-Id header or ?integration=<id>.'] });
  }

  function verify(secret: string, rawBody: string, signature: string | undefined): void {
    if (signature === undefined) throw new AppError('validation_error', 'The X-Signature header is missing.');
    const hex = SIGNATURE.exec(signature.trim())?.[1];
    if (hex === undefined) throw new AppError('validation_error', 'X-Signature must be "sha256=<64 hex digits>".');
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    const given = Buffer.from(hex, 'hex');
    if (!timingSafeEqual(expected, given)) {
      throw new AppError('validation_error', 'The signature does not match the body with this integration’s webhook secret.');
    }
  }

  return {
    async receive(delivery: WebhookDelivery): Promise<{ received: true; first: boolean }> {
      const id = integrationId(delivery);
      const row = await repo.integrationForWebhook(db, id);
      if (row === null || row.webhook_secret === null) throw new AppError('validation_error', NO_SECRET);
      let secret: string;
      try {
        secret = deps.secrets.decrypt(row.webhook_secret, secretBinding(row.id, 'webhook_secret'));
      } catch (error) {
        if (error instanceof SecretUnreadable) throw new AppError('validation_error', NO_SECRET);
        throw error;
      }
      if (delivery.rawBody === undefined || delivery.rawBody === '') {
        throw new AppError('validation_error', 'The delivery has no body to verify.');
      }
      verify(secret, delivery.rawBody, single(delivery.signature));
      const eventId = eventIdOf(single(delivery.eventIdHeader), delivery.body);
      if (eventId === null) {
        throw validationError({ event_id: ['Give the event id: the X-Event-Id header or the body\'s "id".'] });
      }
      if (eventId.length > 200) throw validationError({ event_id: ['At most 200 characters.'] });
      const first = await db.transaction(async (tx) => {
        const stored = await repo.storeWebhookEvent(tx, row.account_id, {
          integration_id: row.id,
          provider: delivery.provider,
          event_id: eventId,
          event_type: eventTypeOf(single(delivery.eventTypeHeader), delivery.body),
          payload: delivery.body ?? null,
        });
        if (stored !== null) {
          await deps.jobs.enqueue(tx, 'integration.webhook_event', { account_id: row.account_id, event_id: stored });
        }
        return stored !== null;
      });
      return { received: true, first };
    },

    /** Handles one stored delivery, once: it is locked, recorded as an event and marked in one transaction. */
    async apply(accountId: number, eventRowId: number): Promise<{ status: string }> {
      return db.transaction(async (tx) => {
        const row = await repo.lockWebhookEvent(tx, accountId, eventRowId);
        if (!row) return { status: 'missing' };
        if (row.status !== 'received') return { status: row.status };
        const integration = await repo.integrationById(tx, accountId, row.integration_id);
        const size = JSON.stringify(row.payload ?? null).length;
        await record(tx, {
          account_id: accountId,
          site_id: integration?.site_id ?? null,
          type: 'webhook.ingested',
          source_agent: `webhook:${row.provider}`,
          object_type: 'integration_webhook_event',
          object_id: row.id,
          payload: {
            provider: row.provider,
            integration_id: row.integration_id,
            event_id: row.event_id,
            event_type: row.event_type,
            ...(size <= EVENT_PAYLOAD_MAX ? { data: row.payload } : { data_omitted: `${size} bytes` }),
          },
        });
        await repo.finishWebhookEvent(tx, accountId, row.id, { status: 'processed', error: null });
        return { status: 'processed' };
      });
    },
  };
}
export type IncomingWebhooks = ReturnType<typeof createIncomingWebhooks>;
