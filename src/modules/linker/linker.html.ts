import { type DefaultTreeAdapterMap, parse, parseFragment } from 'parse5';
import { split as splitSentences } from 'sentence-splitter';

/**
 * Where an anchor may go in an article, through the parser (parse5 with source locations), never a regex over
 * the markup: the body text a reader sees, as pieces of the source with their offsets, so a link is spliced
 * into the source at those offsets and every other byte stays as it was. Pure functions.
 *
 * The HTML is parsed as a browser parses `body.innerHTML = html` (unclosed tags, stray end tags, misnested
 * formatting all repaired the browser's way), so "inside a heading" or "inside a link" means what a reader's
 * browser shows, whatever the source looks like.
 */

type Node = DefaultTreeAdapterMap['childNode'];
type Element = DefaultTreeAdapterMap['element'];
type TextNode = DefaultTreeAdapterMap['textNode'];

/** Text inside these is never an anchor: headings, links, code, captions, form controls, raw text. */
const FORBIDDEN = new Set([
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'a',
  'code',
  'pre',
  'kbd',
  'samp',
  'figcaption',
  'caption',
  'script',
  'style',
  'textarea',
  'title',
  'noscript',
  'button',
  'select',
  'option',
  'label',
  'svg',
  'math',
  'iframe',
  'object',
  'template',
]);

/** Elements that hold sentences of their own: a sentence never runs across two of them. */
const BLOCKS = new Set([
  'p',
  'li',
  'td',
  'th',
  'blockquote',
  'div',
  'section',
  'article',
  'dd',
  'dt',
  'figure',
  'ul',
  'ol',
  'table',
  'tr',
  'main',
  'aside',
  'header',
  'footer',
  'details',
  'summary',
  'address',
]);

/** A character reference in the source (`&amp;`, `&#233;`, `&#xE9;`, `&foo`): never part of a match. */
const CHAR_REF = /&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)/g;

/** A run of the source that is literal body text: `text` is exactly `html.slice(start, start + text.length)`. */
export interface TextPiece {
  start: number;
  text: string;
  /** The block (paragraph, list item, cell…) it belongs to: pieces of one block share it. */
  block: number;
}

export interface BodyText {
  /** Pieces where an anchor may go, in source order. */
  pieces: TextPiece[];
  /** Every block's text, as the concatenation of its text nodes' source (allowed or not), for sentences. */
  blocks: Map<number, { parts: { start: number; text: string }[] }>;
}

const isElement = (node: Node): node is Element => 'tagName' in node;
const isText = (node: Node): node is TextNode => node.nodeName === '#text';

let bodyContext: Element | null = null;
/** The `<body>` element a fragment is parsed in (as `innerHTML` on the body: not a template's rules). */
function body(): Element {
  if (bodyContext) return bodyContext;
  const html = parse('<!doctype html><html><head></head><body></body></html>').childNodes.find(
    (n): n is Element => isElement(n) && n.tagName === 'html',
  );
  const found = html?.childNodes.find((n): n is Element => isElement(n) && n.tagName === 'body');
  if (!found) throw new Error('parse5 made no body element');
  bodyContext = found;
  return found;
}

export function parseArticle(html: string) {
  return parseFragment(body(), html, { sourceCodeLocationInfo: true });
}

/**
 * Whether a text node sits in the tree where it sits in the source: after its previous sibling, before its
 * next one, inside its parent's tags. Text the parser moved (foster-parented out of a table, reparented by the
 * adoption agency) is not, and is left alone: a link spliced at its offsets would not land where it seems to.
 */
function inPlace(node: TextNode): boolean {
  const location = node.sourceCodeLocation;
  if (!location) return false;
  const siblings = node.parentNode?.childNodes ?? [];
  const index = siblings.indexOf(node);
  const before = siblings[index - 1]?.sourceCodeLocation;
  const after = siblings[index + 1]?.sourceCodeLocation;
  if (before && before.endOffset > location.startOffset) return false;
  if (after && after.startOffset < location.endOffset) return false;
  const parent = node.parentNode;
  if (parent && 'tagName' in parent && parent.sourceCodeLocation) {
    const tags = parent.sourceCodeLocation;
    if (tags.startTag && tags.startTag.endOffset > location.startOffset) return false;
    if (tags.endTag && tags.endTag.startOffset < location.endOffset) return false;
  }
  return true;
}

