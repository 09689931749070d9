import { createHash } from 'node:crypto';
import type { Ai, AiUsage } from '../../core/ai.js';
import type { AuthorProfile, OutlineSection } from './writer.generate.deps.js';
import { countWords } from './writer.html.js';

/**
 * How an article is written from its brief, on the AI engine: up to `SECTIONED_ABOVE` target words in one
 * `content` call; above it section by section: the idea's outline (or one the `outline` function makes),
 * then one `section` call per outline section, each given the whole outline, the headings written before it
 * and its share of the target words, then one `meta` call for the introduction and the SEO fields. Models
 * write ~800 words whatever length a single call asks for; a few hundred words per call they do write.
 *
 * Every call runs `defer`red: nothing is charged or recorded here. The calls' usage is collected in `calls`
 * (also when a call fails midway) and settled by the job when it stores the article, in that transaction.
 * The HTML returned is the model's, not yet sanitised: `insertContent` sanitises it on the way in.
 */

/** Target words above which an article is written section by section. */
export const SECTIONED_ABOVE = 1500;

export interface ArticleBrief {
  title: string;
  description: string;
  content_type: string;
  content_structure: string;
  word_count: number;
  primary_keyword: string;
  /** Other keywords to cover: the task's, the idea's and the cluster's, without the primary one. */
  keywords: string[];
  /** The idea's outline, when it has one (a sectioned article makes its own unless it has two sections or more). */
  outline: OutlineSection[] | null;
  author: AuthorProfile | null;
  site_name: string;
  sector: string;
}

export interface WrittenArticle {
  html: string;
  meta_title: string;
  meta_description: string;
  slug: string | null;
  primary_keyword: string | null;
  secondary_keywords: string[];
  categories: string[];
  tags: string[];
  /** The function that wrote the body: `content` (one call) or `section` (section by section). */
  fn: 'content' | 'section';
  /** SHA-256 of the rendered prompt (one call), or of the calls' prompt hashes in order (sectioned). */
  prompt_hash: string;
  model: string;
  temperature: number | null;
  sections: number;
}

export interface WriteOptions {
  /** Prefix of the calls' refs (unused for charging: deferred calls are settled under the article's ref). */
  ref: string;
  signal: AbortSignal;
  /** Every call's usage is pushed here as it returns, so a failure midway still accounts for the calls made. */
  calls: AiUsage[];
  /** Called between calls (progress, and the job's cancellation check). */
  step(message: string): Promise<void>;
  object_id: number;
}

const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The outline as the prompts show it: one line per heading (`##`/`###` by level), its points below. */
export function outlineText(sections: readonly OutlineSection[]): string {
  return sections
    .map((s) => `${'#'.repeat(Math.min(Math.max(s.level, 2), 4))} ${s.heading}${s.points.map((p) => `\n   - ${p}`).join('')}`)
    .join('\n');
}

/** Sections a model-made outline should have for a target: one per ~350 words, 4 to 20. */
export const sectionCount = (words: number) => Math.min(20, Math.max(4, Math.round(words / 350)));

/** The introduction's share of a sectioned article: ~6 % of the target, 80–200 words. */
export const introWords = (words: number) => Math.min(200, Math.max(80, Math.round(words * 0.06)));

/**
 * Each section's words: what is left of the target after the introduction and the headings, shared by
 * weight (a sub-section weighs less than a main section; more points, a little more), at least 60 each.
 */
export function sectionBudgets(target: number, sections: readonly OutlineSection[]): number[] {
  const headingWords = sections.reduce((sum, s) => sum + countWords(escapeText(s.heading)), 0);
  const body = Math.max(target - introWords(target) - headingWords, sections.length * 60);
  const weights = sections.map((s) => (s.level >= 3 ? 0.7 : 1) * (1 + Math.min(s.points.length, 5) * 0.1));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => Math.max(60, Math.round((body * w) / total)));
}

