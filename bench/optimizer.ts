/**
 * `npm run bench:optimizer`: the CPU time of analysing one 2,000-word article (rule set v1, every check), the
 * median over repeated runs after a warm-up. Target: < 20 ms.
 */
import { analyze } from '../src/modules/optimizer/optimizer.analysis.js';

const WORDS = 2000;
const sentences = [
  'Trail running shoes protect your feet on rocky paths, and therefore they matter more than most gear.',
  'The outsole was designed by engineers who tested it on wet granite for months.',
  'However, a good fit is what keeps blisters away on long runs.',
  'Choose a pair with a rock plate if you run on sharp stones often.',
  'For example, many runners prefer a lower drop for technical descents.',
  'Cushioning is a matter of taste, but heavier runners usually want more of it.',
  'Mr. Smith, a coach from Boulder, recommends testing shoes late in the day when feet are largest.',
  'In addition, waterproof models keep feet dry in shallow streams but trap heat in summer.',
];
const paragraphs: string[] = [];
let words = 0;
let i = 0;
while (words < WORDS) {
  if (paragraphs.length % 5 === 0) paragraphs.push(`<h2>Choosing trail running shoes, part ${paragraphs.length / 5 + 1}</h2>`);
  const p: string[] = [];
  for (let j = 0; j < 4; j++) p.push(sentences[i++ % sentences.length] ?? '');
  const html = `<p>${p.join(' ')} See <a href="https://example.com/guide">the guide</a> or <a href="/shoes">our picks</a>.</p>`;
  words += html
    .replace(/<[^>]+>/g, ' ')
    .split(/\s+/)
    .filter(Boolean).length;
  paragraphs.push(html);
  if (paragraphs.length % 7 === 0)
    paragraphs.push(
      '<figure><img src="/a.jpg" alt="trail running shoes on rocks"><figcaption>On the trail</figcaption></figure>',
    );
}
const html = paragraphs.join('\n');
const input = {
  html,
  keyword: 'trail running shoes',
  title: 'The best trail running shoes of the year',
  meta_title: 'Trail running shoes: how to choose',
  meta_description:
    'How to choose trail running shoes: grip, fit, cushioning and protection explained by coaches who run on rocky trails every week.',
  slug: 'trail-running-shoes',
  site_url: 'https://example.com',
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const first = analyze(input);
for (let k = 0; k < 30; k++) analyze(input);
const runs: number[] = [];
for (let k = 0; k < 100; k++) {
  const start = cpuMs();
  analyze(input);
  runs.push(cpuMs() - start);
}
runs.sort((a, b) => a - b);
const at = (q: number) => (runs[Math.min(runs.length - 1, Math.floor(q * runs.length))] ?? 0).toFixed(2);
console.log(
  `optimizer analyze: ${first.word_count} words, ${first.checks.length} checks, score ${first.score} (seo ${first.seo_score}, readability ${first.readability_score})`,
);
console.log(`CPU per analysis: median ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${at(0)} ms (target < 20 ms)`);
