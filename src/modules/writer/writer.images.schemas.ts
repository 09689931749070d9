import { type Static, Type } from 'typebox';
import { DateTime, Id, StringEnum, TimestampFields } from '../../core/columns.js';
import { IN_ARTICLE_MAX } from './writer.images.html.js';
import { IMAGE_STATUSES, IMAGE_TYPES } from './writer.tables.js';

/** Wire shapes of the writer's images and their actions. */

export const MAX_IMAGE_IDS = 1000;
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const ImageProvenanceSchema = Type.Union(
  [
    Type.Object({
      model: Type.String(),
      prompt: Type.Object({ function: Type.String(), hash: Type.String() }),
      temperature: Type.Union([Type.Number(), Type.Null()]),
      tokens_in: Type.Integer(),
      tokens_out: Type.Integer(),
      credits: Type.Integer(),
      task_id: NullableInt,
      job_id: NullableString,
      generated_at: DateTime,
    }),
    Type.Null(),
  ],
  { description: 'Which model and prompt made the image (or its prompt, while pending), what it cost, and when.' },
);

export const ImageSchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  site_id: Id,
  sector_id: Id,
  content_id: Id,
  image_type: StringEnum(IMAGE_TYPES),
  position: Type.Integer({ description: '0 for the featured image; 1… for in-article images, in section order.' }),
  section_heading: Type.Union([Type.String(), Type.Null()], {
    description: 'The heading of the section an in-article image is placed after.',
  }),
  prompt: Type.String(),
  alt_text: Type.String(),
  caption: Type.String(),
  status: StringEnum(IMAGE_STATUSES),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why generating it failed.' }),
  url: Type.Union([Type.String(), Type.Null()], { description: 'The stored file (`/media/<key>`), once generated.' }),
  mime_type: NullableString,
  bytes: NullableInt,
  width: NullableInt,
  height: NullableInt,
  provenance: ImageProvenanceSchema,
});
export type ImageWire = Static<typeof ImageSchema>;

export const ImageUpdateBody = Type.Object({
  prompt: Type.String({ minLength: 1, maxLength: 4000 }),
  alt_text: Type.String({ maxLength: 500 }),
  caption: Type.String({ maxLength: 1000 }),
  position: Type.Integer({ minimum: 0, maximum: 1000 }),
});
export const ImagePatchBody = Type.Partial(ImageUpdateBody, { additionalProperties: false });
export type ImagePatch = Static<typeof ImagePatchBody>;

export const GenerateImagePromptsBody = Type.Object({
  in_article_count: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: IN_ARTICLE_MAX,
      description:
        'In-article images wanted (each after one section heading); default one about every two h2 sections, at most 5. Capped at the number of sections.',
    }),
  ),
});
export type GenerateImagePrompts = Static<typeof GenerateImagePromptsBody>;

export const GenerateImagesBody = Type.Object({
  ids: Type.Array(Id, { minItems: 1, maxItems: MAX_IMAGE_IDS, description: `At most ${MAX_IMAGE_IDS} ids.` }),
});
export type GenerateImages = Static<typeof GenerateImagesBody>;

export const TaskAcceptedForImages = Type.Object({
  task_id: Type.Integer(),
  status: Type.String(),
  skipped: Type.Array(Type.Integer(), { description: "Ids asked for that were ignored: not found, or not the caller's." }),
});
export const TaskAccepted = Type.Object({ task_id: Type.Integer(), status: Type.String() });
