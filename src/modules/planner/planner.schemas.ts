import { type Static, Type } from 'typebox';
import { Id, StringEnum, TimestampFields } from '../../core/columns.js';
import {
  CLUSTER_STATUSES,
  CONTENT_STRUCTURES,
  CONTENT_TYPES,
  IDEA_STATUSES,
  INTENTS,
  KEYWORD_SOURCES,
  KEYWORD_STATUSES,
} from './planner.tables.js';

/** Wire shapes of the planner: keywords, clusters, content ideas and their actions. */

const Scope = { account_id: Id, site_id: Id, sector_id: Id };
const NullableId = Type.Union([Id, Type.Null()]);
const Cpc = Type.String({ pattern: '^\\d{1,8}(\\.\\d{1,2})?$', description: 'A decimal with up to 2 places, e.g. "1.25".' });
const Difficulty = Type.Integer({ minimum: 0, maximum: 100 });
const Volume = Type.Integer({ minimum: 0, maximum: 2147483647 });
export const KEYWORD_MAX_LENGTH = 300;
export const MAX_BULK_IDS = 1000;

export const KeywordSchema = Type.Object({
  ...TimestampFields,
  ...Scope,
  keyword: Type.String(),
  volume: Type.Integer(),
  difficulty: Type.Integer(),
  cpc: Type.String(),
  intent: Type.Union([StringEnum(INTENTS), Type.Null()]),
  status: StringEnum(KEYWORD_STATUSES),
  cluster_id: NullableId,
  source: StringEnum(KEYWORD_SOURCES),
});

export const KeywordCreateBody = Type.Object({
  site_id: Id,
  sector_id: Id,
  keyword: Type.String({ minLength: 1, maxLength: KEYWORD_MAX_LENGTH }),
  volume: Type.Optional(Volume),
  difficulty: Type.Optional(Difficulty),
  cpc: Type.Optional(Cpc),
  intent: Type.Optional(Type.Union([StringEnum(INTENTS), Type.Null()])),
  cluster_id: Type.Optional(NullableId),
});

export const KeywordUpdateBody = Type.Object({
  keyword: Type.String({ minLength: 1, maxLength: KEYWORD_MAX_LENGTH }),
  volume: Volume,
  difficulty: Difficulty,
  cpc: Cpc,
  intent: Type.Union([StringEnum(INTENTS), Type.Null()]),
  status: StringEnum(KEYWORD_STATUSES),
  cluster_id: NullableId,
});

const Ids = Type.Array(Id, { minItems: 1, maxItems: MAX_BULK_IDS, description: `At most ${MAX_BULK_IDS} ids.` });
export const BulkIdsBody = Type.Object({ ids: Ids });
export type BulkIds = Static<typeof BulkIdsBody>;
export const BulkUpdateBody = Type.Object({
  ids: Ids,
  status: Type.Optional(StringEnum(KEYWORD_STATUSES)),
  cluster_id: Type.Optional(NullableId),
});
export type BulkUpdate = Static<typeof BulkUpdateBody>;
const Skipped = Type.Array(Type.Integer(), {
  description: "Ids asked for that were ignored: not found, or not the caller's (or out of the caller's sites).",
});

/** The asked ids an action ignored (not found or not the caller's), once each, as asked: reported, not dropped. */
export function skippedIds(asked: readonly number[], found: readonly { id: number }[]): number[] {
  const own = new Set(found.map((row) => row.id));
  return [...new Set(asked)].filter((id) => !own.has(id));
}
export const Deleted = Type.Object({ deleted: Type.Integer(), skipped: Skipped });
export const Updated = Type.Object({ updated: Type.Integer(), skipped: Skipped });

