import { describe, expect, it } from 'vitest';
import { type AnalysisInput, analyze, type CheckId } from './optimizer.analysis.js';

const status = (input: Partial<AnalysisInput>, id: CheckId) => {
  const check = analyze({ html: '', keyword: 'trail shoes', ...input }).checks.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return check;
};
const filler = (n: number, word = 'stone') => Array.from({ length: n }, () => word).join(' ');
/** A paragraph of short sentences, n words. */
const prose = (n: number) => {
  const out: string[] = [];
  for (let i = 0; i < n; i += 5) out.push(`Runners like ${['rocky', 'muddy', 'steep', 'long', 'dry'][i % 5]} hills daily.`);
  return out.join(' ');
};

describe('seo checks', () => {
  it('keyphrase_length counts content words; no keyphrase gives no SEO score', () => {
    expect(status({ keyword: 'the best trail shoes for women' }, 'keyphrase_length')).toMatchObject({ status: 'pass', value: 3 });
    expect(status({ keyword: 'trail shoes rock plate grip wet granite' }, 'keyphrase_length')).toMatchObject({
      status: 'warn',
      points: 6,
    });
    expect(status({ keyword: 'alpha beta gamma delta epsilon zeta eta theta iota' }, 'keyphrase_length')).toMatchObject({
      status: 'fail',
      points: 3,
    });
    const none = analyze({ html: '<p>text</p>', keyword: '  ' });
    expect(none.seo_score).toBeNull();
    expect(none.checks.find((c) => c.id === 'keyphrase_in_title')?.status).toBe('not_applicable');
  });

  it('keyphrase_in_meta_title: start, elsewhere, words only, missing (falls back to the title)', () => {
    expect(status({ meta_title: 'The trail shoes guide' }, 'keyphrase_in_meta_title')).toMatchObject({
      status: 'pass',
      points: 9,
    });
    expect(status({ meta_title: 'Guide to trail shoes' }, 'keyphrase_in_meta_title')).toMatchObject({
      status: 'warn',
      points: 6,
    });
    expect(status({ meta_title: 'Shoes for the trail' }, 'keyphrase_in_meta_title')).toMatchObject({ status: 'warn', points: 6 });
    expect(status({ meta_title: 'Hiking boots' }, 'keyphrase_in_meta_title')).toMatchObject({ status: 'fail', points: 2 });
    expect(status({ title: 'Trail shoes reviewed' }, 'keyphrase_in_meta_title').status).toBe('pass');
  });

  it('keyphrase_in_title accepts any order and plural forms', () => {
    expect(status({ title: 'Shoe for every trail' }, 'keyphrase_in_title').status).toBe('pass');
    expect(status({ title: 'Hiking boots' }, 'keyphrase_in_title')).toMatchObject({ status: 'fail', points: 3 });
    expect(status({ html: '<h1>Trail shoes</h1><p>x</p>' }, 'keyphrase_in_title').status).toBe('pass');
  });

  it('keyphrase_in_introduction: one sentence, the paragraph, neither', () => {
    expect(status({ html: '<p>Good trail shoes grip. Rest.</p><p>more</p>' }, 'keyphrase_in_introduction').status).toBe('pass');
    expect(status({ html: '<p>The trail is wet. Shoes matter.</p>' }, 'keyphrase_in_introduction').status).toBe('warn');
    expect(status({ html: '<p>Intro.</p><p>Trail shoes.</p>' }, 'keyphrase_in_introduction').status).toBe('fail');
  });

  it('keyphrase_in_meta_description: 1–2 sentences', () => {
    expect(status({ meta_description: 'Trail shoes, tested. Read on.' }, 'keyphrase_in_meta_description').status).toBe('pass');
    expect(
      status({ meta_description: 'Trail shoes. Trail shoes again. And trail shoes.' }, 'keyphrase_in_meta_description').status,
    ).toBe('fail');
    expect(status({}, 'keyphrase_in_meta_description')).toMatchObject({ status: 'fail', points: 3 });
  });

  it('keyphrase_in_subheadings: the 30–75 % band, one subheading, none', () => {
    const hs = (n: number, m: number) =>
      Array.from({ length: n }, (_, i) => `<h2>${i < m ? 'Trail shoes' : 'Other'}</h2><p>x</p>`).join('');
    expect(status({ html: hs(4, 2) }, 'keyphrase_in_subheadings').status).toBe('pass');
    expect(status({ html: hs(4, 4) }, 'keyphrase_in_subheadings').status).toBe('fail');
    expect(status({ html: hs(4, 0) }, 'keyphrase_in_subheadings').status).toBe('fail');
    expect(status({ html: hs(1, 1) }, 'keyphrase_in_subheadings').status).toBe('pass');
    expect(status({ html: `<p>${prose(100)}</p>` }, 'keyphrase_in_subheadings').status).toBe('pass');
    expect(status({ html: `<p>${prose(310)}</p>` }, 'keyphrase_in_subheadings')).toMatchObject({ status: 'fail', points: 2 });
  });

  it('keyphrase_in_slug', () => {
    expect(status({ slug: 'best-trail-shoes' }, 'keyphrase_in_slug').status).toBe('pass');
    expect(status({ slug: 'best-trail' }, 'keyphrase_in_slug')).toMatchObject({ status: 'warn', points: 6 });
    expect(status({ keyword: 'wet rock trail shoes', slug: 'wet-rock-trail' }, 'keyphrase_in_slug').status).toBe('pass');
    expect(status({}, 'keyphrase_in_slug')).toMatchObject({ status: 'fail', points: 3 });
  });

  it('keyphrase_density bands', () => {
    const text = (hits: number, words: number) => `<p>${'Trail shoes. '.repeat(hits)}${filler(words - 2 * hits)}</p>`;
    expect(status({ html: text(2, 200) }, 'keyphrase_density')).toMatchObject({ status: 'pass', value: 1 });
    expect(status({ html: text(1, 100) }, 'keyphrase_density')).toMatchObject({ status: 'fail', points: 4 });
    expect(status({ html: text(7, 200) }, 'keyphrase_density')).toMatchObject({ status: 'fail', points: -10 });
    expect(status({ html: text(10, 200) }, 'keyphrase_density')).toMatchObject({ status: 'fail', points: -50 });
  });

  it('keyphrase_in_image_alt', () => {
    expect(status({ html: '<img src="a.png" alt="trail shoes">' }, 'keyphrase_in_image_alt').status).toBe('pass');
    expect(status({ html: '<img src="a.png" alt="mud">' }, 'keyphrase_in_image_alt').status).toBe('warn');
    const many = (m: number) =>
      Array.from({ length: 6 }, (_, i) => `<img src="a.png" alt="${i < m ? 'trail shoes' : 'mud'}">`).join('');
    expect(status({ html: many(3) }, 'keyphrase_in_image_alt').status).toBe('pass');
    expect(status({ html: many(6) }, 'keyphrase_in_image_alt').status).toBe('warn');
    expect(status({}, 'keyphrase_in_image_alt')).toMatchObject({ status: 'fail', points: 3 });
  });

  it('links: competing, internal and outbound with nofollow', () => {
    expect(status({ html: '<p><a href="/x">trail shoes</a></p>' }, 'competing_links')).toMatchObject({
      status: 'fail',
      points: 2,
    });
    expect(status({ html: '<p><a href="/x">boots</a></p>' }, 'competing_links')).toMatchObject({ status: 'pass', points: 8 });
    const site = { site_url: 'https://example.com' };
    expect(status({ ...site, html: '<a href="https://example.com/a">a</a>' }, 'internal_links').points).toBe(9);
    expect(status({ ...site, html: '<a href="/a">a</a><a rel="nofollow" href="/b">b</a>' }, 'internal_links').points).toBe(8);
    expect(status({ ...site, html: '<a rel="nofollow" href="/b">b</a>' }, 'internal_links')).toMatchObject({
      status: 'warn',
      points: 7,
    });
    expect(status({ ...site, html: '<a href="#top">top</a>' }, 'internal_links')).toMatchObject({ status: 'fail', points: 3 });
    expect(status({ ...site, html: '<a href="https://other.org/">o</a>' }, 'outbound_links').points).toBe(9);
    expect(status({ ...site, html: '<a href="/a">a</a>' }, 'outbound_links').points).toBe(3);
  });

  it('lengths, images and H1s', () => {
    expect(status({ meta_description: 'x'.repeat(130) }, 'meta_description_length').status).toBe('pass');
    expect(status({ meta_description: 'x'.repeat(157) }, 'meta_description_length').status).toBe('warn');
    expect(status({}, 'meta_description_length').points).toBe(1);
    expect(status({ meta_title: 'x'.repeat(60) }, 'meta_title_length').status).toBe('pass');
    expect(status({ meta_title: 'x'.repeat(61) }, 'meta_title_length').points).toBe(3);
    expect(status({}, 'meta_title_length').points).toBe(1);
    const words = (n: number) => status({ html: `<p>${filler(n)}</p>` }, 'text_length').points;
    expect([words(300), words(260), words(210), words(150), words(50)]).toEqual([9, 6, 3, -10, -20]);
    expect(status({ html: '<img src="a.png">' }, 'images').status).toBe('pass');
    expect(status({ html: '<h1>a</h1><h1>b</h1>' }, 'single_h1')).toMatchObject({ status: 'fail', points: 1 });
  });
});

