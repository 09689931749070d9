import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyContextConfig, FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { stringify as toYaml } from 'yaml';
import type { Access } from './access.js';
import { closedBodySchema } from './body-keys.js';
import { ErrorEnvelope } from './envelope.js';
import { ERROR_STATUS, type ErrorCode } from './errors.js';

/**
 * The OpenAPI 3.1 document, generated from the routes' own TypeBox schemas: `/api/schema` (JSON, or YAML with
 * `?format=yaml`), Swagger UI at `/api/docs`, ReDoc at `/api/redoc`. Every asset is served by the app itself,
 * so the docs work with no network. Every documented route must have a tag and a summary (checked at start),
 * and every route documents the error envelope for its 4xx and 5xx answers.
 */

const TAGS = [
  ['auth', 'Sign-in, sessions, users, sites, sectors and reference data.'],
  ['account', 'The team: settings, members, invitations, API keys.'],
  ['planner', 'Keywords, clusters and content ideas.'],
  ['writer', 'Writing tasks, content, approvals and images.'],
  ['linker', 'Internal links.'],
  ['optimizer', 'Scoring and improving content.'],
  ['publisher', 'Publishing records and static deployments.'],
  ['integration', 'Connected sites and incoming webhooks.'],
  ['billing', 'Plans, credits and payments.'],
  ['automation', 'The whole pipeline per site.'],
  ['system', 'Health, settings, prompts, author profiles and background tasks.'],
  ['events', 'The feed of everything that changed, and outgoing webhooks.'],
  ['admin', 'Platform staff only.'],
] as const;

const SECURITY_BY_ACCESS = (access: Access): Array<Record<string, string[]>> =>
  access === 'public' ? [] : [{ bearerAuth: [] }, { apiKeyHeader: [] }, { sessionCookie: [] }, { basicAuth: [] }];

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Error codes this route can answer beyond those the docs derive from its shape (auth, body, path
     * parameters, idempotency, throttling): e.g. `insufficient_credits` for AI work, `conflict` for a transition.
     */
    errors?: ErrorCode[];
    /**
     * A multipart form the route also takes besides its JSON body: documented here, and the only routes where
     * app.ts lets `multipart/form-data` through (elsewhere 415); the handler reads the parts.
     */
    multipart?: TSchema;
  }
}

/** What each error status means, as the docs say it; the body is always the shared error envelope. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (`validation_error`, with `errors` by field) or malformed JSON (`parse_error`).',
  401: 'No credential (`not_authenticated`), or a bad, expired or revoked one.',
  402: 'Not enough credits (`insufficient_credits`, `details: {required, balance}`); nothing was started.',
  403: 'The role or key scope does not allow this (`permission_denied`), or a plan limit (`plan_limit_reached`).',
  404: "Not found, or not the caller's (`not_found`).",
  409: 'A state change not allowed (`conflict`, naming the current state), or the same `Idempotency-Key` still running.',
  412: 'The object changed since it was read (`precondition_failed`): `If-Match` no longer matches.',
  413: 'The body is too large (`payload_too_large`).',
  415: 'The body is not in a media type the route takes (`unsupported_media_type`).',
  422: 'This `Idempotency-Key` was used with another body (`idempotency_key_reused`).',
  429: 'Throttled (`throttled`); `Retry-After` says when to try again.',
  503: 'A dependency is down or not configured (`service_unavailable`).',
};

const SUCCESS_DESCRIPTIONS: Record<string, string> = {
  200: 'Success: the answer in `data`.',
  201: 'Created: the new object in `data`; `Location` names it.',
  202: 'Accepted: the work runs in the background; `data` names the task and `Location` links to it.',
  204: 'Done; no body.',
};

interface DocRoute {
  method: string;
  url: string;
  schema?: FastifySchema & Record<string, unknown>;
  config?: FastifyContextConfig;
}

/** The error statuses a route can answer, from what it is: who may call it, what it takes, how it is reached. */
function errorStatuses(route: DocRoute): number[] {
  const config = route.config ?? {};
  const access = config.access ?? 'read';
  const statuses = new Set<number>([400]); // every API route refuses unknown query parameters
  if (access !== 'public' && config.authenticate !== false) statuses.add(401).add(403);
  if (route.url.includes(':') || hasQueryParameter(route, 'page')) statuses.add(404); // a page past the end is 404
  if (route.schema?.body || config.multipart) statuses.add(413).add(415);
  if (route.method === 'POST' && access !== 'public' && config.idempotency !== false) statuses.add(409).add(422);
  if ((route.method === 'PATCH' || route.method === 'PUT') && route.url.endsWith(':id')) statuses.add(412);
  if (config.throttle !== false) statuses.add(429);
  for (const code of config.errors ?? []) statuses.add(ERROR_STATUS[code]);
  return [...statuses].sort((a, b) => a - b);
}

