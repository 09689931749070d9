import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { stringify as toYaml } from 'yaml';
import type { Access } from './access.js';
import { ErrorEnvelope } from './envelope.js';

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

export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.addSchema(ErrorEnvelope);
  const errorRef = Type.Unsafe({ $ref: 'ErrorEnvelope#' });

  app.addHook('onRoute', (route) => {
    if (route.schema?.hide || route.url.startsWith('/api/docs') || route.url.startsWith('/api/redoc')) return;
    if (route.url === '/api/schema') return;
    if (!route.schema?.tags?.length || !route.schema.summary) {
      throw new Error(`Route ${route.method} ${route.url} needs schema.tags and schema.summary for the API docs.`);
    }
    const access = route.config?.access ?? 'read';
    route.schema = {
      ...route.schema,
      security: route.schema.security ?? SECURITY_BY_ACCESS(access),
      response: { '4xx': errorRef, '5xx': errorRef, ...(route.schema.response as object) },
    };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ContentFlow API',
        version,
        description:
          'Keywords to published, interlinked, optimized articles. Every JSON answer is an envelope with `success` ' +
          'and `request_id`; errors carry `error`, `code` and, on validation failures, `errors` by field.',
      },
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
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });

  app.get(
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
      const document = app.swagger();
      if ((request.query as { format?: string }).format === 'yaml') {
        return reply.type('application/yaml; charset=utf-8').send(toYaml(document));
      }
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(document));
    },
  );

  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { deepLinking: true, persistAuthorization: true },
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
