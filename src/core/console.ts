import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { PROJECT_ROOT } from './db.js';
import { AppError } from './errors.js';

/**
 * The web console (web/, built by `npm run web:build` into web/dist) served at `/`: hashed assets under
 * `/assets/` cached for a year (a new build makes new names), index.html never cached without asking, and
 * any other page a browser navigates to (`/keywords`, `/content/7`) answered with index.html so the
 * single-page app's router draws it. API-like paths never get the page: an unknown `/api/...` stays the
 * API's JSON 404, and so do clients that do not ask for HTML.
 */

export const CONSOLE_DIST = join(PROJECT_ROOT, 'web', 'dist');
const ASSETS_PREFIX = '/assets/';
const RESERVED_PREFIXES = ['/api/', '/media/', '/sites/', '/metrics'];
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Shown instead of the console when web/dist was not built: a page that says how, never a bare 404. */
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ContentFlow: console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The web console is not built</h1>
<p>The API is running (see <a href="/api/docs">/api/docs</a>), but <code>web/dist</code> is missing.
Build the console with <code>npm run web:build</code> (or <code>npm install</code>, whose <code>prepare</code>
step builds it), then reload this page.</p>
</body></html>`;

interface BuiltConsole {
  index: string;
  assets: Set<string>;
}

function readBuild(dist: string): BuiltConsole | null {
  const indexFile = join(dist, 'index.html');
  if (!existsSync(indexFile)) return null;
  const assetsDir = join(dist, 'assets');
  const assets = existsSync(assetsDir)
    ? new Set(
        readdirSync(assetsDir, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name).slice(assetsDir.length + 1)),
      )
    : new Set<string>();
  return { index: readFileSync(indexFile, 'utf8'), assets };
}

const isReserved = (path: string) =>
  RESERVED_PREFIXES.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix));

/** A browser navigating (not a script fetching): the only caller the history fallback answers. */
const wantsPage = (request: FastifyRequest) =>
  (request.method === 'GET' || request.method === 'HEAD') && (request.headers.accept ?? '').includes('text/html');

export async function consoleRoutes(fastify: FastifyInstance, options: { dist?: string } = {}): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const dist = options.dist ?? CONSOLE_DIST;
  const built = readBuild(dist);
  const sendPage = (reply: FastifyReply) => {
    if (!built) return reply.code(503).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(NOT_BUILT_PAGE);
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(built.index);
  };
  // Only `reply.sendFile` (streams, ranges, ETag, content types): the routes below decide what is served.
  await app.register(fastifyStatic, { root: dist, serve: false });
  const publicRoute = {
    schema: { hide: true },
    config: { access: 'public', authenticate: false, idempotency: false, throttle: false },
  } as const;

  app.get('/', publicRoute, async (_request, reply) => sendPage(reply));
  const assetParams = Type.Object({ '*': Type.String({ maxLength: 300 }) });
  app.get(`${ASSETS_PREFIX}*`, { ...publicRoute, schema: { hide: true, params: assetParams } }, async (request, reply) => {
    const name = request.params['*'];
    if (!built?.assets.has(name)) throw new AppError('not_found', 'No console asset has this name; reload the console.');
    return reply.header('Cache-Control', IMMUTABLE).sendFile(join('assets', name), { cacheControl: false });
  });
  // The history fallback: an unknown page a browser asks for is the console's, drawn by its router.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404 || !wantsPage(request)) return;
    const path = request.url.split('?')[0] ?? '/';
    if (isReserved(path) || path.startsWith(ASSETS_PREFIX)) return;
    return sendPage(reply);
  });
}
