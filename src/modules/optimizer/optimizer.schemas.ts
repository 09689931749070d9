import { type Static, Type } from 'typebox';
import { DateTime, Id, StringEnum } from '../../core/columns.js';

/** Wire shapes of the optimizer: the analysis, the optimize action, the runs. */

export const MAX_OPTIMIZE = 50;
/** Raw HTML analysed on its own: the body limit (1 MiB) caps it too. */
export const MAX_ANALYZE_HTML = 1_000_000;

export const AnalyzeBody = Type.Object({
  content_id: Type.Optional(Id),
  html: Type.Optional(
    Type.String({ maxLength: MAX_ANALYZE_HTML, description: 'Raw HTML to analyse (instead of `content_id`).' }),
  ),
  keyword: Type.Optional(
    Type.String({ maxLength: 300, description: "The focus keyphrase (with `html`; default the article's primary keyword)." }),
  ),
  title: Type.Optional(Type.String({ maxLength: 300 })),
  meta_title: Type.Optional(Type.String({ maxLength: 300 })),
  meta_description: Type.Optional(Type.String({ maxLength: 500 })),
  slug: Type.Optional(Type.String({ maxLength: 300 })),
  site_url: Type.Optional(Type.String({ maxLength: 500 })),
  content_type: Type.Optional(Type.String({ maxLength: 20 })),
});
export type AnalyzeRequest = Static<typeof AnalyzeBody>;

export const CheckSchema = Type.Object({
  id: Type.String(),
  group: StringEnum(['seo', 'readability'] as const),
  status: StringEnum(['pass', 'warn', 'fail', 'not_applicable'] as const),
  points: Type.Integer(),
  value: Type.Union([Type.Number(), Type.Null()]),
  message: Type.String(),
});

export const AnalysisSchema = Type.Object({
  score: Type.Integer({
    description: 'The mean of the SEO and readability scores (the readability score alone without a keyphrase).',
  }),
  seo_score: Type.Union([Type.Integer(), Type.Null()], { description: 'Null when no keyphrase is set.' }),
  readability_score: Type.Integer(),
  rules_version: Type.String(),
  language: Type.String(),
  word_count: Type.Integer(),
  content_id: Type.Union([Id, Type.Null()]),
  checks: Type.Array(CheckSchema),
});

export const OptimizeBody = Type.Object({
  content_ids: Type.Array(Id, {
    minItems: 1,
    maxItems: MAX_OPTIMIZE,
    description: `Articles to optimize, at most ${MAX_OPTIMIZE}.`,
  }),
});
export type OptimizeRequest = Static<typeof OptimizeBody>;

export const OptimizeAccepted = Type.Object({
  task_id: Id,
  status: Type.String(),
  credits_estimated: Type.Integer({ description: 'ceil(words / 500) per article, summed.' }),
  skipped: Type.Array(Type.Integer(), { description: "Ids ignored: not found, or not the caller's." }),
});

export const RunSchema = Type.Object({
  id: Id,
  account_id: Id,
  site_id: Id,
  sector_id: Id,
  content_id: Id,
  task_id: Type.Union([Type.Integer(), Type.Null()]),
  rules_version: Type.String(),
  score_before: Type.Integer(),
  score_after: Type.Integer(),
  seo_score_before: Type.Union([Type.Integer(), Type.Null()]),
  seo_score_after: Type.Union([Type.Integer(), Type.Null()]),
  readability_score_before: Type.Integer(),
  readability_score_after: Type.Integer(),
  checks_before: Type.Array(CheckSchema),
  checks_after: Type.Array(CheckSchema),
  applied: Type.Boolean(),
  version: Type.Union([Type.Integer(), Type.Null()]),
  changes: Type.Array(Type.String()),
  credits: Type.Integer(),
  model: Type.String(),
  created_at: DateTime,
  updated_at: DateTime,
});
