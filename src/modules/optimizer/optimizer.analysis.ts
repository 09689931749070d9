import { flesch } from 'flesch';
import { syllable } from 'syllable';
import { type Block, formOf, type ParsedText, parseArticle, type Sentence, splitSentences, tokensOf } from './optimizer.text.js';
import {
  FUNCTION_WORDS,
  isParticiple,
  PASSIVE_AUXILIARIES,
  PASSIVE_GAP_WORDS,
  SENTENCE_START_EXCEPTIONS,
  TRANSITION_PHRASE_KEYS,
  TRANSITION_WORD_SET,
} from './optimizer.words.js';

/**
 * Rule set `v1`: Yoast SEO's published assessments for English posts ("SCORING SEO", "SCORING READABILITY"),
 * as ../shared/DOMAIN.md's optimizer table states them. Pure: an article in, checks and scores out, no I/O, no
 * AI. Checks that need the English word lists are `not_applicable` for another language.
 */

export const RULES_VERSION = 'v1';

export type CheckGroup = 'seo' | 'readability';
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'not_applicable';
export type CheckId =
  | 'keyphrase_length'
  | 'keyphrase_in_meta_title'
  | 'keyphrase_in_title'
  | 'keyphrase_in_introduction'
  | 'keyphrase_in_meta_description'
  | 'keyphrase_in_subheadings'
  | 'keyphrase_in_slug'
  | 'keyphrase_density'
  | 'keyphrase_in_image_alt'
  | 'competing_links'
  | 'meta_description_length'
  | 'meta_title_length'
  | 'text_length'
  | 'internal_links'
  | 'outbound_links'
  | 'images'
  | 'single_h1'
  | 'subheading_distribution'
  | 'paragraph_length'
  | 'sentence_length'
  | 'passive_voice'
  | 'transition_words'
  | 'consecutive_sentences'
  | 'text_presence'
  | 'flesch_reading_ease';

export interface Check {
  id: CheckId;
  group: CheckGroup;
  status: CheckStatus;
  points: number;
  /** What was measured (a count, a percentage, characters, the reading ease); null when nothing was. */
  value: number | null;
  message: string;
}

export interface AnalysisInput {
  html: string;
  keyword: string;
  title?: string;
  meta_title?: string;
  meta_description?: string;
  slug?: string;
  site_url?: string;
  content_type?: string;
  /** ISO code; the English lists apply to `en` only. Default `en`. */
  language?: string;
}

export interface Analysis {
  score: number;
  /** Null when no keyphrase is set: Yoast gives no SEO score then. */
  seo_score: number | null;
  readability_score: number;
  rules_version: string;
  language: string;
  word_count: number;
  checks: Check[];
}

// ---------------------------------------------------------------------------------------------------------
// The keyphrase

interface Keyphrase {
  raw: string;
  /** Every token, lower case, in order (for exact matches). */
  tokens: string[];
  /** Content words' forms (the keyphrase without function words; all words if it has only those). */
  forms: string[];
}

function keyphraseOf(keyword: string, english: boolean): Keyphrase {
  const tokens = tokensOf(keyword);
  const content = english ? tokens.filter((t) => !FUNCTION_WORDS.has(t)) : tokens;
  const forms = [...new Set((content.length > 0 ? content : tokens).map(formOf))];
  return { raw: keyword.trim(), tokens, forms };
}

const formsOf = (tokens: readonly string[]) => new Set(tokens.map(formOf));
/** Every content word of the keyphrase is among the tokens (any order, singular or plural). */
const hasAll = (k: Keyphrase, tokens: readonly string[]) => {
  const forms = formsOf(tokens);
  return k.forms.every((f) => forms.has(f));
};
/** The share (0–1) of the keyphrase's content words among the tokens. */
const shareOf = (k: Keyphrase, tokens: readonly string[]) => {
  if (k.forms.length === 0) return 0;
  const forms = formsOf(tokens);
  return k.forms.filter((f) => forms.has(f)).length / k.forms.length;
};
/** How often the keyphrase occurs in a sentence: the fewest occurrences of any of its content words. */
function occurrences(k: Keyphrase, tokens: readonly string[]): number {
  if (k.forms.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const t of tokens) {
    const f = formOf(t);
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  return Math.min(...k.forms.map((f) => counts.get(f) ?? 0));
}
const indexOfSequence = (haystack: readonly string[], needle: readonly string[]) => {
  if (needle.length === 0) return -1;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
};
const withoutLeadingFunctionWords = (tokens: string[]) => {
  let i = 0;
  while (i < tokens.length - 1 && FUNCTION_WORDS.has(tokens[i] ?? '')) i++;
  return tokens.slice(i);
};

// ---------------------------------------------------------------------------------------------------------
// Helpers

const round1 = (n: number) => Math.round(n * 10) / 10;
const pct = (part: number, whole: number) => (whole === 0 ? 0 : (part / whole) * 100);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const chars = (s: string) => [...s.trim()].length;

function hostOf(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase().replace(/^www\./, '');
  } catch {
    return null;
  }
}

