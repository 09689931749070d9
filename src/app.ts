import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify';
import FindMyWay from 'find-my-way';
import type { Redis } from 'ioredis';
import secureJson from 'secure-json-parse';
import { type Access, checkAccess } from './core/access.js';
import { readCredential } from './core/auth.js';
import { closedBodySchema, normaliseBodyKeys } from './core/body-keys.js';
import { clientErrorHandler, frameworkErrors } from './core/client-errors.js';
import type { Config } from './core/config.js';
import { consoleRoutes } from './core/console.js';
import type { Database } from './core/db.js';
import { type BodyRules, installErrorHandling, originOf, ruleErrors } from './core/envelope.js';
import { AppError, validationError } from './core/errors.js';
import { installIdempotency } from './core/idempotency.js';
import { addInputKeywords, guardedInputSchema } from './core/input-schema.js';
import type { AnyJobDefinition, JobLimits } from './core/jobs.js';
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
    /** Body rules the schema cannot express, reported with the schema's own errors (core/envelope.ts). */
    bodyRules?: BodyRules;
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
  /** Tests only: limits replacing some job types' own (see ServiceDeps.jobLimits). */
  jobLimits?: Readonly<Record<string, JobLimits>>;
  /** Tests only: another folder for the built console than web/dist (a build made for the test, or none). */
  consoleDist?: string;
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

/**
 * Strict bodies (no coercion, unknown keys rejected), coerced query strings; every error reported at once.
 * No Infinity or NaN (`strictNumbers`: `1e400` parses as Infinity), and the guards of core/input-schema.ts.
 */
function validators() {
  const options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false, strictNumbers: true } as const;
  const body = addInputKeywords(addFormats.default(new Ajv({ ...options, coerceTypes: false })));
  const query = addInputKeywords(addFormats.default(new Ajv({ ...options, coerceTypes: 'array' })));
  return { body, query };
}

/**
 * The validator of one request part, compiled once per process for each distinct schema: routes share many (an
 * `{id}` path, a list's query string), and a process that builds several apps (the tests) compiles each once.
 * The validators hold no state between calls beyond `errors`, which Fastify reads right after the call.
 */
const compiled = { body: new Map<string, ValidateFunction>(), query: new Map<string, ValidateFunction>() };
let shared: ReturnType<typeof validators> | null = null;
function compileValidator(schema: unknown, httpPart: string | undefined): ValidateFunction {
  const part = httpPart === 'body' ? 'body' : 'query';
  const guarded = guardedInputSchema(part === 'body' ? closedBodySchema(schema) : schema) as object;
  const key = JSON.stringify(guarded);
  let validate = compiled[part].get(key);
  if (!validate) {
    shared ??= validators();
    validate = shared[part].compile(guarded);
    compiled[part].set(key, validate);
  }
  return validate;
}

/**
 * The media types a route takes: JSON, and multipart only where the route reads it (`config.multipart`; the
 * parser exists in the planner's scope, so elsewhere Fastify already answers 415). A route whose body schema
 * is keyed by content type is validated only for a type it names, so a body-less request without one is a
 * 415 there too, rather than an unvalidated empty body reaching the handler.
 */
function checkMediaType(request: FastifyRequest): void {
  if (request.method === 'GET' || request.method === 'DELETE' || request.method === 'HEAD') return;
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  const multipart = request.routeOptions.config.multipart !== undefined;
  const accepted = multipart ? 'application/json or multipart/form-data' : 'application/json';
  if (type === 'multipart/form-data' && !multipart) {
    throw new AppError('unsupported_media_type', `Unsupported media type "${type}"; send ${accepted}.`);
  }
  const bodySchema = request.routeOptions.schema?.body as { content?: unknown } | undefined;
  if (type === undefined && bodySchema?.content) {
    throw new AppError('unsupported_media_type', `No Content-Type given; send ${accepted}.`);
  }
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, database } = deps;
  const headers = securityHeaders({ production: config.env === 'production' });
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
    clientErrorHandler: clientErrorHandler(headers),
    frameworkErrors: frameworkErrors(headers),
  }) as unknown as App;

  app.setValidatorCompiler(({ schema, httpPart }) => compileValidator(schema, httpPart));

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
    // A body the schema accepted still meets the route's rules before the handler runs (a rejected one meets them
    // in the error path, so both kinds of error come in one answer).
    if (route.config?.bodyRules) {
      const checkRules = async (request: FastifyRequest) => {
        const errors = ruleErrors(request);
        if (Object.keys(errors).length > 0) throw validationError(errors);
      };
      route.preHandler = [checkRules, ...[route.preHandler ?? []].flat()];
    }
    // Unknown query parameters are a 400 on every API route, including those that take none.
    if (route.url.startsWith('/api/v1/') && !route.schema?.querystring) {
      route.schema = { ...route.schema, querystring: { type: 'object', properties: {}, additionalProperties: false } };
    }
  });
  // A static path (`team/accept`) is its own resource: methods that reach it only through a parameter of a
  // sibling route (`team/:id`, with `accept` as the id) are not its methods, so `Allow` leaves them out.
  installErrorHandling(app, (path) => {
    const found = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
      .map((method) => ({ method, match: methodRouter.find(method as 'GET', path) }))
      .filter((entry) => entry.match !== null);
    const exact = found.filter((entry) => Object.keys(entry.match?.params ?? {}).length === 0);
    return (exact.length > 0 ? exact : found).map((entry) => entry.method);
  });

  // A response sent once the close has begun ends its connection: a keep-alive client would otherwise hold the
  // server open after its request in flight was answered (Fastify closes only requests that arrive later).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // `Location` is absolute, like a list's `next`/`previous`: routes set the path, and the origin (PUBLIC_URL, else
  // what the request came in on) is added here once for every route.
  app.addHook('onSend', (request, reply, payload, done) => {
    const location = reply.getHeader('location');
    if (typeof location === 'string' && location.startsWith('/')) {
      reply.header('Location', `${originOf(request, config.publicUrl)}${location}`);
    }
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });

  app.decorate('publicUrl', config.publicUrl);
  app.decorateRequest('ctx', null);
  app.decorateRequest('rawBodyText', undefined);
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
    jobLimits: deps.jobLimits,
  });
  app.services = services;
  // The queue is ready before the first request (enqueueing needs it); this process works jobs unless WORKER=off.
  // On close, running jobs get the shutdown grace period, then go back to the queue.
  app.addHook('onReady', async () => {
    await services.changes.start();
    await services.jobs.start();
    if (config.worker) services.jobs.startWorkers();
  });
  app.addHook('onClose', async () => {
    await services.jobs.stop(config.shutdownGraceSeconds);
    await services.changes.stop();
  });

  // Who is calling, then may they: before the body is even parsed, so 401/403 come before 400.
  app.addHook('onRequest', async (request) => {
    if (request.is404) return; // unknown routes answer 404 before anything else
    if (request.routeOptions.config.authenticate === false) return;
    request.ctx = await services.auth.authenticate(readCredential(request), request);
    checkAccess(request, request.routeOptions.config.access ?? 'read');
  });
  await installThrottle(app, config, deps.redis ?? null);

  app.addHook('preValidation', async (request) => {
    if (request.routeOptions.config.rawBody) return;
    checkMediaType(request);
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
  await installOpenApi(app, { version: deps.version ?? '0.0.0', publicUrl: config.publicUrl });

  await registerModules(app, services);
  // The web console at `/` (web/dist), with the history fallback for the pages its router draws.
  await consoleRoutes(app, { dist: deps.consoleDist });
  return app;
}