describe('readability checks', () => {
  it('subheading_distribution and paragraph_length', () => {
    expect(status({ html: `<p>${prose(320)}</p>` }, 'subheading_distribution').status).toBe('fail');
    expect(
      status({ html: `<h2>a</h2><p>${prose(200)}</p><h2>b</h2><p>${prose(200)}</p>` }, 'subheading_distribution').status,
    ).toBe('pass');
    expect(status({ html: `<h2>a</h2><p>${prose(330)}</p><h2>b</h2><p>x</p>` }, 'subheading_distribution').status).toBe('warn');
    expect(status({ html: `<p>${prose(100)}</p>` }, 'paragraph_length').status).toBe('pass');
    expect(status({ html: `<p>${prose(180)}</p>` }, 'paragraph_length').status).toBe('warn');
    expect(status({ html: `<p>${prose(210)}</p>` }, 'paragraph_length').status).toBe('fail');
  });

  it('sentence_length', () => {
    const long = `${filler(22, 'word')}.`;
    expect(status({ html: `<p>${long} Short one. Short two. Short three.</p>` }, 'sentence_length').status).toBe('pass');
    expect(status({ html: `<p>${long} ${long} Short one. Short two.</p>` }, 'sentence_length').status).toBe('fail');
  });

  it('passive_voice, irregular participles included', () => {
    const html =
      '<p>The cake was eaten. The shoe is made in Italy. Runners love hills. We run. They jump. It rains. Dogs bark. Cats sleep.</p>';
    expect(status({ html }, 'passive_voice')).toMatchObject({ status: 'fail', value: 25 });
    expect(status({ html: '<p>We run. They jump. It rains. Dogs bark.</p>' }, 'passive_voice').status).toBe('pass');
    expect(status({ html: '<p>The door was quickly opened.</p>' }, 'passive_voice').value).toBe(100);
    expect(status({ html, language: 'de' }, 'passive_voice').status).toBe('not_applicable');
  });

  it('transition_words, single words and phrases', () => {
    const base = Array.from({ length: 40 }, (_, i) => `Runners climb hill number ${i} today.`);
    const withShare = (n: number) => `<p>${base.map((s, i) => (i < n ? `For example, ${s}` : s)).join(' ')}</p>`;
    expect(status({ html: withShare(14) }, 'transition_words').status).toBe('pass');
    expect(status({ html: withShare(10) }, 'transition_words').status).toBe('warn');
    expect(status({ html: withShare(2) }, 'transition_words').status).toBe('fail');
    expect(status({ html: '<p>Short text. No transitions.</p>' }, 'transition_words').status).toBe('pass');
  });

  it('consecutive_sentences skips articles, numerals and demonstratives', () => {
    expect(status({ html: '<p>Runners run. Runners jump. Runners rest.</p>' }, 'consecutive_sentences').status).toBe('fail');
    expect(status({ html: '<p>The cat ran. The dog sat. The bird sang.</p>' }, 'consecutive_sentences').status).toBe('pass');
    expect(status({ html: '<p>The cat ran. The cat sat. The cat sang.</p>' }, 'consecutive_sentences').status).toBe('fail');
  });

  it('text_presence and flesch_reading_ease', () => {
    expect(status({ html: '<p>Hi.</p>' }, 'text_presence').status).toBe('fail');
    expect(status({ html: `<p>${prose(20)}</p>` }, 'text_presence').status).toBe('pass');
    expect(status({ html: '<p>The cat sat on the mat. The dog ran.</p>' }, 'flesch_reading_ease').status).toBe('pass');
    expect(
      status(
        { html: '<p>Institutional considerations necessitate comprehensive organizational restructuring initiatives.</p>' },
        'flesch_reading_ease',
      ).status,
    ).toBe('fail');
  });
});