type LinkKind = 'internal' | 'outbound' | null;
function linkKind(href: string, siteHost: string | null): LinkKind {
  if (!href || href.startsWith('#')) return null;
  if (/^(mailto|tel|javascript|data|sms|ftp):/i.test(href)) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) {
    const host = hostOf(href.startsWith('//') ? `https:${href}` : href);
    if (!host) return null;
    return siteHost !== null && host === siteHost ? 'internal' : 'outbound';
  }
  return 'internal';
}

// ---------------------------------------------------------------------------------------------------------
// The analysis

interface Context {
  input: AnalysisInput;
  english: boolean;
  text: ParsedText;
  keyphrase: Keyphrase | null;
  title: string;
}

type Make = (status: CheckStatus, points: number, value: number | null, message: string) => Check;
const maker =
  (id: CheckId, group: CheckGroup): Make =>
  (status, points, value, message) => ({ id, group, status, points, value, message });

const NO_KEYPHRASE = 'No focus keyphrase is set, so this check was not run: set one.';

function seoChecks(c: Context): Check[] {
  const { keyphrase: k, text, input } = c;
  const checks: Check[] = [];
  const words = text.wordCount;

  // keyphrase_length
  {
    const make = maker('keyphrase_length', 'seo');
    if (!k || k.tokens.length === 0)
      checks.push(
        make(
          'fail',
          0,
          0,
          'No focus keyphrase is set: set the phrase this article should rank for, so it can be scored for SEO.',
        ),
      );
    else {
      const n = k.forms.length;
      if (n <= 4) checks.push(make('pass', 9, n, `The keyphrase has ${plural(n, 'content word')}: good.`));
      else if (n <= 8) checks.push(make('warn', 6, n, `The keyphrase has ${n} content words: shorten it to at most 4.`));
      else checks.push(make('fail', 3, n, `The keyphrase has ${n} content words, far too many: shorten it to at most 4.`));
    }
  }

  const keyed = (id: CheckId, run: (k: Keyphrase, make: Make) => Check) => {
    const make = maker(id, 'seo');
    checks.push(k && k.tokens.length > 0 ? run(k, make) : make('not_applicable', 0, null, NO_KEYPHRASE));
  };

  keyed('keyphrase_in_meta_title', (k, make) => {
    const metaTitle = (input.meta_title ?? '').trim() || c.title;
    if (!metaTitle) return make('fail', 2, null, 'There is no meta title (nor title): write one that starts with the keyphrase.');
    const tokens = tokensOf(metaTitle);
    const at = indexOfSequence(withoutLeadingFunctionWords(tokens), withoutLeadingFunctionWords(k.tokens));
    if (at === 0) return make('pass', 9, 0, 'The meta title starts with the exact keyphrase: good.');
    if (indexOfSequence(tokens, k.tokens) >= 0)
      return make('warn', 6, null, 'The meta title has the exact keyphrase, but not at its start: move it to the beginning.');
    if (hasAll(k, tokens))
      return make(
        'warn',
        6,
        null,
        'The meta title has every word of the keyphrase, but not the exact keyphrase: use it as is, at the beginning.',
      );
    return make('fail', 2, null, 'The meta title does not have the keyphrase: put the exact keyphrase at its beginning.');
  });

  keyed('keyphrase_in_title', (k, make) => {
    if (!c.title) return make('fail', 3, null, 'The article has no title: give it one that holds the keyphrase.');
    return hasAll(k, tokensOf(c.title))
      ? make('pass', 9, null, 'The title has the keyphrase: good.')
      : make('fail', 3, null, 'The title does not have every word of the keyphrase: add it.');
  });

  keyed('keyphrase_in_introduction', (k, make) => {
    const first = text.blocks.find((b) => b.kind === 'paragraph');
    if (!first)
      return make('fail', 3, null, 'There is no introduction (first paragraph): start with one that uses the keyphrase.');
    if (first.sentences.some((s) => hasAll(k, s.tokens)))
      return make('pass', 9, null, 'The keyphrase is in one sentence of the introduction: good.');
    if (
      hasAll(
        k,
        first.sentences.flatMap((s) => s.tokens),
      )
    )
      return make(
        'warn',
        6,
        null,
        'The words of the keyphrase are in the introduction, but not in one sentence: use them together in one sentence.',
      );
    return make('fail', 3, null, 'The first paragraph does not have the keyphrase: use it there.');
  });

  keyed('keyphrase_in_meta_description', (k, make) => {
    const description = (input.meta_description ?? '').trim();
    if (!description) return make('fail', 3, 0, 'There is no meta description: write one that uses the keyphrase once or twice.');
    const n = splitSentences(description).filter((s) => hasAll(k, tokensOf(s))).length;
    if (n >= 1 && n <= 2) return make('pass', 9, n, `The meta description has the keyphrase in ${plural(n, 'sentence')}: good.`);
    if (n === 0) return make('fail', 3, 0, 'The meta description does not have the keyphrase: use it.');
    return make('fail', 3, n, `The meta description has the keyphrase in ${n} sentences: use it at most twice.`);
  });

  keyed('keyphrase_in_subheadings', (k, make) => {
    const subheadings = text.blocks.filter((b) => b.kind === 'heading' && (b.level === 2 || b.level === 3));
    if (subheadings.length === 0) {
      return words <= 300
        ? make('pass', 9, null, 'No subheadings, which is fine for a text this short.')
        : make('fail', 2, null, 'The text has no subheadings: add H2/H3 subheadings, some with the keyphrase.');
    }
    const reflecting = subheadings.filter(
      (h) =>
        shareOf(
          k,
          h.sentences.flatMap((s) => s.tokens),
        ) >= 0.5,
    ).length;
    const share = pct(reflecting, subheadings.length);
    if (subheadings.length === 1 && reflecting === 1) return make('pass', 9, 100, 'The one subheading has the keyphrase: good.');
    if (share >= 30 && share <= 75)
      return make('pass', 9, round1(share), `${reflecting} of ${subheadings.length} subheadings have the keyphrase: good.`);
    if (share < 30)
      return make(
        'fail',
        3,
        round1(share),
        `${reflecting} of ${subheadings.length} subheadings have the keyphrase: use it in more of them (30–75 %).`,
      );
    return make(
      'fail',
      3,
      round1(share),
      `${reflecting} of ${subheadings.length} subheadings have the keyphrase: use it in fewer of them (30–75 %), it reads as over-optimised.`,
    );
  });

  keyed('keyphrase_in_slug', (k, make) => {
    const slug = (input.slug ?? '').trim().toLowerCase();
    if (!slug) return make('fail', 3, null, 'There is no slug: set one with the keyphrase.');
    const slugForms = new Set(
      slug
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean)
        .map(formOf),
    );
    const matched = k.forms.filter((f) =>
      f
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean)
        .every((part) => slugForms.has(formOf(part))),
    ).length;
    const share = pct(matched, k.forms.length);
    const good = k.forms.length <= 2 ? matched === k.forms.length : matched > k.forms.length / 2;
    return good
      ? make('pass', 9, round1(share), 'The slug has the keyphrase: good.')
      : make(
          'warn',
          6,
          round1(share),
          `The slug has ${matched} of the keyphrase's ${k.forms.length} content words: use the keyphrase in the slug.`,
        );
  });

  keyed('keyphrase_density', (k, make) => {
    const hits = text.sentences.reduce((sum, s) => sum + occurrences(k, s.tokens), 0);
    const density = round1(pct(hits, words));
    const found = `The keyphrase was found ${plural(hits, 'time')} (density ${density} %)`;
    if (hits <= 1 || density < 0.5) return make('fail', 4, density, `${found}: use it more often (0.5–3 %).`);
    if (density <= 3) return make('pass', 9, density, `${found}: good.`);
    if (density <= 4) return make('fail', -10, density, `${found}: that is more than 3 %, use it less often.`);
    return make('fail', -50, density, `${found}: far more than 3 %, which reads as keyword stuffing: use it much less often.`);
  });

  keyed('keyphrase_in_image_alt', (k, make) => {
    const images = text.images;
    if (images.length === 0) return make('fail', 3, 0, 'There are no images: add one with the keyphrase in its alt text.');
    const needed = k.forms.length < 4 ? 1 : 0.5;
    const matching = images.filter((img) => shareOf(k, tokensOf(img.alt)) >= needed).length;
    if (images.length < 5) {
      return matching > 0
        ? make('pass', 9, matching, `${plural(matching, 'image has', 'images have')} the keyphrase in the alt text: good.`)
        : make('warn', 6, 0, 'No image has the keyphrase in its alt text: add it to one.');
    }
    const share = pct(matching, images.length);
    if (share >= 30 && share <= 75)
      return make('pass', 9, round1(share), `${matching} of ${images.length} images have the keyphrase in their alt text: good.`);
    return share < 30
      ? make(
          'warn',
          6,
          round1(share),
          `${matching} of ${images.length} images have the keyphrase in their alt text: add it to more of them (30–75 %).`,
        )
      : make(
          'warn',
          6,
          round1(share),
          `${matching} of ${images.length} images have the keyphrase in their alt text: too many, vary the alt texts (30–75 %).`,
        );
  });

  keyed('competing_links', (k, make) => {
    const competing = text.links.filter((l) => linkKind(l.href, null) !== null && hasAll(k, tokensOf(l.text))).length;
    return competing === 0
      ? make('pass', 8, 0, 'No link uses the keyphrase as its anchor: good.')
      : make(
          'fail',
          2,
          competing,
          `${plural(competing, 'link uses', 'links use')} the keyphrase as anchor text, competing with this page: change those anchors.`,
        );
  });

  {
    const make = maker('meta_description_length', 'seo');
    const n = chars(input.meta_description ?? '');
    if (n === 0) checks.push(make('fail', 1, 0, 'There is no meta description: write one of 121–156 characters.'));
    else if (n >= 121 && n <= 156) checks.push(make('pass', 9, n, `The meta description has ${n} characters: good.`));
    else if (n <= 120) checks.push(make('warn', 6, n, `The meta description has ${n} characters: lengthen it to 121–156.`));
    else checks.push(make('warn', 6, n, `The meta description has ${n} characters: shorten it to at most 156.`));
  }
  {
    const make = maker('meta_title_length', 'seo');
    const n = chars(input.meta_title ?? '');
    if (n === 0) checks.push(make('fail', 1, 0, 'There is no meta title: write one of at most 60 characters.'));
    else if (n <= 60) checks.push(make('pass', 9, n, `The meta title has ${n} characters: good.`));
    else
      checks.push(make('fail', 3, n, `The meta title has ${n} characters: shorten it to at most 60, or search engines cut it.`));
  }
  {
    const make = maker('text_length', 'seo');
    const more = (target: number) =>
      `The text has ${plural(words, 'word')}: add at least ${target - words} more (300 words or more).`;
    if (words >= 300) checks.push(make('pass', 9, words, `The text has ${words} words: good.`));
    else if (words >= 250) checks.push(make('warn', 6, words, more(300)));
    else if (words >= 200) checks.push(make('fail', 3, words, more(300)));
    else if (words >= 100) checks.push(make('fail', -10, words, more(300)));
    else checks.push(make('fail', -20, words, more(300)));
  }
  const siteHost = input.site_url ? hostOf(input.site_url.includes('://') ? input.site_url : `https://${input.site_url}`) : null;
  const linkCheck = (id: 'internal_links' | 'outbound_links', kind: 'internal' | 'outbound') => {
    const make = maker(id, 'seo');
    const of = text.links.filter((l) => linkKind(l.href, siteHost) === kind);
    const nofollow = of.filter((l) => l.rel.split(/\s+/).includes('nofollow')).length;
    const followed = of.length - nofollow;
    const what = kind === 'internal' ? 'internal links (to pages of this site)' : 'outbound links (to other sites)';
    if (of.length === 0) return make('fail', 3, 0, `There are no ${what}: add some.`);
    if (followed === 0) return make('warn', 7, of.length, `All ${what} are nofollow: make at least one a followed link.`);
    if (nofollow > 0) return make('pass', 8, of.length, `There are ${of.length} ${what}, some of them nofollow: good.`);
    return make('pass', 9, of.length, `There are ${of.length} ${what}: good.`);
  };
  checks.push(linkCheck('internal_links', 'internal'), linkCheck('outbound_links', 'outbound'));
  {
    const make = maker('images', 'seo');
    const n = text.images.length;
    checks.push(
      n > 0
        ? make('pass', 9, n, `The text has ${plural(n, 'image')}: good.`)
        : make('fail', 3, 0, 'The text has no image: add at least one.'),
    );
  }
  {
    const make = maker('single_h1', 'seo');
    const n = text.blocks.filter((b) => b.kind === 'heading' && b.level === 1).length;
    checks.push(
      n < 2
        ? make('pass', 8, n, 'The body has no more than one H1: good.')
        : make('fail', 1, n, `The body has ${n} H1 headings: the title is the page's H1, make these H2s.`),
    );
  }
  return checks;
}

