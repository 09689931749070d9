import fc from 'fast-check';
import { type DefaultTreeAdapterMap, parseFragment } from 'parse5';
import { describe, expect, it } from 'vitest';
import { bodyText, compilePhrase, matchAt, spliceLinks, stillThere } from './linker.html.js';
import { linkBudget, type PlannedLink, planLinks, type SiteArticle, sitePlan } from './linker.plan.js';
import { articleMatcher } from './linker.urls.js';

/** The linker's pure parts: where anchors may go, literal matching, splicing, planning, URLs. */

const words = (n: number, word = 'filler') => Array.from({ length: n }, (_, i) => `${word}${i % 7}`).join(' ');

function article(id: number, over: Partial<SiteArticle> = {}): SiteArticle {
  return {
    id,
    title: `Article ${id}`,
    html: '',
    primary_keyword: '',
    secondary_keywords: [],
    cluster_id: null,
    word_count: 1000,
    slug: `article-${id}`,
    external_url: null,
    url: `https://shop.example/article-${id}/`,
    ...over,
  };
}

function plan(source: SiteArticle, targets: SiteArticle[], perThousand = 3): PlannedLink[] {
  const all = [source, ...targets];
  return planLinks({
    ...sitePlan(all),
    source,
    perThousand,
    existing: { target_ids: new Set(), offsets: [], count: 0 },
  });
}

/** Removes exactly the inserted `<a href="…">`/`</a>` pairs, by the insertions' own positions. */
function unsplice(output: string, links: { offset: number; anchor: string; target_url: string }[]): string {
  let result = output;
  let shift = 0;
  const sorted = [...links].sort((a, b) => a.offset - b.offset);
  const positions = sorted.map((l) => {
    const open = `<a href="${l.target_url.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`;
    const at = l.offset + shift;
    shift += open.length + 4;
    return { at, open, anchor: l.anchor };
  });
  for (const p of positions.reverse()) {
    expect(result.slice(p.at, p.at + p.open.length)).toBe(p.open);
    const close = p.at + p.open.length + p.anchor.length;
    expect(result.slice(close, close + 4)).toBe('</a>');
    result = result.slice(0, p.at) + p.anchor + result.slice(close + 4);
  }
  return result;
}

type Node = DefaultTreeAdapterMap['childNode'];
/** The ancestors' tag names of every inserted link, as a browser parses the output. */
function linkAncestors(html: string, href: string): string[][] {
  const found: string[][] = [];
  const walk = (nodes: Node[], path: string[]) => {
    for (const node of nodes) {
      if (!('tagName' in node)) continue;
      if (node.tagName === 'a' && node.attrs.some((a) => a.name === 'href' && a.value === href)) found.push(path);
      walk(node.childNodes, [...path, node.tagName]);
    }
  };
  walk(parseFragment(html).childNodes, []);
  return found;
}

describe('body text', () => {
  it('leaves out headings, links, code, pre, captions and the first paragraph', () => {
    const html =
      '<p>Trail shoes intro.</p><h2>Trail shoes</h2><p>See <a href="/x">trail shoes</a> and <code>trail shoes</code>.</p>' +
      '<pre>trail shoes</pre><figure><img src="/a.png"><figcaption>trail shoes</figcaption></figure><p>Real trail shoes here.</p>';
    const text = bodyText(html)
      .pieces.map((p) => p.text)
      .join('|');
    expect(text).not.toContain('intro');
    expect((text.match(/trail shoes/g) ?? []).length).toBe(1);
    expect(text).toContain('Real trail shoes here.');
  });

  it('keeps every piece at its source offsets, entities and line breaks included', () => {
    const html = '<p>Intro.</p>\r\n<p>Ben &amp; Jerry&#39;s trail\r\nshoes &nbsp;here</p>';
    for (const piece of bodyText(html).pieces) expect(html.slice(piece.start, piece.start + piece.text.length)).toBe(piece.text);
  });

  it('reads malformed html as a browser does: text inside an unclosed heading or link is still forbidden', () => {
    const html =
      '<p>Intro</p><h2>trail shoes <p>still heading? no: a p closes nothing here</p></div><a href="/y">trail shoes<p>trail shoes</p>';
    const pieces = bodyText(html).pieces.map((p) => p.text);
    // parse5 (like a browser) keeps the unclosed <a> open into the next paragraph (reconstructed there).
    expect(pieces.join('|')).not.toMatch(/trail shoes/);
  });
});

