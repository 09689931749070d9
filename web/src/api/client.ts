import createClient from 'openapi-fetch';
import type { paths } from './schema';

/** An API error in the contract's shape: one sentence, a stable code, and messages by field. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: Record<string, string[]> = {},
    readonly details: Record<string, unknown> = {},
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Messages for one field (dotted path, as the API names them). */
  field(name: string): string | undefined {
    const messages = this.fieldErrors[name];
    return messages && messages.length > 0 ? messages.join(' ') : undefined;
  }

  /** Field errors the form does not show at a field of its own, with `non_field_errors`. */
  otherErrors(shown: string[]): string[] {
    return Object.entries(this.fieldErrors)
      .filter(([name, messages]) => !shown.includes(name) && messages.length > 0)
      .map(([name, messages]) => (name === 'non_field_errors' ? messages.join(' ') : `${name}: ${messages.join(' ')}`));
  }
}

interface ErrorBody {
  success?: false;
  error?: string;
  code?: string;
  errors?: Record<string, string[]>;
  details?: Record<string, unknown>;
  request_id?: string;
}

/** What the people using the console read: the API's own sentence, plus what the status means for them. */
export function explain(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  switch (error.code) {
    case 'insufficient_credits': {
      const { required, balance } = error.details as { required?: number; balance?: number };
      return `Not enough credits: this needs ${required ?? '?'} and the account has ${balance ?? '?'}. Buy credits or ask an owner to change the plan.`;
    }
    case 'precondition_failed':
      return 'Someone else changed this since you opened it. Reload to see their version, then apply your edit again.';
    case 'permission_denied':
      return `${error.message} Your role in this account does not allow it; ask an admin.`;
    default:
      return error.message;
  }
}

export async function toApiError(response: Response): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await response.clone().json()) as ErrorBody;
  } catch {
    // not JSON (a proxy's page): the status speaks
  }
  return new ApiError(
    response.status,
    body.code ?? 'http_error',
    body.error ?? `The server answered ${response.status} ${response.statusText}.`,
    body.errors ?? {},
    body.details ?? {},
    body.request_id ?? response.headers.get('x-request-id'),
  );
}

/** Every call goes to this origin's API with the session cookie; errors throw ApiError (TanStack Query shows them). */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use({
  async onResponse({ response }) {
    if (!response.ok && response.status !== 304) throw await toApiError(response);
    return response;
  },
});

/** The enveloped payload of a successful call. */
export async function data<T>(call: Promise<{ data?: { data: T } | undefined; response: Response }>): Promise<T> {
  const result = await call;
  if (!result.data) throw await toApiError(result.response);
  return result.data.data;
}

export interface Page<T> {
  count: number | null;
  next: string | null;
  previous: string | null;
  results: T[];
}
