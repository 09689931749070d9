import { type DefaultTreeAdapterMap, parseFragment } from 'parse5';
import { sanitizeArticleHtml } from './writer.html.js';

/**
 * Images in an article's HTML, through the parser (parse5 with source locations), never a regex: the parser
 * finds the section headings and their byte offsets in the source, and the figure is spliced in there, so every
 * other byte of the article stays as it was (a parse-and-reserialise would rewrite quotes, entities and
 * whitespace). Pure functions: the jobs and the service store what they return.
 */

type Node = DefaultTreeAdapterMap['childNode'];
type Element = DefaultTreeAdapterMap['element'];

export interface SectionHeading {
  text: string;
  level: number;
}

export interface PlacedImage {
  /** Where the image is read: its `src`. An image is the same image when its `src` is. */
  src: string;
  alt: string;
  width: number | null;
  height: number | null;
  caption: string;
  /** The text of the heading whose section it illustrates. */
  heading: string;
}

/** At most this many in-article images by default, whatever the article's length. */
export const DEFAULT_IN_ARTICLE_MAX = 5;
export const IN_ARTICLE_MAX = 20;

const isElement = (node: Node): node is Element => 'tagName' in node;
const HEADING = /^h([2-4])$/;

/** The text of an element as a reader sees it: its text nodes, whitespace collapsed. */
function textOf(node: Node): string {
  if (node.nodeName === '#text' && 'value' in node) return node.value;
  if ('childNodes' in node) return node.childNodes.map(textOf).join('');
  return '';
}
const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
const sameHeading = (a: string, b: string) => normalise(a).toLowerCase() === normalise(b).toLowerCase();

/** Every element of the fragment, in document order. */
function* elements(nodes: Node[]): Generator<Element> {
  for (const node of nodes) {
    if (!isElement(node)) continue;
    yield node;
    yield* elements(node.childNodes);
  }
}

function parse(html: string) {
  return parseFragment(html, { sourceCodeLocationInfo: true });
}

/**
 * The article's sections, by their headings: the h2s, or the h3s when it has no h2 (a short article), in
 * order. Headings with no text are not sections.
 */
export function sectionHeadings(html: string): SectionHeading[] {
  const all: SectionHeading[] = [];
  for (const element of elements(parse(html).childNodes)) {
    const level = HEADING.exec(element.tagName)?.[1];
    if (!level) continue;
    const text = normalise(textOf(element));
    if (text) all.push({ text, level: Number(level) });
  }
  const h2 = all.filter((h) => h.level === 2);
  return h2.length > 0 ? h2 : all.filter((h) => h.level === 3);
}

/** One in-article image for about every two sections, at least one when there is a section, capped. */
export function defaultInArticleCount(sections: number): number {
  return Math.min(DEFAULT_IN_ARTICLE_MAX, Math.ceil(sections / 2));
}

/** `count` of the sections, spread evenly from the first (4 sections, 2 images: the 1st and the 3rd). */
export function chooseSections<T>(sections: T[], count: number): T[] {
  const n = Math.min(count, sections.length);
  return Array.from({ length: n }, (_, i) => sections[Math.floor((i * sections.length) / n)] as T);
}

const escapeAttribute = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeText = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The figure of one image, as the article allowlist writes it (sanitising it changes nothing, so an article
 * stored through the sanitiser keeps it byte for byte). An image whose `src` the allowlist refuses is no figure.
 */
export function figureHtml(image: Omit<PlacedImage, 'heading'>): string {
  const size = `${image.width ? ` width="${image.width}"` : ''}${image.height ? ` height="${image.height}"` : ''}`;
  const caption = image.caption.trim() ? `<figcaption>${escapeText(image.caption.trim())}</figcaption>` : '';
  const raw = `<figure><img src="${escapeAttribute(image.src)}" alt="${escapeAttribute(image.alt)}"${size} /></figure>`;
  return sanitizeArticleHtml(raw.replace('</figure>', `${caption}</figure>`));
}

function imagesWithSrc(nodes: Node[], src: string): Element[] {
  return [...elements(nodes)].filter((e) => e.tagName === 'img' && e.attrs.some((a) => a.name === 'src' && a.value === src));
}

/** Whether the article already shows an image read from `src`. */
export function hasImage(html: string, src: string): boolean {
  return imagesWithSrc(parse(html).childNodes, src).length > 0;
}

/** The offset at which a figure placed after `heading` goes: after the heading and the figures already after it. */
function insertionOffset(heading: Element): number | null {
  const end = heading.sourceCodeLocation?.endOffset;
  if (end === undefined) return null;
  const siblings = heading.parentNode?.childNodes ?? [];
  let offset = end;
  for (const sibling of siblings.slice(siblings.indexOf(heading) + 1)) {
    if (sibling.nodeName === '#text' && 'value' in sibling && sibling.value.trim() === '') continue;
    if (!isElement(sibling) || sibling.tagName !== 'figure') break;
    const figureEnd = sibling.sourceCodeLocation?.endOffset;
    if (figureEnd === undefined) break;
    offset = figureEnd;
  }
  return offset;
}

export type Placement = 'placed' | 'already_placed' | 'heading_not_found';

/**
 * Places an image right after its section's heading (after the figures already there, so a section's images
 * keep the order they were placed in), as `<figure><img …><figcaption>…</figcaption></figure>`. Idempotent: an
 * article that already shows this `src` is returned unchanged. A heading no longer in the article (edited
 * since the prompts were written) leaves it unchanged too; the caller reports it.
 */
export function placeImage(html: string, image: PlacedImage): { html: string; placement: Placement } {
  const fragment = parse(html);
  if (imagesWithSrc(fragment.childNodes, image.src).length > 0) return { html, placement: 'already_placed' };
  const heading = [...elements(fragment.childNodes)].find(
    (e) => HEADING.test(e.tagName) && sameHeading(textOf(e), image.heading),
  );
  const offset = heading ? insertionOffset(heading) : null;
  if (offset === null) return { html, placement: 'heading_not_found' };
  return { html: html.slice(0, offset) + figureHtml(image) + html.slice(offset), placement: 'placed' };
}

/**
 * Takes an image out of the article: the figure holding it (or the bare `<img>`), every occurrence, spliced
 * out at the parser's offsets; the rest stays byte for byte. Unchanged when the article does not show it.
 */
export function removeImage(html: string, src: string): string {
  const ranges: [number, number][] = [];
  for (const img of imagesWithSrc(parse(html).childNodes, src)) {
    const parent = img.parentNode;
    const figure = parent && 'tagName' in parent && parent.tagName === 'figure' ? parent : null;
    const location = (figure ?? img).sourceCodeLocation;
    if (location && !ranges.some(([start]) => start === location.startOffset)) {
      ranges.push([location.startOffset, location.endOffset]);
    }
  }
  let result = html;
  for (const [start, end] of ranges.sort((a, b) => b[0] - a[0])) result = result.slice(0, start) + result.slice(end);
  return result;
}

/**
 * Rewrites the figure of an image the article already shows (its alt text or caption changed), in place: the
 * same spot, every other byte unchanged. Unchanged when the article does not show it.
 */
export function updateFigure(html: string, image: Omit<PlacedImage, 'heading'>): string {
  const [img] = imagesWithSrc(parse(html).childNodes, image.src);
  if (!img) return html;
  const parent = img.parentNode;
  const figure = parent && 'tagName' in parent && parent.tagName === 'figure' ? parent : null;
  const location = (figure ?? img).sourceCodeLocation;
  if (!location) return html;
  return html.slice(0, location.startOffset) + figureHtml(image) + html.slice(location.endOffset);
}