/**
 * The end offset of the article's first paragraph: its first `<p>`, or when it has none its first block of
 * text (a top-level element that is not a heading, or bare text). Nothing before it may hold an anchor.
 */
function introEnd(nodes: Node[]): number {
  const stack = [...nodes].reverse();
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (isElement(node)) {
      if (node.tagName === 'p') return node.sourceCodeLocation?.endOffset ?? Number.POSITIVE_INFINITY;
      for (let i = node.childNodes.length - 1; i >= 0; i--) stack.push(node.childNodes[i] as Node);
    }
  }
  for (const node of nodes) {
    if (isText(node) && node.value.trim() === '') continue;
    if (isElement(node) && /^h[1-6]$/.test(node.tagName)) continue;
    return node.sourceCodeLocation?.endOffset ?? Number.POSITIVE_INFINITY;
  }
  return 0;
}

/** The article's body text where anchors may go (never in headings, links, code, captions or the first paragraph). */
export function bodyText(html: string): BodyText {
  const fragment = parseArticle(html);
  const intro = introEnd(fragment.childNodes);
  const pieces: TextPiece[] = [];
  const blocks: BodyText['blocks'] = new Map();
  let nextBlock = 0;
  const walk = (nodes: Node[], forbidden: boolean, block: number) => {
    for (const node of nodes) {
      if (isElement(node)) {
        const own = BLOCKS.has(node.tagName) ? ++nextBlock : block;
        walk(node.childNodes, forbidden || FORBIDDEN.has(node.tagName), own);
        continue;
      }
      if (!isText(node) || !node.sourceCodeLocation) continue;
      const { startOffset, endOffset } = node.sourceCodeLocation;
      const raw = html.slice(startOffset, endOffset);
      const entry = blocks.get(block) ?? { parts: [] };
      blocks.set(block, entry);
      entry.parts.push({ start: startOffset, text: raw });
      if (forbidden || endOffset <= intro || !inPlace(node)) continue;
      // Between character references: a match never takes part of one, nor spans one.
      let from = 0;
      for (const ref of raw.matchAll(CHAR_REF)) {
        if (ref.index > from) pieces.push({ start: startOffset + from, text: raw.slice(from, ref.index), block });
        from = ref.index + ref[0].length;
      }
      if (from < raw.length) pieces.push({ start: startOffset + from, text: raw.slice(from), block });
    }
  };
  walk(fragment.childNodes, false, 0);
  // A piece that straddles the end of the introduction (bare text running on) keeps only what follows it.
  return {
    pieces: pieces
      .map((p) => (p.start < intro ? { ...p, text: p.text.slice(intro - p.start), start: intro } : p))
      .filter((p) => p.text.length > 0 && !p.text.includes('<')),
    blocks,
  };
}

const WORD = /[\p{L}\p{N}\p{M}_]/u;
export const isWordChar = (ch: string | undefined) => ch !== undefined && WORD.test(ch);