/** Yoast's readability points per status: good 9, ok 6, bad 3. */
const READABILITY_POINTS: Record<CheckStatus, number> = { pass: 9, warn: 6, fail: 3, not_applicable: 0 };

function isPassive(tokens: readonly string[]): boolean {
  for (let i = 0; i < tokens.length; i++) {
    if (!PASSIVE_AUXILIARIES.has(tokens[i] ?? '')) continue;
    for (let j = i + 1; j < tokens.length && j <= i + 4; j++) {
      const word = tokens[j] ?? '';
      if (isParticiple(word)) return true;
      if (!(PASSIVE_GAP_WORDS.has(word) || (word.endsWith('ly') && word.length > 3))) break;
    }
  }
  return false;
}

function hasTransition(tokens: readonly string[]): boolean {
  if (tokens.some((t) => TRANSITION_WORD_SET.has(t))) return true;
  const padded = ` ${tokens.join(' ')} `;
  return TRANSITION_PHRASE_KEYS.some((p) => padded.includes(p));
}

function sentenceStart(tokens: readonly string[]): string | null {
  const first = tokens[0];
  if (first === undefined) return null;
  if ((SENTENCE_START_EXCEPTIONS.has(first) || /^\d/.test(first)) && tokens[1] !== undefined) return `${first} ${tokens[1]}`;
  return first;
}

