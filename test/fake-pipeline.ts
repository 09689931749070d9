import { askedCount, pngOf, promptsAnswer } from './fake-images.js';
import type { FakeAnswer, FakeRequest } from './fake-openai.js';
import { fakeWriter } from './fake-writer.js';

/**
 * A `respond` for the fake OpenAI server that answers every function of the pipeline (automation's tests): one
 * content idea per `ideas` call (`words()` long, 300 by default; numbered so titles differ), image prompts for as many in-article
 * images as asked, a small PNG per image, an `optimization` rewrite, and article text from the fake writer. `delayMs()` is read on every
 * answer, so a test can slow the provider down and speed it up again.
 */
export function pipelineResponder(options: { words?: () => number; delayMs?: () => number } = {}) {
  const writer = fakeWriter();
  let ideas = 0;
  let images = 0;
  const respond = (request: FakeRequest): FakeAnswer => {
    const wait = options.delayMs?.() ?? 0;
    const delay = wait > 0 ? { delayMs: wait } : {};
    if (request.path.endsWith('/images/generations'))
      return { ...delay, image: { b64: pngOf(32, 24, images++).toString('base64') } };
    const name = request.body?.response_format?.json_schema?.name;
    if (name === 'ideas') {
      const n = ++ideas;
      const idea = {
        title: `Outdoor gear guide ${n}`,
        description: 'What to choose and why.',
        content_type: 'post',
        content_structure: 'guide',
        target_keywords: [`gear ${n}`],
        estimated_word_count: options.words?.() ?? 300,
        outline: { sections: [{ heading: 'Choosing', level: 2, points: ['Fit first'] }] },
      };
      return { ...delay, json: { ideas: [idea] } };
    }
    if (name === 'image_prompts') return { ...delay, json: promptsAnswer(askedCount(request)) };
    if (name === 'optimization') {
      // A rewrite that adds an image with the keyphrase in its alt text and a subheading: it scores higher.
      const user = String(request.body?.messages?.[1]?.content ?? '');
      const keyword = /Primary keyword: (.*)/.exec(user)?.[1]?.trim() ?? 'gear';
      const html = `<p>${keyword} explained.</p><h2>${keyword} tips</h2><p>${'Pick the fit that suits your trip. '.repeat(40)}</p><img src="https://cdn.example.org/a.png" alt="${keyword}">`;
      return {
        ...delay,
        json: { html, meta_title: keyword, meta_description: `All about ${keyword}.`, changes: ['Added a subheading'] },
      };
    }
    return { ...delay, ...writer.respond(request) };
  };
  return { respond, writer };
}

/** Topics and modifiers that make 50 keywords in five lexical clusters. */
export const PIPELINE_KEYWORDS = ['kayak paddle', 'tent stakes', 'hiking boots', 'climbing rope', 'ski goggles'].flatMap(
  (topic, i) =>
    ['best', 'cheap', 'review', 'for beginners', 'lightweight', 'waterproof', 'sale', 'vs', 'buy', 'guide'].map(
      (modifier, j) => ({
        keyword: `${modifier} ${topic}`,
        volume: 1000 - i * 100 - j,
      }),
    ),
);
