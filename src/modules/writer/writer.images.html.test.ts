import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeArticleHtml } from './writer.html.js';
import {
  chooseSections,
  defaultInArticleCount,
  figureHtml,
  hasImage,
  type PlacedImage,
  placeImage,
  removeImage,
  sectionHeadings,
  updateFigure,
} from './writer.images.html.js';

/** writer.images.html.ts: the placement of images in an article's HTML, through the parser. */

const ARTICLE = [
  '<p>Intro with \'single quotes\', an &amp; entity,   odd  spacing and <a href="https://e.com/" rel="nofollow">a link</a>.</p>',
  '<h2>Why  <em>grip</em> matters</h2>',
  '<p>Mud.</p>',
  '<h2>Fit</h2>\n\n<p>Try them late in the day.</p>',
  '<h3>Width</h3><p>Wide feet.</p>',
  '<h2>Care</h2><ul><li>Rinse</li></ul>',
].join('');

const image = (over: Partial<PlacedImage> = {}): PlacedImage => ({
  src: 'https://api.example.com/media/abc.png',
  alt: 'A shoe "in" mud & <rain>',
  width: 64,
  height: 48,
  caption: 'Grip & tread',
  heading: 'Fit',
  ...over,
});

describe('sections', () => {
  it('reads the h2 headings as sections, their text as a reader sees it', () => {
    expect(sectionHeadings(ARTICLE)).toEqual([
      { text: 'Why grip matters', level: 2 },
      { text: 'Fit', level: 2 },
      { text: 'Care', level: 2 },
    ]);
  });

  it('falls back to h3 headings when there is no h2, and finds none in plain text', () => {
    expect(sectionHeadings('<h3>One</h3><p>a</p><h3> </h3><h3>Two</h3>')).toEqual([
      { text: 'One', level: 3 },
      { text: 'Two', level: 3 },
    ]);
    expect(sectionHeadings('<p>Nothing here</p>')).toEqual([]);
  });

  it('asks for one image about every two sections, capped at 5', () => {
    expect([0, 1, 2, 3, 4, 9, 10, 30].map(defaultInArticleCount)).toEqual([0, 1, 1, 2, 2, 5, 5, 5]);
  });

  it('spreads the images over the sections from the first', () => {
    expect(chooseSections(['a', 'b', 'c', 'd'], 2)).toEqual(['a', 'c']);
    expect(chooseSections(['a', 'b', 'c'], 3)).toEqual(['a', 'b', 'c']);
    expect(chooseSections(['a', 'b'], 5)).toEqual(['a', 'b']);
    expect(chooseSections(['a', 'b', 'c', 'd', 'e'], 1)).toEqual(['a']);
    expect(chooseSections([], 2)).toEqual([]);
  });
});

