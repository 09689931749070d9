import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { AppError, ERROR_STATUS, type ErrorCode, type FieldErrors, validationError } from './errors.js';
import { INPUT_KEYWORD_MESSAGES } from './input-schema.js';
import type { ListResult, PageParams } from './lists.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** PUBLIC_URL ('' when unset): the origin of absolute links (`next`, `previous`, `Location`). */
    publicUrl: string;
  }
}

/**
 * The contract's envelope: every JSON answer is `{success, ..., request_id}`. Routes declare their success
 * schema with `Envelope(...)`/`PageEnvelope(...)` and return `ok(request, data)`; every error, whoever throws
 * it, leaves through `sendError` below, the one error path.
 */

export const ErrorEnvelope = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.String({ description: 'One human sentence.' }),
    code: Type.Union(
      Object.keys(ERROR_STATUS).map((code) => Type.Literal(code)),
      { description: 'A stable machine code.' },
    ),
    errors: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.String()), {
        description: 'Field (dotted path for nested fields) → messages; `non_field_errors` for the rest.',
      }),
    ),
    details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    request_id: Type.String(),
  },
  { $id: 'ErrorEnvelope', title: 'Error' },
);

export const Envelope = <T extends TSchema>(data: T, description?: string) =>
  Type.Object(
    {
      success: Type.Literal(true),
      data,
      message: Type.Optional(Type.String()),
      request_id: Type.String(),
    },
    description ? { description } : {},
  );

export const PageEnvelope = <T extends TSchema>(item: T) =>
  Envelope(
    Type.Object({
      count: Type.Union([Type.Integer(), Type.Null()], {
        description: 'Total rows matching; null on cursor pages, whose cost must not grow with depth.',
      }),
      next: Type.Union([Type.String(), Type.Null()]),
      previous: Type.Union([Type.String(), Type.Null()]),
      results: Type.Array(item),
    }),
  );

export interface Page<T> {
  count: number | null;
  next: string | null;
  previous: string | null;
  results: T[];
}

export function ok<T>(request: FastifyRequest, data: T, message?: string) {
  return message === undefined
    ? { success: true as const, data, request_id: request.id }
    : { success: true as const, data, message, request_id: request.id };
}

/** Where clients reach the API: PUBLIC_URL when set, else what the request itself came in on. */
export function originOf(request: FastifyRequest, baseUrl: string = request.server.publicUrl ?? ''): string {
  return baseUrl || `${request.protocol}://${request.host}`;
}

/** An absolute link to the same path with some query parameters replaced (null removes one). */
export function linkTo(request: FastifyRequest, replace: PageParams): string {
  const [path, search = ''] = request.url.split('?');
  const params = new URLSearchParams(search);
  for (const [key, value] of Object.entries(replace)) {
    if (value === null) params.delete(key);
    else params.set(key, String(value));
  }
  const qs = params.toString();
  return `${originOf(request)}${path}${qs ? `?${qs}` : ''}`;
}

/** A list's result as the contract's page, its neighbours as absolute links to this same request. */
export function toPage<Row>(request: FastifyRequest, result: ListResult<Row>): Page<Row> {
  const { next, previous } = result.paging;
  return {
    count: result.count,
    next: next === null ? null : linkTo(request, next),
    previous: previous === null ? null : linkTo(request, previous),
    results: result.results,
  };
}

/** The enveloped page for a `PageEnvelope` route. */
export function sendPage<Row>(request: FastifyRequest, result: ListResult<Row>) {
  return ok(request, toPage(request, result));
}

export const taskPath = (id: number) => `/api/v1/system/tasks/${id}/`;

/** What an action that started a task answers: the task's id and status. */
export function acceptedTask(task: { id: number; status: string }): { task_id: number; status: string } {
  return { task_id: task.id, status: task.status };
}

/**
 * Answers an action that started a task: `202`, the task's absolute `Location`, and the data: `acceptedTask`'s,
 * with anything the action adds (e.g. `skipped`).
 */
export function sendAccepted<T extends { task_id: number; status: string }>(
  request: FastifyRequest,
  reply: FastifyReply,
  accepted: T,
) {
  reply.code(202).header('Location', `${originOf(request)}${taskPath(accepted.task_id)}`);
  return ok(request, accepted);
}

// ---------------------------------------------------------------------------------------------------------
// Errors

