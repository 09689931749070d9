import { Readable } from 'node:stream';
import { type DefaultTreeAdapterMap, parseFragment } from 'parse5';

/**
 * The files of a static export, as pure functions of what the job read: an article's page (title, meta
 * description, canonical URL, Open Graph, JSON-LD `Article`, the stored HTML with its images' addresses
 * rewritten to the export's copies), the index, `sitemap.xml` (the `sitemap` package) and `robots.txt`.
 * Every text from an article or a site is escaped for where it goes: HTML text, an attribute, or JSON inside
 * a `<script>` (where `</script>` in a title must stay text).
 */

type Node = DefaultTreeAdapterMap['childNode'];
type Element = DefaultTreeAdapterMap['element'];

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/**
 * JSON for a `<script type="application/ld+json">`: `<`, `>` and `&` as JSON escapes, so no `</script>` or
 * `<!--` can end or change the script element, and U+2028/9 escaped for old parsers; still the same JSON.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function* elements(nodes: Node[]): Generator<Element> {
  for (const node of nodes) {
    if ('tagName' in node) {
      yield node;
      yield* elements(node.childNodes);
      if (node.tagName === 'template' && 'content' in node)
        yield* elements((node as { content: { childNodes: Node[] } }).content.childNodes);
    }
  }
}

/**
 * The article's HTML with each `<img src>` that names a stored file (`…/media/<key>`, whatever PUBLIC_URL was
 * when it was written) pointing at `copies.get(key)` instead. Only the `src` attributes change: the rest of
 * the stored (sanitised) HTML is spliced through byte for byte.
 */
