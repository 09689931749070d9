import { type Static, Type } from 'typebox';
import { Id, NullableDateTime, StringEnum, TimestampFields } from '../../core/columns.js';
import { pagingQuerySchema } from '../../core/lists.js';
import { DEFAULT_PER_THOUSAND, MAX_PER_THOUSAND } from './linker.plan.js';
import { LINK_STATUSES } from './linker.tables.js';

/** Wire shapes of the linker: links, `process/`, the report. */

export const MAX_PROCESS_IDS = 1000;

export const LinkSchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  site_id: Id,
  sector_id: Id,
  source_id: Type.Integer({ description: 'The article the link is in.' }),
  target_id: Type.Integer({ description: 'The article it points to.' }),
  anchor: Type.String({ description: "The linked text, exactly as it is in the source's html." }),
  anchor_offset: Type.Integer({ description: "Where the anchor text starts in the source's html (a character offset)." }),
  context: Type.String({ description: 'The sentence around the anchor.' }),
  score: Type.Number({ description: 'Relevance: 1 for the same cluster, plus the TF-IDF cosine similarity of the two texts.' }),
  target_url: Type.String({ description: "The link's href: the target's published URL, else the site's URL + its slug." }),
  status: StringEnum(LINK_STATUSES),
  source_version: Type.Integer({ description: "The source's version the suggestion was found in." }),
  applied_version: Type.Union([Type.Integer(), Type.Null()], { description: 'The version applying it made.' }),
  task_id: Type.Union([Type.Integer(), Type.Null()]),
  applied_at: NullableDateTime,
  decided_by_id: Type.Union([Type.Integer(), Type.Null()]),
});
export type Link = Static<typeof LinkSchema>;

export const ProcessBody = Type.Object({
  content_ids: Type.Array(Id, {
    minItems: 1,
    maxItems: MAX_PROCESS_IDS,
    description: `Articles to link from, at most ${MAX_PROCESS_IDS}; ids that are not yours are skipped.`,
  }),
  dry_run: Type.Optional(Type.Boolean({ description: 'Only suggest (default false: the links are applied at once).' })),
  max_links_per_1000_words: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_PER_THOUSAND,
      description: `At most this many links per 1,000 words of the source, rounded down (default ${DEFAULT_PER_THOUSAND}, hard cap ${MAX_PER_THOUSAND}).`,
    }),
  ),
});
export type Process = Static<typeof ProcessBody>;

export const ProcessAccepted = Type.Object({
  task_id: Id,
  status: Type.String(),
  skipped: Type.Array(Type.Integer(), { description: "Ids asked for that were ignored: not found, or not the caller's." }),
});

export const ReportQuery = Type.Object(
  {
    site_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'The site to report on.' }),
    ...pagingQuerySchema().properties,
  },
  { additionalProperties: false },
);

export const ReportRow = Type.Object({
  content_id: Type.Integer(),
  title: Type.String(),
  slug: Type.String(),
  status: Type.String(),
  url: Type.String(),
  inbound: Type.Integer({ description: 'Other articles of the site whose html links here (by URL or slug).' }),
  outbound: Type.Integer({ description: 'Other articles of the site this one links to.' }),
  orphan: Type.Boolean({ description: 'No inbound link.' }),
  suggested: Type.Integer({ description: 'Suggestions from this article still waiting to be applied or rejected.' }),
});
export type ReportEntry = Static<typeof ReportRow>;