const AJV_MESSAGES: Record<string, (params: Record<string, unknown>) => string> = {
  required: () => 'This field is required.',
  additionalProperties: () => 'This field is not allowed.',
  type: (p) => `Must be ${article(String(p.type))}.`,
  minLength: (p) => (p.limit === 1 ? 'This field may not be blank.' : `Must be at least ${p.limit} characters.`),
  maxLength: (p) => `Must be at most ${p.limit} characters.`,
  minimum: (p) => `Must be at least ${p.limit}.`,
  maximum: (p) => `Must be at most ${p.limit}.`,
  exclusiveMinimum: (p) => `Must be greater than ${p.limit}.`,
  exclusiveMaximum: (p) => `Must be less than ${p.limit}.`,
  minItems: (p) => `Must have at least ${p.limit} item${p.limit === 1 ? '' : 's'}.`,
  maxItems: (p) => `Must have at most ${p.limit} items.`,
  uniqueItems: () => 'Items must be unique.',
  format: (p) => `Must be a valid ${String(p.format).replace(/-/g, ' ')}.`,
  pattern: () => 'Has an invalid format.',
  const: (p) => `Must be ${JSON.stringify(p.allowedValue)}.`,
  enum: (p) => `Must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}.`,
  minProperties: (p) => `Must have at least ${p.limit} keys.`,
  maxProperties: (p) => `Must have at most ${p.limit} keys.`,
  ...INPUT_KEYWORD_MESSAGES,
};

function article(type: string): string {
  const readable = type.replace(',', ' or ');
  return /^[aeiou]/.test(readable) ? `an ${readable}` : `a ${readable}`;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Turns ajv's errors into the contract's field errors. A union of literals (an enum written as TypeBox
 * literals) reports one `const` error per member plus `anyOf`: they are folded into one "one of" message.
 */
export function fieldErrorsFromAjv(errors: AjvError[]): FieldErrors {
  // Without a prototype: a client's field may be named `constructor` or `__proto__`.
  const result: FieldErrors = Object.create(null);
  const constsByPath = new Map<string, unknown[]>();
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const error of errors) {
    let path = error.instancePath.split('/').slice(1).join('.');
    if (error.keyword === 'required')
      path = path ? `${path}.${error.params.missingProperty}` : String(error.params.missingProperty);
    if (error.keyword === 'additionalProperties') {
      const extra = String(error.params.additionalProperty);
      path = path ? `${path}.${extra}` : extra;
    }
    if (error.keyword === 'anyOf') continue;
    if (anyOfPaths.has(error.instancePath) && (error.keyword === 'const' || error.keyword === 'type')) {
      if (error.keyword === 'const') {
        const list = constsByPath.get(path) ?? [];
        list.push(error.params.allowedValue);
        constsByPath.set(path, list);
      } else {
        const list = constsByPath.get(path) ?? [];
        if (error.params.type === 'null') list.push(null);
        constsByPath.set(path, list);
      }
      continue;
    }
    const key = path || 'non_field_errors';
    const message = AJV_MESSAGES[error.keyword]?.(error.params) ?? `${(error.message ?? 'is invalid').replace(/^must/, 'Must')}.`;
    result[key] = [...(result[key] ?? []), message];
  }
  for (const [path, values] of constsByPath) {
    const key = path || 'non_field_errors';
    if (result[key]) continue;
    const named = values.filter((v) => v !== null);
    result[key] =
      named.length > 0
        ? [`Must be one of: ${named.map(String).join(', ')}${values.includes(null) ? ' (or null)' : ''}.`]
        : ['Has an invalid value.'];
  }
  return result;
}

/**
 * Rules on a body that its schema cannot express (a password among the most common, a name of only spaces),
 * declared by a route in `config.bodyRules`. They run on the body whether or not the schema accepted it, so
 * one 400 reports every problem at once, the schema's and the rules'. A rule sees the body unvalidated: it
 * checks only values of the type it expects.
 */
export type BodyRules = (body: Record<string, unknown>) => FieldErrors;

/** Every rule's field errors, merged. */
export function bodyRules(...rules: BodyRules[]): BodyRules {
  return (body) => rules.reduce<FieldErrors>((all, rule) => mergeFieldErrors(all, rule(body)), {});
}

export function mergeFieldErrors(a: FieldErrors, b: FieldErrors): FieldErrors {
  const merged: FieldErrors = { ...a };
  for (const [field, messages] of Object.entries(b)) {
    merged[field] = [...new Set([...(merged[field] ?? []), ...messages])];
  }
  return merged;
}

