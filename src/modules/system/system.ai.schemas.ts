import { type Static, Type } from 'typebox';
import { DateTime, NullableDateTime, StringEnum, TimestampFields } from '../../core/columns.js';

/** Wire shapes of the AI settings, prompts, author profiles and the provider check (system.ai.routes.ts). */

export const IMAGE_SIZES = [
  'auto',
  '256x256',
  '512x512',
  '1024x1024',
  '1536x1024',
  '1024x1536',
  '1792x1024',
  '1024x1792',
] as const;
export type ImageSize = (typeof IMAGE_SIZES)[number];

const SettingsFields = {
  model: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()], {
    description: "Chat model for this account; null uses the installation's AI_MODEL.",
  }),
  temperature: Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()], {
    description: 'Sampling temperature 0–2; null leaves it to the provider (some models accept only their default).',
  }),
  language: Type.String({ minLength: 1, maxLength: 60 }),
  tone: Type.String({ maxLength: 120 }),
  default_word_count: Type.Integer({ minimum: 300, maximum: 10_000 }),
  image_model: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()], {
    description: 'Image model; null uses AI_IMAGE_MODEL.',
  }),
  image_size: StringEnum(IMAGE_SIZES),
  image_style: Type.String({ maxLength: 200 }),
  brand_guidelines: Type.String({ maxLength: 10_000 }),
};

export const AiSettingsSchema = Type.Object({
  ...SettingsFields,
  default_model: Type.String({ description: 'What a null `model` means: AI_MODEL.' }),
  default_image_model: Type.String({ description: 'What a null `image_model` means: AI_IMAGE_MODEL.' }),
  updated_at: NullableDateTime,
});
export const AiSettingsUpdate = Type.Partial(Type.Object(SettingsFields), { additionalProperties: false });
export type AiSettingsUpdate = Static<typeof AiSettingsUpdate>;

/** A prompt as it goes out; `function` is one of the registered AI functions (src/modules.ts), named at wiring. */
export const promptSchema = (functionNames: readonly string[]) =>
  Type.Object({
    function: StringEnum(functionNames),
    system_template: Type.String(),
    user_template: Type.String(),
    variables: Type.Array(Type.String(), { description: 'The `{{variable}}` names this function provides.' }),
    is_default: Type.Boolean(),
    updated_at: NullableDateTime,
  });
export const PromptUpdate = Type.Object(
  {
    system_template: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
    user_template: Type.Optional(Type.String({ minLength: 1, maxLength: 50_000 })),
  },
  { additionalProperties: false },
);
export type PromptUpdate = Static<typeof PromptUpdate>;
export const PromptParams = Type.Object({ function: Type.String({ maxLength: 40 }) });
/** The prompts are one short page: pagination parameters are accepted, anything else is a 400. */
export const PromptListQuery = Type.Object(
  {
    page: Type.Optional(Type.Integer({ minimum: 1 })),
    page_size: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const AuthorProfileSchema = Type.Object({
  ...TimestampFields,
  name: Type.String(),
  tone: Type.String(),
  persona: Type.String(),
  guidelines: Type.String(),
});
export const AuthorProfileBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    tone: Type.Optional(Type.String({ maxLength: 120 })),
    persona: Type.Optional(Type.String({ maxLength: 5000 })),
    guidelines: Type.Optional(Type.String({ maxLength: 10_000 })),
  },
  { additionalProperties: false },
);

export const AiCheckSchema = Type.Object({
  base_url: Type.String(),
  model: Type.String({ description: 'The model that answered, as the provider names it.' }),
  latency_ms: Type.Integer(),
  json_ok: Type.Boolean({ description: 'Whether the answer was valid JSON in the configured AI_JSON_MODE.' }),
  json_mode: StringEnum(['json_schema', 'json_object', 'prompt'] as const),
  tokens_in: Type.Integer(),
  tokens_out: Type.Integer(),
  message: Type.String(),
  checked_at: DateTime,
});
