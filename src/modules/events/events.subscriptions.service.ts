import { randomBytes } from 'node:crypto';
import type { WebhooksConfig } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { AppError, type FieldErrors, notFound, validationError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { ListQuery } from '../../core/lists.js';
import { addressProblem } from '../../core/public-network.js';
import { assertIfMatch } from '../../core/resource.js';
import type { SecretBox } from '../../core/secrets.js';
import type { RequestContext } from '../../core/tenancy.js';
import * as repo from './events.subscriptions.repository.js';
import type { CreateSubscriptionBody, UpdateSubscriptionBody } from './events.subscriptions.schemas.js';
import { urlProblem } from './events.urls.js';

type Ctx = RequestContext & { accountId: number };

/** How long the secret before a rotation keeps signing beside the new one. */
export const PREVIOUS_SECRET_HOURS = 24;

/** `whsec_` and 24 random bytes in base64: the Standard Webhooks secret format (its libraries strip the prefix). */
export const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

// Whole segments: `content.published`, `content.*`, `*.failed`, `*`; at least two segments unless just `*`.
const SEGMENT = '([a-z][a-z0-9_]*|\\*)';
const TYPE_PATTERN = new RegExp(`^(\\*|${SEGMENT}(\\.${SEGMENT})+)$`);

export function eventTypeErrors(types: string[]): string[] {
  const errors: string[] = [];
  for (const [i, type] of types.entries()) {
    if (!TYPE_PATTERN.test(type)) {
      errors.push(
        `Item ${i} ("${type}") is not an event type: lowercase dotted segments such as content.published, with * as a whole segment (content.*) or alone for every event.`,
      );
    }
  }
  if (new Set(types).size !== types.length) errors.push('List each event type once.');
  return errors;
}

/** What a subscription's secret is bound to when encrypted: its account (a ciphertext moved elsewhere does not open). */
export const subscriptionSecretBinding = (accountId: number) => `events_subscription:${accountId}:secret`;

export function createSubscriptionsService(deps: { db: Db; config: WebhooksConfig; secrets: SecretBox }) {
  const { db, config } = deps;
  const seal = (accountId: number, secret: string) => deps.secrets.encrypt(secret, subscriptionSecretBinding(accountId));

  /** A subscription receives every site's events, so only a caller who reaches every site may manage one. */
  function checkReach(ctx: Ctx): void {
    if (ctx.siteIds !== null) {
      throw new AppError(
        'permission_denied',
        "Webhook subscriptions receive every site's events; they are managed by admins who reach every site.",
      );
    }
  }

  async function checkBody(body: { url?: string; event_types?: string[] }): Promise<void> {
    const errors: FieldErrors = {};
    if (body.url !== undefined) {
      const problem = urlProblem(body.url) ?? (await addressProblem(body.url, config.allowPrivate));
      if (problem) errors.url = [problem];
    }
    if (body.event_types !== undefined) {
      const problems = eventTypeErrors(body.event_types);
      if (problems.length > 0) errors.event_types = problems;
    }
    if (Object.keys(errors).length > 0) throw validationError(errors);
  }

  async function own(ctx: Ctx, id: number, tx: Db = db, lock = false) {
    const row = await repo.findSubscription(tx, ctx.accountId, id, lock);
    if (!row) throw notFound('Subscription');
    return row;
  }

  const changed = (ctx: Ctx, verb: string, row: repo.SubscriptionRow, extra: Record<string, unknown> = {}) =>
    byCaller(ctx, {
      type: `subscription.${verb}`,
      object_type: 'subscription',
      object_id: row.id,
      payload: { url: row.url, ...extra },
    });

  return {
    checkReach,

    list(ctx: Ctx, query: ListQuery) {
      checkReach(ctx);
      return repo.listSubscriptions(db, ctx.accountId, query);
    },

    async get(ctx: Ctx, id: number) {
      checkReach(ctx);
      return repo.toWire(await own(ctx, id));
    },

    /** The new subscription with its secret, the one time it is shown. */
    async create(ctx: Ctx, body: CreateSubscriptionBody) {
      checkReach(ctx);
      await checkBody(body);
      const secret = newSecret();
      return db.transaction(async (tx) => {
        const row = await repo.insertSubscription(tx, ctx.accountId, {
          url: body.url,
          event_types: body.event_types,
          description: body.description ?? '',
          is_active: body.is_active ?? true,
          secret: seal(ctx.accountId, secret),
        });
        await record(tx, changed(ctx, 'created', row, { event_types: row.event_types }));
        return { ...repo.toWire(row), secret };
      });
    },

    /** PATCH and PUT. Turning a subscription back on clears what disabled it. */
    async update(ctx: Ctx, id: number, body: UpdateSubscriptionBody, ifMatch: string | undefined) {
      checkReach(ctx);
      await checkBody(body);
      return db.transaction(async (tx) => {
        const current = await own(ctx, id, tx, true);
        assertIfMatch(ifMatch, repo.toWire(current));
        const values: Partial<repo.SubscriptionRow> = { ...body };
        if (body.is_active === true && !current.is_active) Object.assign(values, { disabled_reason: null, failing_since: null });
        if (Object.keys(body).length === 0) return repo.toWire(current);
        const row = (await repo.updateSubscription(tx, ctx.accountId, id, values)) ?? current;
        await record(tx, changed(ctx, 'updated', row, { fields: Object.keys(body).sort() }));
        return repo.toWire(row);
      });
    },

    async remove(ctx: Ctx, id: number) {
      checkReach(ctx);
      await db.transaction(async (tx) => {
        const row = await own(ctx, id, tx, true);
        await repo.deleteSubscription(tx, ctx.accountId, id);
        await record(tx, changed(ctx, 'deleted', row));
      });
    },

    /**
     * A new secret, shown once; the one it replaces keeps signing beside it for 24 hours (a delivery then carries
     * both signatures), so receivers can switch without losing a delivery.
     */
    async rotateSecret(ctx: Ctx, id: number) {
      checkReach(ctx);
      const secret = newSecret();
      return db.transaction(async (tx) => {
        const current = await own(ctx, id, tx, true);
        const row = await repo.updateSubscription(tx, ctx.accountId, id, {
          secret: seal(ctx.accountId, secret),
          // Sealed under the same binding: the ciphertext moves as it is.
          previous_secret: current.secret,
          previous_secret_expires_at: new Date(Date.now() + PREVIOUS_SECRET_HOURS * 3600_000),
        });
        if (!row) throw notFound('Subscription');
        await record(tx, changed(ctx, 'secret_rotated', row));
        return { ...repo.toWire(row), secret };
      });
    },
  };
}
export type SubscriptionsService = ReturnType<typeof createSubscriptionsService>;
