/**
 * Addresses of a site's articles: where a link to one points, and which article an existing `href` names (by
 * its URL, or by its slug as the last segment of a path on the site). Pure functions.
 */

export interface Addressable {
  id: number;
  slug: string;
  status: string;
  external_url: string | null;
}

/** The published URL when there is one, else the site's URL + the slug (`/slug/` when the site has no URL). */
export function articleUrl(article: Addressable, siteUrl: string): string {
  if (article.status === 'published' && article.external_url) return article.external_url;
  return `${siteUrl.trim().replace(/\/+$/, '')}/${article.slug}/`;
}

const BASE = 'http://site.invalid/';

function parsed(href: string, base: string): URL | null {
  try {
    return new URL(href, base);
  } catch {
    return null;
  }
}

const key = (url: URL) => `${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;

/** `href` → the article it names (null for anything else: another site, an anchor, an unknown slug). */
export function articleMatcher(articles: Addressable[], siteUrl: string): (href: string) => number | null {
  const base = parsed(siteUrl || BASE, BASE)?.href ?? BASE;
  const byUrl = new Map<string, number>();
  const bySlug = new Map<string, number>();
  const hosts = new Set([new URL(base).host.toLowerCase()]);
  for (const article of articles) {
    bySlug.set(article.slug.toLowerCase(), article.id);
    for (const address of [article.external_url, articleUrl(article, siteUrl)]) {
      const url = address ? parsed(address, base) : null;
      if (!url) continue;
      byUrl.set(key(url), article.id);
      hosts.add(url.host.toLowerCase());
    }
  }
  return (href) => {
    const url = parsed(href.trim(), base);
    if (!url || !/^https?:$/.test(url.protocol)) return null;
    const exact = byUrl.get(key(url));
    if (exact !== undefined) return exact;
    if (!hosts.has(url.host.toLowerCase())) return null;
    const last = url.pathname.split('/').filter(Boolean).pop();
    if (!last) return null;
    let slug = last;
    try {
      slug = decodeURIComponent(last);
    } catch {}
    return bySlug.get(slug.toLowerCase().replace(/\.html?$/, '')) ?? null;
  };
}
