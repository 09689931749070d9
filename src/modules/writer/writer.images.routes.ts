import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { acceptedTask, Envelope, noContent, ok, originOf, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { checkIfMatch, IdParams, sendDetail, siteFilters } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { IMAGE_LIST, type ImageRow } from './writer.images.repository.js';
import {
  GenerateImagePromptsBody,
  GenerateImagesBody,
  ImagePatchBody,
  ImageSchema,
  type ImageWire,
  TaskAccepted,
  TaskAcceptedForImages,
} from './writer.images.schemas.js';
import type { WriterImagesService } from './writer.images.service.js';

const PATH = '/api/v1/writer/images';
const tags = ['writer'];
const AI_ERRORS = ['insufficient_credits', 'service_unavailable'] as const;

/** An image on the wire: its file's address absolute (PUBLIC_URL, else the request's origin), its key kept inside. */
function present(request: FastifyRequest, row: ImageRow): ImageWire {
  const { storage_key: _key, ...wire } = row;
  const url = wire.url?.startsWith('/') ? `${originOf(request)}${wire.url}` : wire.url;
  return { ...wire, url };
}

export async function writerImageRoutes(fastify: FastifyInstance, deps: { images: WriterImagesService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { images } = deps;

  app.post(
    '/api/v1/writer/content/:id/generate_image_prompts',
    {
      schema: {
        tags,
        summary: "Write prompts for an article's images with AI",
        description:
          'One featured and N in-article prompts (each for one section, placed after its heading once drawn), with alt text and a caption, as `pending` images, in the background (`202` with the task). 1 credit, charged when the prompts are stored. Running it again replaces the pending and failed images; generated ones stay, and no prompt is written for what they already illustrate.',
        params: IdParams,
        body: GenerateImagePromptsBody,
        response: { 202: Envelope(TaskAccepted) },
      },
      config: { access: 'write', throttle: 'ai', errors: [...AI_ERRORS] },
    },
    async (request, reply) => {
      const task = await images.startPrompts(accountContext(request), request.params.id, request.body);
      return sendAccepted(request, reply, acceptedTask(task));
    },
  );

  app.post(
    `${PATH}/generate`,
    {
      schema: {
        tags,
        summary: 'Draw images from their prompts with AI',
        description:
          'For each of your images among `ids`, the image model draws it; the file is checked (an image, at most 20 MiB), stored and served at its `url`; the featured image becomes its article’s, an in-article one is placed after its section heading. In the background (`202` with the task). 5 credits an image, charged as each is stored; `409` when one is already generated or being generated, `402` up front when the balance cannot cover them all, `503` when no AI provider is configured.',
        body: GenerateImagesBody,
        response: { 202: Envelope(TaskAcceptedForImages) },
      },
      config: { access: 'write', throttle: 'ai', errors: ['conflict', ...AI_ERRORS] },
    },
    async (request, reply) => {
      const { task, skipped } = await images.startGenerate(accountContext(request), request.body, originOf(request));
      return sendAccepted(request, reply, { ...acceptedTask(task), skipped });
    },
  );

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: 'List images',
        description: "Your articles' images, in article order by default (`content_id`, then `position`).",
        querystring: listQuerySchema(IMAGE_LIST, siteFilters()),
        response: { 200: PageEnvelope(ImageSchema) },
      },
      config: { access: 'read', throttle: 'writer' },
    },
    async (request) => {
      const page = await images.list(accountContext(request), request.query);
      return sendPage(request, { ...page, results: page.results.map((row) => present(request, row)) });
    },
  );

  app.get(
    `${PATH}/:id`,
    {
      schema: { tags, summary: 'Get an image', params: IdParams, response: { 200: Envelope(ImageSchema) } },
      config: { access: 'read', throttle: 'writer' },
    },
    async (request, reply) =>
      sendDetail(request, reply, present(request, await images.get(accountContext(request), request.params.id))),
  );

  app.patch(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Update part of an image',
        description:
          'The prompt, alt text, caption or position. A placed in-article image’s figure follows its alt text and caption (a new version of the article). `If-Match` with the detail’s `ETag`: `412` when it changed meanwhile.',
        params: IdParams,
        body: ImagePatchBody,
        response: { 200: Envelope(ImageSchema) },
      },
      config: { access: 'write', throttle: 'writer', errors: ['precondition_failed'] },
    },
    async (request) => {
      const ctx = accountContext(request);
      const check = (row: ImageRow) => checkIfMatch(request, present(request, row));
      return ok(request, present(request, await images.update(ctx, request.params.id, request.body, check)));
    },
  );

  app.delete(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete an image',
        description: 'Deletes the image and its stored file, and takes it out of its article.',
        params: IdParams,
        response: { 204: Type.Null() },
      },
      config: { access: 'write', throttle: 'writer' },
    },
    async (request, reply) => {
      await images.remove(accountContext(request), request.params.id);
      return noContent(reply);
    },
  );
}
