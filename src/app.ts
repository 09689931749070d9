import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import FindMyWay from 'find-my-way';
import type { Redis } from 'ioredis';
import secureJson from 'secure-json-parse';
import { type Access, checkAccess } from './core/access.js';
import { closedBodySchema, normaliseBodyKeys } from './core/body-keys.js';
import type { Config } from './core/config.js';
import type { Database } from './core/db.js';
import { installErrorHandling } from './core/envelope.js';
import { AppError } from './core/errors.js';
import { installIdempotency } from './core/idempotency.js';
import type { AnyJobDefinition } from './core/jobs.js';
import { loggerOptions } from './core/logger.js';
import { installMetrics } from './core/metrics.js';
import { installOpenApi } from './core/openapi.js';
import { REQUEST_ID_HEADER, requestIdFor } from './core/request-id.js';
import { securityHeaders } from './core/security-headers.js';
import { serializerFactory } from './core/serialization.js';
import { installThrottle } from './core/throttle.js';
import { type AppServices, createServices, registerModules } from './modules.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (core/access.ts); default `read`. */
    access?: Access;
    /** Webhook receivers: no camelCase conversion, raw body kept for the signature. */
    rawBody?: boolean;
    /**
     * `false`: the route checks a credential of its own in the Authorization header (the metrics scrape
     * token), so user authentication must not run and refuse it.
     */
    authenticate?: false;
  }
}

export interface AppDeps {
  config: Config;
  database: Database;
  redis?: Redis | null;
  /**
   * Tests pass `false` to keep the output clean, or `loggerOptions(config)` with a `stream` to read the lines;
   * otherwise `loggerOptions(config)` (core/logger.ts) on stdout.
   */
  logger?: FastifyServerOptions['logger'];
  version?: string;
  /** Job types beyond the modules' own (tests and benchmarks). */
  jobs?: AnyJobDefinition[];
}

export type App = FastifyInstance & { services: AppServices };

/** One log line per request (on completion), labelled `request_id`; health checks and scrapes are not logged. */
class RequestLogs extends LogController {
  constructor() {
    super({
      requestIdLogLabel: 'request_id',
      disableRequestLogging: (request) => request.url.startsWith('/api/v1/system/health') || request.url === '/metrics',
    });
  }
  override incomingRequest(request: Parameters<LogController['incomingRequest']>[0]) {
    request.log.debug({ req: request }, 'incoming request');
  }
}

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Strict bodies (no coercion, unknown keys rejected), coerced query strings; every error reported at once. */
function validators() {
  const options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
  const body = addFormats.default(new Ajv({ ...options, coerceTypes: false }));
  const query = addFormats.default(new Ajv({ ...options, coerceTypes: 'array' }));
  return { body, query };
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, database } = deps;
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(config),
    genReqId: requestIdFor,
    logController: new RequestLogs(),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    return503OnClosing: true,
    schemaController: { compilersFactory: { buildSerializer: serializerFactory() as never } },
    forceCloseConnections: 'idle',
  }) as unknown as App;

  const ajv = validators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? ajv.body.compile(closedBodySchema(schema) as object) : ajv.query.compile(schema),
  );

  // Every route's path is also kept here so an unknown method on a known path can answer 405 with `Allow`.
  const methodRouter = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      try {
        methodRouter.on(method as 'GET', route.url, () => {});
      } catch {
        // the same method and path registered twice (Fastify refuses it separately)
      }
    }
    // The docs' own assets are public and never throttled.
    if (route.url.startsWith('/api/docs')) route.config = { ...route.config, access: 'public', throttle: false };
    // Unknown query parameters are a 400 on every API route, including those that take none.
    if (route.url.startsWith('/api/v1/') && !route.schema?.querystring) {
      route.schema = { ...route.schema, querystring: { type: 'object', properties: {}, additionalProperties: false } };
    }
  });
  installErrorHandling(app, (path) =>
    ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((method) => methodRouter.find(method as 'GET', path) !== null),
  );

  app.decorateRequest('ctx', null);
  app.decorateRequest('rawBodyText', undefined);
  const headers = securityHeaders({ production: config.env === 'production' });
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers).header(REQUEST_ID_HEADER, request.id);
    done();
  });

  // Without CORS_ORIGINS no browser origin is allowed, and no request pays for the CORS hook.
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      credentials: !config.corsOrigins.includes('*'),
      // The plugin's default allows only the CORS-safelisted GET, HEAD and POST; the API also updates and deletes.
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposedHeaders: [
        'X-Request-ID',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Retry-After',
        'ETag',
        'Location',
        'Idempotent-Replayed',
      ],
    });
  }
  await app.register(cookie);

  // JSON bodies: parsed safely (no prototype poisoning) and kept as text for idempotency hashes and signatures.
  // Fastify also parses text/plain by default; the API takes JSON (multipart where a route says so): 415 otherwise.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/, { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    request.rawBodyText = text;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      done(new AppError('parse_error', `Malformed JSON: ${(error as Error).message}`), undefined);
    }
  });

  const services = createServices({
    config,
    database,
    db: database.db,
    redis: deps.redis ?? null,
    log: app.log,
    extraJobs: deps.jobs,
  });
  app.services = services;
  // The queue is ready before the first request (enqueueing needs it); this process works jobs unless WORKER=off.
  // On close, running jobs get the shutdown grace period, then go back to the queue.
  app.addHook('onReady', async () => {
    await services.jobs.start();
    if (config.worker) services.jobs.startWorkers();
  });
  app.addHook('onClose', async () => {
    await services.jobs.stop(config.shutdownGraceSeconds);
  });

  // Who is calling, then may they: before the body is even parsed, so 401/403 come before 400.
  app.addHook('onRequest', async (request) => {
    if (request.is404) return; // unknown routes answer 404 before anything else
    if (request.routeOptions.config.authenticate === false) return;
    request.ctx = await services.auth.authenticate(request);
    checkAccess(request, request.routeOptions.config.access ?? 'read');
  });
  await installThrottle(app, config, deps.redis ?? null);

  app.addHook('preValidation', async (request) => {
    if (request.routeOptions.config.rawBody) return;
    // No body at all reads as an empty object, so a missing body reports its missing fields by name.
    if (
      request.body === undefined &&
      request.routeOptions.schema?.body &&
      request.method !== 'GET' &&
      request.method !== 'DELETE'
    ) {
      request.body = {};
    }
    if (request.body !== undefined) request.body = normaliseBodyKeys(request.body, request.method);
  });
  installIdempotency(app, database.db);
  installMetrics(app, config);
  await installOpenApi(app, deps.version ?? '0.0.0');

  await registerModules(app, services);
  return app;
}
