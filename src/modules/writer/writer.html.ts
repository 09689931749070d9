import { createRequire } from 'node:module';
import { type DefaultTreeAdapterMap, parseFragment } from 'parse5';
import type sanitizeHtml from 'sanitize-html';

/**
 * The one way an article's HTML is made safe to store: every path that writes `html` (the model's answer, a
 * person's edit, an import, a restore) goes through `sanitizeArticleHtml`. An allowlist, not a blocklist: what
 * is not named here is dropped (`script`, `style`, `iframe`, `form`, `on*` attributes, `javascript:` and
 * `data:` URLs among it).
 */
const ARTICLE_HTML: sanitizeHtml.IOptions = {
  allowedTags: [
    'h2',
    'h3',
    'h4',
    'p',
    'br',
    'hr',
    'ul',
    'ol',
    'li',
    'blockquote',
    'figure',
    'figcaption',
    'img',
    'a',
    'strong',
    'em',
    'code',
    'pre',
    'table',
    'caption',
    'thead',
    'tbody',
    'tfoot',
    'tr',
    'th',
    'td',
    'sup',
    'sub',
  ],
  allowedAttributes: {
    a: ['href', 'rel', 'title'],
    img: ['src', 'alt', 'title', 'width', 'height', 'loading'],
    th: ['colspan', 'rowspan', 'scope'],
    td: ['colspan', 'rowspan'],
    ol: ['start'],
  },
  // Links and images: http(s) or relative (`/path`, `#anchor`); never protocol-relative (`//host`).
  allowedSchemes: ['http', 'https'],
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  // The title is the page's h1: a heading the model writes as h1 becomes a section heading.
  transformTags: { h1: 'h2', b: 'strong', i: 'em' },
  // These elements' text is dropped with them (a `<script>`'s code never becomes article text).
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'template', 'svg', 'math'],
  disallowedTagsMode: 'discard',
  // An image whose only source was refused is no image at all.
  exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
};

const require = createRequire(import.meta.url);
// Loaded on the first article (it and its CSS parser hold ~17 MB): a server that stores no article never needs it.
let sanitizer: typeof sanitizeHtml | null = null;

export function sanitizeArticleHtml(html: string): string {
  sanitizer ??= require('sanitize-html') as typeof sanitizeHtml;
  return sanitizer(html, ARTICLE_HTML).trim();
}

type Node = DefaultTreeAdapterMap['childNode'];

/** The article's text, block elements separated by spaces (so `<p>a</p><p>b</p>` is two words). */
export function articleText(html: string): string {
  const parts: string[] = [];
  const walk = (nodes: Node[]) => {
    for (const node of nodes) {
      if (node.nodeName === '#text' && 'value' in node) parts.push(node.value);
      else if ('childNodes' in node) {
        walk(node.childNodes);
        parts.push(' ');
      }
    }
  };
  walk(parseFragment(html).childNodes);
  return parts.join('').replace(/\s+/g, ' ').trim();
}

/** Words of the article's text: runs of letters or digits (with inner apostrophes and hyphens). */
export function countWords(html: string): number {
  return articleText(html).match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0;
}

export const SLUG_MAX = 200;

/**
 * A URL slug from a title: accents folded, lower case, runs of anything else one hyphen. Room is left for the
 * `-2`, `-3`… suffix that makes it unique per site. A title with no letter or digit gives `article`.
 */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX - 8)
    .replace(/-+$/, '');
  return slug || 'article';
}