function authorVariables(brief: ArticleBrief) {
  const author = brief.author;
  return {
    author_name: author?.name || 'a senior writer and subject-matter expert',
    author_persona:
      author?.persona || 'you have done what you write about and explain it plainly to people who want to get it right',
    author_tone: author?.tone || 'clear, direct and warm',
    author_guidelines: author?.guidelines || 'none beyond the above',
    site_name: brief.site_name || 'the site',
    sector: brief.sector || 'its topic',
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export async function writeArticle(
  ai: Ai,
  ctx: { accountId: number },
  brief: ArticleBrief,
  options: WriteOptions,
): Promise<WrittenArticle> {
  const call = { units: 0, defer: true, signal: options.signal, object_type: 'writer_task', object_id: options.object_id };
  const common = {
    title: brief.title,
    description: brief.description,
    primary_keyword: brief.primary_keyword,
    keywords: brief.keywords,
    content_type: brief.content_type,
    content_structure: brief.content_structure,
  };
  const author = authorVariables(brief);

  if (brief.word_count <= SECTIONED_ABOVE) {
    const outline = brief.outline
      ? outlineText(brief.outline)
      : 'No outline given: choose the sections a reader of this title needs.';
    const answer = await ai.run(
      ctx,
      'content',
      { ...common, ...author, outline, word_count: brief.word_count },
      { ...call, ref: `${options.ref}:content` },
    );
    options.calls.push(answer.usage);
    const out = answer.output;
    return {
      html: out.html,
      meta_title: out.meta_title,
      meta_description: out.meta_description,
      slug: out.slug ?? null,
      primary_keyword: out.primary_keyword ?? null,
      secondary_keywords: out.secondary_keywords,
      categories: out.categories ?? [],
      tags: out.tags ?? [],
      fn: 'content',
      prompt_hash: answer.prompt_hash,
      model: answer.usage.model,
      temperature: answer.temperature,
      sections: 1,
    };
  }

  const hashes: string[] = [];
  let sections = brief.outline && brief.outline.length >= 2 ? brief.outline : null;
  if (!sections) {
    await options.step('outline');
    const answer = await ai.run(
      ctx,
      'outline',
      {
        ...common,
        site_name: author.site_name,
        sector: author.sector,
        word_count: brief.word_count,
        section_count: sectionCount(brief.word_count),
      },
      { ...call, ref: `${options.ref}:outline` },
    );
    options.calls.push(answer.usage);
    hashes.push(answer.prompt_hash);
    sections = answer.output.sections;
  }
  const outline = outlineText(sections);
  const budgets = sectionBudgets(brief.word_count, sections);
  const parts: string[] = [];
  const written: OutlineSection[] = [];
  let last: { model: string; temperature: number | null } = { model: '', temperature: null };
  for (const [i, section] of sections.entries()) {
    await options.step(`section ${i + 1} of ${sections.length}`);
    const level = Math.min(Math.max(section.level, 2), 4);
    const answer = await ai.run(
      ctx,
      'section',
      {
        ...common,
        ...author,
        outline,
        previous_headings:
          written.length > 0 ? outlineText(written.map((s) => ({ ...s, points: [] }))) : '(none yet: this is the first section)',
        heading: section.heading,
        level,
        points:
          section.points.length > 0
            ? section.points.map((p) => `- ${p}`).join('\n')
            : `- what a reader needs to know about "${section.heading}"`,
        position: `${i + 1} of ${sections.length}${i === sections.length - 1 ? ' (the last one)' : ''}`,
        word_count: budgets[i] ?? 200,
      },
      { ...call, ref: `${options.ref}:section:${i}` },
    );
    options.calls.push(answer.usage);
    hashes.push(answer.prompt_hash);
    last = { model: answer.usage.model, temperature: answer.temperature };
    parts.push(`<h${level}>${escapeText(section.heading)}</h${level}>\n${answer.output.html.trim()}`);
    written.push(section);
  }

  await options.step('introduction and meta');
  const meta = await ai.run(
    ctx,
    'meta',
    {
      ...common,
      ...author,
      headings: outlineText(written.map((s) => ({ ...s, points: [] }))),
      word_count: introWords(brief.word_count),
    },
    { ...call, ref: `${options.ref}:meta` },
  );
  options.calls.push(meta.usage);
  hashes.push(meta.prompt_hash);
  const out = meta.output;
  return {
    html: [out.introduction.trim(), ...parts].join('\n'),
    meta_title: out.meta_title,
    meta_description: out.meta_description,
    slug: out.slug ?? null,
    primary_keyword: out.primary_keyword ?? null,
    secondary_keywords: out.secondary_keywords,
    categories: out.categories ?? [],
    tags: out.tags ?? [],
    fn: 'section',
    prompt_hash: sha256(hashes.join('\n')),
    model: last.model || meta.usage.model,
    temperature: last.temperature,
    sections: sections.length,
  };
}
