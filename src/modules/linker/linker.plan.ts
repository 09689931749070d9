import { articleText } from '../writer/writer.service.js';
import {
  type BodyText,
  bodyText,
  compilePhrase,
  contextSnippet,
  matchAt,
  type Phrase,
  sentenceOf,
  wordsOf,
} from './linker.html.js';

/**
 * Which links an article gets, as pure functions over a site's articles: candidates found through an inverted
 * index of the targets' anchor phrases (each word of the source's body text looks up only the phrases that
 * start with it, never all pairs of articles × all phrases), ranked same cluster first, then by the TF-IDF
 * cosine similarity of the two texts; then the rules (DOMAIN.md "linker"): one link per target, no self-link,
 * no target already linked, one anchor per sentence, at most `perThousand` links per 1,000 words.
 */

export interface SiteArticle {
  id: number;
  title: string;
  html: string;
  primary_keyword: string;
  secondary_keywords: string[];
  cluster_id: number | null;
  word_count: number;
  slug: string;
  external_url: string | null;
  /** Where a link to it points: the published URL, else the site's URL + slug. */
  url: string;
}

export interface PlannedLink {
  target_id: number;
  anchor: string;
  /** Offset of the anchor text in the source html; `anchor` is exactly `html.slice(offset, offset + anchor.length)`. */
  offset: number;
  context: string;
  score: number;
  target_url: string;
}

/** Links a source already has or had suggested: their targets are not suggested again, their sentences are taken. */
export interface Existing {
  target_ids: Set<number>;
  offsets: number[];
  count: number;
}

export const DEFAULT_PER_THOUSAND = 3;
export const MAX_PER_THOUSAND = 10;

/** At most `perThousand` links per 1,000 words, rounded down (a 300-word article at 3 per 1,000 gets none). */
export const linkBudget = (words: number, perThousand: number) =>
  Math.floor((words * Math.min(perThousand, MAX_PER_THOUSAND)) / 1000);

// A few hundred of the commonest English words: they weigh nothing in the similarity.
const STOP = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves also may might must shall one two three get got like make made use used'
  ).split(' '),
);

type Vector = Map<string, number>;

function termCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]{2,}/gu)) {
    const term = m[0];
    if (STOP.has(term)) continue;
    counts.set(term, (counts.get(term) ?? 0) + 1);
  }
  return counts;
}

