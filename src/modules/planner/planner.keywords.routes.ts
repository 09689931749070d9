import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../../core/db.js';
import { acceptedTask, Envelope, ok, sendAccepted } from '../../core/envelope.js';
import { AppError, fieldError } from '../../core/errors.js';
import type { Jobs } from '../../core/jobs.js';
import { listQuerySchema } from '../../core/lists.js';
import { registerResource, siteFilters } from '../../core/resource.js';
import { accountContext, type SiteAccess } from '../../core/tenancy.js';
import type { PlannerClusteringService } from './planner.clusters.service.js';
import { type ImportService, MAX_IMPORT_BYTES } from './planner.import.js';
import { KEYWORD_LIST, type KeywordsService } from './planner.keywords.service.js';
import {
  AutoClusterBody,
  BulkIdsBody,
  BulkUpdateBody,
  Deleted,
  ImportJsonBody,
  ImportMultipartForm,
  ImportResult,
  KeywordCreateBody,
  KeywordSchema,
  KeywordUpdateBody,
  TaskAcceptedForIds,
  Updated,
} from './planner.schemas.js';
import { planner_keywords } from './planner.tables.js';

export interface PlannerRouteDeps {
  db: Db;
  jobs: Jobs;
  siteAccess: SiteAccess;
  keywords: KeywordsService;
  imports: ImportService;
  clustering: PlannerClusteringService;
}

const PATH = '/api/v1/planner/keywords';
const tags = ['planner'];
const write = { access: 'write', throttle: 'planner' } as const;

async function readMultipart(request: FastifyRequest): Promise<{ file: Buffer | null; fields: Record<string, string> }> {
  try {
    return await readParts(request);
  } catch (error) {
    // The parser's own errors (no boundary, a truncated body) carry no status: the body is malformed, a 400.
    if (error instanceof AppError || (error as { statusCode?: number }).statusCode) throw error;
    throw new AppError('parse_error', `Malformed multipart body: ${(error as Error).message}`);
  }
}

async function readParts(request: FastifyRequest): Promise<{ file: Buffer | null; fields: Record<string, string> }> {
  const fields: Record<string, string> = {};
  let file: Buffer | null = null;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || file !== null) {
        await part.toBuffer().catch(() => undefined);
        throw fieldError(part.fieldname, 'Send one file, in the field "file".');
      }
      file = await part.toBuffer();
    } else {
      fields[part.fieldname] = String(part.value);
    }
  }
  return { file, fields };
}

export async function plannerKeywordRoutes(fastify: FastifyInstance, deps: PlannerRouteDeps) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { keywords, imports } = deps;

  // Static action paths are registered before the resource's `/:id`, and win over it either way.
  app.post(
    `${PATH}/bulk_delete`,
    {
      schema: { tags, summary: 'Delete keywords in bulk', body: BulkIdsBody, response: { 200: Envelope(Deleted) } },
      config: write,
    },
    async (request) => ok(request, await keywords.bulkDelete(accountContext(request), request.body)),
  );

  app.post(
    `${PATH}/bulk_update`,
    {
      schema: {
        tags,
        summary: 'Change the status or cluster of keywords in bulk',
        description: 'All of your ids make the change, or none does: `409` lists those that cannot.',
        body: BulkUpdateBody,
        response: { 200: Envelope(Updated) },
      },
      config: write,
    },
    async (request) => ok(request, await keywords.bulkUpdate(accountContext(request), request.body)),
  );

  app.post(
    `${PATH}/import`,
    {
      bodyLimit: MAX_IMPORT_BYTES + 64 * 1024,
      schema: {
        tags,
        summary: 'Import keywords from a CSV file or JSON rows',
        description:
          'Multipart with a `file` field (CSV exported by Google Keyword Planner, Ahrefs, Semrush, Search Console or similar: UTF-8 or UTF-16, comma, tab or semicolon separated) plus `site_id` and `sector_id` fields; or JSON `{site_id, sector_id, rows}`. At most 50,000 rows and 25 MiB (`413` past either). Bad rows are reported in `errors` (rows numbered from 1 for the first data row) and skipped.',
        body: { content: { 'application/json': { schema: ImportJsonBody } } },
        response: { 200: Envelope(ImportResult) },
      },
      // A multipart body cannot be hashed for Idempotency-Key; importing again only skips duplicates.
      config: { ...write, idempotency: false, multipart: ImportMultipartForm },
    },
    async (request) => {
      const ctx = accountContext(request);
      if (request.isMultipart()) return ok(request, await imports.importForm(ctx, await readMultipart(request)));
      return ok(request, await imports.importJson(ctx, request.body));
    },
  );

  app.get(
    `${PATH}/export`,
    {
      schema: {
        tags,
        summary: 'Export keywords as CSV',
        description: 'The filtered list (same filters and search as the list) as a streamed CSV download, ordered by id.',
        // Every matching row, so none of the list's paging parameters: they are refused as unknown.
        querystring: Type.Omit(
          listQuerySchema({ ...KEYWORD_LIST, ordering: undefined }, siteFilters()),
          ['page', 'page_size', 'limit', 'offset'],
          { additionalProperties: false },
        ),
        // Documented as text; sent as a stream of it (the type says so, the schema stays a string).
        response: {
          200: { description: 'CSV.', content: { 'text/csv': { schema: Type.Unsafe<string | Readable>(Type.String()) } } },
        },
      },
      config: { access: 'read', throttle: 'planner' },
    },
    async (request, reply) => {
      const query = request.query;
      const stream = await keywords.exportCsv(accountContext(request), query);
      const date = new Date().toISOString().slice(0, 10);
      return reply
        .header('Content-Type', 'text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="keywords-${date}.csv"`)
        .send(stream);
    },
  );

  app.post(
    `${PATH}/auto_cluster`,
    {
      schema: {
        tags,
        summary: 'Cluster new keywords in the background',
        description:
          "Groups the sector's `new` keywords (or only `ids`) into clusters: `lexical` (default; free, no AI) or `ai` (charged per batch of keywords). Answers `202` with the task to follow.",
        body: AutoClusterBody,
        response: { 202: Envelope(TaskAcceptedForIds) },
      },
      // `ai` mode: 402 when the balance cannot cover it, 503 without a provider (lexical needs neither).
      config: { ...write, errors: ['insufficient_credits', 'service_unavailable'] },
    },
    async (request, reply) => {
      const { task, skipped } = await deps.clustering.startAutoCluster(accountContext(request), request.body);
      return sendAccepted(request, reply, { ...acceptedTask(task), skipped });
    },
  );

  registerResource(app, deps.db, {
    path: PATH,
    tag: 'planner',
    names: ['keyword', 'keywords'],
    objectType: 'keyword',
    eventFields: ['keyword', 'sector_id'],
    table: planner_keywords,
    scope: 'site',
    item: KeywordSchema,
    create: KeywordCreateBody,
    update: KeywordUpdateBody,
    actions: ['list', 'retrieve', 'create', 'update', 'delete'],
    throttle: 'planner',
    hooks: keywords.hooks,
    // A status change its transitions do not allow.
    errors: { update: ['conflict'] },
    siteAccess: deps.siteAccess,
    list: KEYWORD_LIST,
  });
}
