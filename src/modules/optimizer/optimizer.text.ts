import { type DefaultTreeAdapterMap, parseFragment } from 'parse5';
import pluralize from 'pluralize';

/**
 * An article as a reader sees it, for the checks: the HTML parsed by parse5 (as a browser parses it, so
 * unclosed tags and stray end tags are repaired the same way, never regex-stripped), its text split into blocks
 * (paragraphs, headings, list items, cells…), each block into sentences by ICU's sentence breaker
 * (`Intl.Segmenter`, Unicode UAX #29) with common English abbreviations kept inside their sentence, and the
 * links and images with their attributes.
 */

type Node = DefaultTreeAdapterMap['childNode'];
type Element = DefaultTreeAdapterMap['element'];

export type BlockKind = 'paragraph' | 'heading' | 'item' | 'other';

export interface Sentence {
  text: string;
  /** Words as counted for lengths (letters and digits, inner apostrophes and hyphens). */
  wordCount: number;
  /** Tokens for matching, lower case (`c++`, `node.js`, `don't` stay whole). */
  tokens: string[];
}

export interface Block {
  kind: BlockKind;
  /** 1–6 for a heading. */
  level: number;
  text: string;
  wordCount: number;
  sentences: Sentence[];
}

export interface Link {
  href: string;
  rel: string;
  text: string;
}

export interface Image {
  src: string;
  alt: string;
}

export interface ParsedText {
  blocks: Block[];
  links: Link[];
  images: Image[];
  /** The whole visible text, blocks separated by a space. */
  text: string;
  wordCount: number;
  sentences: Sentence[];
}

/** Elements whose content a reader never sees as text. */
const HIDDEN = new Set([
  'script',
  'style',
  'template',
  'noscript',
  'title',
  'head',
  'meta',
  'link',
  'iframe',
  'object',
  'svg',
  'math',
  'textarea',
  'select',
]);
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'html',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'ul',
]);
/** Blocks whose loose text reads as a paragraph. */
const PARAGRAPH_LIKE = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'blockquote',
  'body',
  'html',
  'header',
  'footer',
  'aside',
  '#root',
]);

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
const TOKEN = /[\p{L}\p{N}]+(?:[.'’_-][\p{L}\p{N}]+)*[+#]*/gu;

export const countWordsOf = (text: string): number => text.match(WORD)?.length ?? 0;
export const tokensOf = (text: string): string[] => (text.toLowerCase().match(TOKEN) ?? []).map((t) => t.replace(/’/g, "'"));

const formCache = new Map<string, string>();
/** The form two words match on: singular for plain English words (`shoes` and `shoe` are one form). */
export function formOf(token: string): string {
  let form = formCache.get(token);
  if (form === undefined) {
    form = /^[a-z]{3,}$/.test(token) ? pluralize.singular(token) : token;
    if (formCache.size > 50_000) formCache.clear();
    formCache.set(token, form);
  }
  return form;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
/** Abbreviations after which ICU's breaker ends a sentence that has not ended. */
const ABBREVIATION =
  /(?:^|[\s(])(?:mr|mrs|ms|dr|prof|sr|jr|st|mt|vs|etc|inc|ltd|co|corp|no|fig|approx|dept|est|e\.g|i\.e|a\.m|p\.m|u\.s|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.\s*$/i;

/** A place where ICU's breaker always ends a sentence: a terminator, spaces, then a capital letter. */
const SURE_BREAK = /[.!?]["'”’)\]]*\s+(?=\p{Lu})/gu;
const CHUNK = 2000;

/**
 * Pieces of at most about CHUNK characters, cut only where a sentence ends anyway: V8's segmenter slows down
 * more than linearly over a long string, so a 1 MiB paragraph is segmented piece by piece.
 */
function* chunks(text: string): Generator<string> {
  let start = 0;
  while (text.length - start > CHUNK) {
    SURE_BREAK.lastIndex = start + CHUNK;
    const found = SURE_BREAK.exec(text);
    if (!found) break;
    const end = found.index + found[0].length;
    yield text.slice(start, end);
    start = end;
  }
  yield text.slice(start);
}

export function splitSentences(text: string): string[] {
  const out: string[] = [];
  let carry = '';
  for (const piece of chunks(text))
    for (const { segment } of sentenceSegmenter.segment(piece)) {
      const joined = carry + segment;
      if (ABBREVIATION.test(joined)) {
        carry = joined;
        continue;
      }
      carry = '';
      const trimmed = joined.trim();
      if (trimmed) out.push(trimmed);
    }
  const rest = carry.trim();
  if (rest) out.push(rest);
  return out;
}

function makeSentence(text: string): Sentence {
  return { text, wordCount: countWordsOf(text), tokens: tokensOf(text) };
}

const attr = (element: Element, name: string) => element.attrs.find((a) => a.name === name)?.value ?? '';

/** Parses an article's HTML into what the checks read. */
export function parseArticle(html: string): ParsedText {
  const blocks: Block[] = [];
  const links: Link[] = [];
  const images: Image[] = [];

  const flush = (parts: string[], tag: string) => {
    const text = parts.join('').replace(/\s+/g, ' ').trim();
    parts.length = 0;
    if (!text) return;
    const heading = /^h([1-6])$/.exec(tag);
    const kind: BlockKind = heading
      ? 'heading'
      : PARAGRAPH_LIKE.has(tag)
        ? 'paragraph'
        : tag === 'li' || tag === 'dd' || tag === 'dt'
          ? 'item'
          : 'other';
    const sentences = kind === 'heading' ? [makeSentence(text)] : splitSentences(text).map(makeSentence);
    blocks.push({ kind, level: heading ? Number(heading[1]) : 0, text, wordCount: countWordsOf(text), sentences });
  };

  /** Walks the children of a block element (`tag`), collecting its loose text into `parts`. */
  const walk = (nodes: Node[], tag: string, parts: string[], sink: string[][]) => {
    for (const node of nodes) {
      if (node.nodeName === '#text' && 'value' in node) {
        parts.push(node.value);
        for (const s of sink) s.push(node.value);
        continue;
      }
      if (!('tagName' in node)) continue;
      const name = node.tagName;
      if (HIDDEN.has(name)) continue;
      if (name === 'img') {
        images.push({ src: attr(node, 'src'), alt: attr(node, 'alt') });
        continue;
      }
      if (name === 'br') {
        parts.push(' ');
        continue;
      }
      const children = name === 'template' ? [] : node.childNodes;
      if (name === 'a') {
        const own: string[] = [];
        walk(children, tag, parts, [...sink, own]);
        links.push({
          href: attr(node, 'href').trim(),
          rel: attr(node, 'rel').toLowerCase(),
          text: own.join('').replace(/\s+/g, ' ').trim(),
        });
        continue;
      }
      if (BLOCKS.has(name)) {
        flush(parts, tag);
        const inner: string[] = [];
        walk(children, name, inner, sink);
        flush(inner, name);
        continue;
      }
      walk(children, tag, parts, sink);
    }
  };
  const root: string[] = [];
  walk(parseFragment(html).childNodes, '#root', root, []);
  flush(root, '#root');

  const sentences = blocks.flatMap((b) => b.sentences);
  return {
    blocks,
    links,
    images,
    text: blocks.map((b) => b.text).join(' '),
    wordCount: blocks.reduce((sum, b) => sum + b.wordCount, 0),
    sentences,
  };
}
