import { type DefaultTreeAdapterMap, parseFragment } from 'parse5';

/**
 * In-article images, pointed at the copies the destination holds: each `<img src>` that is one of ours (by its
 * URL) is rewritten to the uploaded media's URL, through the parser's source offsets, so every other byte of the
 * article is sent as it is stored.
 */

type Node = DefaultTreeAdapterMap['childNode'];
type Element = DefaultTreeAdapterMap['element'];

const isElement = (node: Node): node is Element => 'tagName' in node;

function* images(nodes: Node[]): Generator<Element> {
  for (const node of nodes) {
    if (!isElement(node)) continue;
    if (node.tagName === 'img') yield node;
    yield* images(node.childNodes);
  }
}

const escapeAttribute = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The `src` of every image in the article, in order (what to upload). */
export function imageSources(html: string): string[] {
  return [...images(parseFragment(html).childNodes)]
    .map((img) => img.attrs.find((a) => a.name === 'src')?.value)
    .filter((src): src is string => typeof src === 'string');
}

/** The article with each image whose `src` is a key of `urls` pointed at its value instead. */
export function rewriteImageSources(html: string, urls: ReadonlyMap<string, string>): string {
  const edits: { start: number; end: number; text: string }[] = [];
  for (const img of images(parseFragment(html, { sourceCodeLocationInfo: true }).childNodes)) {
    const src = img.attrs.find((a) => a.name === 'src')?.value;
    const target = src === undefined ? undefined : urls.get(src);
    const location = img.sourceCodeLocation?.attrs?.src;
    if (target === undefined || !location) continue;
    edits.push({ start: location.startOffset, end: location.endOffset, text: `src="${escapeAttribute(target)}"` });
  }
  let result = html;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  return result;
}
