import { stemmer } from 'stemmer';

/**
 * Lexical clustering (DOMAIN.md "Lexical clustering"): keywords become TF-IDF vectors of their stems and
 * stem bigrams; clusters grow greedily around the highest-volume keyword not yet clustered, taking the
 * keywords whose cosine similarity to that seed passes the threshold, up to a size cap. Candidates come
 * from an inverted index of features, where features so common they would turn the search into all pairs
 * are left out (a seed made only of such features still looks through its rarest one), so the work grows
 * with the keywords that share something, not with the square of the list.
 */

export interface LexicalItem {
  keyword: string;
  volume: number;
}

export interface LexicalOptions {
  /** Cosine similarity to the seed a keyword needs to join (default 0.45). */
  threshold?: number;
  /** Most keywords in one cluster, seed included (default 50). */
  maxSize?: number;
}

export const DEFAULT_THRESHOLD = 0.45;
export const DEFAULT_MAX_SIZE = 50;

/** English function words plus the qualifiers SEO lists put on every head term, which carry no topic. */
const STOP_WORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both
  but by can could did do does doing down during each few for from further had has have having he her here hers
  him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our
  ours out over own same she should so some such than that the their theirs them then there these they this those
  through to too under until up very was we were what when where which while who whom why will with would you
  your yours vs versus via best top good great cheap cheapest buy online near free new latest`
    .split(/\s+/)
    .filter(Boolean),
);

/** Bigrams count half as much as words: they sharpen families without drowning the shared words. */
const BIGRAM_WEIGHT = 0.5;

const stemCache = new Map<string, string>();
function stem(word: string): string {
  let stemmed = stemCache.get(word);
  if (stemmed === undefined) {
    stemmed = stemmer(word);
    if (stemCache.size > 200_000) stemCache.clear();
    stemCache.set(word, stemmed);
  }
  return stemmed;
}

/** Meaning-bearing stems of a keyword, in order: lower-cased, accents and punctuation dropped, stop words out. */
export function stemsOf(keyword: string): string[] {
  const words = keyword
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^\p{L}\p{N}]+/u);
  const stems: string[] = [];
  for (const word of words) if (word && !STOP_WORDS.has(word)) stems.push(stem(word));
  return stems;
}

/** Each keyword's features (stems and bigrams of consecutive stems, numbered as first seen) and their counts. */
interface Features {
  count: number;
  isBigram: boolean[];
  ofItem: Int32Array[];
  countsOfItem: Float64Array[];
}

function extractFeatures(items: readonly LexicalItem[]): Features {
  const n = items.length;
  const featureIds = new Map<string, number>();
  const isBigram: boolean[] = [];
  const ofItem: Int32Array[] = new Array(n);
  const countsOfItem: Float64Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const stems = stemsOf((items[i] as LexicalItem).keyword);
    const counts = new Map<number, number>();
    const add = (name: string, bigram: boolean) => {
      let id = featureIds.get(name);
      if (id === undefined) {
        id = featureIds.size;
        featureIds.set(name, id);
        isBigram.push(bigram);
      }
      counts.set(id, (counts.get(id) ?? 0) + 1);
    };
    for (let s = 0; s < stems.length; s++) {
      add(stems[s] as string, false);
      if (s > 0) add(`${stems[s - 1]} ${stems[s]}`, true);
    }
    ofItem[i] = Int32Array.from(counts.keys());
    countsOfItem[i] = Float64Array.from(counts.values());
  }
  return { count: featureIds.size, isBigram, ofItem, countsOfItem };
}

/** How many keywords have each feature. */
function documentFrequencies(features: Features): Int32Array {
  const df = new Int32Array(features.count);
  for (const list of features.ofItem) for (const f of list) df[f] = (df[f] as number) + 1;
  return df;
}

/** Smoothed TF-IDF weights per keyword, L2-normalised, so a dot product is the cosine. */
function tfidfWeights(features: Features, df: Int32Array): Float64Array[] {
  const n = features.ofItem.length;
  const itemWeights: Float64Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const list = features.ofItem[i] as Int32Array;
    const counts = features.countsOfItem[i] as Float64Array;
    const weights = new Float64Array(list.length);
    let norm = 0;
    for (let k = 0; k < list.length; k++) {
      const f = list[k] as number;
      const idf = Math.log((1 + n) / (1 + (df[f] as number))) + 1;
      const w = (counts[k] as number) * idf * (features.isBigram[f] ? BIGRAM_WEIGHT : 1);
      weights[k] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < weights.length; k++) weights[k] = (weights[k] as number) / norm;
    itemWeights[i] = weights;
  }
  return itemWeights;
}

/** For each feature, the keywords that have it. */
function invertedIndex(features: Features): number[][] {
  const postings: number[][] = new Array(features.count);
  for (let f = 0; f < features.count; f++) postings[f] = [];
  for (let i = 0; i < features.ofItem.length; i++) {
    for (const f of features.ofItem[i] as Int32Array) (postings[f] as number[]).push(i);
  }
  return postings;
}

/**
 * The features a seed's candidates are looked up by: those not too common to be worth walking, or else its
 * rarest one.
 */
function walkedFeatures(seedFeatures: Int32Array, df: Int32Array, maxDf: number): number[] {
  const walk = [...seedFeatures].filter((f) => (df[f] as number) <= maxDf);
  if (walk.length > 0) return walk;
  return [[...seedFeatures].sort((a, b) => (df[a] as number) - (df[b] as number))[0] as number];
}

/** Groups of item indices, each led by its seed (the highest-volume member); lone keywords are left out. */
export function lexicalClusters(items: readonly LexicalItem[], options: LexicalOptions = {}): number[][] {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  const n = items.length;
  if (n < 2) return [];

  const features = extractFeatures(items);
  const df = documentFrequencies(features);
  const itemWeights = tfidfWeights(features, df);
  const postings = invertedIndex(features);
  const maxDf = Math.max(200, Math.ceil(n * 0.02));

  const taken = new Uint8Array(n);
  const seen = new Int32Array(n).fill(-1);
  const seedWeight = new Float64Array(features.count);

  /** The unclustered keywords close enough to the seed, with their cosine to it. */
  function candidatesOf(seed: number): { index: number; score: number }[] {
    const seedFeatures = features.ofItem[seed] as Int32Array;
    const weights = itemWeights[seed] as Float64Array;
    for (let k = 0; k < seedFeatures.length; k++) seedWeight[seedFeatures[k] as number] = weights[k] as number;
    const candidates: { index: number; score: number }[] = [];
    for (const f of walkedFeatures(seedFeatures, df, maxDf)) {
      const list = postings[f] as number[];
      // Compact the posting list while walking it: clustered keywords are dropped for every later seed.
      let keep = 0;
      for (let p = 0; p < list.length; p++) {
        const j = list[p] as number;
        if (taken[j]) continue;
        list[keep++] = j;
        if (seen[j] === seed) continue;
        seen[j] = seed;
        const jf = features.ofItem[j] as Int32Array;
        const jw = itemWeights[j] as Float64Array;
        let dot = 0;
        for (let k = 0; k < jf.length; k++) dot += (jw[k] as number) * (seedWeight[jf[k] as number] as number);
        if (dot >= threshold) candidates.push({ index: j, score: dot });
      }
      list.length = keep;
    }
    for (const f of seedFeatures) seedWeight[f] = 0;
    return candidates;
  }

  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (items[b] as LexicalItem).volume - (items[a] as LexicalItem).volume || a - b,
  );
  const clusters: number[][] = [];
  for (const seed of order) {
    if (taken[seed]) continue;
    taken[seed] = 1;
    if ((features.ofItem[seed] as Int32Array).length === 0) continue;
    const candidates = candidatesOf(seed);
    if (candidates.length === 0) continue;
    candidates.sort(
      (a, b) =>
        b.score - a.score || (items[b.index] as LexicalItem).volume - (items[a.index] as LexicalItem).volume || a.index - b.index,
    );
    const members = [seed];
    for (const candidate of candidates) {
      if (members.length >= maxSize) break;
      members.push(candidate.index);
      taken[candidate.index] = 1;
    }
    clusters.push(members);
  }
  return clusters;
}
