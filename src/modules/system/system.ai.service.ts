import { AI_FUNCTION_NAMES, AI_FUNCTIONS, type AiFunctionName, templateVariables } from '../../core/ai.functions.js';
import type { Ai, AiAccountStore, AiSettings } from '../../core/ai.js';
import type { AiConfig } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { type FieldErrors, notFound, validationError } from '../../core/errors.js';
import { byCaller, type Caller, record } from '../../core/events.js';
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

const isFunction = (name: string): name is AiFunctionName => (AI_FUNCTION_NAMES as string[]).includes(name);

export function createSystemAiService(deps: { db: Db; config: AiConfig }) {
  const { db, config } = deps;

  function presentSettings(row: repo.SettingsRow | null) {
    const settings = row ? pickSettings(row) : DEFAULT_SETTINGS;
    return {
      ...settings,
      default_model: config.model,
      default_image_model: config.imageModel,
      updated_at: row?.updated_at ?? null,
    };
  }

  function presentPrompt(fn: AiFunctionName, row: repo.PromptRow | null) {
    const definition = AI_FUNCTIONS[fn];
    return {
      function: fn,
      system_template: row?.system_template ?? definition.system,
      user_template: row?.user_template ?? definition.user,
      variables: [...definition.variables],
      is_default: row === null,
      updated_at: row?.updated_at ?? null,
    };
  }

  function functionNamed(name: string): AiFunctionName {
    if (!isFunction(name)) throw notFound(`Prompt "${name}"`);
    return name;
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
        await record(
          tx,
          byCaller(ctx, {
            type: 'settings.updated',
            object_type: 'settings',
            object_id: ctx.accountId,
            payload: { section: 'ai', fields: Object.keys(changes).sort() },
          }),
        );
        return saved;
      });
      return presentSettings(row);
    },

    async listPrompts(ctx: Ctx) {
      const rows = await repo.listPrompts(db, ctx.accountId);
      return AI_FUNCTION_NAMES.map((fn) => presentPrompt(fn, rows.find((r) => r.function === fn) ?? null));
    },

    async getPrompt(ctx: Ctx, name: string) {
      const fn = functionNamed(name);
      return presentPrompt(fn, await repo.findPrompt(db, ctx.accountId, fn));
    },

    /** Saves an override; a template naming a variable the function does not provide is a field error. */
    async updatePrompt(ctx: Caller, name: string, changes: PromptUpdate) {
      const fn = functionNamed(name);
      const current = presentPrompt(fn, await repo.findPrompt(db, ctx.accountId, fn));
      const allowed = new Set<string>(AI_FUNCTIONS[fn].variables);
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
      return presentPrompt(fn, row);
    },

    /** Back to the default; resetting a prompt that has no override changes nothing and records nothing. */
    async resetPrompt(ctx: Caller, name: string) {
      const fn = functionNamed(name);
      await db.transaction(async (tx) => {
        const removed = await repo.deletePrompt(tx, ctx.accountId, fn);
        if (!removed) return;
        await record(
          tx,
          byCaller(ctx, { type: 'prompt.reset', object_type: 'prompt', object_id: removed.id, payload: { function: fn } }),
        );
      });
      return presentPrompt(fn, null);
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
      async prompt(accountId: number, fn: AiFunctionName) {
        const row = await repo.findPrompt(db, accountId, fn);
        return { system: row?.system_template ?? AI_FUNCTIONS[fn].system, user: row?.user_template ?? AI_FUNCTIONS[fn].user };
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
