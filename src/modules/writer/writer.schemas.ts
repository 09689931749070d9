import { type Static, Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum, TimestampFields } from '../../core/columns.js';
import { SLUG_MAX } from './writer.html.js';
import { CONTENT_SOURCES, CONTENT_STATUSES, WRITER_TASK_STATUSES } from './writer.tables.js';

/** Wire shapes of the writer: tasks, content, its versions and the review queue. */

/** The planner's content types and structures (planner.tables.ts): a task copies them from its idea. */
export const TASK_CONTENT_TYPES = ['post', 'page', 'product', 'service', 'category'] as const;
export const TASK_CONTENT_STRUCTURES = ['article', 'guide', 'how_to', 'listicle', 'comparison', 'review', 'faq'] as const;
export const MAX_BULK_IDS = 1000;
/** An article's html on the way in; what is stored is its sanitised form. */
export const MAX_HTML_LENGTH = 500_000;

const Scope = { account_id: Id, site_id: Id, sector_id: Id };
const NullableId = Type.Union([Id, Type.Null()]);
const Keywords = Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100 });
const Labels = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 });
const Skipped = Type.Array(Type.Integer(), {
  description: "Ids asked for that were ignored: not found, or not the caller's (or out of the caller's sites).",
});
const Ids = Type.Array(Id, { minItems: 1, maxItems: MAX_BULK_IDS, description: `At most ${MAX_BULK_IDS} ids.` });
export const BulkIdsBody = Type.Object({ ids: Ids });
export type BulkIds = Static<typeof BulkIdsBody>;
export const Deleted = Type.Object({ deleted: Type.Integer(), skipped: Skipped });

// ---------------------------------------------------------------------------------------------------------
// Tasks

export const TaskSchema = Type.Object({
  ...TimestampFields,
  ...Scope,
  title: Type.String(),
  description: Type.String(),
  idea_id: NullableId,
  cluster_id: NullableId,
  keywords: Type.Array(Type.String()),
  content_type: Type.String(),
  content_structure: Type.String(),
  word_count_target: Type.Integer(),
  author_profile_id: NullableId,
  status: StringEnum(WRITER_TASK_STATUSES),
  error: Type.Union([Type.String(), Type.Null()]),
  content_id: NullableId,
});

/** A title: not blank (it is trimmed on the way in). */
const Title = Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' });

const TaskFields = {
  title: Title,
  description: Type.String({ maxLength: 10_000 }),
  idea_id: NullableId,
  cluster_id: NullableId,
  keywords: Keywords,
  content_type: StringEnum(TASK_CONTENT_TYPES),
  content_structure: StringEnum(TASK_CONTENT_STRUCTURES),
  word_count_target: Type.Integer({ minimum: 100, maximum: 20_000 }),
  author_profile_id: NullableId,
};
export const TaskCreateBody = Type.Object({
  site_id: Id,
  sector_id: Id,
  title: TaskFields.title,
  description: Type.Optional(TaskFields.description),
  idea_id: Type.Optional(TaskFields.idea_id),
  cluster_id: Type.Optional(TaskFields.cluster_id),
  keywords: Type.Optional(TaskFields.keywords),
  content_type: Type.Optional(TaskFields.content_type),
  content_structure: Type.Optional(TaskFields.content_structure),
  word_count_target: Type.Optional({
    ...TaskFields.word_count_target,
    description: "Default: the account's `default_word_count` setting.",
  }),
  author_profile_id: Type.Optional(TaskFields.author_profile_id),
});
export type TaskCreate = Static<typeof TaskCreateBody>;
export const TaskUpdateBody = Type.Partial(Type.Object(TaskFields), { additionalProperties: false });
export type TaskUpdate = Static<typeof TaskUpdateBody>;

// ---------------------------------------------------------------------------------------------------------
// Content

export const ProvenanceSchema = Type.Object(
  {
    model: Type.String(),
    prompt: Type.Object({ function: Type.String(), hash: Type.String() }),
    temperature: Type.Union([Type.Number(), Type.Null()]),
    tokens_in: Type.Integer(),
    tokens_out: Type.Integer(),
    credits: Type.Integer(),
    task_id: Type.Union([Type.Integer(), Type.Null()]),
    job_id: Type.Union([Type.String(), Type.Null()]),
    generated_at: Type.String(),
  },
  { description: 'Where a generated text came from: model, prompt (function + template hash), settings and cost.' },
);

const ContentListFields = {
  ...TimestampFields,
  ...Scope,
  title: Type.String(),
  meta_title: Type.String(),
  meta_description: Type.String(),
  slug: Type.String(),
  primary_keyword: Type.String(),
  secondary_keywords: Type.Array(Type.String()),
  word_count: Type.Integer({ description: 'Counted from the sanitised html, never taken from the model.' }),
  categories: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  featured_image_id: NullableId,
  source: StringEnum(CONTENT_SOURCES),
  task_id: NullableId,
  cluster_id: NullableId,
  status: StringEnum(CONTENT_STATUSES),
  external_id: Type.Union([Type.String(), Type.Null()]),
  external_url: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer({ description: 'The number of the current text; each change of html or a meta field bumps it.' }),
  submitted_at: NullableDateTime,
  reviewed_by_id: NullableId,
  reviewed_at: NullableDateTime,
  review_note: Type.Union([Type.String(), Type.Null()]),
};
/** A list row: everything but the large bodies (`html`, `provenance`). */
export const ContentListItem = Type.Object(ContentListFields);
export const ContentSchema = Type.Object({
  ...ContentListFields,
  html: Type.String({ description: 'Sanitised on the way in, whoever wrote it.' }),
  provenance: Type.Union([ProvenanceSchema, Type.Null()]),
});

