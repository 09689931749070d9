import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The only place that reads the environment. Every variable is validated at start; a bad one stops the
 * process with a message naming the variable and what is wrong (all problems at once, not the first).
 * Everything else receives a `Config` object, so tests build one explicitly.
 */

export const THROTTLE_SCOPES = ['auth', 'planner', 'writer', 'ai', 'billing', 'automation', 'integration', 'default'] as const;
export type ThrottleScope = (typeof THROTTLE_SCOPES)[number];
export interface Rate {
  max: number;
  windowSeconds: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** The URL clients reach the API at; used for absolute links (next/previous, Location). Empty: from the request. */
  publicUrl: string;
  dataDir: string;
  /** Postgres server when set; otherwise the embedded PGlite database in `dataDir` (or memory, for tests). */
  databaseUrl: string | null;
  databasePoolSize: number;
  /**
   * Background jobs (core/jobs.ts): this process's workers per job type (`default` for the rest) and polling.
   * Timeouts, expiry and retries are the job type's own, never the environment's: every process sharing the
   * queue must read them the same (a worker with a longer expiry left a dead worker's task running for 30 min).
   */
  jobs: {
    concurrency: Record<string, number>;
    pollMs: number;
    maintenanceSeconds: number;
  };
  /** `memory://` keeps PGlite in memory (tests); otherwise a folder. */
  pgliteDir: string;
  secretKey: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  corsOrigins: string[];
  trustProxy: boolean;
  redisUrl: string | null;
  throttle: { disabled: boolean; rates: Record<ThrottleScope, Rate> };
  metricsToken: string | null;
  worker: boolean;
  shutdownGraceSeconds: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /**
   * The argon2id cost of new password hashes: `standard` (the argon2 library's defaults: 19 MiB, 2 passes) or
   * `test`, a token cost for test suites that sign up hundreds of users. `test` is refused in production.
   */
  passwordHashCost: 'standard' | 'test';
  /** SMTP server for mail (password resets, invitations); without one, mail goes to the outbox table and the log. */
  smtpUrl: string | null;
  mailFrom: string;
  /**
   * Payments (billing module). Without `secretKey`, checkout and portal answer 503; without `webhookSecret`,
   * every webhook call is refused. `apiBase` points the client at another Stripe-compatible server (tests).
   */
  stripe: { secretKey: string | null; webhookSecret: string | null; apiBase: string | null };
  /** The OpenAI-compatible AI provider (core/ai.ts); configured when `baseUrl` or `apiKey` is set. */
  ai: AiConfig;
  /** Where stored files (generated images) go (core/storage.ts). */
  storage: StorageConfig;
  /** Outgoing webhooks and the live events stream (events module). */
  webhooks: WebhooksConfig;
  /**
   * Keys that encrypt the integrations' credentials at rest (AES-256-GCM): `current` encrypts, and every key
   * decrypts the ciphertexts that name its id, so a key can be rotated while old ciphertexts are re-encrypted.
   */
  integrationKeys: IntegrationKeys;
  /** How long one request to a connected WordPress may take before it fails as a timeout (and is retried). */
  wordpressTimeoutSeconds: number;
  /**
   * Whether an integration's `base_url` may name a private, loopback or reserved address
   * (INTEGRATION_ALLOW_PRIVATE; off in production: a tenant must not make the server call its own network).
   */
  integrationAllowPrivate: boolean;
  /**
   * How many versions of a site's static export are kept (DEPLOYMENT_KEEP_VERSIONS): after each new deployment,
   * older finished ones are deleted with their files; the current one always stays.
   */
  deploymentKeepVersions: number;
}

export interface IntegrationKey {
  /** Stored beside each ciphertext: the first 8 hex digits of the key's SHA-256. */
  id: string;
  key: Buffer;
}

export interface IntegrationKeys {
  current: IntegrationKey;
  previous: IntegrationKey[];
}

