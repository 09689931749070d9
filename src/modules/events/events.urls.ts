/**
 * Where a webhook may be sent: the URL's form here; whether its host may be called is the platform's rule for
 * every address a tenant gives (core/public-network.ts: public addresses only, unless WEBHOOK_ALLOW_PRIVATE).
 */

/** What is wrong with a receiver URL's form, or null: http(s), a host, no credentials, no fragment. */
export function urlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Enter a valid URL.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Only http and https URLs are accepted.';
  if (!url.hostname) return 'The URL needs a host.';
  if (url.username || url.password) return 'Put no credentials in the URL; verify the signature instead.';
  if (url.hash) return 'The URL cannot have a fragment (#...).';
  return null;
}
