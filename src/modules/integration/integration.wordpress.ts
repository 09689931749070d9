import { type Fetch, UnsafeAddressError } from '../../core/public-network.js';

/**
 * A WordPress REST API client: the one place that knows how WordPress is spoken to (the REST root, Basic auth
 * with an application password, its error bodies, its paging headers). The integration module's checks and
 * sync and the publisher's jobs go through it; each adds its own calls on top of `request` and `pages`.
 */

export interface WordPressCredentials {
  username: string;
  /** An application password (24 letters and digits; the spaces wp-admin shows are accepted either way). */
  applicationPassword: string;
}

/** How this process reaches WordPress sites (one per process, from the config: modules.ts). */
export interface WordPressTransport {
  /** Per request; a request still running then fails as a `timeout` (retryable). Default 30 s. */
  timeoutMs?: number;
  /**
   * The fetch every request goes through: core/public-network.ts's, which refuses the server's own network
   * unless INTEGRATION_ALLOW_PRIVATE. Default: the global fetch (tests, scripts).
   */
  fetch?: Fetch;
}

export interface WordPressClientOptions extends WordPressTransport {
  /** The REST root as discovered: `https://site/wp-json/` or `https://site/?rest_route=/`. */
  restRoot: string;
  credentials: WordPressCredentials | null;
}

export type WordPressFailure = 'http' | 'timeout' | 'network' | 'invalid_response';

/**
 * What went wrong, with WordPress's own `code` and `message` when it answered with its error body
 * (`{"code","message","data":{"status"}}`). `retryable` is the publisher's rule: 5xx, 408, 429, timeouts and
 * connection errors may pass; any other 4xx will not.
 */
export class WordPressError extends Error {
  constructor(
    readonly failure: WordPressFailure,
    message: string,
    readonly status: number | null = null,
    readonly code: string | null = null,
    readonly data: unknown = null,
  ) {
    super(message);
    this.name = 'WordPressError';
  }