export interface WebhooksConfig {
  /**
   * Whether a subscription may point at a private, loopback or otherwise non-public address (checked at
   * creation and again at every delivery, against DNS rebinding). Off in production unless WEBHOOK_ALLOW_PRIVATE.
   */
  allowPrivate: boolean;
  /** One delivery attempt's limit (connect + answer), WEBHOOK_TIMEOUT_MS. */
  timeoutMs: number;
  /**
   * The wait in seconds before each retry, before jitter (WEBHOOK_RETRY_SCHEDULE): retry n waits the n-th. The
   * default is the issue's 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then 6.4 h, so the last attempt comes 24 h after the
   * first. Tests shorten it.
   */
  retrySchedule: number[];
  /** A failing subscription is disabled once it has failed without a success this long (5 days). */
  disableAfterSeconds: number;
  /** Comment lines sent on an idle events stream so proxies keep it open (EVENTS_STREAM_HEARTBEAT_MS). */
  heartbeatMs: number;
}

export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18_000, 36_000, 23_095];

/** A folder under DATA_DIR by default; an S3-compatible bucket when `s3` is set (S3_BUCKET and its keys). */
export interface StorageConfig {
  /** The local folder: `DATA_DIR/media`. */
  dir: string;
  s3: S3Config | null;
}

export interface S3Config {
  bucket: string;
  /** Another S3-compatible server (MinIO, R2, Ceph, ...); null for AWS itself. */
  endpoint: string | null;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `https://host/bucket/key` rather than `https://bucket.host/key`; default on with an endpoint. */
  forcePathStyle: boolean;
}

export interface AiConfig {
  baseUrl: string | null;
  apiKey: string | null;
  model: string;
  imageModel: string;
  timeoutSeconds: number;
  /** Retries of one call on 408/409/429/5xx and connection errors, honouring `Retry-After`. */
  maxRetries: number;
  /** How JSON is asked for: `response_format` json_schema (default), json_object, or only in the prompt. */
  jsonMode: 'json_schema' | 'json_object' | 'prompt';
  /** `AI_PRICES`: model → US dollars per million tokens (in, out) or per image; beside core/ai.ts's table. */
  prices: Record<string, { in: number; out: number } | { image: number }>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_RATES: Record<ThrottleScope, Rate> = {
  auth: { max: 30, windowSeconds: 60 },
  planner: { max: 1200, windowSeconds: 60 },
  writer: { max: 600, windowSeconds: 60 },
  ai: { max: 60, windowSeconds: 60 },
  billing: { max: 120, windowSeconds: 60 },
  automation: { max: 120, windowSeconds: 60 },
  integration: { max: 300, windowSeconds: 60 },
  default: { max: 1200, windowSeconds: 60 },
};

const WINDOWS: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  m: 60,
  min: 60,
  minute: 60,
  h: 3600,
  hour: 3600,
  d: 86400,
  day: 86400,
};

type Env = Record<string, string | undefined>;

