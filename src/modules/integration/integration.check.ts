import { createHmac } from 'node:crypto';
import { UnsafeAddressError } from '../../core/public-network.js';
import {
  createWordPressClient,
  discoverRestRoot,
  transportOf,
  type WordPressCredentials,
  WordPressError,
  type WordPressIndex,
  type WordPressTransport,
} from './integration.wordpress.js';

/**
 * What `test_connection/` finds out about a site, without changing anything there: the REST root, the
 * WordPress version, whether the credentials are accepted (`users/me?context=edit`: a public GET answers 200
 * even with a wrong password), and whether the user may do what publishing does.
 */

/** What the publisher does on a site: write, publish and trash posts, upload media, create terms. */
export const PUBLISHING_CAPABILITIES = [
  'edit_posts',
  'publish_posts',
  'edit_published_posts',
  'delete_posts',
  'delete_published_posts',
  'upload_files',
  'manage_categories',
] as const;

export type CheckCode =
  | 'authentication_failed'
  | 'application_passwords_unavailable'
  | 'missing_capabilities'
  | 'unreachable'
  | 'not_wordpress'
  | 'http_error'
  | 'no_credentials';

export interface CheckOutcome {
  ok: boolean;
  code: CheckCode | null;
  message: string;
  rest_root: string | null;
  wordpress_version: string | null;
  authentication_methods: string[];
  user: { id: number; username: string; roles: string[] } | null;
  required_capabilities: string[];
  missing_capabilities: string[];
  /** false when WordPress answered as if no credentials had been sent; null when that was not asked. */
  credentials_seen: boolean | null;
}

/** WordPress's own codes for credentials it read and refused (an anonymous answer is `rest_not_logged_in`). */
const REFUSED_CREDENTIALS = new Set([
  'incorrect_password',
  'invalid_username',
  'invalid_email',
  'application_passwords_disabled',
  'application_passwords_disabled_for_user',
  'rest_application_password_revoked',
]);

export const HEADER_FIX =
  'If the application password is right, the web server strips the Authorization header before PHP sees it ' +
  '(Apache running PHP as CGI/FastCGI, or nginx in front of Apache): pass it through, with ' +
  '`RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]` in .htaccess, or ' +
  '`fastcgi_param HTTP_AUTHORIZATION $http_authorization;` in the nginx/FastCGI configuration.';

const base = (): Omit<CheckOutcome, 'ok' | 'code' | 'message'> => ({
  rest_root: null,
  wordpress_version: null,
  authentication_methods: [],
  user: null,
  required_capabilities: [...PUBLISHING_CAPABILITIES],
  missing_capabilities: [],
  credentials_seen: null,
});

/** A stored secret that does not decrypt: nothing was sent anywhere. */
export const unreadableSecret = (): CheckOutcome => ({ ...base(), ok: false, code: 'no_credentials', message: '' });

function unreachable(error: unknown, what: string): CheckOutcome {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof WordPressError && error.failure === 'invalid_response') {
    return { ...base(), ok: false, code: 'not_wordpress', message: `${what}: ${message}` };
  }
  if (error instanceof WordPressError && error.failure === 'http') {
    return { ...base(), ok: false, code: 'http_error', message: `${what}: ${message}` };
  }
  return { ...base(), ok: false, code: 'unreachable', message: `${what}: ${message}` };
}

