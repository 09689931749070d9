import { parse } from 'csv-parse/sync';
import { Value } from 'typebox/value';
import type { Db } from '../../core/db.js';
import { AppError, fieldError, validationError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import { INPUT_KEYWORD_MESSAGES, isStorableText, WELL_FORMED_TEXT } from '../../core/input-schema.js';
import type { Logger } from '../../core/logger.js';
import type { ScopedContext } from '../../core/resource.js';
import type { SiteAccess } from '../../core/tenancy.js';
import { type KeywordsService, normaliseKeyword } from './planner.keywords.service.js';
import * as repo from './planner.repository.js';
import { ImportJsonBody, KEYWORD_MAX_LENGTH } from './planner.schemas.js';
import { INTENTS, type Intent } from './planner.tables.js';

/**
 * Reading keyword files as the tools export them: Google Keyword Planner (UTF-16, tab-separated, two title
 * lines above the header), Ahrefs, Semrush and Search Console (UTF-8 CSV), or anything with a keyword column.
 * The file is decoded, its header found and its columns matched by name (case-insensitively, with the usual
 * aliases); then each row is checked on its own, so a bad row is reported and skipped, never half-stored.
 */

export const MAX_IMPORT_ROWS = 50_000;
export const MAX_IMPORT_BYTES = 25 * 1024 * 1024;

export type Field = 'keyword' | 'volume' | 'difficulty' | 'cpc' | 'intent';
export interface RowError {
  row: number;
  column: string;
  message: string;
}
export interface CleanRow {
  row: number;
  keyword: string;
  volume: number;
  difficulty: number;
  cpc: string;
  intent: Intent | null;
}
/** One data row by field, values as found; `columns` names each field's column for error reports. */
export interface RawRows {
  columns: Partial<Record<Field, string>>;
  rows: { row: number; values: Partial<Record<Field, unknown>> }[];
  errors: RowError[];
}

/** Header names per field, compared after lower-casing and turning punctuation into spaces. */
const ALIASES: Record<Field, string[]> = {
  keyword: ['keyword', 'keywords', 'search term', 'search terms', 'query', 'queries', 'top queries', 'keyword phrase'],
  volume: ['volume', 'search volume', 'avg monthly searches', 'monthly searches', 'monthly volume', 'sv'],
  difficulty: ['kd', 'keyword difficulty', 'difficulty', 'keyword difficulty index', 'seo difficulty'],
  cpc: ['cpc', 'top of page bid high range', 'avg cpc'],
  intent: ['intent', 'intents', 'search intent'],
};
/** Used only when no column above is there (Search Console has impressions, not search volume). */
const FALLBACK: Partial<Record<Field, string[]>> = { volume: ['impressions'], cpc: ['top of page bid low range'] };

const headerKey = (cell: string) =>
  cell
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

function matchField(key: string, field: Field, names: string[]): boolean {
  // "CPC (USD)", "CPC (EUR)": a currency after the name still means the field.
  return names.includes(key) || (field === 'cpc' && /^(avg )?cpc [a-z]{3}$/.test(key));
}

function mapColumns(header: string[]): Partial<Record<Field, number>> {
  const keys = header.map(headerKey);
  const found: Partial<Record<Field, number>> = {};
  for (const field of Object.keys(ALIASES) as Field[]) {
    let index = keys.findIndex((key) => matchField(key, field, ALIASES[field]));
    if (index < 0 && FALLBACK[field]) index = keys.findIndex((key) => FALLBACK[field]?.includes(key));
    if (index >= 0) found[field] = index;
  }
  return found;
}

const notCsv = (why: string) =>
  new AppError('validation_error', `The file is not a keyword CSV: ${why}`, { errors: { file: [why], non_field_errors: [] } });

/** UTF-16 (with a BOM, or without one but with the telltale zero bytes), UTF-8 (BOM or not), else Windows-1252. */
export function decodeFile(buffer: Buffer): string {
  if (buffer.length >= 2 && buffer[0] === 0xff && buffer[1] === 0xfe)
    return new TextDecoder('utf-16le').decode(buffer.subarray(2));
  if (buffer.length >= 2 && buffer[0] === 0xfe && buffer[1] === 0xff)
    return new TextDecoder('utf-16be').decode(buffer.subarray(2));
  const sample = buffer.subarray(0, 4096);
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < sample.length; i++) if (sample[i] === 0) i % 2 === 0 ? evenZeros++ : oddZeros++;
  if (oddZeros > sample.length / 4 && evenZeros === 0) return new TextDecoder('utf-16le').decode(buffer);
  if (evenZeros > sample.length / 4 && oddZeros === 0) return new TextDecoder('utf-16be').decode(buffer);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buffer);
  } catch {
    return new TextDecoder('windows-1252').decode(buffer);
  }
}

