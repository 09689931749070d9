import { createRequire } from 'node:module';
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
    store: sharedStore(redis),
    // A Redis outage must not take the API down with it: count nothing until it is back.
    skipOnError: true,
    keyGenerator: (request) => (request.ctx?.accountId ? `account:${request.ctx.accountId}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new AppError('throttled', `Request was throttled; try again in ${Math.ceil(context.ttl / 1000)} seconds.`, {
        details: { limit: context.max, retry_after: Math.ceil(context.ttl / 1000) },
      }),
  });
}

const NAMESPACE = 'contentflow:throttle:';

/**
 * The plugin gives every route a child store of its own (in-process: a separate counter map per route), which
 * would make a limit per route. Ours are per scope: the key already ends with the scope (`groupId`), so every
 * route shares one store, in Redis when configured, in the process otherwise.
 */
function sharedStore(redis: Redis | null) {
  const require = createRequire(import.meta.url);
  const store = redis
    ? new (require('@fastify/rate-limit/store/RedisStore.js'))(false, false, redis, NAMESPACE)
    : new (require('@fastify/rate-limit/store/LocalStore.js'))(false, false, 10_000);
  store.child = () => store;
  // The plugin constructs the store it is given; a constructor that returns an object yields that object.
  return function SharedStore() {
    return store;
  } as unknown as new () => typeof store;
}