/** A phrase compiled for literal, case-insensitive, whole-word matching at a given position (sticky). */
export interface Phrase {
  /** The phrase as given, whitespace collapsed. */
  text: string;
  /** Its first word, lower-cased: the key of the inverted index. */
  key: string;
  /** Characters before its first word (`.net` has 1). */
  lead: number;
  pattern: RegExp;
  wordStart: boolean;
  wordEnd: boolean;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const FIRST_WORD = /[\p{L}\p{N}\p{M}_]+/u;

/** Null when the phrase has no word in it (it could never be a whole-word match of anything). */
export function compilePhrase(raw: string): Phrase | null {
  const text = raw.replace(/\s+/g, ' ').trim();
  const first = FIRST_WORD.exec(text);
  if (!text || !first) return null;
  // Literal: every metacharacter escaped; a space matches any run of whitespace (a line break in the source).
  const source = text.split(' ').map(escapeRegExp).join('\\s+');
  return {
    text,
    key: first[0].toLowerCase(),
    lead: first.index,
    pattern: new RegExp(source, 'iuy'),
    wordStart: isWordChar(text[0]),
    wordEnd: isWordChar(text[text.length - 1]),
  };
}

/** The length of `phrase` matched at `at` in `text` as a whole word, or 0. */
export function matchAt(text: string, at: number, phrase: Phrase): number {
  if (at < 0) return 0;
  if (phrase.wordStart && isWordChar(text[at - 1])) return 0;
  phrase.pattern.lastIndex = at;
  const found = phrase.pattern.exec(text);
  if (!found) return 0;
  const end = at + found[0].length;
  if (phrase.wordEnd && isWordChar(text[end])) return 0;
  return found[0].length;
}

/** Words of a piece with their positions (the inverted index is looked up by each). */
export function* wordsOf(text: string): Generator<{ word: string; at: number }> {
  for (const m of text.matchAll(/[\p{L}\p{N}\p{M}_]+/gu)) yield { word: m[0].toLowerCase(), at: m.index };
}

/**
 * Sentence numbers of one block, found lazily (only blocks that hold a candidate are split): the sentence a
 * source offset belongs to, as `<block>:<n>`, by a sentence splitter over the block's text.
 */
export function sentenceOf(text: BodyText, cache: Map<number, { starts: number[]; parts: { start: number; text: string }[] }>) {
  return (block: number, offset: number): string => {
    let entry = cache.get(block);
    if (!entry) {
      const parts = text.blocks.get(block)?.parts ?? [];
      const joined = parts.map((p) => p.text).join('');
      const starts = splitSentences(joined)
        .filter((n) => n.type === 'Sentence')
        .map((n) => n.range[0]);
      entry = { starts, parts };
      cache.set(block, entry);
    }
    // The offset's position in the block's joined text.
    let position = 0;
    for (const part of entry.parts) {
      if (offset >= part.start && offset < part.start + part.text.length) {
        position += offset - part.start;
        break;
      }
      position += part.text.length;
    }
    let n = 0;
    while (n + 1 < entry.starts.length && (entry.starts[n + 1] as number) <= position) n++;
    return `${block}:${n}`;
  };
}

/** The sentence around an anchor, for a person to judge it: whitespace collapsed, at most ~200 characters. */
export function contextSnippet(text: BodyText, block: number, offset: number, length: number): string {
  const parts = text.blocks.get(block)?.parts ?? [];
  let joined = '';
  let position = 0;
  for (const part of parts) {
    if (offset >= part.start && offset < part.start + part.text.length) position = joined.length + offset - part.start;
    joined += part.text;
  }
  const from = Math.max(0, position - 90);
  const to = Math.min(joined.length, position + length + 90);
  const snippet = joined.slice(from, to).replace(/\s+/g, ' ').trim();
  return `${from > 0 ? '…' : ''}${snippet}${to < joined.length ? '…' : ''}`;
}

const escapeAttribute = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const openTag = (href: string) => `<a href="${escapeAttribute(href)}">`;
export const CLOSE_TAG = '</a>';

export interface Insertion {
  /** Offset of the anchor text in the source. */
  offset: number;
  /** The anchor text exactly as it is in the source at `offset`. */
  text: string;
  href: string;
}

/**
 * Whether `[offset, offset + text.length)` of `html` still holds `text`, entirely inside one piece of allowed
 * body text (the article may have changed since the suggestion was made).
 */
export function stillThere(html: string, body: BodyText, insertion: Pick<Insertion, 'offset' | 'text'>): boolean {
  const { offset, text } = insertion;
  if (html.slice(offset, offset + text.length) !== text) return false;
  return body.pieces.some((p) => offset >= p.start && offset + text.length <= p.start + p.text.length);
}

/**
 * Splices `<a href="…">` … `</a>` around each insertion's text (last first, so earlier offsets hold): every
 * other byte of `html` is unchanged. The insertions must not overlap.
 */
export function spliceLinks(html: string, insertions: Insertion[]): string {
  let result = html;
  for (const ins of [...insertions].sort((a, b) => b.offset - a.offset)) {
    const end = ins.offset + ins.text.length;
    result = `${result.slice(0, ins.offset)}${openTag(ins.href)}${result.slice(ins.offset, end)}${CLOSE_TAG}${result.slice(end)}`;
  }
  return result;
}

/** Every `href` of the article's links (existing internal links are counted by these). */
export function linkHrefs(html: string): string[] {
  const hrefs: string[] = [];
  const walk = (nodes: Node[]) => {
    for (const node of nodes) {
      if (!isElement(node)) continue;
      if (node.tagName === 'a') {
        const href = node.attrs.find((a) => a.name === 'href')?.value;
        if (href) hrefs.push(href);
      }
      walk(node.childNodes);
    }
  };
  walk(parseFragment(body(), html, {}).childNodes);
  return hrefs;
}