/** Reads and checks one variable at a time, collecting every problem before failing. */
class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | null {
    return this.raw(name) ?? null;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}: must be a whole number from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return n;
  }

  /** A duration in seconds, decimals allowed (`0.5`), from `min` to `max`. */
  seconds(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}: must be a number of seconds from ${min} to ${max}, decimals allowed (got "${value}")`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name}: must be true or false (got "${value}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) {
      this.problems.push(`${name}: must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  }

  url(name: string, protocols: string[]): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
      return value;
    } catch {
      this.problems.push(`${name}: must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`);
      return null;
    }
  }

  /** `JOBS_CONCURRENCY="default=2,writer.generate=4"`: a whole number per job type (or `default`). */
  intMap(name: string, min: number, max: number): Record<string, number> {
    const result: Record<string, number> = {};
    const value = this.raw(name);
    if (value === undefined) return result;
    for (const part of value.split(',')) {
      const match = /^\s*([a-z0-9_.-]+)\s*=\s*(\d+)\s*$/i.exec(part);
      const n = Number(match?.[2]);
      if (!match?.[1] || n < min || n > max) {
        this.problems.push(`${name}: "${part.trim()}" is not <job type or default>=<whole number from ${min} to ${max}>`);
        continue;
      }
      result[match[1]] = n;
    }
    return result;
  }

  /** `WEBHOOK_RETRY_SCHEDULE="5,300,1800"`: seconds (decimals allowed), at most 20 of them. */
  schedule(name: string, fallback: number[]): number[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parts = value.split(',').map((part) => part.trim());
    const numbers = parts.map(Number);
    const valid =
      parts.length <= 20 && parts.every((part) => /^\d+(\.\d+)?$/.test(part)) && numbers.every((n) => n <= 7 * 86_400);
    if (!valid) {
      this.problems.push(`${name}: must be up to 20 numbers of seconds (at most a week each), comma-separated (got "${value}")`);
      return fallback;
    }
    return numbers;
  }

  /** `AI_PRICES="my-model=0.5/1.5,my-image-model=0.04"`: dollars per million tokens in/out, or per image. */
  prices(name: string): AiConfig['prices'] {
    const result: AiConfig['prices'] = {};
    const value = this.raw(name);
    if (value === undefined) return result;
    for (const part of value.split(',')) {
      const match = /^\s*([^=\s]+)\s*=\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+(?:\.\d+)?))?\s*$/.exec(part);
      if (!match?.[1]) {
        this.problems.push(
          `${name}: "${part.trim()}" is not <model>=<in>/<out> (dollars per million tokens) or <model>=<dollars per image>`,
        );
        continue;
      }
      result[match[1]] = match[3] === undefined ? { image: Number(match[2]) } : { in: Number(match[2]), out: Number(match[3]) };
    }
    return result;
  }

  /** `THROTTLE_RATES="auth=20/min,planner=600/min"`: overrides per scope; other scopes keep their defaults. */
  rates(name: string): Record<ThrottleScope, Rate> {
    const rates = { ...DEFAULT_RATES };
    const value = this.raw(name);
    if (value === undefined) return rates;
    for (const part of value.split(',')) {
      const match = /^\s*([a-z]+)\s*=\s*(\d+)\s*\/\s*(\d*)\s*([a-z]+)\s*$/.exec(part);
      const scope = match?.[1] as ThrottleScope | undefined;
      const unit = match?.[4] ? WINDOWS[match[4]] : undefined;
      if (!match || !scope || !THROTTLE_SCOPES.includes(scope) || !unit || Number(match[2]) < 1) {
        this.problems.push(
          `${name}: "${part.trim()}" is not <scope>=<count>/<window>, with a scope among ${THROTTLE_SCOPES.join(', ')} and a window such as s, min, hour (e.g. auth=20/min)`,
        );
        continue;
      }
      rates[scope] = { max: Number(match[2]), windowSeconds: unit * (match[3] ? Number(match[3]) : 1) };
    }
    return rates;
  }
}

