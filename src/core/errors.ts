/**
 * Every error a client can see is an AppError with one of the contract's codes. Anything else that is thrown
 * is a bug and leaves the server as `500 internal_error` (see the error handler in envelope.ts).
 */

export const ERROR_STATUS = {
  validation_error: 400,
  parse_error: 400,
  not_authenticated: 401,
  authentication_failed: 401,
  token_expired: 401,
  insufficient_credits: 402,
  permission_denied: 403,
  plan_limit_reached: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  throttled: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Field name (dotted path for nested fields) → messages; `non_field_errors` for the rest. */
export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { errors?: FieldErrors; details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what = 'Object') => new AppError('not_found', `${what} not found.`);

export const permissionDenied = (message = 'You do not have permission to perform this action.') =>
  new AppError('permission_denied', message);

export const conflict = (message: string, currentState?: string) =>
  new AppError('conflict', message, currentState === undefined ? {} : { details: { current_status: currentState } });

/** A 400 naming fields; the sentence is built from the first field so a person sees what to fix. */
export function validationError(errors: FieldErrors, message?: string): AppError {
  const fields = Object.keys(errors).filter((f) => f !== 'non_field_errors' && errors[f]?.length);
  const nonFieldErrors = errors.non_field_errors ?? [];
  const all: FieldErrors = { ...errors, non_field_errors: nonFieldErrors };
  if (message === undefined) {
    const first = fields[0];
    const nonField = nonFieldErrors[0];
    if (first) {
      const firstMessage = errors[first]?.[0] ?? 'is invalid.';
      message = `${first}: ${firstMessage}${fields.length > 1 ? ` (and ${fields.length - 1} more field${fields.length > 2 ? 's' : ''})` : ''}`;
    } else {
      message = nonField ?? 'Invalid input.';
    }
  }
  return new AppError('validation_error', message, { errors: all });
}

export const fieldError = (field: string, message: string) => validationError({ [field]: [message] });
