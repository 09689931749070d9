import type { FakeAnswer, FakeRequest } from './fake-openai.js';

/**
 * A `respond` for the fake OpenAI server (test/fake-openai.ts) that answers the writer's text functions as a
 * model would, by the `json_schema` name of the request: `content` (a whole article), `outline` (sections),
 * `section` (one section's HTML) and `meta` (introduction and SEO fields), each with the number of words its
 * prompt asks for ("about N words", as the default templates say), so tests and the benchmark see realistic
 * lengths. Words are plain letters, so `countWords` counts exactly what was asked.
 *
 *   const writer = fakeWriter({ hostile: true });
 *   fake.respond = writer.respond;   // ... writer.calls.section, writer.words ...
 *
 * `hostile` puts a script, an `onerror` image, a `javascript:` link, an iframe, a style and an `on*` attribute
 * into every body, for the sanitising tests. Other requests get `fallback`, else the fake's own 400.
 */

const VOCABULARY = (
  'trail shoe grip sole lug rock mud runner pace stride ankle cushion drop weight fit toe heel lace upper mesh ' +
  'water rain climb descent mile route summit forest path stone root gravel terrain comfort support balance ' +
  'choose test wear break season winter summer long short race training easy steady hill valley ridge'
).split(' ');

export interface FakeWriterOptions {
  hostile?: boolean;
  /** Delay of every answer (a slow provider); the benchmark keeps 0. */
  delayMs?: number;
  /** Multiplies the words written (a model that writes short: 0.6). */
  lengthFactor?: number;
  fallback?: (request: FakeRequest) => FakeAnswer;
}

export interface FakeWriter {
  respond: (request: FakeRequest) => FakeAnswer;
  /** Calls answered, by function. */
  calls: Record<string, number>;
  /** Words written, over every answer. */
  words: number;
}

const HOSTILE =
  '<script>alert("pwned")</script><p onclick="steal()">Read <a href="javascript:alert(1)">this link</a> ' +
  'and <a href="https://example.com/guide" rel="nofollow" onmouseover="x()">that guide</a>.</p>' +
  '<img src="x" onerror="alert(2)"><iframe src="https://evil.example"></iframe><style>body{display:none}</style>' +
  '<img src="data:image/png;base64,AAAA" alt="data">';

/** A deterministic stream of words from a seed (the same request always reads the same). */
function wordStream(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return VOCABULARY[state % VOCABULARY.length] as string;
  };
}

const seedOf = (text: string) => [...text].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);

/** `words` words as paragraphs of 2–4 sentences of 8–16 words. */
function paragraphs(words: number, next: () => string): string {
  const out: string[] = [];
  let left = Math.max(words, 1);
  while (left > 0) {
    const sentences: string[] = [];
    const count = 2 + (left % 3);
    for (let s = 0; s < count && left > 0; s++) {
      const length = Math.min(left, 8 + ((left * 7 + s) % 9));
      const sentence = Array.from({ length }, next).join(' ');
      sentences.push(`${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`);
      left -= length;
    }
    out.push(`<p>${sentences.join(' ')}</p>`);
  }
  return out.join('\n');
}

const asked = (text: string, pattern: RegExp, fallback: number) => Number(pattern.exec(text)?.[1] ?? fallback);
const line = (text: string, label: string) => new RegExp(`^${label}: (.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';

export function fakeWriter(options: FakeWriterOptions = {}): FakeWriter {
  const factor = options.lengthFactor ?? 1;
  const writer: FakeWriter = { calls: {}, words: 0, respond: () => ({}) };
  const body = (words: number, seed: string) => {
    const n = Math.max(1, Math.round(words * factor));
    writer.words += n;
    const html = paragraphs(n, wordStream(seedOf(seed)));
    return options.hostile ? `${HOSTILE}\n${html}` : html;
  };
  const seo = (user: string) => {
    const keyword = line(user, 'Primary keyword') || 'trail shoes';
    return {
      meta_title: `${keyword.charAt(0).toUpperCase()}${keyword.slice(1)}: a practical guide`.slice(0, 60),
      meta_description:
        `Everything about ${keyword}: how to choose, what to test and which mistakes to avoid, from people who run on trails every week.`.slice(
          0,
          155,
        ),
      slug: keyword.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'article',
      primary_keyword: keyword,
      secondary_keywords: [`best ${keyword}`, `${keyword} guide`],
      categories: ['Guides'],
      tags: [keyword, 'trail running', 'gear'],
    };
  };

  writer.respond = (request) => {
    const fn: string | undefined = request.body?.response_format?.json_schema?.name;
    const user: string = request.body?.messages?.[1]?.content ?? '';
    const answer = (json: unknown, words: number): FakeAnswer => ({
      json,
      delayMs: options.delayMs,
      usage: { prompt_tokens: Math.ceil(user.length / 4), completion_tokens: Math.ceil(words * 1.4) + 40 },
    });
    if (fn === undefined || !['content', 'outline', 'section', 'meta'].includes(fn)) {
      return options.fallback?.(request) ?? {};
    }
    writer.calls[fn] = (writer.calls[fn] ?? 0) + 1;
    const words = asked(user, /about (\d+) words/, 300);
    if (fn === 'outline') {
      const count = asked(user, /about (\d+) sections/, 6);
      const sections = Array.from({ length: count }, (_, i) => ({
        heading: `${['Why', 'How', 'What', 'When', 'Where'][i % 5]} part ${i + 1} matters`,
        level: i % 4 === 3 ? 3 : 2,
        points: [`point ${i + 1}a`, `point ${i + 1}b`],
      }));
      return answer({ sections }, count * 10);
    }
    if (fn === 'section') return answer({ html: body(words, user) }, words);
    if (fn === 'meta') return answer({ introduction: body(words, user), ...seo(user) }, words);
    // A whole article: four sections of three-word headings (counted in the total) and their paragraphs.
    const headings = ['Choosing the fit', 'Testing the grip', 'Caring for them', 'What to buy'];
    const per = Math.max(1, Math.floor((words - 3 * headings.length) / (headings.length + 1)));
    const html = [
      body(words - 3 * headings.length - per * headings.length, `${user}:intro`),
      ...headings.map((h, i) => `<h2>${h}</h2>\n${body(per, `${user}:${i}`)}`),
    ].join('\n');
    return answer({ html, ...seo(user) }, words);
  };
  return writer;
}