describe('phrases', () => {
  it('match whole words, case-insensitively, literally (regex metacharacters included)', () => {
    const check = (phrase: string, text: string) => {
      const p = compilePhrase(phrase);
      if (!p) return false;
      for (let i = 0; i < text.length; i++) if (matchAt(text, i, p) > 0) return true;
      return false;
    };
    expect(check('Trail Shoes', 'best trail shoes ever')).toBe(true);
    expect(check('trail shoe', 'best trail shoes ever')).toBe(false);
    expect(check('c++', 'learn C++ today')).toBe(true);
    expect(check('c++', 'learn cpp today')).toBe(false);
    expect(check('node.js (v20)', 'run node.js (v20) now')).toBe(true);
    expect(check('node.js (v20)', 'run nodeXjs (v20) now')).toBe(false);
    expect(check('a.b', 'axb')).toBe(false);
    expect(check('trail shoes', 'trail\n  shoes')).toBe(true);
    expect(compilePhrase('++')).toBeNull();
  });
});

describe('planning', () => {
  const body = (middle: string) => `<p>${words(30)}</p><p>${words(20)} ${middle} ${words(20)}.</p><p>${words(300)}</p>`;

  it('links to the target whose keyword is in the body, never to itself, same cluster first', () => {
    const source = article(1, { html: body('our trail shoes and rain jackets'), primary_keyword: 'hiking', cluster_id: 9 });
    const shoes = article(2, { primary_keyword: 'trail shoes', html: `<p>${words(50)}</p>` });
    const jackets = article(3, { primary_keyword: 'rain jackets', cluster_id: 9, html: `<p>${words(50)}</p>` });
    const self = article(4, { primary_keyword: 'hiking' });
    const links = plan(source, [shoes, jackets, self]);
    // One sentence holds both: only one anchor, the same-cluster target's.
    expect(links.map((l) => [l.target_id, l.anchor])).toEqual([[3, 'rain jackets']]);
    expect(links[0]?.score).toBeGreaterThanOrEqual(1);
    expect(links[0]?.context).toContain('rain jackets');
  });

  it('holds the budget: at most n per 1,000 words, rounded down', () => {
    expect(linkBudget(999, 3)).toBe(2);
    expect(linkBudget(300, 3)).toBe(0);
    expect(linkBudget(5000, 50)).toBe(50);
    const targets = Array.from({ length: 8 }, (_, i) => article(10 + i, { primary_keyword: `topic${i}` }));
    const html = `<p>Intro.</p>${targets.map((_, i) => `<p>About topic${i} here.</p>`).join('')}`;
    expect(plan(article(1, { html, word_count: 700 }), targets, 3)).toHaveLength(2);
    expect(plan(article(1, { html, word_count: 700 }), targets, 10)).toHaveLength(7);
  });

  it('suggests nothing for an empty or text-less article', () => {
    const target = article(2, { primary_keyword: 'trail shoes' });
    expect(plan(article(1, { html: '', word_count: 0 }), [target])).toEqual([]);
    expect(plan(article(1, { html: '<h2>trail shoes</h2>', word_count: 2000 }), [target])).toEqual([]);
  });

  it('handles a 1 MiB article', () => {
    const html = `<p>Intro.</p>${'<p>Some words about trail shoes and more. </p>'.repeat(25_000)}`;
    const links = plan(article(1, { html, word_count: 200_000 }), [article(2, { primary_keyword: 'trail shoes' })]);
    expect(links).toHaveLength(1);
  });
});

