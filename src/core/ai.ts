import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { Value } from 'typebox/value';
import {
  type AiFunctionDefinition,
  type AiFunctionName,
  type AiFunctions,
  type AiOutput,
  type AiVariables,
  renderTemplate,
} from './ai.functions.js';
import {
  AiError,
  type AiProvider,
  createProvider,
  type ImageAnswer,
  imageCostMicros,
  notConfigured,
  tokenCostMicros,
} from './ai.provider.js';
import type { AiConfig } from './config.js';
import type { Db } from './db.js';
import type { AppError } from './errors.js';

export type { AiFunctionDefinition, AiFunctionName, AiFunctions, AiOutput, AiVariables } from './ai.functions.js';
export { AiError, notConfigured } from './ai.provider.js';

/**
 * The AI engine every AI feature runs on, knowing no function by name (the modules register theirs, see
 * ai.functions.ts): `ai.run(ctx, 'ideas', variables, { ref, units })` renders the
 * account's prompt for the function, asks the provider for JSON, validates it against the function's schema
 * (a malformed answer is asked for once more, then the unit fails with `AiError` reason `malformed_output`),
 * records usage for every provider call and charges the unit through the billing service once it succeeded.
 *
 * Credits, as the contract says: callers estimate the whole request first with `ai.ensure` (503 when no
 * provider is configured, then 402), and each unit is charged as it succeeds, under a `ref` derived from the
 * job and the unit (`ai.refFor(job, unit)`): the billing service ignores a ref it has already charged, so a
 * retried job never pays twice. A failed unit is never charged.
 */

/** The billing service's credits API, as the engine uses it (src/modules/billing/billing.service.ts). */
export interface CreditsApi {
  estimate(operation: string, units: number): Promise<number>;
  ensure(ctx: { accountId: number }, credits: number): Promise<void>;
  charge(
    ctx: { accountId: number },
    operation: string,
    units: number,
    ref: string,
    meta?: { object_type?: string; object_id?: number; description?: string; tx?: Db },
  ): Promise<{ charged: boolean; credits: number; balance: number }>;
  recordUsage(ctx: { accountId: number }, usage: UsageInput): Promise<void>;
}

/** One provider call as it is recorded (tokens, cost, latency), whether or not it was charged. */
export interface UsageInput {
  operation: string;
  model: string;
  tokens_in: number;
  tokens_out: number;
  credits: number;
  cost_micros: number;
  latency_ms: number;
  ref?: string;
  object_type?: string;
  object_id?: number;
  tx?: Db;
}

/** The account's AI settings as the engine reads them (system/settings/). */
export interface AiSettings {
  model: string | null;
  temperature: number | null;
  language: string;
  tone: string;
  default_word_count: number;
  image_model: string | null;
  image_size: string;
  image_style: string;
  brand_guidelines: string;
}

/** Where the account's settings and prompt overrides come from (the system module). */
export interface AiAccountStore {
  settings(accountId: number): Promise<AiSettings>;
  /** The account's override of the function's prompt, else the function's default. */
  prompt(accountId: number, fn: AiFunctionDefinition): Promise<{ system: string; user: string }>;
}

export interface AiCallOptions {
  /** Charge reference, unique per unit of work: `ai.refFor(job, unit)` inside a job. */
  ref: string;
  /** Billing units of this call (keywords, clusters, target words, ...); default 1. */
  units?: number;
  object_type?: string;
  object_id?: number;
  description?: string;
  /** The job's signal: cancellation and timeouts stop the call. */
  signal?: AbortSignal;
  /** Charge (and record usage) inside the caller's transaction, e.g. the one that stores the unit's result. */
  tx?: Db;
  /** A model for this call only; default the account's setting, then AI_MODEL. */
  model?: string;
  /**
   * One call of a unit made of several (an article written section by section): neither charged nor recorded
   * here; the caller settles the unit's calls with `ai.settle` when it stores the unit's result. `units` is
   * then only the balance check before the call (0: none).
   */
  defer?: boolean;
}

export interface AiUsage {
  model: string;
  tokens_in: number;
  tokens_out: number;
  cost_micros: number;
  latency_ms: number;
}

export interface AiResult<T> {
  output: T;
  /** Credits taken for this unit: 0 when its ref had already been charged (a retried job), or deferred. */
  credits: number;
  charged: boolean;
  usage: AiUsage;
  /** SHA-256 (hex) of the rendered prompt (system, then user), the account's override included: provenance. */
  prompt_hash: string;
  /** The temperature asked for (the account's setting); null: the provider's default. */
  temperature: number | null;
}

