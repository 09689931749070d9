// Keyword data for the planner benchmark: the DRF anchor's generator (same head terms, qualifiers, volume
// and difficulty shapes, so `search=shoe` matches a similar share), and a larger family-rich generator for
// imports and clustering.

/** A small seeded PRNG (mulberry32), so every run imports the same data. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    pick: (list) => list[Math.floor(next() * list.length)],
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
  };
}

function logNormal(r, mu, sigma) {
  const u = Math.max(r.next(), 1e-12);
  const v = r.next();
  return Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

// As in ../shared/peers/drf/planner/management/commands/seed.py (account "acme-outdoor": 2 sites × 2 sectors).
export const DRF_SECTORS = {
  'Hiking Gear': ['hiking boots', 'trail backpack', 'trekking poles', 'rain jacket', 'water filter', 'hiking socks', 'daypack'],
  'Trail Running': [
    'trail running shoes',
    'running vest',
    'gps watch',
    'running socks',
    'headlamp',
    'hydration pack',
    'running jacket',
  ],
  Camping: ['camping tent', 'sleeping bag', 'camp stove', 'sleeping pad', 'camping chair', 'cooler', 'tent footprint'],
  Climbing: ['climbing harness', 'climbing shoes', 'chalk bag', 'belay device', 'climbing rope', 'quickdraws', 'crash pad'],
};
const PRE = [
  '',
  '',
  '',
  'best',
  'cheap',
  'top',
  'buy',
  'how to choose',
  'affordable',
  'professional',
  'beginner',
  'review',
  'premium',
  'compact',
];
const POST = [
  '',
  '',
  '',
  'for beginners',
  'near me',
  '2024',
  'vs alternatives',
  'under 100',
  'for women',
  'for men',
  'online',
  'reviews',
  'deals',
  'guide',
  'comparison',
  'for small business',
  'free trial',
  'pricing',
  'sale',
  'uk',
  'alternatives',
];

/** `count` distinct keywords of one sector the anchor's way (our keywords are unique per sector; the anchor's need not be). */
export function drfSectorRows(sector, count, seed) {
  const r = rng(seed);
  const seen = new Set();
  const rows = [];
  for (let tries = 0; rows.length < count && tries < count * 50; tries++) {
    const keyword = [r.pick(PRE), r.pick(DRF_SECTORS[sector]), r.pick(POST)].filter(Boolean).join(' ');
    if (seen.has(keyword)) continue;
    seen.add(keyword);
    rows.push({ keyword, volume: Math.min(Math.floor(logNormal(r, 5.5, 1.5)), 500_000), difficulty: r.int(0, 100) });
  }
  return rows;
}

const NOUNS = [
  'shoe',
  'boot',
  'jacket',
  'tent',
  'backpack',
  'watch',
  'sock',
  'glove',
  'headlamp',
  'stove',
  'pole',
  'harness',
  'rope',
  'helmet',
  'bottle',
  'filter',
  'pad',
  'chair',
  'cooler',
  'lantern',
  'knife',
  'compass',
  'map',
  'vest',
  'short',
  'legging',
  'cap',
  'sunglass',
  'gaiter',
  'crampon',
  'axe',
  'hammock',
  'quilt',
  'pillow',
  'mug',
  'pot',
  'grill',
  'tarp',
  'stake',
  'duffel',
  'sandal',
  'sneaker',
  'insole',
  'lace',
  'belt',
  'poncho',
  'fleece',
  'parka',
  'beanie',
  'scarf',
  'tripod',
  'binocular',
  'kayak',
  'paddle',
  'bike',
  'saddle',
  'pedal',
  'tire',
  'pump',
  'lock',
];
const ADJECTIVES = [
  'trail',
  'road',
  'waterproof',
  'lightweight',
  'winter',
  'summer',
  'women',
  'men',
  'kids',
  'ultralight',
  'hiking',
  'running',
  'climbing',
  'camping',
  'insulated',
  'breathable',
  'durable',
  'vegan',
  'leather',
  'merino',
  'wool',
  'down',
  'synthetic',
  'folding',
  'compact',
  'heavy duty',
  'budget',
  'luxury',
  'vintage',
  'minimalist',
  'wide',
  'narrow',
  'reflective',
  'solar',
  'electric',
  'inflatable',
  'stainless',
  'titanium',
  'carbon',
  'bamboo',
];
const EXTRAS = [
  'review',
  'reviews',
  'sale',
  'guide',
  'size chart',
  'near me',
  'for beginners',
  'vs',
  'brands',
  'outlet',
  'repair',
  'care',
  'cleaning',
  'wide fit',
  'discount',
  'deals',
  'online',
  'uk',
  'usa',
  'canada',
  'australia',
  'rental',
  'used',
  'second hand',
  'black',
  'blue',
  'red',
  'green',
  'grey',
  'white',
  'orange',
  'pink',
  'yellow',
  'on sale',
  'clearance',
  'gift',
  'set',
  'kit',
  'bundle',
  'pack',
  'replacement',
  'parts',
  'accessories',
  'warranty',
  'return policy',
  'comparison',
  'ranking',
  'price',
  'cost',
  'alternatives',
];

/** `count` distinct keywords made of an adjective, a noun and an extra (families share two of the three). */
export function familyRows(count, seed) {
  const r = rng(seed);
  const all = [];
  for (const adjective of ADJECTIVES)
    for (const noun of NOUNS) for (const extra of EXTRAS) all.push(`${adjective} ${noun}s ${extra}`);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  if (count > all.length) throw new Error(`at most ${all.length} family keywords`);
  return all
    .slice(0, count)
    .map((keyword) => ({ keyword, volume: Math.min(Math.floor(logNormal(r, 5.5, 1.5)), 500_000), difficulty: r.int(0, 100) }));
}

/** The rows as a Semrush keyword export (comma-separated, quoted where needed). */
export function semrushCsv(rows) {
  const intents = ['Informational', 'Commercial', 'Transactional', 'Navigational', 'Commercial, Transactional'];
  const lines = ['Keyword,Intent,Volume,Trend,Keyword Difficulty,CPC (USD),Competitive Density,SERP Features,Number of Results'];
  rows.forEach((row, i) => {
    lines.push(
      `${row.keyword},"${intents[i % intents.length]}",${row.volume},"0.67,0.81,1.00",${row.difficulty},${((i % 400) / 100).toFixed(2)},0.5,"Reviews, Sitelinks",${1000 + i}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