const DELIMITERS = [',', '\t', ';'] as const;
const naiveCells = (line: string, delimiter: string) => line.split(delimiter).map((c) => c.replace(/^\s*"|"\s*$/g, ''));

/** Finds the header (title lines above it are skipped) and the delimiter: the first line with a keyword column. */
function findHeader(text: string): { offset: number; delimiter: string } {
  let offset = 0;
  for (let line = 0; line < 25 && offset < text.length; line++) {
    const end = text.indexOf('\n', offset);
    const content = text.slice(offset, end < 0 ? text.length : end).replace(/\r$/, '');
    for (const delimiter of DELIMITERS) {
      const cells = naiveCells(content, delimiter).map(headerKey);
      if (cells.some((cell) => ALIASES.keyword.includes(cell))) return { offset, delimiter };
    }
    if (end < 0) break;
    offset = end + 1;
  }
  throw notCsv('no header row with a keyword column (Keyword, Search term, Query, ...) in its first lines.');
}

/** Parses a keyword file into rows by field; throws 400 for a file that is not CSV, 413 past the row cap. */
export function readKeywordFile(buffer: Buffer): RawRows {
  if (buffer.length === 0) throw notCsv('the file is empty.');
  const text = decodeFile(buffer).replace(/^\uFEFF/, '');
  if (text.includes('\u0000')) throw notCsv('it holds binary data.');
  const { offset, delimiter } = findHeader(text);
  const skipped: { line: number; message: string }[] = [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text.slice(offset), {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      skip_records_with_error: true,
      on_skip: (error: { lines?: number; message: string } | undefined) => {
        if (error) skipped.push({ line: error.lines ?? 0, message: error.message });
      },
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    throw notCsv((error as Error).message);
  }
  const [header, ...data] = records;
  if (!header) throw notCsv('no header row.');
  if (data.length + skipped.length > MAX_IMPORT_ROWS) throw tooManyRows(data.length + skipped.length);
  const indexes = mapColumns(header.record);
  const columns: Partial<Record<Field, string>> = {};
  for (const [field, index] of Object.entries(indexes)) columns[field as Field] = header.record[index as number] ?? field;

  // Rows are numbered from 1 for the first data row, counting rows the parser had to skip.
  const events = [
    ...data.map((r) => ({ line: r.info.lines, record: r.record as string[] | null, message: '' })),
    ...skipped.map((s) => ({ line: s.line, record: null, message: s.message })),
  ].sort((a, b) => a.line - b.line);
  const result: RawRows = { columns, rows: [], errors: [] };
  events.forEach((event, i) => {
    const row = i + 1;
    if (!event.record) {
      result.errors.push({ row, column: '', message: `Unreadable CSV row: ${event.message}` });
      return;
    }
    const values: Partial<Record<Field, unknown>> = {};
    for (const [field, index] of Object.entries(indexes)) values[field as Field] = event.record[index as number];
    result.rows.push({ row, values });
  });
  return result;
}

export const tooManyRows = (count: number) =>
  new AppError(
    'payload_too_large',
    `An import takes at most ${MAX_IMPORT_ROWS.toLocaleString('en')} rows; this one has ${count.toLocaleString('en')}.`,
    {
      details: { limit: MAX_IMPORT_ROWS, rows: count },
    },
  );

const EMPTY = new Set(['', '-', '--', 'n/a', 'na', 'null', 'none']);

/** "1,300", "2.4K", "1K – 10K" (Keyword Planner's ranges: the lower bound). */
function parseVolume(raw: unknown): number | string {
  if (raw === undefined || raw === null) return 0;
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? Math.round(raw) : 'Must be a whole number of 0 or more.';
  const text = String(raw).trim().toLowerCase();
  if (EMPTY.has(text)) return 0;
  const match = /^([\d\s,._]*\d(?:[.,]\d+)?)\s*([km])?/.exec(text.replace(/^[<>~≈]/, ''));
  if (!match) return 'Must be a whole number of 0 or more.';
  const number = match[1] as string;
  // "2,4K" is a decimal comma; otherwise commas, spaces and underscores group thousands.
  const digits = match[2] && /^\d+,\d{1,2}$/.test(number) ? number.replace(',', '.') : number.replace(/[\s,_]/g, '');
  let value = Number(digits);
  if (!Number.isFinite(value)) return 'Must be a whole number of 0 or more.';
  if (match[2] === 'k') value *= 1_000;
  if (match[2] === 'm') value *= 1_000_000;
  if (value > 2_147_483_647) return 'Is too large.';
  return Math.round(value);
}

function parseDifficulty(raw: unknown): number | string {
  if (raw === undefined || raw === null) return 0;
  const text = String(raw).trim().replace('%', '').replace(',', '.');
  if (EMPTY.has(text.toLowerCase())) return 0;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 100) return 'Must be a number from 0 to 100.';
  return Math.round(value);
}

