import type { FastifyBaseLogger } from 'fastify';
import type OpenAI from 'openai';
import type { TSchema } from 'typebox';
import type { AiConfig } from './config.js';
import { AppError } from './errors.js';

/**
 * The one AI provider: any OpenAI-compatible HTTP API (OpenAI, Azure OpenAI's v1 API, OpenRouter, Ollama,
 * vLLM, llama.cpp server, LM Studio) through the `openai` SDK. Every client option is passed explicitly:
 * otherwise the SDK reads OPENAI_* variables and waits 10 minutes. Retries on 408/409/429/5xx and connection
 * errors are the SDK's (exponential backoff, honouring `Retry-After`/`retry-after-ms`); the number and the
 * per-attempt timeout come from AI_MAX_RETRIES and AI_TIMEOUT_SECONDS.
 *
 * The function runner (prompts, validation, credits) is core/ai.ts; the functions belong to the modules (planner.ai.ts, ...).
 */

export type AiFailure = 'not_configured' | 'timeout' | 'provider_error' | 'malformed_output';

/**
 * An AI call that did not give a usable answer. `service_unavailable` for the client (the dependency failed);
 * `reason` tells callers which way, so a unit can be reported as failed with a clear message.
 */
export class AiError extends AppError {
  /**
   * Whether the same call may work later: a timeout, a lost connection, a 408/409/429/5xx answer. A job retries
   * only those (core/jobs.ts `isTransient`); a malformed answer, a refused key or model, no provider, never.
   */
  readonly transient: boolean;
  constructor(
    readonly reason: AiFailure,
    message: string,
    details: Record<string, unknown> = {},
    options: { transient?: boolean } = {},
  ) {
    super('service_unavailable', message, { details: { reason, ...details } });
    this.name = 'AiError';
    this.transient = options.transient ?? reason === 'timeout';
  }
}

export const isConfigured = (config: AiConfig) => config.baseUrl !== null || config.apiKey !== null;