/** The route's rule errors on this request's body (none when it declares no rules or the body is no object). */
export function ruleErrors(request: FastifyRequest): FieldErrors {
  const rules = request.routeOptions?.config?.bodyRules;
  const body = request.body;
  if (!rules || body === null || typeof body !== 'object' || Array.isArray(body)) return {};
  return rules(body as Record<string, unknown>);
}

/** Maps anything thrown during a request to an AppError; null means a bug (500). */
export function toAppError(error: unknown, extraFieldErrors: FieldErrors = {}): AppError | null {
  if (error instanceof AppError) return error;
  const e = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (e.validation) {
    // An id in the path that is not a positive integer below 2^31 names nothing: 404, not 400.
    if (e.validationContext === 'params') return new AppError('not_found', 'Not found.');
    const schemaErrors = fieldErrorsFromAjv(e.validation);
    return validationError(e.validationContext === 'body' ? mergeFieldErrors(schemaErrors, extraFieldErrors) : schemaErrors);
  }
  const unique = uniqueViolation(error);
  if (unique) return unique;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', `Unsupported media type "${mediaType(e)}"; send application/json.`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('parse_error', 'The body is empty but Content-Type is application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('parse_error', 'The Content-Length header does not match the body.');
    default:
      break;
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new AppError('parse_error', `Malformed JSON: ${e.message}`);
  }
  const status = e.statusCode ?? 500;
  if (status >= 500) return null;
  const byStatus = Object.entries(ERROR_STATUS).find(([, s]) => s === status)?.[0] as ErrorCode | undefined;
  return new AppError(byStatus ?? 'validation_error', e.message);
}

const SCOPE_COLUMNS = new Set(['account_id', 'site_id', 'sector_id']);

/**
 * A duplicate unique value is a field error on that field (the contract), whichever query hit it: the field is
 * read from the database's own detail, `Key (account_id, slug)=(1, shoes) already exists.`, skipping the
 * tenant columns the uniqueness is scoped by.
 */
function uniqueViolation(error: unknown): AppError | null {
  let current = error as { code?: string; detail?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 3; depth++) {
    if (current.code === '23505') {
      const keyColumns =
        /Key \(([^)]+)\)=/
          .exec(current.detail ?? '')?.[1]
          ?.split(',')
          .map((c) => c.trim()) ?? [];
      const field = keyColumns.filter((c) => !SCOPE_COLUMNS.has(c)).pop() ?? keyColumns.pop() ?? 'non_field_errors';
      const readable = field.replace(/^lower\((\w+)\)$/, '$1').replace(/::\w+$/, '');
      return validationError({ [readable]: ['A row with this value already exists.'] });
    }
    current = current.cause as typeof current;
  }
  return null;
}

function mediaType(error: FastifyError): string {
  return /media type:? ?'?([^'\s]+)/i.exec(error.message)?.[1] ?? 'unknown';
}

export function errorBody(request: FastifyRequest, error: AppError) {
  return {
    success: false as const,
    error: error.message,
    code: error.code,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
    ...(error.options.details ? { details: error.options.details } : {}),
    request_id: request.id,
  };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, thrown: unknown) {
  const validation = (thrown as { validationContext?: string }).validationContext === 'body';
  const error = toAppError(thrown, validation ? ruleErrors(request) : {});
  if (error === null) {
    request.log.error({ err: thrown }, 'unhandled error');
    const internal = new AppError('internal_error', 'Something went wrong on our side; the error has been logged.');
    return reply.code(500).type('application/json').send(errorBody(request, internal));
  }
  if (error.status >= 500) request.log.warn({ code: error.code }, error.message);
  for (const [name, value] of Object.entries(error.options.headers ?? {})) reply.header(name, value);
  return reply.code(error.status).type('application/json').send(errorBody(request, error));
}

/** Installs the one error path: thrown errors, unknown routes (404) and known paths with another method (405). */
export function installErrorHandling(app: FastifyInstance, allowedMethods: (url: string) => string[]) {
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = allowedMethods(path);
    if (allowed.length > 0) {
      const error = new AppError('method_not_allowed', `Method "${request.method}" not allowed.`, {
        headers: { Allow: allowed.join(', ') },
      });
      return sendError(request, reply, error);
    }
    return sendError(request, reply, new AppError('not_found', `No route matches ${request.method} ${path}.`));
  });
}

/** `204 No Content`: the one answer without an envelope besides 304, CSV downloads and event streams. */
export function noContent(reply: unknown): void {
  (reply as FastifyReply).code(204).send();
}