function parseCpc(raw: unknown): string | { error: string } {
  if (raw === undefined || raw === null) return '0.00';
  let text = String(raw)
    .trim()
    .replace(/[\s$€£¥]|usd|eur|gbp/gi, '');
  if (EMPTY.has(text.toLowerCase())) return '0.00';
  // "1,25" (a decimal comma, as semicolon-separated files write it) but "1,250.00" (a thousands comma).
  text = text.includes('.') ? text.replace(/,/g, '') : text.replace(',', '.');
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) return { error: 'Must be a decimal amount of 0 or more.' };
  if (value >= 100_000_000) return { error: 'Is too large.' };
  return value.toFixed(2);
}

function parseIntent(raw: unknown): Intent | null | { error: string } {
  if (raw === undefined || raw === null) return null;
  const text = String(raw).trim().toLowerCase();
  if (EMPTY.has(text)) return null;
  // Semrush and Ahrefs list several ("Commercial, Transactional"): the first one known is kept.
  for (const part of text.split(/[,;/|]+/)) {
    const word = part.trim();
    const intent = INTENTS.find((i) => i === word || (i.startsWith(word) && word.length >= 4));
    if (intent) return intent;
  }
  return { error: `Must be one of: ${INTENTS.join(', ')}.` };
}

/** Checks every row on its own: a row with any bad value is reported (each problem) and left out. */
export function cleanRows(raw: RawRows): { rows: CleanRow[]; errors: RowError[] } {
  const errors = [...raw.errors];
  const rows: CleanRow[] = [];
  const name = (field: Field) => raw.columns[field] ?? field;
  for (const { row, values } of raw.rows) {
    const problems: RowError[] = [];
    const keyword = normaliseKeyword(String(values.keyword ?? ''));
    if (keyword === '') problems.push({ row, column: name('keyword'), message: 'Keyword is required.' });
    else if (!isStorableText(keyword)) {
      problems.push({ row, column: name('keyword'), message: INPUT_KEYWORD_MESSAGES[WELL_FORMED_TEXT]?.() ?? '' });
    } else if (keyword.length > KEYWORD_MAX_LENGTH) {
      problems.push({ row, column: name('keyword'), message: `Must be at most ${KEYWORD_MAX_LENGTH} characters.` });
    }
    const volume = parseVolume(values.volume);
    if (typeof volume === 'string') problems.push({ row, column: name('volume'), message: volume });
    const difficulty = parseDifficulty(values.difficulty);
    if (typeof difficulty === 'string') problems.push({ row, column: name('difficulty'), message: difficulty });
    const cpc = parseCpc(values.cpc);
    if (typeof cpc === 'object') problems.push({ row, column: name('cpc'), message: cpc.error });
    const intent = parseIntent(values.intent);
    if (intent !== null && typeof intent === 'object') problems.push({ row, column: name('intent'), message: intent.error });
    if (problems.length > 0) {
      errors.push(...problems);
      continue;
    }
    rows.push({
      row,
      keyword,
      volume: volume as number,
      difficulty: difficulty as number,
      cpc: cpc as string,
      intent: intent as Intent | null,
    });
  }
  errors.sort((a, b) => a.row - b.row);
  return { rows, errors };
}

/** JSON rows (`{keyword, volume, ...}` objects) in the same shape as a file's. */
export function jsonRows(rows: Record<string, unknown>[]): RawRows {
  if (rows.length > MAX_IMPORT_ROWS) throw tooManyRows(rows.length);
  return {
    columns: {},
    rows: rows.map((values, i) => ({ row: i + 1, values: values as Partial<Record<Field, unknown>> })),
    errors: [],
  };
}