describe('scores and hostile input', () => {
  it('scores as Yoast computes them', () => {
    const a = analyze({ html: '<p>Hi.</p>', keyword: 'trail shoes' });
    const seo = a.checks.filter((c) => c.group === 'seo' && c.status !== 'not_applicable');
    const expected = Math.max(0, Math.round((seo.reduce((s, c) => s + c.points, 0) / (9 * seo.length)) * 100));
    expect(a.seo_score).toBe(expected);
    expect(a.readability_score).toBe(90);
    expect(a.score).toBe(Math.round((expected + 90) / 2));
    expect(a.rules_version).toBe('v1');
  });

  it('keyphrases with regex metacharacters match literally', () => {
    expect(status({ keyword: 'c++', title: 'Learning C++ fast' }, 'keyphrase_in_title').status).toBe('pass');
    expect(status({ keyword: 'c++', title: 'Learning C fast' }, 'keyphrase_in_title').status).toBe('fail');
    expect(status({ keyword: 'node.js (v20)', title: 'What is new in Node.js v20' }, 'keyphrase_in_title').status).toBe('pass');
    expect(status({ keyword: '.*', title: 'anything' }, 'keyphrase_in_title').status).toBe('not_applicable');
    expect(status({ keyword: 'node.js (v20)', title: 'Nodexjs v20' }, 'keyphrase_in_title').status).toBe('fail');
  });

  it('malformed HTML is read as a browser reads it', () => {
    const a = analyze({ html: '<p>Trail shoes grip <b>well</div></p></span><p>unclosed <em>second', keyword: 'trail shoes' });
    expect(a.checks.find((c) => c.id === 'keyphrase_in_introduction')?.status).toBe('pass');
    expect(a.word_count).toBe(6);
    expect(analyze({ html: '<script>trail shoes trail shoes</script><p>x</p>', keyword: 'trail shoes' }).word_count).toBe(1);
  });

  it('an empty body and a 1 MiB body get an answer', () => {
    const empty = analyze({ html: '', keyword: 'trail shoes' });
    expect(empty.checks.find((c) => c.id === 'text_presence')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('no text'),
    });
    expect(empty.checks.find((c) => c.id === 'sentence_length')?.status).toBe('not_applicable');
    const huge = `<p>${'Trail shoes grip well on rock. '.repeat(34_000)}</p>`;
    expect(huge.length).toBeGreaterThan(1_000_000);
    const big = analyze({ html: huge, keyword: 'trail shoes' });
    expect(big.word_count).toBe(34_000 * 6);
    expect(big.checks.find((c) => c.id === 'paragraph_length')?.status).toBe('fail');
  });
});
