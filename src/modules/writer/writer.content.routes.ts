import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Envelope, noContent, ok, PageEnvelope, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { etagOf, IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import type { ContentService } from './writer.content.service.js';
import { CONTENT_LIST, VERSION_LIST } from './writer.repository.js';
import {
  ContentCreateBody,
  ContentListItem,
  ContentSchema,
  ContentUpdateBody,
  VersionListItem,
  VersionParams,
  VersionSchema,
} from './writer.schemas.js';

const PATH = '/api/v1/writer/content';
const tags = ['writer'];
const read = { access: 'read', throttle: 'writer' } as const;
const write = { access: 'write', throttle: 'writer' } as const;

export async function writerContentRoutes(fastify: FastifyInstance, deps: { content: ContentService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { content } = deps;

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: 'List content',
        description:
          'Rows without `html` and `provenance` (the detail has them). Filters: `status`, `source`, `cluster_id`, `task_id` (each with `__in`), `site_id`, `sector_id`, `word_count__gte`/`__lte`, `created_after`, `created_before`; `search` on the title; `ordering` by created_at, updated_at, title, word_count, submitted_at.',
        querystring: listQuerySchema(CONTENT_LIST),
        response: { 200: PageEnvelope(ContentListItem) },
      },
      config: read,
    },
    async (request) => sendPage(request, await content.list(accountContext(request), request.query)),
  );

  app.post(
    PATH,
    {
      schema: {
        tags,
        summary: 'Create content',
        description:
          "An article written by hand (`source` manual, `draft`). Its `html` is sanitised (an allowlist of tags; no scripts, event handlers, or `javascript:`/`data:` URLs) and `word_count` counted from it; the slug defaults to the title's, made unique per site.",
        body: ContentCreateBody,
        response: { 201: Envelope(ContentSchema) },
      },
      config: write,
    },
    async (request, reply) => {
      const row = await content.create(accountContext(request), request.body);
      reply.code(201).header('Location', `${PATH}/${row.id}/`).header('ETag', etagOf(row));
      return ok(request, row);
    },
  );

  app.get(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Get content',
        description:
          'With `html`, `provenance` and `version`; the `ETag` answers `If-None-Match` (304) and guards a PATCH (`If-Match`).',
        params: IdParams,
        response: { 200: Envelope(ContentSchema) },
      },
      config: read,
    },
    async (request, reply) => sendDetail(request, reply, await content.get(accountContext(request), request.params.id)),
  );

  app.patch(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Update part of an article',
        description:
          'Any subset of the text and meta fields, labels, cluster and featured image. A change of the text keeps the previous text as a version (`versions/`). With `If-Match` (the ETag you read), an article changed meanwhile is a `412` and nothing changes. `409` for an archived article. The status moves only through the actions.',
        params: IdParams,
        body: ContentUpdateBody,
        response: { 200: Envelope(ContentSchema) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      const row = await content.update(accountContext(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('ETag', etagOf(row));
      return ok(request, row);
    },
  );

  app.delete(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete an article',
        description: 'With its versions and images. A published article is archived instead (`409`).',
        params: IdParams,
        response: { 204: Type.Null() },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      await content.remove(accountContext(request), request.params.id);
      return noContent(reply);
    },
  );

  app.get(
    `${PATH}/:id/versions`,
    {
      schema: {
        tags,
        summary: "List an article's versions",
        description:
          'Its previous texts, newest first (`number` is the `version` the article had), without `html` (the version detail has it). The current text is the article itself.',
        params: IdParams,
        querystring: listQuerySchema(VERSION_LIST),
        response: { 200: PageEnvelope(VersionListItem) },
      },
      config: read,
    },
    async (request) => sendPage(request, await content.versions(accountContext(request), request.params.id, request.query)),
  );

  app.get(
    `${PATH}/:id/versions/:number`,
    {
      schema: { tags, summary: 'Get a version of an article', params: VersionParams, response: { 200: Envelope(VersionSchema) } },
      config: read,
    },
    async (request, reply) =>
      sendDetail(request, reply, await content.version(accountContext(request), request.params.id, request.params.number)),
  );

  app.post(
    `${PATH}/:id/versions/:number/restore`,
    {
      schema: {
        tags,
        summary: 'Restore a version of an article',
        description:
          'Its text becomes the current one, exactly; the text it replaces is kept as a new version (so a restore can be undone). The old slug comes back unless another article took it meanwhile (then `-2`…).',
        params: VersionParams,
        response: { 200: Envelope(ContentSchema) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      const row = await content.restore(accountContext(request), request.params.id, request.params.number);
      reply.header('ETag', etagOf(row));
      return ok(request, row);
    },
  );

  for (const [action, method, summary, description] of [
    [
      'submit_for_review',
      'submit',
      'Submit an article for review',
      '`draft` → `review`: into the review queue (`writer/approvals/`).',
    ],
    ['reopen', 'reopen', 'Reopen a rejected article', '`rejected` → `draft`, to rework and submit it again.'],
    ['archive', 'archive', 'Archive a published article', '`published` → `archived`.'],
  ] as const) {
    app.post(
      `${PATH}/:id/${action}`,
      {
        schema: {
          tags,
          summary,
          description: `${description} Any other status is a \`409\` naming it.`,
          params: IdParams,
          response: { 200: Envelope(ContentSchema) },
        },
        config: { ...write, errors: ['conflict'] },
      },
      async (request, reply) => {
        const row = await content[method](accountContext(request), request.params.id);
        reply.header('ETag', etagOf(row));
        return ok(request, row);
      },
    );
  }
}
