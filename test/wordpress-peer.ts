import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The real WordPress the publisher's tests talk to (../shared/peers/wordpress). `.ci/run` starts it and
 * passes its `.creds` file as WP_PEER_CREDS; locally, a peer started in its own folder is found there. Without
 * one, `wordpressPeer()` is null and the tests that need it skip, saying why once.
 */
export interface WordPressPeer {
  baseUrl: string;
  restUrl: string;
  username: string;
  applicationPassword: string;
}

function parseCreds(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2].replace(/^['"]|['"]$/g, '');
  }
  return values;
}

let found: { peer: WordPressPeer | null; why: string } | undefined;

async function locate(): Promise<{ peer: WordPressPeer | null; why: string }> {
  const given = process.env.WP_PEER_CREDS;
  const file = given ?? resolve(import.meta.dirname, '../../shared/peers/wordpress/.creds');
  if (!existsSync(file)) {
    return {
      peer: null,
      why: `no WordPress peer credentials at ${file} (set WP_PEER_CREDS, or start ../shared/peers/wordpress/start.sh)`,
    };
  }
  const values = parseCreds(readFileSync(file, 'utf8'));
  const { BASE_URL, REST_URL, USER, APP_PASSWORD } = values;
  if (!BASE_URL || !REST_URL || !USER || !APP_PASSWORD)
    return { peer: null, why: `${file} lacks BASE_URL, REST_URL, USER or APP_PASSWORD` };
  try {
    const answer = await fetch(new URL('wp/v2/users/me?context=edit', REST_URL), {
      headers: { authorization: `Basic ${Buffer.from(`${USER}:${APP_PASSWORD}`).toString('base64')}` },
      signal: AbortSignal.timeout(5000),
    });
    if (answer.status !== 200)
      return { peer: null, why: `the WordPress peer at ${BASE_URL} refused its own credentials (${answer.status})` };
  } catch (error) {
    return { peer: null, why: `the WordPress peer at ${BASE_URL} does not answer (${(error as Error).message})` };
  }
  return { peer: { baseUrl: BASE_URL, restUrl: REST_URL, username: USER, applicationPassword: APP_PASSWORD }, why: '' };
}

/** The running peer, or null after printing one line saying why the tests that need it skip. */
export async function wordpressPeer(suite: string): Promise<WordPressPeer | null> {
  found ??= await locate();
  if (found.peer === null) console.warn(`[${suite}] skipped: ${found.why}`);
  return found.peer;
}
