import { type Static, Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum } from '../../core/columns.js';
import { RUN_STATUSES, RUN_TRIGGERS, STAGES, type Stage, type StageConfigs } from './automation.tables.js';

/** Wire shapes of automation: a site's config, runs with their per-stage results, their logs, the estimate. */

/** The most units one stage takes in one run. */
export const MAX_BATCH = 500;

export const DEFAULT_STAGES: StageConfigs = {
  clusters: { enabled: true, batch_size: 500 },
  ideas: { enabled: true, batch_size: 10 },
  tasks: { enabled: true, batch_size: 20 },
  articles: { enabled: true, batch_size: 10 },
  image_prompts: { enabled: true, batch_size: 10 },
  images: { enabled: true, batch_size: 30 },
  optimize: { enabled: false, batch_size: 10 },
  link: { enabled: false, batch_size: 20 },
  review: { enabled: true, batch_size: 20 },
};
export const DEFAULT_SCHEDULE = { cron: '0 6 * * *', timezone: 'UTC' };

const StageConfigSchema = Type.Object({
  enabled: Type.Boolean(),
  batch_size: Type.Integer({ minimum: 1, maximum: MAX_BATCH, description: 'The most units this stage takes in one run.' }),
});
const StageConfigPatch = Type.Partial(StageConfigSchema, { additionalProperties: false });
const stageProps = <T extends typeof StageConfigSchema | typeof StageConfigPatch>(schema: T) =>
  Object.fromEntries(STAGES.map((stage) => [stage, schema])) as Record<Stage, T>;

const ScheduleSchema = Type.Object({
  cron: Type.String({ maxLength: 100, description: 'A cron expression (5 fields; 6 with seconds), read by croner.' }),
  timezone: Type.String({ maxLength: 64, description: 'An IANA time zone (`Europe/Paris`); the cron runs in it.' }),
});

export const ConfigSchema = Type.Object({
  id: Type.Union([Id, Type.Null()], { description: 'Null until a PATCH stores the config (the defaults are shown).' }),
  account_id: Id,
  site_id: Id,
  is_enabled: Type.Boolean({ description: 'Whether the schedule starts runs.' }),
  schedule: ScheduleSchema,
  stages: Type.Object(stageProps(StageConfigSchema)),
  ideas_per_cluster: Type.Integer(),
  in_article_images: Type.Integer(),
  require_approval: Type.Boolean(),
  auto_publish: Type.Boolean(),
  publish_status: StringEnum(['publish', 'draft'] as const),
  max_credits_per_run: Type.Union([Type.Integer(), Type.Null()]),
  next_run_at: NullableDateTime,
  next_runs: Type.Array(DateTime, { description: "The schedule's next five times (UTC), whether or not it is enabled." }),
  created_at: NullableDateTime,
  updated_at: NullableDateTime,
});

export const ConfigPatchBody = Type.Object(
  {
    is_enabled: Type.Optional(Type.Boolean()),
    schedule: Type.Optional(Type.Partial(ScheduleSchema, { additionalProperties: false })),
    stages: Type.Optional(Type.Partial(Type.Object(stageProps(StageConfigPatch)), { additionalProperties: false })),
    ideas_per_cluster: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    in_article_images: Type.Optional(Type.Integer({ minimum: 0, maximum: 6 })),
    require_approval: Type.Optional(Type.Boolean()),
    auto_publish: Type.Optional(Type.Boolean()),
    publish_status: Type.Optional(StringEnum(['publish', 'draft'] as const)),
    max_credits_per_run: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10_000_000 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type ConfigPatch = Static<typeof ConfigPatchBody>;

export const SiteParams = Type.Object({ site_id: Id });

const StageResultSchema = Type.Object({
  status: StringEnum(['pending', 'running', 'completed', 'skipped', 'failed'] as const),
  processed: Type.Integer(),
  created: Type.Integer(),
  skipped: Type.Integer(),
  credits: Type.Integer(),
  errors: Type.Array(Type.Object({ unit: Type.String(), code: Type.String(), message: Type.String() })),
});

export const RUN_STAGE_NAMES = [...STAGES, 'publish'] as const;

export const RunSchema = Type.Object({
  id: Id,
  account_id: Id,
  site_id: Id,
  trigger: StringEnum(RUN_TRIGGERS),
  status: StringEnum(RUN_STATUSES),
  current_stage: Type.Union([StringEnum(RUN_STAGE_NAMES), Type.Null()]),
  stages: Type.Record(Type.String(), StageResultSchema, {
    description: 'Per stage, in order: `processed`, `created`, `skipped`, `credits`, `errors`.',
  }),
  settings: Type.Object({}, { additionalProperties: true, description: 'The config the run started with.' }),
  credits_used: Type.Integer(),
  estimated_credits: Type.Integer(),
  task_id: Type.Union([Type.Integer(), Type.Null()]),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  scheduled_for: NullableDateTime,
  started_at: NullableDateTime,
  finished_at: NullableDateTime,
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  created_at: DateTime,
  updated_at: DateTime,
});

export const LogSchema = Type.Object({
  id: Id,
  run_id: Id,
  stage: Type.Union([Type.String(), Type.Null()]),
  level: StringEnum(['info', 'warning', 'error'] as const),
  message: Type.String(),
  details: Type.Object({}, { additionalProperties: true }),
  created_at: DateTime,
  updated_at: DateTime,
});

export const RunNowBody = Type.Object({ site_id: Id }, { additionalProperties: false });
export type RunNow = Static<typeof RunNowBody>;

export const RunAccepted = Type.Object({
  task_id: Id,
  status: Type.String(),
  run: RunSchema,
});

export const EstimateQuery = Type.Object({ site_id: Id }, { additionalProperties: false });

export const EstimateSchema = Type.Object({
  site_id: Id,
  credits: Type.Integer({ description: 'The whole run at most: every stage below added up.' }),
  balance: Type.Integer(),
  max_credits_per_run: Type.Union([Type.Integer(), Type.Null()]),
  stages: Type.Array(
    Type.Object({
      stage: StringEnum(RUN_STAGE_NAMES),
      enabled: Type.Boolean(),
      units: Type.Integer({ description: 'What the stage would take: waiting now plus what the stages before it make.' }),
      credits: Type.Integer(),
    }),
  ),
});
export type Estimate = Static<typeof EstimateSchema>;