const syllableCache = new Map<string, number>();
function syllablesOf(word: string): number {
  let n = syllableCache.get(word);
  if (n === undefined) {
    n = syllable(word);
    if (syllableCache.size > 50_000) syllableCache.clear();
    syllableCache.set(word, n);
  }
  return n;
}

function readabilityChecks(c: Context): Check[] {
  const { text, english } = c;
  const checks: Check[] = [];
  const words = text.wordCount;
  const make3 = (id: CheckId, status: CheckStatus, value: number | null, message: string) =>
    maker(id, 'readability')(status, READABILITY_POINTS[status], value, message);
  const notEnglish = (id: CheckId) =>
    make3(id, 'not_applicable', null, `This check uses English word lists; the text's language is "${c.input.language}".`);
  // Sentences of the body text: headings are titles, not sentences a reader reads as prose.
  const sentences: Sentence[] = text.blocks.filter((b) => b.kind !== 'heading').flatMap((b) => b.sentences);
  const noSentences = (id: CheckId) => make3(id, 'not_applicable', null, 'There is no text to check yet: write some.');

  // subheading_distribution: the text under each subheading (and before the first).
  {
    const sections: number[] = [];
    let current = 0;
    let headings = 0;
    for (const b of text.blocks) {
      if (b.kind === 'heading') {
        headings++;
        sections.push(current);
        current = 0;
      } else current += b.wordCount;
    }
    sections.push(current);
    const longest = Math.max(...sections);
    const bodyWords = sections.reduce((a, b) => a + b, 0);
    const id = 'subheading_distribution';
    if (bodyWords <= 300) checks.push(make3(id, 'pass', longest, 'The text is short enough not to need subheadings.'));
    else if (headings === 0)
      checks.push(make3(id, 'fail', longest, `The text has ${bodyWords} words and no subheading: break it up with subheadings.`));
    else if (longest <= 300)
      checks.push(make3(id, 'pass', longest, 'Every section under a subheading has at most 300 words: good.'));
    else if (longest <= 350)
      checks.push(
        make3(id, 'warn', longest, `A section has ${longest} words: add a subheading to split it (at most 300 words each).`),
      );
    else
      checks.push(
        make3(id, 'fail', longest, `A section has ${longest} words: add subheadings to split it (at most 300 words each).`),
      );
  }
  // paragraph_length
  {
    const id = 'paragraph_length';
    const paragraphs = text.blocks.filter((b: Block) => b.kind === 'paragraph');
    if (paragraphs.length === 0) checks.push(noSentences(id));
    else {
      const longest = Math.max(...paragraphs.map((p) => p.wordCount));
      const over = (limit: number) => paragraphs.filter((p) => p.wordCount > limit).length;
      if (longest <= 150) checks.push(make3(id, 'pass', longest, 'No paragraph is longer than 150 words: good.'));
      else if (longest <= 200)
        checks.push(
          make3(
            id,
            'warn',
            longest,
            `${plural(over(150), 'paragraph is', 'paragraphs are')} longer than 150 words (the longest ${longest}): shorten them.`,
          ),
        );
      else
        checks.push(
          make3(
            id,
            'fail',
            longest,
            `${plural(over(200), 'paragraph is', 'paragraphs are')} longer than 200 words (the longest ${longest}): split them.`,
          ),
        );
    }
  }
  // sentence_length
  {
    const id = 'sentence_length';
    if (sentences.length === 0) checks.push(noSentences(id));
    else {
      const share = round1(pct(sentences.filter((s) => s.wordCount > 20).length, sentences.length));
      if (share <= 25) checks.push(make3(id, 'pass', share, `${share} % of the sentences have more than 20 words: good.`));
      else if (share <= 30)
        checks.push(
          make3(id, 'warn', share, `${share} % of the sentences have more than 20 words (at most 25 %): shorten some.`),
        );
      else
        checks.push(
          make3(id, 'fail', share, `${share} % of the sentences have more than 20 words (at most 25 %): shorten them.`),
        );
    }
  }
  // passive_voice
  {
    const id = 'passive_voice';
    if (!english) checks.push(notEnglish(id));
    else if (sentences.length === 0) checks.push(noSentences(id));
    else {
      const share = round1(pct(sentences.filter((s) => isPassive(s.tokens)).length, sentences.length));
      if (share <= 10) checks.push(make3(id, 'pass', share, `${share} % of the sentences are in the passive voice: good.`));
      else if (share <= 15)
        checks.push(
          make3(
            id,
            'warn',
            share,
            `${share} % of the sentences are in the passive voice (at most 10 %): use the active voice in some.`,
          ),
        );
      else
        checks.push(
          make3(
            id,
            'fail',
            share,
            `${share} % of the sentences are in the passive voice (at most 10 %): rewrite them in the active voice.`,
          ),
        );
    }
  }
  // transition_words
  {
    const id = 'transition_words';
    if (!english) checks.push(notEnglish(id));
    else if (sentences.length === 0) checks.push(noSentences(id));
    else {
      const share = round1(pct(sentences.filter((s) => hasTransition(s.tokens)).length, sentences.length));
      if (words < 200) checks.push(make3(id, 'pass', share, 'The text is too short to need transition words.'));
      else if (share >= 30) checks.push(make3(id, 'pass', share, `${share} % of the sentences have a transition word: good.`));
      else if (share >= 20)
        checks.push(
          make3(
            id,
            'warn',
            share,
            `${share} % of the sentences have a transition word (at least 30 %): use more (however, therefore, for example…).`,
          ),
        );
      else
        checks.push(
          make3(
            id,
            'fail',
            share,
            `Only ${share} % of the sentences have a transition word (at least 30 %): use many more (however, therefore, for example…).`,
          ),
        );
    }
  }
  // consecutive_sentences
  {
    const id = 'consecutive_sentences';
    if (!english) checks.push(notEnglish(id));
    else if (sentences.length === 0) checks.push(noSentences(id));
    else {
      let longest = 0;
      let run = 0;
      let previous: string | null = null;
      let word = '';
      for (const s of sentences) {
        const start = sentenceStart(s.tokens);
        run = start !== null && start === previous ? run + 1 : 1;
        previous = start;
        if (run > longest) {
          longest = run;
          word = start ?? '';
        }
      }
      checks.push(
        longest >= 3
          ? make3(id, 'fail', longest, `${longest} sentences in a row start with "${word}": vary how they begin.`)
          : make3(id, 'pass', longest, 'No three sentences in a row start with the same word: good.'),
      );
    }
  }
  // text_presence
  {
    const n = chars(text.text);
    checks.push(
      n >= 50
        ? make3('text_presence', 'pass', n, 'The article has text.')
        : make3(
            'text_presence',
            'fail',
            n,
            n === 0
              ? 'The article has no text: write at least a few sentences.'
              : `The article has only ${n} characters of text: write more.`,
          ),
    );
  }
  // flesch_reading_ease (reported, not counted in the score)
  {
    const id = 'flesch_reading_ease';
    if (!english) checks.push(notEnglish(id));
    else if (sentences.length === 0 || words === 0) checks.push(noSentences(id));
    else {
      let syllables = 0;
      let counted = 0;
      for (const s of sentences) {
        for (const w of s.text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? []) {
          syllables += syllablesOf(w);
          counted++;
        }
      }
      const ease = round1(flesch({ sentence: sentences.length, word: counted, syllable: syllables }));
      if (ease >= 60) checks.push(make3(id, 'pass', ease, `The Flesch reading ease is ${ease}: easy enough to read.`));
      else if (ease >= 50)
        checks.push(
          make3(
            id,
            'warn',
            ease,
            `The Flesch reading ease is ${ease}, fairly difficult: use shorter sentences and shorter words.`,
          ),
        );
      else
        checks.push(
          make3(
            id,
            'fail',
            ease,
            `The Flesch reading ease is ${ease}, difficult to read: use shorter sentences and shorter words.`,
          ),
        );
    }
  }
  return checks;
}

