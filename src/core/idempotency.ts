import { createHash } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { system_idempotency_keys as keys } from './core.tables.js';
import type { Db } from './db.js';
import { AppError } from './errors.js';

/**
 * `Idempotency-Key` on authenticated POSTs: the first request claims the key (account, key) before its handler
 * runs; its answer is stored once sent (unless 5xx, which frees the key for a retry). A repeat with the same
 * method, path and body gets the stored status and body back with `Idempotent-Replayed: true`; another body
 * is 422; a repeat while the first still runs is 409. Stored 24 hours.
 */

const TTL_MS = 24 * 60 * 60 * 1000;
const HEADER = 'idempotency-key';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Webhook receivers and a few others take no Idempotency-Key. */
    idempotency?: false;
  }
  interface FastifyRequest {
    idempotencyClaim?: { accountId: number; key: string };
  }
}

function bodyHash(request: FastifyRequest): string {
  const raw = request.rawBodyText ?? (request.body === undefined ? '' : JSON.stringify(request.body));
  return createHash('sha256').update(raw).digest('hex');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as received, kept for hashing (idempotency) and signatures (webhooks). */
    rawBodyText?: string;
  }
}

export function installIdempotency(app: FastifyInstance, db: Db): void {
  const claimKey = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers[HEADER];
    if (key === undefined) return;
    const accountId = request.ctx?.accountId;
    if (!accountId) return;
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
      throw new AppError('validation_error', 'Idempotency-Key must be 1 to 255 characters.', {
        errors: { 'Idempotency-Key': ['Must be 1 to 255 characters.'], non_field_errors: [] },
      });
    }
    const path = request.url.split('?')[0] ?? '';
    const hash = bodyHash(request);
    // Expired claims are removed on the way so the key is reusable after 24 hours.
    await db
      .delete(keys)
      .where(and(eq(keys.account_id, accountId), eq(keys.key, key), lt(keys.created_at, new Date(Date.now() - TTL_MS))));
    const claimed = await db
      .insert(keys)
      .values({ account_id: accountId, key, method: request.method, path, body_sha256: hash })
      .onConflictDoNothing()
      .returning({ key: keys.key });
    if (claimed.length === 1) {
      request.idempotencyClaim = { accountId, key };
      return;
    }
    const [stored] = await db
      .select()
      .from(keys)
      .where(and(eq(keys.account_id, accountId), eq(keys.key, key)));
    if (!stored) return; // freed by a 5xx between our two statements: run as new, unclaimed
    if (stored.method !== request.method || stored.path !== path || stored.body_sha256 !== hash) {
      throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used with another request; use a new key.');
    }
    if (stored.response_status === null) {
      throw new AppError('idempotency_conflict', 'A request with this Idempotency-Key is still running; retry shortly.');
    }
    reply.header('Idempotent-Replayed', 'true');
    reply.code(stored.response_status);
    if (stored.response_content_type) reply.type(stored.response_content_type);
    reply.serializer((payload) => payload as string);
    return reply.send(stored.response_body ?? '');
  };

  const storeAnswer = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = request.idempotencyClaim;
    if (!claim) return payload;
    request.idempotencyClaim = undefined;
    const where = and(eq(keys.account_id, claim.accountId), eq(keys.key, claim.key));
    if (reply.statusCode >= 500) {
      await db.delete(keys).where(where);
    } else {
      await db
        .update(keys)
        .set({
          response_status: reply.statusCode,
          response_body: typeof payload === 'string' ? payload : payload === null || payload === undefined ? '' : String(payload),
          response_content_type: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
        })
        .where(where);
    }
    return payload;
  };

  // A request that never reached onSend (the client went away) must not hold its key forever.
  const releaseKey = async (request: FastifyRequest) => {
    const claim = request.idempotencyClaim;
    if (!claim) return;
    await db.delete(keys).where(and(eq(keys.account_id, claim.accountId), eq(keys.key, claim.key), sql`response_status is null`));
  };

  // Only the routes that can take a key carry the hooks: GETs pay nothing for idempotency.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST') || route.config?.idempotency === false) return;
    const list = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);
    route.preHandler = [...list(route.preHandler), claimKey] as typeof route.preHandler;
    route.onSend = [...list(route.onSend), storeAnswer] as typeof route.onSend;
    route.onResponse = [...list(route.onResponse), releaseKey] as typeof route.onResponse;
  });
}
