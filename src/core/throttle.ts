import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config, ThrottleScope } from './config.js';
import { AppError } from './errors.js';

/**
 * Scoped throttling: each route names a scope (`config.throttle`, default `default`); callers are counted per
 * scope, per account when signed in to one and per IP otherwise. Counters live in Redis when REDIS_URL is set
 * (shared by every API process), in the process otherwise. Runs after authentication, before validation.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The throttle scope; `false` exempts the route (health, docs, metrics). */
    throttle?: ThrottleScope | false;
  }
}

export async function installThrottle(app: FastifyInstance, config: Config, redis: Redis | null): Promise<void> {
  if (config.throttle.disabled) return;
  app.addHook('onRoute', (route) => {
    const scope = route.config?.throttle ?? 'default';
    if (scope === false) return;
    const rate = config.throttle.rates[scope];
    route.config = {
      ...route.config,
      rateLimit: { max: rate.max, timeWindow: rate.windowSeconds * 1000, groupId: scope },
    } as typeof route.config;
  });
  await app.register(rateLimit, {
    global: false,
    enableDraftSpec: true,
    redis: redis ?? undefined,
    nameSpace: 'contentflow:throttle:',
    // A Redis outage must not take the API down with it: count nothing until it is back.
    skipOnError: true,
    keyGenerator: (request) => (request.ctx?.accountId ? `account:${request.ctx.accountId}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new AppError('throttled', `Request was throttled; try again in ${Math.ceil(context.ttl / 1000)} seconds.`, {
        details: { limit: context.max, retry_after: Math.ceil(context.ttl / 1000) },
      }),
  });
}