// Arbitrary article html, broken on purpose: unclosed tags, stray end tags, entities, keywords everywhere.
const fragments = fc.constantFrom(
  '<p>',
  '</p>',
  '<h2>',
  '</h2>',
  '<h3>',
  '<a href="/old">',
  '</a>',
  '</div>',
  '<div>',
  '<code>',
  '</code>',
  '<pre>',
  '<figure><figcaption>',
  '</figcaption></figure>',
  '<strong>',
  '</strong>',
  '<em>',
  '<ul><li>',
  '</li>',
  '<table><tr><td>',
  '<table>',
  '<!-- c -->',
  '&amp;',
  '&nbsp;',
  '&lt;',
  ' trail shoes ',
  ' Trail Shoes. ',
  ' rain jackets ',
  ' c++ ',
  ' node.js (v20) ',
  ' words and more words. ',
  '. ',
  '\r\n',
  '<br>',
  '<img src="/x.png" alt="trail shoes">',
  '<',
  '>',
);
const articleHtml = fc.array(fragments, { maxLength: 60 }).map((parts) => parts.join(''));

describe('property: splicing', () => {
  const targets = [
    article(2, { primary_keyword: 'trail shoes', url: 'https://shop.example/trail-shoes/?a=1&b="2"' }),
    article(3, { primary_keyword: 'rain jackets' }),
    article(4, { primary_keyword: 'c++' }),
    article(5, { primary_keyword: 'node.js (v20)' }),
  ];
  const forbidden = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'code', 'pre', 'figcaption']);

  it('the output minus the inserted anchors is the input, byte for byte; no anchor lands in a forbidden place', () => {
    fc.assert(
      fc.property(articleHtml, (html) => {
        const source = article(1, { html, word_count: 10_000 });
        const links = plan(source, targets, 10);
        expect(new Set(links.map((l) => l.target_id)).size).toBe(links.length);
        const output = spliceLinks(
          html,
          links.map((l) => ({ offset: l.offset, text: l.anchor, href: l.target_url })),
        );
        expect(unsplice(output, links)).toBe(html);
        for (const link of links) {
          expect(html.slice(link.offset, link.offset + link.anchor.length)).toBe(link.anchor);
          for (const ancestors of linkAncestors(output, link.target_url)) {
            expect(
              ancestors.filter((tag) => forbidden.has(tag)),
              `${html} → ${output}`,
            ).toEqual([]);
          }
          // The browser sees the link with exactly the anchor text.
        }
        // Each inserted link is seen by the browser as one link (never swallowed or split by the repairs).
        for (const link of links) expect(linkAncestors(output, link.target_url).length).toBe(1);
      }),
      { numRuns: 400 },
    );
  });

  it('a suggestion is still there until the text moves', () => {
    const html = `<p>Intro.</p><p>About trail shoes.</p>`;
    const [link] = plan(article(1, { html, word_count: 1000 }), targets);
    expect(link).toBeDefined();
    const at = { offset: link?.offset ?? 0, text: link?.anchor ?? '' };
    expect(stillThere(html, bodyText(html), at)).toBe(true);
    const edited = `<p>Intro!</p><p>About trail shoes.</p>`.replace('Intro!', 'Intro, longer.');
    expect(stillThere(edited, bodyText(edited), at)).toBe(false);
  });
});

describe('urls', () => {
  it('match existing links by URL or by slug on the site', () => {
    const match = articleMatcher(
      [
        { id: 1, slug: 'trail-shoes', status: 'draft', external_url: null },
        { id: 2, slug: 'rain', status: 'published', external_url: 'https://blog.example.com/2024/rain-jackets/' },
      ],
      'https://shop.example',
    );
    expect(match('https://shop.example/trail-shoes/')).toBe(1);
    expect(match('/guides/trail-shoes')).toBe(1);
    expect(match('https://blog.example.com/2024/rain-jackets')).toBe(2);
    expect(match('https://other.example/trail-shoes/')).toBeNull();
    expect(match('mailto:a@b.c')).toBeNull();
    expect(match('#top')).toBeNull();
  });
});
