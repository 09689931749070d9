import { type AiFunctionDefinition, type AiFunctions, templateVariables } from '../../core/ai.functions.js';
import type { Ai, AiAccountStore, AiSettings } from '../../core/ai.js';
import type { AiConfig } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { type FieldErrors, notFound, validationError } from '../../core/errors.js';
import { byCaller, type Caller, record, settingsUpdated } from '../../core/events.js';
import * as repo from './system.ai.repository.js';
import type { AiSettingsUpdate, ImageSize, PromptUpdate } from './system.ai.schemas.js';

/**
 * The account's side of the AI engine: settings (`system/settings/`), prompt overrides (`system/prompts/`)
 * and author profiles. It is also the engine's `AiAccountStore`: core/ai.ts reads settings and prompts
 * through `settings()` and `prompt()`. A missing row is the defaults, so nothing needs seeding per account.
 */

type Ctx = { accountId: number };

/** The settings as stored: the image size is one of the sizes the schema allows (checked on write). */
type StoredSettings = AiSettings & { image_size: ImageSize };

const DEFAULT_SETTINGS: StoredSettings = {
  model: null,
  temperature: null,
  language: 'English',
  tone: 'professional',
  default_word_count: 1500,
  image_model: null,
  image_size: '1024x1024',
  image_style: '',
  brand_guidelines: '',
};

/** `functions`: the AI functions registered with the engine (src/modules.ts), whose prompts this serves. */
export function createSystemAiService(deps: { db: Db; config: AiConfig; functions: AiFunctions }) {
  const { db, config, functions } = deps;

  function presentSettings(row: repo.SettingsRow | null) {
    const settings = row ? pickSettings(row) : DEFAULT_SETTINGS;
    return {
      ...settings,
      default_model: config.model,
      default_image_model: config.imageModel,
      updated_at: row?.updated_at ?? null,
    };
  }

  function presentPrompt(definition: AiFunctionDefinition, row: repo.PromptRow | null) {
    return {
      function: definition.name,
      system_template: row?.system_template ?? definition.system,
      user_template: row?.user_template ?? definition.user,
      variables: [...definition.variables],
      is_default: row === null,
      updated_at: row?.updated_at ?? null,
    };
  }

  function functionNamed(name: string): AiFunctionDefinition {
    const definition = functions.get(name);
    if (!definition) throw notFound(`Prompt "${name}"`);
    return definition;
  }

  const service = {
    async getSettings(ctx: Ctx) {
      return presentSettings(await repo.findSettings(db, ctx.accountId));
    },

    async updateSettings(ctx: Caller, changes: AiSettingsUpdate) {
      if (Object.keys(changes).length === 0) return service.getSettings(ctx);
      const row = await db.transaction(async (tx) => {
        const saved = await repo.upsertSettings(tx, ctx.accountId, changes);
        // Field names only: brand guidelines and the like are the account's text, not the feed's.
        await record(tx, settingsUpdated(ctx, 'ai', Object.keys(changes)));
        return saved;
      });
      return presentSettings(row);
    },

    /** The registered AI functions, in order: the prompts this serves. */
    functionNames: functions.names,

    async listPrompts(ctx: Ctx) {
      const rows = await repo.listPrompts(db, ctx.accountId);
      return functions.names.map((name) => presentPrompt(functionNamed(name), rows.find((r) => r.function === name) ?? null));
    },

    async getPrompt(ctx: Ctx, name: string) {
      const definition = functionNamed(name);
      const fn = definition.name;
      return presentPrompt(definition, await repo.findPrompt(db, ctx.accountId, fn));
    },

    /** Saves an override; a template naming a variable the function does not provide is a field error. */
    async updatePrompt(ctx: Caller, name: string, changes: PromptUpdate) {
      const definition = functionNamed(name);
      const fn = definition.name;
      const current = presentPrompt(definition, await repo.findPrompt(db, ctx.accountId, fn));
      const allowed = new Set<string>(definition.variables);
      const errors: FieldErrors = {};
      for (const field of ['system_template', 'user_template'] as const) {
        const unknown = templateVariables(changes[field] ?? '').filter((v) => !allowed.has(v));
        if (unknown.length > 0) {
          errors[field] = [
            `Unknown variable${unknown.length > 1 ? 's' : ''} ${unknown.map((v) => `{{${v}}}`).join(', ')}; "${fn}" provides: ${[...allowed].join(', ')}.`,
          ];
        }
      }
      if (Object.keys(errors).length > 0) throw validationError(errors);
      const templates = {
        system_template: changes.system_template ?? current.system_template,
        user_template: changes.user_template ?? current.user_template,
      };
      const row = await db.transaction(async (tx) => {
        const saved = await repo.upsertPrompt(tx, ctx.accountId, fn, templates);
        await record(
          tx,
          byCaller(ctx, {
            type: 'prompt.updated',
            object_type: 'prompt',
            object_id: saved.id,
            payload: { function: fn, fields: Object.keys(changes).sort() },
          }),
        );
        return saved;
      });
      return presentPrompt(definition, row);
    },

    /** Back to the default; resetting a prompt that has no override changes nothing and records nothing. */
    async resetPrompt(ctx: Caller, name: string) {
      const definition = functionNamed(name);
      const fn = definition.name;
      await db.transaction(async (tx) => {
        const removed = await repo.deletePrompt(tx, ctx.accountId, fn);
        if (!removed) return;
        await record(
          tx,
          byCaller(ctx, { type: 'prompt.reset', object_type: 'prompt', object_id: removed.id, payload: { function: fn } }),
        );
      });
      return presentPrompt(definition, null);
    },

    /** An author profile of the account, for content generation (null when it is not the account's). */
    async authorProfile(ctx: Ctx, id: number) {
      return repo.findAuthorProfile(db, ctx.accountId, id);
    },

    /** The provider check, stamped with when it ran. */
    async checkProvider(ctx: Ctx, ai: Ai) {
      return { ...(await ai.check(ctx.accountId)), checked_at: new Date() };
    },

    /** What core/ai.ts reads. */
    store: {
      async settings(accountId: number) {
        const row = await repo.findSettings(db, accountId);
        return row ? pickSettings(row) : DEFAULT_SETTINGS;
      },
      async prompt(accountId: number, fn: AiFunctionDefinition) {
        const row = await repo.findPrompt(db, accountId, fn.name);
        return { system: row?.system_template ?? fn.system, user: row?.user_template ?? fn.user };
      },
    } satisfies AiAccountStore,
  };
  return service;
}
export type SystemAiService = ReturnType<typeof createSystemAiService>;

function pickSettings(row: repo.SettingsRow): StoredSettings {
  return {
    model: row.model,
    temperature: row.temperature,
    language: row.language,
    tone: row.tone,
    default_word_count: row.default_word_count,
    image_model: row.image_model,
    image_size: row.image_size,
    image_style: row.image_style,
    brand_guidelines: row.brand_guidelines,
  };
}