describe('placing an image', () => {
  it('splices the figure right after the heading and leaves every other byte as it was', () => {
    const { html, placement } = placeImage(ARTICLE, image());
    expect(placement).toBe('placed');
    const figure =
      '<figure><img src="https://api.example.com/media/abc.png" alt="A shoe &quot;in&quot; mud &amp; &lt;rain&gt;" width="64" height="48" /><figcaption>Grip &amp; tread</figcaption></figure>';
    const at = ARTICLE.indexOf('<h2>Fit</h2>') + '<h2>Fit</h2>'.length;
    expect(html).toBe(ARTICLE.slice(0, at) + figure + ARTICLE.slice(at));
  });

  it('writes the figure as the sanitiser does, so storing the article keeps it byte for byte', () => {
    const figure = figureHtml(image());
    expect(sanitizeArticleHtml(figure)).toBe(figure);
    const placed = placeImage(sanitizeArticleHtml(ARTICLE), image()).html;
    expect(sanitizeArticleHtml(placed)).toBe(placed);
    expect(figureHtml(image({ caption: '  ', width: null, height: null }))).toBe(
      '<figure><img src="https://api.example.com/media/abc.png" alt="A shoe &quot;in&quot; mud &amp; &lt;rain&gt;" /></figure>',
    );
  });

  it('matches the heading by its text, whatever its markup, spacing or case', () => {
    const { html } = placeImage(ARTICLE, image({ heading: 'why GRIP matters' }));
    const heading = '<h2>Why  <em>grip</em> matters</h2>';
    expect(html.indexOf('<figure>')).toBe(ARTICLE.indexOf(heading) + heading.length);
  });

  it('is idempotent: the same image placed twice is there once', () => {
    const once = placeImage(ARTICLE, image()).html;
    expect(placeImage(once, image())).toEqual({ html: once, placement: 'already_placed' });
    expect(hasImage(once, image().src)).toBe(true);
    expect(hasImage(ARTICLE, image().src)).toBe(false);
  });

  it("keeps a section's images in the order they were placed", () => {
    const first = placeImage(ARTICLE, image({ src: '/media/one.png', caption: 'one' })).html;
    const both = placeImage(first, image({ src: '/media/two.png', caption: 'two' })).html;
    expect(both.indexOf('/media/one.png')).toBeLessThan(both.indexOf('/media/two.png'));
    expect(both.indexOf('/media/two.png')).toBeLessThan(both.indexOf('<p>Try them'));
  });

  it('leaves the article unchanged when the heading is gone', () => {
    expect(placeImage(ARTICLE, image({ heading: 'Sizing' }))).toEqual({ html: ARTICLE, placement: 'heading_not_found' });
  });

  it('refuses a src the article allowlist would drop (no javascript: or data: image)', () => {
    expect(figureHtml(image({ src: 'javascript:alert(1)' }))).toBe('<figure><figcaption>Grip &amp; tread</figcaption></figure>');
    expect(figureHtml(image({ src: 'data:image/png;base64,AAAA' }))).not.toContain('<img');
  });
});

describe('removing an image', () => {
  it('takes out its figure, and only it', () => {
    const placed = placeImage(ARTICLE, image()).html;
    expect(removeImage(placed, image().src)).toBe(ARTICLE);
    expect(removeImage(ARTICLE, image().src)).toBe(ARTICLE);
    const bare = `${ARTICLE}<p><img src="/media/x.png" alt="x" /></p>`;
    expect(removeImage(bare, '/media/x.png')).toBe(`${ARTICLE}<p></p>`);
  });
});

describe('properties', () => {
  const text = fc.stringMatching(/^[a-zA-Z0-9 &<>"'.,]{0,20}$/);
  const articles = fc.array(fc.tuple(fc.constantFrom('h2', 'h3', 'p', 'blockquote'), text), { minLength: 1, maxLength: 8 });

  it('placing then removing gives back the article byte for byte; placing twice equals placing once', () => {
    fc.assert(
      fc.property(articles, fc.nat(7), text, (blocks, pick, caption) => {
        const html = sanitizeArticleHtml(blocks.map(([tag, body]) => `<${tag}>${body.replace(/[<>&]/g, '')}</${tag}>`).join(''));
        const headings = sectionHeadings(html);
        const heading = headings[pick % Math.max(1, headings.length)]?.text ?? 'none';
        const img = image({ heading, caption, src: '/media/p.png' });
        const once = placeImage(html, img);
        expect(placeImage(once.html, img).html).toBe(once.html);
        expect(removeImage(once.html, img.src)).toBe(html);
        expect(once.placement).toBe(headings.length > 0 ? 'placed' : 'heading_not_found');
      }),
      { numRuns: 200 },
    );
  });
});

describe('updating a placed figure', () => {
  it('rewrites its alt text and caption in place, and leaves an article without it alone', () => {
    const placed = placeImage(ARTICLE, image()).html;
    const updated = updateFigure(placed, { ...image(), alt: 'New alt', caption: '' });
    expect(updated).toBe(placeImage(ARTICLE, image({ alt: 'New alt', caption: '' })).html);
    expect(updateFigure(ARTICLE, image())).toBe(ARTICLE);
  });
});