export function rewriteImageSources(html: string, copies: ReadonlyMap<string, string>): string {
  const fragment = parseFragment(html, { sourceCodeLocationInfo: true });
  const edits: { start: number; end: number; text: string }[] = [];
  for (const element of elements(fragment.childNodes)) {
    if (element.tagName !== 'img') continue;
    const src = element.attrs.find((a) => a.name === 'src')?.value;
    const location = element.sourceCodeLocation?.attrs?.src;
    if (src === undefined || !location) continue;
    const key = storedKeyOf(src);
    const copy = key === null ? undefined : copies.get(key);
    if (copy !== undefined)
      edits.push({ start: location.startOffset, end: location.endOffset, text: `src="${escapeHtml(copy)}"` });
  }
  let out = html;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

/** The storage key a `/media/<key>` address names (absolute or from the root), else null. */
export function storedKeyOf(src: string): string | null {
  let path: string;
  try {
    path = new URL(src, 'http://local.invalid').pathname;
  } catch {
    return null;
  }
  const match = /\/media\/([^?#]+)$/.exec(path);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

export interface SiteHead {
  name: string;
  description: string;
}

export interface ArticlePage {
  title: string;
  meta_title: string;
  meta_description: string;
  html: string;
  canonical_url: string;
  /** The featured image's copy: relative (for the page) and absolute (for Open Graph and JSON-LD). */
  featured: { href: string; url: string; alt: string; width: number | null; height: number | null } | null;
  date_published: Date;
  date_modified: Date;
  author: string | null;
  tags: string[];
  categories: string[];
  /** The index page, relative to the article's page. */
  home_href: string;
}

const STYLE =
  'body{font:17px/1.6 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#222}' +
  'img{max-width:100%;height:auto}header a{color:inherit;text-decoration:none;font-weight:600}' +
  'time{color:#666}ul.articles{list-style:none;padding:0}ul.articles li{margin:1.2rem 0}';

function head(parts: { title: string; description: string; canonical: string; extra: string[] }): string {
  return [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(parts.title)}</title>`,
    ...(parts.description ? [`<meta name="description" content="${escapeHtml(parts.description)}">`] : []),
    `<link rel="canonical" href="${escapeHtml(parts.canonical)}">`,
    ...parts.extra,
    `<style>${STYLE}</style>`,
  ].join('\n');
}

const meta = (property: string, content: string) => `<meta property="${property}" content="${escapeHtml(content)}">`;

export function articleJsonLd(site: SiteHead, page: ArticlePage): Record<string, unknown> {
  return {
    '@context': 'https://schema.org',
    '@type': 'Article',
    headline: page.title,
    ...(page.meta_description ? { description: page.meta_description } : {}),
    datePublished: page.date_published.toISOString(),
    dateModified: page.date_modified.toISOString(),
    mainEntityOfPage: { '@type': 'WebPage', '@id': page.canonical_url },
    url: page.canonical_url,
    ...(page.featured ? { image: [page.featured.url] } : {}),
    ...(page.author ? { author: { '@type': 'Person', name: page.author } } : {}),
    ...(site.name ? { publisher: { '@type': 'Organization', name: site.name } } : {}),
    ...(page.tags.length > 0 ? { keywords: page.tags.join(', ') } : {}),
    ...(page.categories.length > 0 ? { articleSection: page.categories[0] } : {}),
  };
}

export function renderArticlePage(site: SiteHead, page: ArticlePage): string {
  const title = page.meta_title || page.title;
  const featured = page.featured;
  const og = [
    meta('og:type', 'article'),
    meta('og:title', title),
    ...(page.meta_description ? [meta('og:description', page.meta_description)] : []),
    meta('og:url', page.canonical_url),
    ...(site.name ? [meta('og:site_name', site.name)] : []),
    ...(featured
      ? [
          meta('og:image', featured.url),
          ...(featured.alt ? [meta('og:image:alt', featured.alt)] : []),
          ...(featured.width ? [meta('og:image:width', String(featured.width))] : []),
          ...(featured.height ? [meta('og:image:height', String(featured.height))] : []),
        ]
      : []),
    meta('article:published_time', page.date_published.toISOString()),
    meta('article:modified_time', page.date_modified.toISOString()),
    ...page.tags.map((tag) => meta('article:tag', tag)),
    `<meta name="twitter:card" content="${featured ? 'summary_large_image' : 'summary'}">`,
    `<script type="application/ld+json">${scriptJson(articleJsonLd(site, page))}</script>`,
  ];
  const size = featured
    ? `${featured.width ? ` width="${featured.width}"` : ''}${featured.height ? ` height="${featured.height}"` : ''}`
    : '';
  const hero = featured
    ? `<figure class="featured"><img src="${escapeHtml(featured.href)}" alt="${escapeHtml(featured.alt)}"${size}></figure>\n`
    : '';
  return [
    '<!doctype html>',
    '<html>',
    '<head>',
    head({ title, description: page.meta_description, canonical: page.canonical_url, extra: og }),
    '</head>',
    '<body>',
    `<header><a href="${escapeHtml(page.home_href)}">${escapeHtml(site.name)}</a></header>`,
    '<main><article>',
    `<h1>${escapeHtml(page.title)}</h1>`,
    `<p><time datetime="${page.date_published.toISOString()}">${page.date_published.toISOString().slice(0, 10)}</time></p>`,
    `${hero}${page.html}`,
    '</article></main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export interface IndexEntry {
  title: string;
  description: string;
  href: string;
  date: Date;
}

export function renderIndexPage(site: SiteHead, canonicalUrl: string, entries: IndexEntry[]): string {
  const items = entries.map(
    (e) =>
      `<li><a href="${escapeHtml(e.href)}">${escapeHtml(e.title)}</a> <time datetime="${e.date.toISOString()}">${e.date
        .toISOString()
        .slice(0, 10)}</time>${e.description ? `<br>${escapeHtml(e.description)}` : ''}</li>`,
  );
  const jsonLd = { '@context': 'https://schema.org', '@type': 'WebSite', name: site.name, url: canonicalUrl };
  return [
    '<!doctype html>',
    '<html>',
    '<head>',
    head({
      title: site.name || 'Articles',
      description: site.description,
      canonical: canonicalUrl,
      extra: [
        meta('og:type', 'website'),
        meta('og:title', site.name || 'Articles'),
        meta('og:url', canonicalUrl),
        `<script type="application/ld+json">${scriptJson(jsonLd)}</script>`,
      ],
    }),
    '</head>',
    '<body>',
    `<header><h1>${escapeHtml(site.name || 'Articles')}</h1>${site.description ? `<p>${escapeHtml(site.description)}</p>` : ''}</header>`,
    '<main>',
    entries.length > 0 ? `<ul class="articles">\n${items.join('\n')}\n</ul>` : '<p>No articles yet.</p>',
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** `sitemap.xml` of absolute URLs, each with its `lastmod`, through the `sitemap` package (escaped and validated there). */
export async function renderSitemap(entries: { url: string; lastmod: Date }[]): Promise<Buffer> {
  // Loaded on the first build (~12 MB of a process's memory): a server that never deploys never needs it.
  const { SitemapStream, streamToPromise } = await import('sitemap');
  const stream = new SitemapStream();
  return streamToPromise(Readable.from(entries.map((e) => ({ url: e.url, lastmod: e.lastmod.toISOString() }))).pipe(stream));
}

export const renderRobots = (sitemapUrl: string) => `User-agent: *\nAllow: /\n\nSitemap: ${sitemapUrl}\n`;