function hasQueryParameter(route: DocRoute, name: string): boolean {
  const query = route.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
  return Boolean(query?.properties?.[name]);
}

const VERB_BY_METHOD: Record<string, string> = {
  GET: 'retrieve',
  POST: 'create',
  PUT: 'update',
  PATCH: 'partial_update',
  DELETE: 'destroy',
};

/**
 * Operation ids, made in one place from method and path so they are unique, stable and readable, the way DRF
 * names them: `planner_keywords_list`, `planner_keywords_create`, `planner_keywords_retrieve`,
 * `planner_keywords_partial_update`; an action or a single resource with one method is its path alone
 * (`planner_keywords_auto_cluster`, `auth_me`).
 */
export function operationIdFor(method: string, url: string, methodsByUrl: Map<string, Set<string>>, paged = false): string {
  const segments = url
    .replace(/^\/api\/v1\//, '')
    .split('/')
    .filter(Boolean);
  const words = segments.filter((segment) => !segment.startsWith(':')).map((segment) => segment.replace(/\W+/g, '_'));
  const base = words.join('_');
  const detail = segments.at(-1)?.startsWith(':') ?? false;
  // A collection has a detail path below it, or is a paginated GET (feeds such as events have no detail path).
  const collection =
    !detail &&
    (paged ||
      [...methodsByUrl.keys()].some((other) => other.startsWith(`${url}/`) && /^:[^/]+$/.test(other.slice(url.length + 1))));
  if (collection && method === 'GET') return `${base}_list`;
  if (detail || collection || (methodsByUrl.get(url)?.size ?? 0) > 1)
    return `${base}_${VERB_BY_METHOD[method] ?? method.toLowerCase()}`;
  return base;
}

export async function installOpenApi(app: FastifyInstance, options: { version: string; publicUrl: string }): Promise<void> {
  app.addSchema(ErrorEnvelope);
  const errorRef = Type.Unsafe({ $ref: 'ErrorEnvelope#' });
  const methodsByUrl = new Map<string, Set<string>>();

  app.addHook('onRoute', (route) => {
    if (route.schema?.hide || route.url.startsWith('/api/docs') || route.url.startsWith('/api/redoc')) return;
    if (route.url === '/api/schema') return;
    if (!route.schema?.tags?.length || !route.schema.summary) {
      throw new Error(`Route ${route.method} ${route.url} needs schema.tags and schema.summary for the API docs.`);
    }
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const methods = methodsByUrl.get(route.url) ?? new Set<string>();
      methodsByUrl.set(route.url, methods.add(method));
    }
    const access = route.config?.access ?? 'read';
    route.schema = {
      ...route.schema,
      security: route.schema.security ?? SECURITY_BY_ACCESS(access),
      response: { '4xx': errorRef, '5xx': errorRef, ...(route.schema.response as object) },
    };
  });

  /**
   * What the docs show of a route, beyond its own schema (which validation and serialization keep using
   * untouched): its operation id, each error status it can answer with the shared envelope, descriptions of
   * every answer, bodies as strict as the validator makes them, and a multipart form where the route takes one.
   */
  const transform = ({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }) => {
    if (!schema || (schema as { hide?: boolean }).hide) return { schema, url };
    const method = [route.method].flat()[0] as string;
    const doc: DocRoute = { method, url, schema: schema as DocRoute['schema'], config: route.config };
    const response: Record<string, unknown> = {};
    for (const [status, value] of Object.entries((schema.response ?? {}) as Record<string, Record<string, unknown>>)) {
      if (status === '4xx') continue;
      if (status === '5xx') {
        response['5XX'] = {
          ...value,
          description:
            'A fault on our side (`internal_error`, logged with the same `request_id`) or a dependency down (`service_unavailable`).',
        };
        continue;
      }
      // An error-envelope reference is described by its `description`; other schemas by x-response-description,
      // which stays out of the schema itself.
      const described = value.description ?? value['x-response-description'];
      response[status] = described ? value : { ...value, 'x-response-description': SUCCESS_DESCRIPTIONS[status] ?? 'Success.' };
      if ((status === '201' || status === '202') && !value.headers) {
        (response[status] as Record<string, unknown>).headers = {
          Location: { type: 'string', format: 'uri', description: status === '201' ? 'The new object.' : 'The task to follow.' },
        };
      }
    }
    for (const status of errorStatuses(doc)) {
      response[String(status)] ??= { ...errorRef, description: ERROR_DESCRIPTIONS[status] };
    }
    response['4XX'] = { ...errorRef, description: 'Any other client error, in the same envelope.' };
    const body = schema.body as Record<string, unknown> | undefined;
    const multipart = route.config?.multipart;
    let documentedBody: unknown = body;
    if (body || multipart) {
      const content: Record<string, { schema: unknown }> = {};
      const jsonContent =
        (body?.content as Record<string, { schema: unknown }> | undefined) ??
        (body ? { 'application/json': { schema: body } } : {});
      for (const [type, media] of Object.entries(jsonContent)) content[type] = { schema: closedBodySchema(media.schema) };
      if (multipart) content['multipart/form-data'] = { schema: multipart };
      documentedBody = { content };
    }
    return {
      url,
      schema: {
        ...schema,
        operationId:
          schema.operationId ??
          operationIdFor(method, route.url, methodsByUrl, method === 'GET' && hasQueryParameter(doc, 'page')),
        response,
        ...(documentedBody ? { body: documentedBody } : {}),
      },
    };
  };

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ContentFlow API',
        version: options.version,
        description:
          'Keywords to published, interlinked, optimized articles. Every JSON answer is an envelope with `success` ' +
          'and `request_id`; errors carry `error`, `code` and, on validation failures, `errors` by field.',
        // No license is declared in package.json yet: proprietary until the owners choose one (SPDX LicenseRef-).
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      },
      // Relative to where the document is read from, unless PUBLIC_URL says where clients reach the API.
      servers: [{ url: options.publicUrl || '/', description: 'This server' }],
      tags: TAGS.map(([name, description]) => ({ name, description })),
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) or an API key.' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'sessionid' },
          basicAuth: { type: 'http', scheme: 'basic' },
        },
      },
    },
    transform: transform as never,
    transformObject: (documentObject) =>
      checkOperationIds((documentObject as { openapiObject: OpenApiDocument }).openapiObject) as never,
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });

  // Built once, on the first call (the routes no longer change once the app is ready): YAML took ~300 ms.
  let json: string | undefined;
  let yaml: string | undefined;
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/schema',
    {
      schema: {
        hide: true,
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')])) },
          { additionalProperties: false },
        ),
      },
      config: { access: 'public', throttle: false },
    },
    async (request, reply) => {
      if (request.query.format === 'yaml') {
        yaml ??= toYaml(app.swagger());
        return reply.type('application/yaml; charset=utf-8').send(yaml);
      }
      json ??= JSON.stringify(app.swagger());
      return reply.type('application/json; charset=utf-8').send(json);
    },
  );

  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { deepLinking: true, persistAuthorization: true },
    // The product's name in the top bar and the tab, not the plugin's own logo.
    logo: { type: 'image/svg+xml', content: Buffer.from(LOGO_SVG), href: '/api/docs', target: '_self' },
    theme: { title: 'ContentFlow API · Swagger UI' },
    // The UI fetches the same document the API serves.
    transformSpecificationClone: false,
    uiHooks: {},
  });

  const require = createRequire(import.meta.url);
  const redocBundle = readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'));
  app.get('/api/redoc', { schema: { hide: true }, config: { access: 'public', throttle: false } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(REDOC_PAGE),
  );
  app.get(
    '/api/redoc/redoc.standalone.js',
    { schema: { hide: true }, config: { access: 'public', throttle: false } },
    async (_request, reply) =>
      reply.type('application/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=86400').send(redocBundle),
  );
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string }>>;
}

/** Two routes whose paths make the same operation id would give generated clients one method for both. */
function checkOperationIds(document: OpenApiDocument): OpenApiDocument {
  const seen = new Map<string, string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const id = operation.operationId;
      if (!id) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const other = seen.get(id);
      if (other) throw new Error(`Operation id "${id}" is made by both ${other} and ${where}; give one schema.operationId.`);
      seen.set(id, where);
    }
  }
  return document;
}

const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="220" height="40" viewBox="0 0 220 40">' +
  '<text x="0" y="28" font-family="sans-serif" font-size="24" font-weight="700" fill="#fff">ContentFlow API</text></svg>';

// The standalone bundle renders every <redoc spec-url> element by itself: no inline script, so the CSP holds.
const REDOC_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ContentFlow API · ReDoc</title>
</head>
<body>
<redoc spec-url="/api/schema"></redoc>
<script src="/api/redoc/redoc.standalone.js"></script>
</body>
</html>
`;
