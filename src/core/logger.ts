import type { FastifyBaseLogger } from 'fastify';
import { type DestinationStream, type LoggerOptions, pino, stdSerializers } from 'pino';
import type { Config } from './config.js';

/**
 * The one logger configuration, for the API (Fastify's pino) and the worker alike. A failed query's error
 * carries its parameters: Drizzle writes them into its message (`Failed query: ...\nparams: ...`) and keeps
 * them in `params`, PGlite in `params`/`queryOptions`, and a unique violation's `detail` names the duplicate
 * value. Those were password hashes, API key hashes and tokens, so every error is logged through
 * `errorSerializer`, which keeps the statement and drops the values, whoever logs it and however deep the
 * error sits in a `cause` chain.
 */

/** Keys of an error (or of its causes) that hold a statement's values. */
const VALUE_KEYS = new Set(['params', 'parameters', 'values', 'queryOptions', 'bindings']);
const REDACTED = '[redacted]';

/** Drizzle's message and stack carry `params: <values>` up to the first stack frame. */
const PARAMS_TEXT = /\nparams: [\s\S]*?(?=\n\s+at |$)/g;
/** `Key (token_hash)=(3f9a...) already exists.`: the column is kept, the value is not. */
const KEY_VALUE = /(Key \([^)]*\))=\((?:[^()]|\([^()]*\))*\)/g;

/** `invalid input syntax for type integer: "<the value>"`: Postgres quotes the value it refused. */
const QUOTED_INPUT = /(invalid input (?:syntax|value) for (?:type )?[\w ]+: )"[^"]*"/g;

const scrubText = (text: string) =>
  text
    .replace(PARAMS_TEXT, `\nparams: ${REDACTED}`)
    .replace(KEY_VALUE, `$1=(${REDACTED})`)
    .replace(QUOTED_INPUT, `$1"${REDACTED}"`);

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = VALUE_KEYS.has(key) ? REDACTED : scrub(inner, depth + 1);
  }
  return out;
}

/** pino's error serializer (type, message, stack, causes, own fields), with every statement's values removed. */
export function errorSerializer(error: unknown): unknown {
  if (!(error instanceof Error)) return scrub(error, 0);
  return scrub(stdSerializers.err(error), 0);
}

/** Fastify's and the worker's pino options: level, redacted credentials, and errors without query values. */
export function loggerOptions(config: Pick<Config, 'logLevel'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        '*.password',
        '*.password_hash',
        '*.key_hash',
        '*.token_hash',
        '*.secret',
        '*.token',
        // Integrations' application passwords and webhook secrets, wherever a body or object carrying them is logged.
        '*.credentials',
        '*.webhook_secret',
        '*.applicationPassword',
      ],
      censor: REDACTED,
    },
    serializers: { err: errorSerializer, error: errorSerializer },
  };
}

/**
 * The process's log destination: stdout through sonic-boom (pino's own), with write errors dropped. When
 * stdout is a pipe nobody reads any more (an orphaned server), every write fails with EPIPE; unhandled, that
 * error escaped from the shutdown handler and left the process running, deaf to SIGTERM.
 */
export function stdoutDestination(): DestinationStream {
  const destination = pino.destination({ dest: 1, sync: true });
  destination.on('error', () => {});
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  return destination;
}

/**
 * The logger services, repositories and jobs take (the app's, or a child of it): named here so that code below
 * the routes depends on core rather than on the HTTP framework whose logger it happens to be.
 */
export type Logger = FastifyBaseLogger;