/** Multipart fields besides the file: the target's ids, as text. */
function idField(fields: Record<string, string>, name: 'site_id' | 'sector_id'): number {
  const raw = fields[name];
  if (raw === undefined) throw fieldError(name, 'This field is required.');
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < 1 || Number(raw) > 2147483647) throw fieldError(name, 'Must be an integer.');
  return Number(raw);
}

export interface ImportOutcome {
  created: number;
  skipped_duplicates: number;
  errors: RowError[];
}

const INSERT_BATCH = 1000;
/** An import this large changes the table's statistics enough for Postgres to plan lists badly until it re-samples. */
const ANALYZE_AFTER_ROWS = 1000;

export function createImportService(deps: {
  db: Db;
  siteAccess: SiteAccess;
  keywords: Pick<KeywordsService, 'checkLimit'>;
  log: Logger;
}) {
  const { db } = deps;
  const service = {
    /** A multipart import: the file and the target's ids as text fields, checked here. */
    async importForm(ctx: ScopedContext, form: { file: Buffer | null; fields: Record<string, string> }) {
      const siteId = idField(form.fields, 'site_id');
      const sectorId = idField(form.fields, 'sector_id');
      if (!form.file) throw fieldError('file', 'This field is required.');
      return service.importRows(ctx, { site_id: siteId, sector_id: sectorId }, readKeywordFile(form.file), 'file');
    },

    /**
     * A JSON import. The route validates a JSON body against ImportJsonBody; a request with no body at all
     * (no content type) reaches here as undefined, and is told what to send.
     */
    async importJson(ctx: ScopedContext, body: unknown) {
      if (!Value.Check(ImportJsonBody, body)) {
        throw validationError({ non_field_errors: ['Send JSON {site_id, sector_id, rows} or a multipart file.'] });
      }
      return service.importRows(ctx, body, jsonRows(body.rows), 'json');
    },

    /**
     * Stores the good rows in one transaction, in batches (a keyword already in the sector, or twice in the
     * file, is a skipped duplicate), after checking the site and sector; past the plan's keyword limit nothing
     * is stored.
     */
    async importRows(
      ctx: ScopedContext,
      target: { site_id: number; sector_id: number },
      raw: RawRows,
      via: 'file' | 'json',
    ): Promise<ImportOutcome> {
      const { rows, errors } = cleanRows(raw);
      const outcome = await db.transaction(async (tx) => {
        const problems = await deps.siteAccess.check(tx, ctx, target.site_id, target.sector_id);
        if (problems) throw validationError(problems);
        // Locks the account row first, so two imports at once cannot both slip under the plan's limit.
        await deps.keywords.checkLimit(tx, ctx.accountId, 0);
        const seen = new Set<string>();
        const unique = rows.filter((r) => (seen.has(r.keyword) ? false : (seen.add(r.keyword), true)));
        let created = 0;
        for (let i = 0; i < unique.length; i += INSERT_BATCH) {
          const batch = unique.slice(i, i + INSERT_BATCH).map((r) => ({
            account_id: ctx.accountId,
            site_id: target.site_id,
            sector_id: target.sector_id,
            keyword: r.keyword,
            volume: r.volume,
            difficulty: r.difficulty,
            cpc: r.cpc,
            intent: r.intent,
            source: 'import' as const,
          }));
          created += await repo.insertKeywords(tx, batch);
        }
        // Checked after the inserts, so only keywords really added count; past the limit all of it rolls back.
        if (created > 0) await deps.keywords.checkLimit(tx, ctx.accountId, 0);
        const outcome = { created, skipped_duplicates: rows.length - created, errors };
        await record(
          tx,
          byCaller(ctx, {
            type: 'keywords.imported',
            object_type: 'sector',
            object_id: target.sector_id,
            site_id: target.site_id,
            payload: {
              site_id: target.site_id,
              sector_id: target.sector_id,
              via,
              created,
              skipped_duplicates: outcome.skipped_duplicates,
              errors: errors.length,
            },
          }),
        );
        return outcome;
      });
      // Fresh statistics right away rather than at autovacuum's next pass: without them, the first lists after a
      // large import sort the whole sector instead of walking the (account_id, volume desc, id desc) index.
      if (outcome.created >= ANALYZE_AFTER_ROWS) {
        repo
          .analyzeKeywords(db)
          .catch((error) => deps.log.warn({ err: error }, 'could not analyze planner_keywords after an import'));
      }
      return outcome;
    },
  };
  return service;
}
export type ImportService = ReturnType<typeof createImportService>;