/** Analyses an article with rule set v1. */
export function analyze(input: AnalysisInput): Analysis {
  const language = (input.language ?? 'en').toLowerCase();
  const english = language === 'en' || language.startsWith('en-') || language === 'english';
  const text = parseArticle(input.html);
  const firstH1 = text.blocks.find((b) => b.kind === 'heading' && b.level === 1)?.text ?? '';
  const keyphrase = input.keyword.trim() ? keyphraseOf(input.keyword, english) : null;
  const c: Context = { input: { ...input, language }, english, text, keyphrase, title: (input.title ?? '').trim() || firstH1 };
  const seo = seoChecks(c);
  const readability = readabilityChecks(c);

  const counted = seo.filter((ch) => ch.status !== 'not_applicable');
  const seoScore =
    keyphrase && keyphrase.tokens.length > 0
      ? Math.max(0, Math.min(100, Math.round((counted.reduce((sum, ch) => sum + ch.points, 0) / (9 * counted.length)) * 100)))
      : null;
  const penalty = readability
    .filter((ch) => ch.id !== 'flesch_reading_ease')
    .reduce((sum, ch) => sum + (ch.status === 'fail' ? 3 : ch.status === 'warn' ? 2 : 0), 0);
  const readabilityScore = penalty > 6 ? 30 : penalty > 4 ? 60 : 90;
  return {
    score: seoScore === null ? readabilityScore : Math.round((seoScore + readabilityScore) / 2),
    seo_score: seoScore,
    readability_score: readabilityScore,
    rules_version: RULES_VERSION,
    language,
    word_count: text.wordCount,
    checks: [...seo, ...readability],
  };
}

/** The messages of the checks that do not pass, for the model that rewrites the article. */
export function failingMessages(analysis: Analysis): string[] {
  return analysis.checks.filter((ch) => ch.status === 'fail' || ch.status === 'warn').map((ch) => `${ch.id}: ${ch.message}`);
}