/** Unit TF-IDF vectors (sublinear tf, smoothed idf) of the given texts. */
export function tfidfVectors(texts: string[]): Vector[] {
  const counts = texts.map(termCounts);
  const df = new Map<string, number>();
  for (const c of counts) for (const term of c.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const n = texts.length;
  return counts.map((c) => {
    const v: Vector = new Map();
    let norm = 0;
    for (const [term, tf] of c) {
      const w = (1 + Math.log(tf)) * (Math.log((1 + n) / (1 + (df.get(term) ?? 0))) + 1);
      v.set(term, w);
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (const [term, w] of v) v.set(term, w / norm);
    return v;
  });
}

export function cosine(a: Vector, b: Vector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let sum = 0;
  for (const [term, w] of small) {
    const other = large.get(term);
    if (other !== undefined) sum += w * other;
  }
  return sum;
}

/** The inverted index of anchor phrases: first word → the phrases (and their target) that start with it. */
export type PhraseIndex = Map<string, { phrase: Phrase; target: number }[]>;

export function phraseIndex(articles: SiteArticle[]): PhraseIndex {
  const index: PhraseIndex = new Map();
  for (const article of articles) {
    const seen = new Set<string>();
    for (const raw of [article.primary_keyword, ...article.secondary_keywords, article.title]) {
      const phrase = compilePhrase(raw ?? '');
      if (!phrase || seen.has(phrase.text.toLowerCase())) continue;
      seen.add(phrase.text.toLowerCase());
      const list = index.get(phrase.key) ?? [];
      list.push({ phrase, target: article.id });
      index.set(phrase.key, list);
    }
  }
  // Longer phrases first: "trail running shoes" wins over "trail" at the same spot.
  for (const list of index.values()) list.sort((a, b) => b.phrase.text.length - a.phrase.text.length);
  return index;
}

interface Occurrence {
  target: number;
  offset: number;
  text: string;
  block: number;
}

/** Every whole-word occurrence of an indexed phrase in the source's allowed body text (the first per target). */
export function occurrences(body: BodyText, index: PhraseIndex, sourceId: number): Map<number, Occurrence[]> {
  const found = new Map<number, Occurrence[]>();
  for (const piece of body.pieces) {
    for (const { word, at } of wordsOf(piece.text)) {
      const entries = index.get(word);
      if (!entries) continue;
      for (const { phrase, target } of entries) {
        if (target === sourceId) continue;
        const start = at - phrase.lead;
        const length = matchAt(piece.text, start, phrase);
        if (length === 0) continue;
        const list = found.get(target) ?? [];
        // A few spots per target are enough to find one in a free sentence.
        if (list.length < 8)
          list.push({ target, offset: piece.start + start, text: piece.text.slice(start, start + length), block: piece.block });
        found.set(target, list);
      }
    }
  }
  return found;
}

export interface PlanInput {
  source: SiteArticle;
  /** The source's TF-IDF vector and every target's, by id. */
  vectors: Map<number, Vector>;
  articles: Map<number, SiteArticle>;
  index: PhraseIndex;
  perThousand: number;
  existing: Existing;
}

/** The links one article gets, best first. */
export function planLinks(input: PlanInput): PlannedLink[] {
  const { source, existing } = input;
  const budget = linkBudget(source.word_count, input.perThousand) - existing.count;
  if (budget <= 0) return [];
  const body = bodyText(source.html);
  const found = occurrences(body, input.index, source.id);
  if (found.size === 0) return [];
  const sourceVector = input.vectors.get(source.id) ?? new Map();
  const ranked = [...found.keys()]
    .filter((id) => !existing.target_ids.has(id))
    .map((id) => {
      const target = input.articles.get(id) as SiteArticle;
      const similarity = cosine(sourceVector, input.vectors.get(id) ?? new Map());
      const sameCluster = source.cluster_id !== null && target.cluster_id === source.cluster_id;
      return { target, similarity, score: Math.round(((sameCluster ? 1 : 0) + similarity) * 10000) / 10000 };
    })
    .sort((a, b) => b.score - a.score || a.target.id - b.target.id);

  const cache = new Map();
  const sentence = sentenceOf(body, cache);
  const taken = new Set<string>();
  const ranges: [number, number][] = [];
  for (const offset of existing.offsets) {
    const piece = body.pieces.find((p) => offset >= p.start && offset < p.start + p.text.length);
    if (piece) taken.add(sentence(piece.block, offset));
  }
  const links: PlannedLink[] = [];
  for (const { target, score } of ranked) {
    if (links.length >= budget) break;
    for (const spot of found.get(target.id) ?? []) {
      const key = sentence(spot.block, spot.offset);
      if (taken.has(key)) continue;
      if (ranges.some(([a, b]) => spot.offset < b && spot.offset + spot.text.length > a)) continue;
      taken.add(key);
      ranges.push([spot.offset, spot.offset + spot.text.length]);
      links.push({
        target_id: target.id,
        anchor: spot.text,
        offset: spot.offset,
        context: contextSnippet(body, spot.block, spot.offset, spot.text.length),
        score,
        target_url: target.url,
      });
      break;
    }
  }
  return links;
}

/** Everything `planLinks` needs about a site, made once for all its sources. */
export function sitePlan(articles: SiteArticle[]) {
  const vectors = tfidfVectors(articles.map((a) => `${a.title} ${articleText(a.html)}`));
  return {
    vectors: new Map(articles.map((a, i) => [a.id, vectors[i] as Vector])),
    articles: new Map(articles.map((a) => [a.id, a])),
    index: phraseIndex(articles),
  };
}
