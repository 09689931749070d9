import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Config } from './config.js';
import { AppError } from './errors.js';

/**
 * Prometheus metrics at /metrics: request counts and latency histograms by route pattern and status, plus the
 * process's own. A registry per app (tests build many). With METRICS_TOKEN set it needs `Bearer <token>`;
 * without one it answers loopback callers only.
 */
export function installMetrics(app: FastifyInstance, config: Config): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // The metric children of each (method, route pattern, status), made once: label hashing on every request was
  // a measurable share of a request's CPU. The set is bounded by the routes, never by the URLs.
  const series = new Map<string, { count: { inc(): void }; time: { observe(value: number): void } }>();
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL, so ids do not explode the label set; unknown routes share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    const key = `${request.method} ${route} ${status}`;
    let pair = series.get(key);
    if (!pair) {
      pair = { count: requests.labels(request.method, route, status), time: duration.labels(request.method, route, status) };
      series.set(key, pair);
    }
    pair.count.inc();
    pair.time.observe(reply.elapsedTime / 1000);
    done();
  });

  app.get(
    '/metrics',
    {
      schema: { hide: true },
      // Prometheus sends the scrape token as `Bearer <token>`: not a user credential, so authentication stays out.
      config: { access: 'public', authenticate: false, throttle: false, idempotency: false },
    },
    async (request, reply) => {
      authorizeScrape(request, config);
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
  return registry;
}

function authorizeScrape(request: FastifyRequest, config: Config): void {
  if (config.metricsToken) {
    const given = Buffer.from(request.headers.authorization ?? '');
    const expected = Buffer.from(`Bearer ${config.metricsToken}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('authentication_failed', 'A valid metrics token is required.');
    }
    return;
  }
  const ip = request.socket.remoteAddress ?? '';
  if (!(ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1')) {
    throw new AppError('permission_denied', 'Metrics answer loopback callers only unless METRICS_TOKEN is set.');
  }
}
