import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptedTask, Envelope, ok, originOf, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { DEPLOYMENT_LIST } from './publisher.deployments.repository.js';
import { CreateDeploymentBody, DeploymentAccepted, DeploymentSchema, SitePathParams } from './publisher.deployments.schemas.js';
import { type DeploymentsService, etagOf, SITES_PATH } from './publisher.deployments.service.js';

const tags = ['publisher'];
const BASE = '/api/v1/publisher/deployments';

export async function publisherDeploymentRoutes(fastify: FastifyInstance, deps: { deployments: DeploymentsService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { deployments } = deps;

  app.post(
    BASE,
    {
      schema: {
        tags,
        summary: "Deploy a static export of a site's published content",
        description:
          'Creates the next version (1, 2, … per site) as `pending` and builds it in the background (`202` with the task): one HTML page per published article ' +
          "(meta description, canonical URL — the site's `url` when set, else the served address —, Open Graph tags, JSON-LD `Article`), an index, `sitemap.xml`, `robots.txt`, " +
          "and the articles' images copied, into a new versioned folder; it then becomes the current one, served at `url` (`/sites/<account_slug>/<site_slug>/`). " +
          'A failed build leaves the current deployment serving. Free.',
        body: CreateDeploymentBody,
        response: { 202: Envelope(DeploymentAccepted) },
      },
      config: { access: 'write' },
    },
    async (request, reply) => {
      const { task, deployment } = await deployments.create(accountContext(request), request.body, originOf(request));
      return sendAccepted(request, reply, { ...acceptedTask(task), deployment });
    },
  );

  app.get(
    BASE,
    {
      schema: {
        tags,
        summary: 'List deployments',
        description:
          'Filters: `site_id` (with `__in`), `status` (with `__in`), `is_current`, `version` (with `__gte`/`__lte`), `created_after`, `created_before`; `ordering` by created_at, version, deployed_at.',
        querystring: listQuerySchema(DEPLOYMENT_LIST),
        response: { 200: PageEnvelope(DeploymentSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => sendPage(request, await deployments.list(accountContext(request), request.query)),
  );

  app.get(
    `${BASE}/:id`,
    {
      schema: { tags, summary: 'One deployment', params: IdParams, response: { 200: Envelope(DeploymentSchema) } },
      config: { access: 'read' },
    },
    async (request, reply) => sendDetail(request, reply, await deployments.get(accountContext(request), request.params.id)),
  );

  app.post(
    `${BASE}/:id/rollback`,
    {
      schema: {
        tags,
        summary: 'Roll back to the previous deployed version',
        description:
          'The deployment must be the current one: it becomes `rolled_back` and the newest older `deployed` version of its site becomes current again, in one transaction. ' +
          '`409` when it is not current or has no earlier deployed version.',
        params: IdParams,
        response: { 200: Envelope(DeploymentSchema) },
      },
      config: { access: 'write', errors: ['conflict'] },
    },
    async (request) => {
      const { deployment, current } = await deployments.rollback(accountContext(request), request.params.id);
      return ok(request, deployment, `Version ${current.version} is current again.`);
    },
  );

  // The public site: no credential is looked up (a browser sends its cookies with every page), nothing is
  // enveloped but the errors, and the paths are kept out of the API document (they serve HTML, not JSON).
  const publicRoute = {
    schema: { hide: true, params: SitePathParams },
    config: { access: 'public' as const, authenticate: false as const, idempotency: false as const },
  };
  const serve = async (
    request: FastifyRequest<{ Params: { account: string; site: string; '*'?: string } }>,
    reply: FastifyReply,
  ) => {
    const { account, site } = request.params;
    const pathname = request.url.split('?')[0] ?? '';
    // The router ignores a trailing slash (`a/` and `a` match alike); the URL as sent tells a directory apart.
    const wildcard = request.params['*'] ?? '';
    const raw = pathname.endsWith('/') && wildcard !== '' && !wildcard.endsWith('/') ? `${wildcard}/` : wildcard;
    const served = await deployments.serve(account, site, raw, {
      rootWithoutSlash: raw === '' && !pathname.endsWith('/'),
      ifNoneMatch: request.headers['if-none-match'],
    });
    // A directory asked without its slash (the root included) is redirected to it, or its pages' relative links
    // would resolve one level up.
    if (served.kind === 'redirect') return reply.code(301).header('Location', `${pathname}/`).send();
    reply
      .header('ETag', etagOf(served.entry))
      // "Current" changes with every deployment and rollback: pages are revalidated on each use (a 304 costs
      // one lookup); image copies are named by their hash, so their bytes never change.
      .header('Cache-Control', served.immutable ? 'public, max-age=31536000, immutable' : 'public, no-cache')
      .header('X-Content-Type-Options', 'nosniff');
    if (served.kind === 'not_modified') return reply.code(304).send();
    return reply.type(served.entry.content_type).header('Content-Length', served.file.bytes).send(served.file.body);
  };
  app.get(`${SITES_PATH}/:account/:site`, publicRoute, serve);
  app.get(`${SITES_PATH}/:account/:site/*`, publicRoute, serve);
}