/** The hash of a rendered prompt, as `AiResult.prompt_hash` gives it. */
export const promptHash = (system: string, user: string) =>
  createHash('sha256').update(system).update('\n\n').update(user).digest('hex');

export interface AiCheck {
  base_url: string;
  model: string;
  latency_ms: number;
  json_ok: boolean;
  json_mode: AiConfig['jsonMode'];
  tokens_in: number;
  tokens_out: number;
  message: string;
}

export interface AiDeps {
  config: AiConfig;
  db: Db;
  billing: CreditsApi;
  store: AiAccountStore;
  log: FastifyBaseLogger;
  /** The functions it runs: the modules' own, registered in src/modules.ts. */
  functions: AiFunctions;
}

type Ctx = { accountId: number };

/** The first problem of a value against a schema, as a short sentence; null when it conforms. */
function schemaProblem(schema: TSchema, value: unknown): string | null {
  if (value === undefined) return 'the answer is not JSON';
  if (Value.Check(schema, value)) return null;
  const first = [...Value.Errors(schema, value)][0];
  return first ? `${first.instancePath || '/'}: ${first.message}` : 'the answer does not match the schema';
}

export function createAi(deps: AiDeps) {
  const { config, db, billing, store, log, functions } = deps;
  const provider: AiProvider = createProvider(config, log);

  function definitionOf(fn: string): AiFunctionDefinition {
    const definition = functions.get(fn);
    // A programming error (the name is typed from the registry): a function used but never registered.
    if (!definition) throw new Error(`AI function "${fn}" is not registered (src/modules.ts)`);
    return definition;
  }

  async function chargeUnit(ctx: Ctx, operation: string, options: AiCallOptions, usage: AiUsage) {
    const work = async (tx: Db) => {
      const meta = { object_type: options.object_type, object_id: options.object_id, description: options.description, tx };
      const charge = await billing.charge(ctx, operation, options.units ?? 1, options.ref, meta);
      const credits = charge.charged ? charge.credits : 0;
      await billing.recordUsage(ctx, {
        operation,
        ...usage,
        credits,
        ref: options.ref,
        object_type: options.object_type,
        object_id: options.object_id,
        tx,
      });
      return { charged: charge.charged, credits };
    };
    return options.tx ? work(options.tx) : db.transaction(work);
  }

  const ai = {
    provider,
    functions,
    get configured(): boolean {
      return provider.configured;
    },

    /** 503 (naming what to set) when no provider is configured; call before accepting AI work. */
    requireConfigured(): void {
      if (!provider.configured) throw notConfigured();
    },

    /** Credits for `units` of a function, for the whole request (rounded up once). */
    estimate(fn: AiFunctionName | 'image_generation', units: number): Promise<number> {
      return billing.estimate(fn === 'image_generation' ? fn : definitionOf(fn).operation, units);
    },

    /**
     * Before starting AI work: 503 when no provider is configured, then 402 when the balance is short of the
     * whole request (several functions add up). Returns the credits the request needs.
     */
    async ensure(ctx: Ctx, request: { fn: AiFunctionName | 'image_generation'; units: number }[]): Promise<number> {
      ai.requireConfigured();
      let credits = 0;
      for (const part of request) credits += await ai.estimate(part.fn, part.units);
      await billing.ensure(ctx, credits);
      return credits;
    },

    /** The charge reference of one unit of a job: the same on every retry of that job. */
    refFor(job: { taskId: number | null; jobId: string }, unit: string): string {
      return `${job.taskId !== null ? `task:${job.taskId}` : `job:${job.jobId}`}:${unit}`;
    },

    /** Runs one unit of an AI function and returns its validated output; see the module comment. */
    async run<F extends AiFunctionName>(
      ctx: Ctx,
      fn: F,
      variables: AiVariables<F>,
      options: AiCallOptions,
    ): Promise<AiResult<AiOutput<F>>> {
      ai.requireConfigured();
      const definition = definitionOf(fn);
      // The balance may have run out since the request was estimated: fail this unit before paying the provider.
      const needed = await billing.estimate(definition.operation, options.units ?? 1);
      if (needed > 0) await billing.ensure(ctx, needed);
      const [settings, prompt] = await Promise.all([store.settings(ctx.accountId), store.prompt(ctx.accountId, definition)]);
      const values = {
        language: settings.language,
        tone: settings.tone,
        brand_guidelines: settings.brand_guidelines,
        ...variables,
      };
      const model = options.model ?? settings.model ?? config.model;
      const system = renderTemplate(prompt.system, values);
      let user = renderTemplate(prompt.user, values);
      const prompt_hash = promptHash(system, user);
      let problem = '';
      for (let attempt = 1; attempt <= 2; attempt++) {
        const answer = await provider.chatJson({
          model,
          system,
          user,
          schema: definition.output,
          schemaName: fn,
          temperature: settings.temperature,
          signal: options.signal,
        });
        const usage: AiUsage = {
          model: answer.model,
          tokens_in: answer.tokens_in,
          tokens_out: answer.tokens_out,
          cost_micros: tokenCostMicros(config, answer.model, answer.tokens_in, answer.tokens_out),
          latency_ms: answer.latency_ms,
        };
        problem = schemaProblem(definition.output, answer.json) ?? '';
        if (!problem) {
          const { charged, credits } = options.defer
            ? { charged: false, credits: 0 }
            : await chargeUnit(ctx, definition.operation, options, usage);
          return { output: answer.json as AiOutput<F>, credits, charged, usage, prompt_hash, temperature: settings.temperature };
        }
        // The provider was paid for the malformed answer too: its tokens are recorded, with no credits.
        await billing.recordUsage(ctx, {
          operation: definition.operation,
          ...usage,
          credits: 0,
          object_type: options.object_type,
          object_id: options.object_id,
        });
        log.warn({ fn, attempt, problem, model }, 'AI answer did not match its schema');
        user = `${renderTemplate(prompt.user, values)}\n\nYour previous answer was not valid (${problem}). Answer again with the JSON object only.`;
      }
      throw new AiError(
        'malformed_output',
        `The AI answer for "${fn}" did not match its schema twice (${problem}); nothing was charged.`,
        {
          function: fn,
          problem,
        },
      );
    },

    /**
     * Charges a unit whose calls ran with `defer` (under its ref, once: `charged: false` on a repeat) and records
     * those calls' usage, the unit's credits on the last call; in `options.tx` when given, i.e. in the
     * transaction that stores the unit's result. Inside a transaction on PGlite nothing may wait for another
     * connection: estimate the unit (`ai.estimate`) just before, so the cost table is fresh in the cache.
     */
    async settle(
      ctx: Ctx,
      fn: AiFunctionName,
      calls: readonly AiUsage[],
      options: Omit<AiCallOptions, 'signal' | 'model' | 'defer'>,
    ): Promise<{ charged: boolean; credits: number }> {
      const { operation } = definitionOf(fn);
      const work = async (tx: Db) => {
        const meta = { object_type: options.object_type, object_id: options.object_id, description: options.description, tx };
        const charge = await billing.charge(ctx, operation, options.units ?? 1, options.ref, meta);
        if (!charge.charged) return { charged: false, credits: 0 };
        for (const [i, call] of calls.entries()) {
          await billing.recordUsage(ctx, {
            operation,
            ...call,
            credits: i === calls.length - 1 ? charge.credits : 0,
            ref: `${options.ref}:call:${i}`,
            object_type: options.object_type,
            object_id: options.object_id,
            tx,
          });
        }
        return { charged: true, credits: charge.credits };
      };
      return options.tx ? work(options.tx) : db.transaction(work);
    },

    /** Records calls of a unit that failed after them (`defer` calls): their tokens, no credits. */
    async recordFailedCalls(
      ctx: Ctx,
      fn: AiFunctionName,
      calls: readonly AiUsage[],
      meta: { object_type?: string; object_id?: number } = {},
    ): Promise<void> {
      const { operation } = definitionOf(fn);
      for (const call of calls) await billing.recordUsage(ctx, { operation, ...call, credits: 0, ...meta });
    },

    /**
     * Generates one image and charges it (`image_generation`, one unit) once it arrived. With `defer`, nothing is
     * charged or recorded here: a caller that checks the file first (is it an image, is it small enough) then
     * settles it with `settleImage` in the transaction that stores it, or `refuseImage` when it keeps none.
     */
    async image(
      ctx: Ctx,
      request: { prompt: string; size?: string; style?: string },
      options: Omit<AiCallOptions, 'units' | 'model'> & { model?: string },
    ): Promise<ImageAnswer & { credits: number; charged: boolean; usage: AiUsage; prompt_hash: string }> {
      ai.requireConfigured();
      await billing.ensure(ctx, await billing.estimate('image_generation', 1));
      const settings = await store.settings(ctx.accountId);
      const style = request.style ?? settings.image_style;
      const prompt = style ? `${request.prompt}\n\nStyle: ${style}` : request.prompt;
      const answer = await provider.image({
        model: options.model ?? settings.image_model ?? config.imageModel,
        prompt,
        size: request.size ?? settings.image_size,
        signal: options.signal,
      });
      const usage: AiUsage = {
        model: answer.model,
        tokens_in: 0,
        tokens_out: 0,
        cost_micros: imageCostMicros(config, answer.model, 1),
        latency_ms: answer.latency_ms,
      };
      const { charged, credits } = options.defer
        ? { charged: false, credits: 0 }
        : await chargeUnit(ctx, 'image_generation', { ...options, units: 1 }, usage);
      return { ...answer, credits, charged, usage, prompt_hash: promptHash('', prompt) };
    },

    /**
     * Charges an image asked for with `defer` (under its ref, once) and records its call, in `options.tx` when
     * given: the transaction that stores it. On PGlite nothing inside it may wait for another connection, so
     * `ai.estimate('image_generation', 1)` just before keeps the cost table fresh in the cache.
     */
    settleImage(
      ctx: Ctx,
      usage: AiUsage,
      options: Omit<AiCallOptions, 'signal' | 'model' | 'defer' | 'units'>,
    ): Promise<{ charged: boolean; credits: number }> {
      return chargeUnit(ctx, 'image_generation', { ...options, units: 1 }, usage);
    },

    /** Records an image asked for with `defer` that was not kept: the provider was paid, the account is not. */
    async refuseImage(ctx: Ctx, usage: AiUsage, meta: { object_type?: string; object_id?: number } = {}): Promise<void> {
      await billing.recordUsage(ctx, { operation: 'image_generation', ...usage, credits: 0, ...meta });
    },

    /**
     * One tiny call to the configured provider (free, nothing recorded): the model, the latency and whether
     * JSON output works in the configured mode. When json_schema is refused or ignored, tries the prompt-only
     * mode once to say whether AI_JSON_MODE=prompt would work.
     */
    async check(accountId: number): Promise<AiCheck> {
      ai.requireConfigured();
      const settings = await store.settings(accountId);
      const schema = Type.Object({ ok: Type.Boolean(), answer: Type.Integer() });
      const ask = (jsonMode: AiConfig['jsonMode']) =>
        provider.chatJson({
          model: settings.model ?? config.model,
          system: 'You are a connectivity check.',
          user: 'What is 2 + 3? Set "ok" to true and "answer" to the number.',
          schema,
          schemaName: 'check',
          maxTokens: 50,
          jsonMode,
        });
      const base = { base_url: config.baseUrl ?? 'https://api.openai.com/v1', json_mode: config.jsonMode };
      let first: Awaited<ReturnType<typeof ask>> | null = null;
      let refused: AppError | null = null;
      try {
        first = await ask(config.jsonMode);
      } catch (error) {
        // A 400 in json_schema mode is most often the server not knowing response_format: try without it.
        const status = error instanceof AiError ? (error.options.details?.status as number | undefined) : undefined;
        if (config.jsonMode === 'prompt' || status !== 400) throw error;
        refused = error as AppError;
      }
      if (first && schemaProblem(schema, first.json) === null) {
        return {
          ...base,
          model: first.model,
          latency_ms: first.latency_ms,
          json_ok: true,
          tokens_in: first.tokens_in,
          tokens_out: first.tokens_out,
          message: 'The provider answers and JSON output works.',
        };
      }
      if (config.jsonMode !== 'prompt') {
        const fallback = await ask('prompt').catch(() => null);
        if (fallback && schemaProblem(schema, fallback.json) === null) {
          return {
            ...base,
            model: fallback.model,
            latency_ms: first?.latency_ms ?? fallback.latency_ms,
            json_ok: false,
            tokens_in: fallback.tokens_in,
            tokens_out: fallback.tokens_out,
            message: `JSON output does not work with AI_JSON_MODE=${config.jsonMode}${refused ? ` (${refused.message})` : ''}, but works with AI_JSON_MODE=prompt: set that.`,
          };
        }
      }
      if (!first) throw refused ?? notConfigured();
      return {
        ...base,
        model: first.model,
        latency_ms: first.latency_ms,
        json_ok: false,
        tokens_in: first.tokens_in,
        tokens_out: first.tokens_out,
        message: 'The provider answers, but not with valid JSON: AI functions will fail with this model. Try another AI_MODEL.',
      };
    },
  };
  return ai;
}
export type Ai = ReturnType<typeof createAi>;