/** INTEGRATION_KEY and INTEGRATION_KEYS_PREVIOUS: 32 bytes each, as base64 (or base64url) or 64 hex digits. */
function integrationKey(name: string, text: string, problems: string[]): IntegrationKey | null {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64url');
  if (key.length !== 32) {
    problems.push(`${name}: must be 32 bytes as base64 or 64 hex digits (use \`openssl rand -base64 32\`)`);
    return null;
  }
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

/** A local install gets a random integration key beside its signing key (DATA_DIR/integration_key). */
function persistedIntegrationKey(dataDir: string): string {
  const file = join(dataDir, 'integration_key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

/** A local install gets a random signing key, kept in the data folder so sessions survive restarts. */
function persistedSecret(dataDir: string): string {
  const file = join(dataDir, 'secret_key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

const S3_VARIABLES = ['S3_BUCKET', 'S3_ENDPOINT', 'S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE'];

/**
 * S3 storage is all or nothing: a bucket and both keys, or none of the S3_* variables (files then go to
 * DATA_DIR/media). Anything in between is one problem naming what is missing, so a half-configured store never
 * starts writing files where nobody will look for them.
 */
function s3Config(read: EnvReader): S3Config | null {
  const endpoint = read.url('S3_ENDPOINT', ['http:', 'https:']);
  const forcePathStyle = read.bool('S3_FORCE_PATH_STYLE', endpoint !== null);
  const given = S3_VARIABLES.filter((name) => read.raw(name) !== undefined);
  if (given.length === 0) return null;
  const bucket = read.optional('S3_BUCKET');
  const accessKeyId = read.optional('S3_ACCESS_KEY_ID');
  const secretAccessKey = read.optional('S3_SECRET_ACCESS_KEY');
  const missing = [
    ...(bucket === null ? ['S3_BUCKET'] : []),
    ...(accessKeyId === null ? ['S3_ACCESS_KEY_ID'] : []),
    ...(secretAccessKey === null ? ['S3_SECRET_ACCESS_KEY'] : []),
  ];
  if (missing.length > 0) {
    read.problems.push(
      `${missing.join(', ')}: required for S3 storage, which ${given.join(', ')} ${given.length === 1 ? 'asks' : 'ask'} for (set S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or none of the S3_* variables to keep files in DATA_DIR/media)`,
    );
    return null;
  }
  if (bucket !== null && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    read.problems.push(`S3_BUCKET: "${bucket}" is not a bucket name (3-63 lower-case letters, digits, dots and hyphens)`);
  }
  return {
    bucket: bucket as string,
    endpoint: endpoint?.replace(/\/+$/, '') ?? null,
    region: read.string('S3_REGION', 'us-east-1'),
    accessKeyId: accessKeyId as string,
    secretAccessKey: secretAccessKey as string,
    forcePathStyle,
  };
}

export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', 'development', ['development', 'production', 'test'] as const);
  const dataDir = resolve(read.string('DATA_DIR', './data'));
  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const publicUrl = read.url('PUBLIC_URL', ['http:', 'https:']);

  const secretKey = read.optional('SECRET_KEY');
  if (secretKey !== null && secretKey.length < 32) {
    read.problems.push('SECRET_KEY: must be at least 32 characters (use `openssl rand -base64 48`)');
  }
  if (secretKey === null && nodeEnv === 'production') {
    read.problems.push('SECRET_KEY: is required when NODE_ENV=production (use `openssl rand -base64 48`)');
  }
  const integrationKeyText = read.optional('INTEGRATION_KEY');
  if (integrationKeyText === null && nodeEnv === 'production') {
    read.problems.push('INTEGRATION_KEY: is required when NODE_ENV=production (use `openssl rand -base64 32`)');
  }
  const givenIntegrationKey =
    integrationKeyText === null ? null : integrationKey('INTEGRATION_KEY', integrationKeyText, read.problems);
  const previousIntegrationKeys = (read.optional('INTEGRATION_KEYS_PREVIOUS') ?? '')
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => integrationKey('INTEGRATION_KEYS_PREVIOUS', part, read.problems))
    .filter((key) => key !== null);

  const config: Config = {
    env: nodeEnv,
    port: read.int('PORT', 8000, 0, 65535),
    host: read.string('HOST', '0.0.0.0'),
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? '',
    dataDir,
    databaseUrl,
    databasePoolSize: read.int('DATABASE_POOL_SIZE', 10, 1, 500),
    jobs: {
      concurrency: read.intMap('JOBS_CONCURRENCY', 1, 1000),
      pollMs: read.int('JOBS_POLL_MS', 1000, 50, 60_000),
      maintenanceSeconds: read.int('JOBS_MAINTENANCE_SECONDS', 30, 1, 3600),
    },
    pgliteDir: join(dataDir, 'pglite'),
    secretKey: '',
    logLevel: read.oneOf('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    corsOrigins: (read.optional('CORS_ORIGINS') ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    trustProxy: read.bool('TRUST_PROXY', false),
    redisUrl: read.url('REDIS_URL', ['redis:', 'rediss:']),
    throttle: { disabled: read.bool('THROTTLE_DISABLED', false), rates: read.rates('THROTTLE_RATES') },
    metricsToken: read.optional('METRICS_TOKEN'),
    worker: read.bool('WORKER', true),
    shutdownGraceSeconds: read.int('SHUTDOWN_GRACE_SECONDS', 25, 0, 3600),
    accessTokenTtlSeconds: read.int('ACCESS_TOKEN_TTL_SECONDS', 900, 1, 86400),
    refreshTokenTtlSeconds: read.int('REFRESH_TOKEN_TTL_SECONDS', 30 * 86400, 60, 365 * 86400),
    passwordHashCost: read.oneOf('PASSWORD_HASH_COST', 'standard', ['standard', 'test'] as const),
    smtpUrl: read.url('SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: read.string('MAIL_FROM', 'ContentFlow <no-reply@localhost>'),
    stripe: {
      secretKey: read.optional('STRIPE_SECRET_KEY'),
      webhookSecret: read.optional('STRIPE_WEBHOOK_SECRET'),
      apiBase: read.url('STRIPE_API_BASE', ['http:', 'https:']),
    },
    ai: {
      baseUrl: read.url('AI_BASE_URL', ['http:', 'https:'])?.replace(/\/+$/, '') ?? null,
      apiKey: read.optional('AI_API_KEY'),
      model: read.string('AI_MODEL', 'gpt-4o-mini'),
      imageModel: read.string('AI_IMAGE_MODEL', 'gpt-image-1'),
      timeoutSeconds: read.seconds('AI_TIMEOUT_SECONDS', 120, 0.1, 3600),
      maxRetries: read.int('AI_MAX_RETRIES', 3, 0, 10),
      jsonMode: read.oneOf('AI_JSON_MODE', 'json_schema', ['json_schema', 'json_object', 'prompt'] as const),
      prices: read.prices('AI_PRICES'),
    },
    storage: { dir: join(dataDir, 'media'), s3: s3Config(read) },
    // Filled below once every value is known to be valid (a generated key is written only then).
    integrationKeys: { current: { id: '', key: Buffer.alloc(0) }, previous: previousIntegrationKeys },
    webhooks: {
      allowPrivate: read.bool('WEBHOOK_ALLOW_PRIVATE', nodeEnv !== 'production'),
      timeoutMs: read.int('WEBHOOK_TIMEOUT_MS', 10_000, 50, 60_000),
      retrySchedule: read.schedule('WEBHOOK_RETRY_SCHEDULE', DEFAULT_RETRY_SCHEDULE),
      disableAfterSeconds: 5 * 86_400,
      heartbeatMs: read.int('EVENTS_STREAM_HEARTBEAT_MS', 15_000, 10, 300_000),
    },
    wordpressTimeoutSeconds: read.seconds('WORDPRESS_TIMEOUT_SECONDS', 30, 0.1, 600),
    integrationAllowPrivate: read.bool('INTEGRATION_ALLOW_PRIVATE', nodeEnv !== 'production'),
    deploymentKeepVersions: read.int('DEPLOYMENT_KEEP_VERSIONS', 10, 1, 1000),
  };
  if (config.passwordHashCost === 'test' && nodeEnv === 'production') {
    read.problems.push('PASSWORD_HASH_COST: `test` is for test suites only and is refused when NODE_ENV=production');
  }
  for (const origin of config.corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      read.problems.push(`CORS_ORIGINS: "${origin}" is not an origin such as https://app.example.com`);
    }
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems);

  config.secretKey = secretKey ?? persistedSecret(dataDir);
  const current = givenIntegrationKey ?? integrationKey('INTEGRATION_KEY', persistedIntegrationKey(dataDir), read.problems);
  if (current === null) throw new ConfigError([`${join(dataDir, 'integration_key')}: not a 32-byte key`]);
  config.integrationKeys.current = current;
  return config;
}