/** The version in the home page's `<meta name="generator" content="WordPress 6.1.9">`, when the theme keeps it. */
async function generatorVersion(baseUrl: string, transport: Required<WordPressTransport>): Promise<string | null> {
  try {
    const answer = await transport.fetch(`${baseUrl.replace(/\/+$/, '')}/`, { signal: AbortSignal.timeout(transport.timeoutMs) });
    const html = (await answer.text()).slice(0, 200_000);
    return /<meta[^>]+name=["']generator["'][^>]+content=["']WordPress ([0-9][0-9a-z.-]*)["']/i.exec(html)?.[1] ?? null;
  } catch {
    return null;
  }
}

interface Me {
  id: number;
  username?: string;
  slug?: string;
  roles?: string[];
  capabilities?: Record<string, boolean>;
}

/** The checks' own limit when none is given: shorter than a publish's, as a person waits for the answer. */
const CHECK_TIMEOUT_MS = 15_000;

export async function checkWordPress(input: {
  baseUrl: string;
  credentials: WordPressCredentials | null;
  transport?: WordPressTransport;
}): Promise<CheckOutcome> {
  const transport = transportOf(input.transport, CHECK_TIMEOUT_MS);
  let found: { restRoot: string; index: WordPressIndex };
  try {
    found = await discoverRestRoot(input.baseUrl, transport);
  } catch (error) {
    return unreachable(error, 'The REST API could not be found');
  }
  const methods = Object.keys(found.index.authentication ?? {});
  const known = {
    ...base(),
    rest_root: found.restRoot,
    wordpress_version: await generatorVersion(input.baseUrl, transport),
    authentication_methods: methods,
  };
  if (input.credentials === null) {
    return { ...known, ok: false, code: 'no_credentials', message: 'No application password is stored: set `credentials`.' };
  }
  const client = createWordPressClient({ restRoot: found.restRoot, credentials: input.credentials, ...transport });
  let me: Me;
  try {
    me = (await client.request<Me>('GET', 'wp/v2/users/me', { query: { context: 'edit' } })).data;
  } catch (error) {
    if (!(error instanceof WordPressError) || error.failure !== 'http') return { ...known, ...unreachable(error, 'users/me') };
    return { ...known, ...credentialFailure(error, input.credentials.username, methods) };
  }
  const capabilities = me.capabilities ?? {};
  const missing = PUBLISHING_CAPABILITIES.filter((name) => capabilities[name] !== true);
  const user = { id: me.id, username: me.username ?? me.slug ?? input.credentials.username, roles: me.roles ?? [] };
  if (missing.length > 0) {
    return {
      ...known,
      user,
      credentials_seen: true,
      missing_capabilities: missing,
      ok: false,
      code: 'missing_capabilities',
      message: `The WordPress user "${user.username}" may not ${missing.join(', ')}, which publishing needs: give it the Editor or Administrator role.`,
    };
  }
  return { ...known, user, credentials_seen: true, ok: true, code: null, message: `Connected as "${user.username}".` };
}

/** Why users/me refused: the credentials were read and refused, or never seen (anonymous), or something else. */
function credentialFailure(
  error: WordPressError,
  username: string,
  methods: string[],
): Pick<CheckOutcome, 'ok' | 'code' | 'message' | 'credentials_seen'> {
  if (error.code !== null && REFUSED_CREDENTIALS.has(error.code)) {
    return {
      ok: false,
      code: 'authentication_failed',
      credentials_seen: true,
      message: `WordPress refused the application password of "${username}" (${error.code}: ${error.message}); create a new one in wp-admin → Users → Profile.`,
    };
  }
  if (error.code === 'rest_not_logged_in' || error.status === 401) {
    if (!methods.includes('application-passwords')) {
      return {
        ok: false,
        code: 'application_passwords_unavailable',
        credentials_seen: false,
        message:
          'This WordPress does not offer application passwords (its REST index advertises none): it is older than 5.6, a plugin turned them off, or the site is not served over HTTPS.',
      };
    }
    // WordPress read no credentials it accepts: a wrong password on versions that report it as anonymous, or
    // a header that never reached PHP. Its answers are the same for both, so both are named, with the fix.
    return {
      ok: false,
      code: 'authentication_failed',
      credentials_seen: false,
      message: `WordPress answered as if no credentials were sent (rest_not_logged_in), though the site offers application passwords: either the username "${username}" or its application password is wrong, or the Authorization header does not reach WordPress. ${HEADER_FIX}`,
    };
  }
  return {
    ok: false,
    code: 'http_error',
    credentials_seen: null,
    message: `users/me failed: ${error.message}`,
  };
}

/** A webhook destination: one signed `ping` delivery, as the publisher's deliveries are signed. */
export async function checkWebhook(input: {
  url: string;
  secret: string | null;
  transport?: WordPressTransport;
}): Promise<CheckOutcome> {
  const transport = transportOf(input.transport, CHECK_TIMEOUT_MS);
  const body = JSON.stringify({ type: 'ping', sent_at: new Date().toISOString() });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (input.secret !== null) headers['x-signature'] = `sha256=${createHmac('sha256', input.secret).update(body).digest('hex')}`;
  const outcome = { ...base(), required_capabilities: [] };
  try {
    const answer = await transport.fetch(input.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(transport.timeoutMs),
    });
    await answer.arrayBuffer();
    if (answer.ok) return { ...outcome, ok: true, code: null, message: `The endpoint answered ${answer.status} to a ping.` };
    return { ...outcome, ok: false, code: 'http_error', message: `The endpoint answered ${answer.status} to a signed ping.` };
  } catch (error) {
    const reason =
      error instanceof DOMException && error.name === 'TimeoutError'
        ? 'no answer in time'
        : error instanceof Error && error.cause instanceof UnsafeAddressError
          ? error.cause.message
          : String(error);
    return { ...outcome, ok: false, code: 'unreachable', message: `The endpoint could not be reached: ${reason}` };
  }
}
