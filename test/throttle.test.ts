import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * Throttling (core/throttle.ts): RateLimit-* headers under the limit, 429 `throttled` with Retry-After past it,
 * health exempt, THROTTLE_DISABLED off, and counters shared through Redis between two app instances (as between
 * two server processes) when a Redis server answers on 127.0.0.1:6379.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';
const LIST = '/api/v1/auth/industries/';
const THROTTLED = { THROTTLE_DISABLED: 'false', THROTTLE_RATES: 'default=3/min' };

async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
const hasRedis = await redisAnswers();

// Each test counts for its own made-up client address, so runs sharing one Redis never meet.
const clientIp = () => `10.${randomInt(255)}.${randomInt(255)}.${randomInt(1, 255)}`;

// One throttled app for the checks in one process (each counts for its own client address); the other apps
// differ only in configuration, so they run on its database.
let throttled: TestApp;
const apps: TestApp[] = [];
beforeAll(async () => {
  throttled = await buildTestApp(THROTTLED);
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await throttled.close();
});
async function app(env: Record<string, string>, redis?: Redis) {
  const built = await buildTestApp(env, { redis, database: throttled.database });
  apps.push(built);
  return built;
}

describe('throttling in one process', () => {
  it('counts down in RateLimit-* headers, then answers 429 throttled with Retry-After', async () => {
    const t = throttled;
    const ip = clientIp();
    for (const remaining of ['2', '1', '0']) {
      const res = await t.request({ method: 'GET', url: LIST, remoteAddress: ip });
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('3');
      expect(res.headers['ratelimit-remaining']).toBe(remaining);
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
      expect(Number(res.headers['ratelimit-reset'])).toBeLessThanOrEqual(60);
    }
    const res = await t.request({ method: 'GET', url: LIST, remoteAddress: ip, headers: { 'x-request-id': 'slow-down' } });
    expect(res.statusCode).toBe(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.json()).toMatchObject({ success: false, code: 'throttled', request_id: 'slow-down', details: { limit: 3 } });
    // Another caller has a budget of its own.
    expect((await t.request({ method: 'GET', url: LIST, remoteAddress: clientIp() })).statusCode).toBe(200);
  });

  it('the detail shares the scope with the list', async () => {
    const t = throttled;
    const ip = clientIp();
    for (let i = 0; i < 3; i++) await t.request({ method: 'GET', url: i % 2 ? `${LIST}1/` : LIST, remoteAddress: ip });
    expect((await t.request({ method: 'GET', url: `${LIST}2/`, remoteAddress: ip })).statusCode).toBe(429);
  });

  it('health, docs and the schema are never throttled', async () => {
    const t = throttled;
    const ip = clientIp();
    for (let i = 0; i < 5; i++) {
      for (const url of ['/api/v1/system/health/', '/api/schema', '/api/docs', '/api/redoc']) {
        const res = await t.request({ method: 'GET', url, remoteAddress: ip });
        expect(res.statusCode, url).toBe(200);
        expect(res.headers['ratelimit-limit'], url).toBeUndefined();
      }
    }
  });

  it('THROTTLE_DISABLED=true turns it off', async () => {
    const t = await app({ ...THROTTLED, THROTTLE_DISABLED: 'true' });
    const ip = clientIp();
    for (let i = 0; i < 6; i++) {
      const res = await t.request({ method: 'GET', url: LIST, remoteAddress: ip });
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe.skipIf(!hasRedis)('throttling across processes, through Redis', () => {
  const clients: Redis[] = [];
  afterAll(() => {
    for (const client of clients) client.disconnect();
  });
  const client = () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000, enableOfflineQueue: false });
    clients.push(redis);
    return redis;
  };

  it('two app instances share one budget per caller', async () => {
    const env = { ...THROTTLED, REDIS_URL };
    const [a, b] = await Promise.all([app(env, client()), app(env, client())]);
    const ip = clientIp();
    // Wait until both clients are connected: with the offline queue off, an early command would be skipped.
    await Promise.all(clients.map((c) => (c.status === 'ready' ? null : new Promise((resolve) => c.once('ready', resolve)))));
    expect((await a.request({ method: 'GET', url: LIST, remoteAddress: ip })).headers['ratelimit-remaining']).toBe('2');
    expect((await b.request({ method: 'GET', url: LIST, remoteAddress: ip })).headers['ratelimit-remaining']).toBe('1');
    expect((await a.request({ method: 'GET', url: LIST, remoteAddress: ip })).headers['ratelimit-remaining']).toBe('0');
    const res = await b.request({ method: 'GET', url: LIST, remoteAddress: ip });
    expect(res.statusCode).toBe(429);
    expect(res.json().code).toBe('throttled');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    const keys = await clients[0]?.keys(`contentflow:throttle:*${ip}*`);
    expect(keys?.length).toBeGreaterThan(0);
  });
});