export function notConfigured(): AiError {
  return new AiError(
    'not_configured',
    'No AI provider is configured: set AI_BASE_URL (an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 for Ollama) and/or AI_API_KEY, and AI_MODEL.',
    { set: ['AI_BASE_URL', 'AI_API_KEY', 'AI_MODEL'] },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Prices: US dollars per million tokens (in, out), or per image. A cost in micros is then tokens × price.
// Unknown models (local servers) cost 0; AI_PRICES adds or overrides entries.

const PRICES: Record<string, { in: number; out: number } | { image: number }> = {
  'gpt-4o-mini': { in: 0.15, out: 0.6 },
  'gpt-4o': { in: 2.5, out: 10 },
  'gpt-4.1': { in: 2, out: 8 },
  'gpt-4.1-mini': { in: 0.4, out: 1.6 },
  'gpt-4.1-nano': { in: 0.1, out: 0.4 },
  'gpt-5': { in: 1.25, out: 10 },
  'gpt-5-mini': { in: 0.25, out: 2 },
  'gpt-5-nano': { in: 0.05, out: 0.4 },
  'o4-mini': { in: 1.1, out: 4.4 },
  'gpt-image-1': { image: 0.042 },
  'dall-e-3': { image: 0.04 },
  'dall-e-2': { image: 0.02 },
};

/** The price entry of a model: exact name, else the name without a vendor prefix (`openai/gpt-4o` on OpenRouter). */
function priceOf(config: AiConfig, model: string) {
  const table = { ...PRICES, ...config.prices };
  return table[model] ?? table[model.split('/').pop() ?? model] ?? null;
}

export function tokenCostMicros(config: AiConfig, model: string, tokensIn: number, tokensOut: number): number {
  const price = priceOf(config, model);
  if (!price || !('in' in price)) return 0;
  return Math.round(tokensIn * price.in + tokensOut * price.out);
}

export function imageCostMicros(config: AiConfig, model: string, images: number): number {
  const price = priceOf(config, model);
  if (!price || !('image' in price)) return 0;
  return Math.round(images * price.image * 1_000_000);
}

// ---------------------------------------------------------------------------------------------------------

export interface ChatRequest {
  model: string;
  system: string;
  user: string;
  /** The JSON Schema the answer must follow (a TypeBox schema is one). */
  schema: TSchema;
  schemaName: string;
  temperature?: number | null;
  maxTokens?: number;
  signal?: AbortSignal;
  /** Overrides AI_JSON_MODE for this call (the provider check tries `prompt` when json_schema is refused). */
  jsonMode?: AiConfig['jsonMode'];
}

export interface ChatAnswer {
  /** The parsed JSON, or undefined when the text was not JSON. */
  json: unknown;
  text: string;
  model: string;
  tokens_in: number;
  tokens_out: number;
  latency_ms: number;
}

export interface ImageRequest {
  model: string;
  prompt: string;
  size?: string;
  signal?: AbortSignal;
}

export interface ImageAnswer {
  /** Base64 image data when the server sent it (gpt-image-1 always does), else a URL to fetch it from. */
  b64: string | null;
  url: string | null;
  revised_prompt: string | null;
  model: string;
  latency_ms: number;
}

/** A model's answer may arrive wrapped in a Markdown code fence or after a "thinking" block; the JSON is kept. */
export function parseJsonAnswer(text: string): unknown {
  let body = text.replace(/<think>[\s\S]*?<\/think>/g, '').trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(body);
  if (fenced?.[1] !== undefined) body = fenced[1];
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/**
 * Runs one SDK call with a signal of its own that follows the caller's. The SDK adds an `abort` listener to the
 * signal it is given on every request and never removes it: given a job's signal, a job of many AI units piled
 * them up (MaxListenersExceededWarning after ten). The call's own signal goes away with the call, and the one
 * listener put on the caller's signal here is removed when the call ends.
 */
async function withCallSignal<T>(signal: AbortSignal | undefined, call: (signal: AbortSignal | undefined) => Promise<T>) {
  if (!signal) return call(undefined);
  const controller = new AbortController();
  const forward = () => controller.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  try {
    return await call(controller.signal);
  } finally {
    signal.removeEventListener('abort', forward);
  }
}

const jsonInstruction = (schema: TSchema) =>
  `Answer with one JSON object only (no prose, no code fence) that follows this JSON Schema:\n${JSON.stringify(schema)}`;

export function createProvider(config: AiConfig, log: FastifyBaseLogger) {
  let client: OpenAI | null = null;
  // The SDK is loaded on the first call (about 13 MB of a process's memory that a server without AI never needs).
  let OpenAIClass: typeof OpenAI | null = null;

  async function sdk(): Promise<OpenAI> {
    if (!isConfigured(config)) throw notConfigured();
    if (client) return client;
    OpenAIClass ??= (await import('openai')).default;
    const azure = config.baseUrl !== null && /\.openai\.azure\.com$/i.test(new URL(config.baseUrl).hostname);
    const headers: Record<string, string | null> = {};
    // Local servers need no key: the SDK insists on one, so a placeholder is given and its header removed.
    if (config.apiKey === null) headers.Authorization = null;
    // Azure's keys go in `api-key`; its v1 API is otherwise OpenAI's.
    if (azure && config.apiKey !== null) Object.assign(headers, { 'api-key': config.apiKey, Authorization: null });
    client = new OpenAIClass({
      apiKey: config.apiKey ?? 'no-key',
      adminAPIKey: null,
      organization: null,
      project: null,
      webhookSecret: null,
      baseURL: config.baseUrl ?? 'https://api.openai.com/v1',
      timeout: config.timeoutSeconds * 1000,
      maxRetries: config.maxRetries,
      defaultHeaders: headers,
      logLevel: 'warn',
      logger: log,
      dangerouslyAllowBrowser: false,
    });
    return client;
  }

  /** The SDK's errors as what a person can act on, naming the variable to check. */
  function describe(error: unknown, model: string, signal?: AbortSignal): never {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof AppError) throw error;
    const OpenAI = OpenAIClass;
    if (!OpenAI) {
      log.error({ err: error }, 'AI provider call failed');
      throw new AiError('provider_error', 'The AI provider call failed unexpectedly.');
    }
    if (error instanceof OpenAI.APIConnectionTimeoutError) {
      throw new AiError('timeout', `The AI provider did not answer within AI_TIMEOUT_SECONDS (${config.timeoutSeconds} s).`, {
        timeout_seconds: config.timeoutSeconds,
      });
    }
    if (error instanceof OpenAI.APIConnectionError) {
      throw new AiError(
        'provider_error',
        `Could not reach the AI provider at ${config.baseUrl ?? 'the default OpenAI URL'}: check AI_BASE_URL.`,
        {},
        { transient: true },
      );
    }
    if (error instanceof OpenAI.APIError) {
      const status = error.status ?? 0;
      const hint =
        status === 401 || status === 403
          ? 'check AI_API_KEY'
          : status === 404
            ? `check AI_MODEL / AI_IMAGE_MODEL (model "${model}") and AI_BASE_URL`
            : status === 429
              ? 'the provider is rate limiting or out of quota; try again later'
              : status >= 500
                ? 'the provider failed; try again later'
                : 'the provider refused the request';
      throw new AiError(
        'provider_error',
        `The AI provider answered ${status}: ${hint}.`,
        { status, provider_message: String(error.message).slice(0, 300) },
        { transient: status === 408 || status === 409 || status === 429 || status >= 500 },
      );
    }
    log.error({ err: error }, 'AI provider call failed');
    throw new AiError('provider_error', 'The AI provider call failed unexpectedly.');
  }

  return {
    get configured(): boolean {
      return isConfigured(config);
    },
    config,

    /** One chat completion asking for JSON; the answer is parsed but not validated (the runner does that). */
    async chatJson(request: ChatRequest): Promise<ChatAnswer> {
      const mode = request.jsonMode ?? config.jsonMode;
      const responseFormat =
        mode === 'json_schema'
          ? {
              type: 'json_schema' as const,
              // strict mode would require every property and no optional ones: the schema is checked here instead.
              json_schema: { name: request.schemaName, schema: request.schema as Record<string, unknown>, strict: false },
            }
          : mode === 'json_object'
            ? { type: 'json_object' as const }
            : undefined;
      const started = performance.now();
      try {
        const completion = await withCallSignal(request.signal, async (signal) =>
          (await sdk()).chat.completions.create(
            {
              model: request.model,
              messages: [
                { role: 'system', content: `${request.system}\n\n${jsonInstruction(request.schema)}` },
                { role: 'user', content: request.user },
              ],
              ...(request.temperature != null ? { temperature: request.temperature } : {}),
              ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
              ...(responseFormat ? { response_format: responseFormat } : {}),
            },
            { signal },
          ),
        );
        const text = completion.choices[0]?.message?.content ?? '';
        return {
          json: parseJsonAnswer(text),
          text,
          model: completion.model || request.model,
          tokens_in: completion.usage?.prompt_tokens ?? 0,
          tokens_out: completion.usage?.completion_tokens ?? 0,
          latency_ms: Math.round(performance.now() - started),
        };
      } catch (error) {
        describe(error, request.model, request.signal);
      }
    },

    /** One image; the server chooses b64 or URL (only dall-e models take `response_format`, so none is sent). */
    async image(request: ImageRequest): Promise<ImageAnswer> {
      const started = performance.now();
      try {
        const result = await withCallSignal(request.signal, async (signal) =>
          (await sdk()).images.generate(
            {
              model: request.model,
              prompt: request.prompt,
              n: 1,
              ...(request.size ? { size: request.size as '1024x1024' } : {}),
            },
            { signal },
          ),
        );
        const first = result.data?.[0];
        if (!first || (!first.b64_json && !first.url)) {
          throw new AiError('malformed_output', 'The AI provider answered without an image.');
        }
        return {
          b64: first.b64_json ?? null,
          url: first.url ?? null,
          revised_prompt: first.revised_prompt ?? null,
          model: request.model,
          latency_ms: Math.round(performance.now() - started),
        };
      } catch (error) {
        describe(error, request.model, request.signal);
      }
    },
  };
}
export type AiProvider = ReturnType<typeof createProvider>;
