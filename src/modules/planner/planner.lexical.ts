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

/** Groups of item indices, each led by its seed (the highest-volume member); lone keywords are left out. */
export function lexicalClusters(items: readonly LexicalItem[], options: LexicalOptions = {}): number[][] {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  const n = items.length;
  if (n < 2) return [];

  // Features: stems and bigrams of consecutive stems, numbered as first seen.
  const featureIds = new Map<string, number>();
  const isBigram: boolean[] = [];
  const itemFeatures: Int32Array[] = new Array(n);
  const itemCounts: Float64Array[] = new Array(n);
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
    itemFeatures[i] = Int32Array.from(counts.keys());
    itemCounts[i] = Float64Array.from(counts.values());
  }
  const featureCount = featureIds.size;
  featureIds.clear();

  const df = new Int32Array(featureCount);
  for (const features of itemFeatures) for (const f of features) df[f] = (df[f] as number) + 1;

  // Smoothed TF-IDF, L2-normalised, so a dot product is the cosine.
  const itemWeights: Float64Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const features = itemFeatures[i] as Int32Array;
    const counts = itemCounts[i] as Float64Array;
    const weights = new Float64Array(features.length);
    let norm = 0;
    for (let k = 0; k < features.length; k++) {
      const f = features[k] as number;
      const idf = Math.log((1 + n) / (1 + (df[f] as number))) + 1;
      const w = (counts[k] as number) * idf * (isBigram[f] ? BIGRAM_WEIGHT : 1);
      weights[k] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < weights.length; k++) weights[k] = (weights[k] as number) / norm;
    itemWeights[i] = weights;
  }

  // Inverted index without the features too common to be worth walking.
  const maxDf = Math.max(200, Math.ceil(n * 0.02));
  const postings: (number[] | null)[] = new Array(featureCount).fill(null);
  for (let f = 0; f < featureCount; f++) postings[f] = [];
  for (let i = 0; i < n; i++) for (const f of itemFeatures[i] as Int32Array) (postings[f] as number[]).push(i);

  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (items[b] as LexicalItem).volume - (items[a] as LexicalItem).volume || a - b,
  );
  const taken = new Uint8Array(n);
  const seen = new Int32Array(n).fill(-1);
  const seedWeight = new Float64Array(featureCount);
  const clusters: number[][] = [];

  for (const seed of order) {
    if (taken[seed]) continue;
    taken[seed] = 1;
    const features = itemFeatures[seed] as Int32Array;
    if (features.length === 0) continue;
    const weights = itemWeights[seed] as Float64Array;
    for (let k = 0; k < features.length; k++) seedWeight[features[k] as number] = weights[k] as number;

    let walk = [...features].filter((f) => (df[f] as number) <= maxDf);
    if (walk.length === 0) walk = [[...features].sort((a, b) => (df[a] as number) - (df[b] as number))[0] as number];

    const candidates: { index: number; score: number }[] = [];
    for (const f of walk) {
      const list = postings[f] as number[];
      // Compact the posting list while walking it: clustered keywords are dropped for every later seed.
      let keep = 0;
      for (let p = 0; p < list.length; p++) {
        const j = list[p] as number;
        if (taken[j]) continue;
        list[keep++] = j;
        if (seen[j] === seed) continue;
        seen[j] = seed;
        const jf = itemFeatures[j] as Int32Array;
        const jw = itemWeights[j] as Float64Array;
        let dot = 0;
        for (let k = 0; k < jf.length; k++) dot += (jw[k] as number) * (seedWeight[jf[k] as number] as number);
        if (dot >= threshold) candidates.push({ index: j, score: dot });
      }
      list.length = keep;
    }
    for (const f of features) seedWeight[f] = 0;
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
