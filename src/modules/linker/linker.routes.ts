import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptedTask, Envelope, ok, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { LINK_LIST } from './linker.repository.js';
import { LinkSchema, MAX_PROCESS_IDS, ProcessAccepted, ProcessBody, ReportQuery, ReportRow } from './linker.schemas.js';
import type { LinkerService } from './linker.service.js';

const tags = ['linker'];
const read = { access: 'read' } as const;
const write = { access: 'write' } as const;

/** `linker/process/`, `linker/links/` (list, detail, apply, reject) and `linker/report/`. */
export async function linkerRoutes(fastify: FastifyInstance, deps: { linker: LinkerService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { linker } = deps;

  app.post(
    '/api/v1/linker/process',
    {
      schema: {
        tags,
        summary: 'Find (and insert) internal links in articles',
        description:
          `For each of your articles among \`content_ids\` (at most ${MAX_PROCESS_IDS}), links to other articles of its site, in the background (\`202\` with the task). ` +
          "Anchors are whole-word, case-insensitive occurrences of a target's primary keyword, a secondary keyword or its title in the body text (never in headings, links, code, captions or the first paragraph), " +
          'one per target and per sentence, no self-links, at most `max_links_per_1000_words` (default 3, at most 10) per 1,000 words rounded down; targets of the same cluster first, then by TF-IDF similarity. ' +
          'Each is stored at `linker/links/`; unless `dry_run`, they are spliced into the html (every other byte unchanged) as a new version of the article. Free.',
        body: ProcessBody,
        response: { 202: Envelope(ProcessAccepted) },
      },
      config: write,
    },
    async (request, reply) => {
      const { task, skipped } = await linker.process(accountContext(request), request.body);
      return sendAccepted(request, reply, { ...acceptedTask(task), skipped });
    },
  );

  app.get(
    '/api/v1/linker/links',
    {
      schema: {
        tags,
        summary: 'List internal links',
        description:
          'Filters: `status` (with `__in`), `source_id`, `target_id` (with `__in`), `site_id`, `sector_id`, `task_id`, `created_after`, `created_before`; `search` on the anchor; `ordering` by created_at, updated_at, score, anchor_offset.',
        querystring: listQuerySchema(LINK_LIST),
        response: { 200: PageEnvelope(LinkSchema) },
      },
      config: read,
    },
    async (request) => sendPage(request, await linker.list(accountContext(request), request.query)),
  );

  app.get(
    '/api/v1/linker/links/:id',
    {
      schema: { tags, summary: 'Get an internal link', params: IdParams, response: { 200: Envelope(LinkSchema) } },
      config: read,
    },
    async (request, reply) => sendDetail(request, reply, await linker.get(accountContext(request), request.params.id)),
  );

  app.post(
    '/api/v1/linker/links/:id/apply',
    {
      schema: {
        tags,
        summary: 'Apply a suggested link',
        description:
          '`suggested` → `applied`: `<a href="{target_url}">` spliced around the anchor text at the offsets it was found at (every other byte of the html unchanged), as a new version of the article (reason `links`). `409` when the anchor text is no longer there (the article changed) or the link is not `suggested`.',
        params: IdParams,
        response: { 200: Envelope(LinkSchema) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request) => ok(request, await linker.apply(accountContext(request), request.params.id)),
  );

  app.post(
    '/api/v1/linker/links/:id/reject',
    {
      schema: {
        tags,
        summary: 'Reject a suggested link',
        description: '`suggested` → `rejected`: the article is untouched, and the same target is not suggested for it again.',
        params: IdParams,
        response: { 200: Envelope(LinkSchema) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request) => ok(request, await linker.reject(accountContext(request), request.params.id)),
  );

  app.get(
    '/api/v1/linker/report',
    {
      schema: {
        tags,
        summary: 'Internal links per article of a site',
        description:
          "Each article's inbound and outbound internal links, read from the html (links already there count, matched to the site's articles by URL or slug), orphans (no inbound link) first, then by id. `404` for a site that is not yours.",
        querystring: ReportQuery,
        response: { 200: PageEnvelope(ReportRow) },
      },
      config: read,
    },
    async (request) => sendPage(request, await linker.report(accountContext(request), request.query)),
  );
}