export const ImportRow = Type.Object({
  keyword: Type.String({ maxLength: 1000 }),
  volume: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 40 }), Type.Null()])),
  difficulty: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 40 }), Type.Null()])),
  cpc: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 40 }), Type.Null()])),
  intent: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
});
export const ImportJsonBody = Type.Object({
  site_id: Id,
  sector_id: Id,
  rows: Type.Array(ImportRow, { description: 'At most 50,000 rows (more is 413).' }),
});
export type ImportJson = Static<typeof ImportJsonBody>;
/** The same import as a multipart form (documented for Swagger UI's file upload; the route reads the parts). */
export const ImportMultipartForm = Type.Object(
  {
    file: Type.String({ format: 'binary', description: 'The CSV/TSV file as exported by the keyword tool.' }),
    site_id: Type.Integer({ minimum: 1 }),
    sector_id: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export const ImportResult = Type.Object({
  created: Type.Integer(),
  skipped_duplicates: Type.Integer(),
  errors: Type.Array(Type.Object({ row: Type.Integer(), column: Type.String(), message: Type.String() })),
});

export const AutoClusterBody = Type.Object({
  site_id: Id,
  sector_id: Id,
  ids: Type.Optional(Ids),
  method: Type.Optional(StringEnum(['lexical', 'ai'] as const, { description: 'Default lexical (free, no AI).' })),
  threshold: Type.Optional(
    Type.Number({ minimum: 0.05, maximum: 1, description: 'Lexical similarity to the seed; default 0.45.' }),
  ),
  max_cluster_size: Type.Optional(Type.Integer({ minimum: 2, maximum: 500, description: 'Default 50.' })),
});
export type AutoCluster = Static<typeof AutoClusterBody>;
/** A task started for some of the given ids: those it will not touch are in `skipped`. */
export const TaskAcceptedForIds = Type.Object({ task_id: Id, status: Type.String(), skipped: Skipped });

export const ClusterSchema = Type.Object({
  ...TimestampFields,
  ...Scope,
  name: Type.String(),
  description: Type.String(),
  status: StringEnum(CLUSTER_STATUSES),
  keywords_count: Type.Integer(),
  volume: Type.Integer(),
  difficulty: Type.Integer(),
});
export const ClusterCreateBody = Type.Object({
  site_id: Id,
  sector_id: Id,
  name: Type.String({ minLength: 1, maxLength: 300 }),
  description: Type.Optional(Type.String({ maxLength: 5000 })),
});
export const ClusterUpdateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 300 }),
  description: Type.String({ maxLength: 5000 }),
  status: StringEnum(CLUSTER_STATUSES),
});
export const GenerateIdeasBody = Type.Object({
  ids: Ids,
  ideas_per_cluster: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Default 3.' })),
});
export type GenerateIdeas = Static<typeof GenerateIdeasBody>;

export const OutlineSchema = Type.Object(
  {
    sections: Type.Array(
      Type.Object(
        {
          heading: Type.String({ minLength: 1, maxLength: 300 }),
          level: Type.Integer({ minimum: 1, maximum: 6 }),
          points: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 50 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);

export const IdeaSchema = Type.Object({
  ...TimestampFields,
  ...Scope,
  cluster_id: NullableId,
  title: Type.String(),
  description: Type.String(),
  outline: OutlineSchema,
  content_type: StringEnum(CONTENT_TYPES),
  content_structure: StringEnum(CONTENT_STRUCTURES),
  target_keywords: Type.Array(Type.String()),
  estimated_word_count: Type.Union([Type.Integer(), Type.Null()]),
  status: StringEnum(IDEA_STATUSES),
});
const IdeaFields = {
  title: Type.String({ minLength: 1, maxLength: 300 }),
  description: Type.String({ maxLength: 10000 }),
  outline: OutlineSchema,
  content_type: StringEnum(CONTENT_TYPES),
  content_structure: StringEnum(CONTENT_STRUCTURES),
  target_keywords: Type.Array(Type.String({ minLength: 1, maxLength: KEYWORD_MAX_LENGTH }), { maxItems: 100 }),
  estimated_word_count: Type.Union([Type.Integer({ minimum: 100, maximum: 20000 }), Type.Null()]),
  cluster_id: NullableId,
};
export const IdeaCreateBody = Type.Object({
  site_id: Id,
  sector_id: Id,
  title: IdeaFields.title,
  description: Type.Optional(IdeaFields.description),
  outline: Type.Optional(IdeaFields.outline),
  content_type: Type.Optional(IdeaFields.content_type),
  content_structure: Type.Optional(IdeaFields.content_structure),
  target_keywords: Type.Optional(IdeaFields.target_keywords),
  estimated_word_count: Type.Optional(IdeaFields.estimated_word_count),
  cluster_id: Type.Optional(IdeaFields.cluster_id),
});
export const IdeaUpdateBody = Type.Object({ ...IdeaFields, status: StringEnum(IDEA_STATUSES) });
export const QueuedResult = Type.Object({ queued: Type.Integer(), writer_task_ids: Type.Array(Id), skipped: Skipped });