  get retryable(): boolean {
    if (this.failure === 'timeout' || this.failure === 'network') return true;
    if (this.status === null) return false;
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export interface WordPressResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

export interface WordPressRequest {
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body; or `body` + `contentType` for raw uploads (media). */
  json?: unknown;
  body?: Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

/** The REST index's parts we read: what the site is and how it lets clients authenticate. */
export interface WordPressIndex {
  name?: string;
  url?: string;
  home?: string;
  namespaces?: string[];
  authentication?: Record<string, unknown>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** `route` (e.g. `wp/v2/posts/12`) under a REST root of either form, with query parameters. */
export function restUrl(restRoot: string, route: string, query: WordPressRequest['query'] = {}): URL {
  const url = new URL(restRoot);
  const path = route.replace(/^\/+/, '');
  const routed = url.searchParams.get('rest_route');
  if (routed !== null) url.searchParams.set('rest_route', `${routed.replace(/\/+$/, '')}/${path}`);
  else url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url;
}

function authorization(credentials: WordPressCredentials | null): Record<string, string> {
  if (credentials === null) return {};
  const password = credentials.applicationPassword.replace(/\s+/g, '');
  return { authorization: `Basic ${Buffer.from(`${credentials.username}:${password}`).toString('base64')}` };
}

function isWordPressErrorBody(value: unknown): value is { code: string; message: string; data?: unknown } {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

/**
 * Node's fetch reports refused or reset connections as a TypeError with the system error as its cause; an
 * address refused as not public says so in full.
 */
function networkMessage(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof UnsafeAddressError) return cause.message;
  const system = cause as { code?: string; message?: string } | undefined;
  return system?.code ?? system?.message ?? (error instanceof Error ? error.message : String(error));
}

/** A transport with its defaults filled in: `defaultTimeoutMs` (30 s unless a caller waits less) and the global fetch. */
export const transportOf = (
  transport: WordPressTransport = {},
  defaultTimeoutMs = DEFAULT_TIMEOUT_MS,
): Required<WordPressTransport> => ({
  timeoutMs: transport.timeoutMs ?? defaultTimeoutMs,
  fetch: transport.fetch ?? ((input, init) => fetch(input, init)),
});

async function send<T>(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  transport: Required<WordPressTransport>,
): Promise<WordPressResponse<T>> {
  const { timeoutMs } = transport;
  let response: Response;
  try {
    response = await transport.fetch(url, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
  } catch (error) {
    if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw new WordPressError('timeout', `${method} ${url.origin}: no answer within ${timeoutMs / 1000} s`);
    }
    throw new WordPressError('network', `${method} ${url.origin}: could not connect (${networkMessage(error)})`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new WordPressError('network', `${method} ${url.origin}: the connection dropped (${networkMessage(error)})`);
  }
  let data: unknown;
  try {
    data = text === '' ? null : JSON.parse(text);
  } catch {
    if (!response.ok) {
      throw new WordPressError('http', `WordPress answered ${response.status} without a JSON body`, response.status);
    }
    throw new WordPressError(
      'invalid_response',
      `${url.origin} answered ${response.status} with something other than JSON: is this a WordPress REST API?`,
      response.status,
    );
  }
  if (!response.ok) {
    if (isWordPressErrorBody(data)) {
      throw new WordPressError(
        'http',
        `WordPress answered ${response.status} ${data.code}: ${data.message}`,
        response.status,
        data.code,
        data.data ?? null,
      );
    }
    throw new WordPressError('http', `WordPress answered ${response.status}`, response.status, null, data);
  }
  return { status: response.status, headers: response.headers, data: data as T };
}

export interface WordPressClient {
  readonly restRoot: string;
  request<T>(method: string, route: string, request?: WordPressRequest): Promise<WordPressResponse<T>>;
  /** Every item of a collection, page by page (`per_page` 100, until `X-WP-TotalPages`). */
  pages<T>(route: string, query?: WordPressRequest['query']): AsyncGenerator<T[]>;
}

export function createWordPressClient(options: WordPressClientOptions): WordPressClient {
  const transport = transportOf(options);
  const auth = authorization(options.credentials);
  const client: WordPressClient = {
    restRoot: options.restRoot,
    request<T>(method: string, route: string, request: WordPressRequest = {}) {
      const headers: Record<string, string> = { accept: 'application/json', ...auth, ...request.headers };
      let body: string | Uint8Array | undefined;
      if (request.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(request.json);
      } else if (request.body !== undefined) {
        headers['content-type'] = request.contentType ?? 'application/octet-stream';
        body = request.body;
      }
      return send<T>(method, restUrl(options.restRoot, route, request.query), headers, body, transport);
    },
    async *pages<T>(route: string, query: WordPressRequest['query'] = {}) {
      for (let page = 1, totalPages = 1; page <= totalPages; page++) {
        const answer = await client.request<T[]>('GET', route, { query: { per_page: 100, ...query, page } });
        totalPages = Number(answer.headers.get('x-wp-totalpages') ?? '1') || 1;
        if (!Array.isArray(answer.data)) {
          throw new WordPressError('invalid_response', `${route}: a list was expected`, answer.status);
        }
        yield answer.data;
      }
    },
  };
  return client;
}

function isIndex(value: unknown): value is WordPressIndex {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as WordPressIndex).namespaces) &&
    ((value as WordPressIndex).namespaces ?? []).includes('wp/v2')
  );
}

/** The REST root a site's `Link: <…>; rel="https://api.w.org/"` header names, when it sends one. */
function advertisedRoot(link: string | null): string | null {
  if (link === null) return null;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?https:\/\/api\.w\.org\/"?/.exec(part);
    if (match?.[1]) return match[1];
  }
  return null;
}

/**
 * Where a site's REST API lives: the root its home page advertises (WordPress's own discovery), else
 * `/wp-json/` (pretty permalinks), else `/?rest_route=/` (plain permalinks, or a server that does not route
 * /wp-json/). The first whose index lists `wp/v2` wins; what each attempt answered is in the error otherwise.
 */
export async function discoverRestRoot(
  baseUrl: string,
  options: WordPressTransport = {},
): Promise<{ restRoot: string; index: WordPressIndex }> {
  const transport = transportOf(options);
  const { timeoutMs } = transport;
  const base = baseUrl.replace(/\/+$/, '');
  const candidates: string[] = [];
  const tried: string[] = [];
  try {
    const home = await transport.fetch(`${base}/`, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    const advertised = advertisedRoot(home.headers.get('link'));
    if (advertised !== null) candidates.push(advertised);
  } catch (error) {
    if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw new WordPressError('timeout', `${base}: no answer within ${timeoutMs / 1000} s`);
    }
    throw new WordPressError('network', `${base}: could not connect (${networkMessage(error)})`);
  }
  for (const root of [`${base}/wp-json/`, `${base}/?rest_route=/`]) if (!candidates.includes(root)) candidates.push(root);
  for (const restRoot of candidates) {
    try {
      const answer = await send<unknown>('GET', new URL(restRoot), { accept: 'application/json' }, undefined, transport);
      if (isIndex(answer.data)) return { restRoot, index: answer.data };
      tried.push(`${restRoot} is not a WordPress REST index`);
    } catch (error) {
      if (error instanceof WordPressError && (error.failure === 'timeout' || error.failure === 'network')) throw error;
      tried.push(`${restRoot}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new WordPressError('invalid_response', `no WordPress REST API found at ${base} (${tried.join('; ')})`);
}