const Slug = Type.String({
  minLength: 1,
  maxLength: SLUG_MAX,
  description: 'Lower-cased and hyphenated on the way in; unique per site (a taken slug is a 400 on `slug`).',
});
const TextFields = {
  title: Title,
  html: Type.String({ maxLength: MAX_HTML_LENGTH, description: 'Sanitised on the way in (an allowlist of tags).' }),
  meta_title: Type.String({ maxLength: 300 }),
  meta_description: Type.String({ maxLength: 500 }),
  slug: Slug,
  primary_keyword: Type.String({ maxLength: 300 }),
  secondary_keywords: Keywords,
};
const OptionalText = {
  title: Type.Optional(TextFields.title),
  html: Type.Optional(TextFields.html),
  meta_title: Type.Optional(TextFields.meta_title),
  meta_description: Type.Optional(TextFields.meta_description),
  slug: Type.Optional(TextFields.slug),
  primary_keyword: Type.Optional(TextFields.primary_keyword),
  secondary_keywords: Type.Optional(TextFields.secondary_keywords),
};

export const ContentCreateBody = Type.Object({
  site_id: Id,
  sector_id: Id,
  title: TextFields.title,
  html: Type.Optional(TextFields.html),
  meta_title: Type.Optional(TextFields.meta_title),
  meta_description: Type.Optional(TextFields.meta_description),
  slug: Type.Optional({ ...Slug, description: 'Default: made from the title, made unique per site (`-2`, `-3`…).' }),
  primary_keyword: Type.Optional(TextFields.primary_keyword),
  secondary_keywords: Type.Optional(TextFields.secondary_keywords),
  categories: Type.Optional(Labels),
  tags: Type.Optional(Labels),
  cluster_id: Type.Optional(NullableId),
});
export type ContentCreate = Static<typeof ContentCreateBody>;

export const ContentUpdateBody = Type.Object(
  {
    ...OptionalText,
    categories: Type.Optional(Labels),
    tags: Type.Optional(Labels),
    cluster_id: Type.Optional(NullableId),
    featured_image_id: Type.Optional(
      Type.Union([Id, Type.Null()], { description: "One of this article's images, or null for none." }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Any subset of the fields. `status` moves only through the actions (submit_for_review/, …).',
  },
);
export type ContentUpdate = Static<typeof ContentUpdateBody>;

export const VersionListItem = Type.Object({
  id: Id,
  content_id: Id,
  number: Type.Integer({ description: 'The `version` the article had when this was its text.' }),
  title: Type.String(),
  meta_title: Type.String(),
  meta_description: Type.String(),
  slug: Type.String(),
  primary_keyword: Type.String(),
  secondary_keywords: Type.Array(Type.String()),
  word_count: Type.Integer(),
  reason: Type.String({ description: 'What retired this text: edit, restore, override, generated, images, links, optimized.' }),
  created_by_id: NullableId,
  created_at: DateTime,
});
export const VersionSchema = Type.Object({ ...VersionListItem.properties, html: Type.String() });
export const VersionParams = Type.Object({ id: Id, number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

// ---------------------------------------------------------------------------------------------------------
// Review

const Note = Type.String({ maxLength: 5000 });
export const ApproveBody = Type.Object({
  note: Type.Optional(Note),
  publish: Type.Optional(
    Type.Boolean({
      description:
        "Publish right away through the publisher: the article is approved and its publication to the site's WordPress queued (`202` with the task).",
    }),
  ),
});
export type Approve = Static<typeof ApproveBody>;
/** What approving with `publish: true` answers: the publishing task (`202`), its records and the approved article. */
export const ApprovePublishAccepted = Type.Object({
  task_id: Id,
  status: Type.String(),
  record_ids: Type.Array(Id, { description: 'The publishing record of the article (publisher/publishing-records/).' }),
  content: ContentSchema,
});
export const RejectBody = Type.Object({
  note: Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S', description: 'Required: why it was rejected.' }),
});
export type Reject = Static<typeof RejectBody>;
export const OverrideBody = Type.Object({
  ...OptionalText,
  note: Type.Optional({ ...Note, description: "The reviewer's note." }),
});
export type Override = Static<typeof OverrideBody>;

/** The asked ids an action ignored (not found or not the caller's), once each, as asked: reported, not dropped. */
export function skippedIds(asked: readonly number[], found: readonly { id: number }[]): number[] {
  const own = new Set(found.map((row) => row.id));
  return [...new Set(asked)].filter((id) => !own.has(id));
}
