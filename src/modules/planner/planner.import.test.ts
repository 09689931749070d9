import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';

const IMPORT = '/api/v1/planner/keywords/import/';
const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
let t: TestApp;
let owner: SignedUp;
let siteId: number;

/** A multipart body as a browser sends it: text fields and one file. */
function multipart(fields: Record<string, string | number>, file?: { name: string; content: Buffer }) {
  const boundary = `----planner${Date.now().toString(16)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
    );
    parts.push(file.content, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function upload(sectorId: number, name: string, content: Buffer) {
  const body = multipart({ site_id: siteId, sector_id: sectorId }, { name, content });
  return t.request({ method: 'POST', url: IMPORT, headers: { ...owner.headers, ...body.headers }, payload: body.payload });
}
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
async function keywordsOf(sectorId: number) {
  const res = await t.request({
    method: 'GET',
    url: `/api/v1/planner/keywords/?sector_id=${sectorId}&ordering=keyword&page_size=200`,
    headers: owner.headers,
  });
  return res.json().data.results as {
    keyword: string;
    volume: number;
    difficulty: number;
    cpc: string;
    intent: string | null;
    source: string;
  }[];
}

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  siteId = (await createSite(t, owner)).id;
});
afterAll(async () => t?.close());

describe('keyword import', () => {
  it('reads a Google Keyword Planner export (UTF-16, tabs, title lines)', async () => {
    const sector = await createSector(t, owner, siteId);
    const res = await upload(sector.id, 'gkp.csv', fixture('keywords-google-keyword-planner.csv'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual({
      created: 5,
      skipped_duplicates: 0,
      errors: [{ row: 5, column: 'Keyword', message: 'Keyword is required.' }],
    });
    const rows = await keywordsOf(sector.id);
    expect(rows.find((r) => r.keyword === 'best trail running shoes')).toMatchObject({
      volume: 6600,
      cpc: '2.10',
      source: 'import',
    });
    // "1K – 10K" (a range) is read as its lower bound; an empty bid as 0.
    expect(rows.find((r) => r.keyword === 'trail shoes for running')?.volume).toBe(1000);
    expect(rows.find((r) => r.keyword === 'waterproof trail shoes')?.cpc).toBe('0.00');
  });

  it('reads Ahrefs, Semrush and Search Console exports, reporting bad rows and skipping duplicates', async () => {
    const sector = await createSector(t, owner, siteId);
    const ahrefs = (await upload(sector.id, 'ahrefs.csv', fixture('keywords-ahrefs.csv'))).json().data;
    expect(ahrefs.created).toBe(3);
    expect(ahrefs.errors).toEqual([{ row: 4, column: 'Difficulty', message: 'Must be a number from 0 to 100.' }]);
    const semrush = (await upload(sector.id, 'semrush.csv', fixture('keywords-semrush.csv'))).json().data;
    expect(semrush).toMatchObject({ created: 4, skipped_duplicates: 0 });
    expect(semrush.errors).toEqual([{ row: 4, column: 'Intent', message: expect.stringMatching(/^Must be one of/) }]);
    // Search Console's "trail running shoes" is already there (from Ahrefs): a duplicate, skipped.
    const gsc = (await upload(sector.id, 'gsc.csv', fixture('keywords-search-console.csv'))).json().data;
    expect(gsc).toEqual({ created: 2, skipped_duplicates: 1, errors: [] });
    const rows = await keywordsOf(sector.id);
    expect(rows.find((r) => r.keyword === 'trail running shoes')).toMatchObject({
      volume: 14000,
      difficulty: 38,
      cpc: '1.60',
      intent: 'commercial',
    });
    expect(rows.find((r) => r.keyword === 'gps running watch')).toMatchObject({
      volume: 2900,
      difficulty: 58,
      cpc: '0.95',
      intent: 'commercial',
    });
    expect(rows.find((r) => r.keyword === 'trail running shoes women')?.volume).toBe(1900);
    expect(rows.find((r) => r.keyword === 'trail shoe sizing')).toBeUndefined();

    const events = await t.request({ method: 'GET', url: '/api/v1/events/?type=keywords.imported', headers: owner.headers });
    expect(events.json().data.results.length).toBeGreaterThanOrEqual(4);
  });

  it('takes JSON rows, semicolons and decimal commas', async () => {
    const sector = await createSector(t, owner, siteId);
    const json = await t.request({
      method: 'POST',
      url: IMPORT,
      headers: owner.headers,
      payload: {
        site_id: siteId,
        sector_id: sector.id,
        rows: [{ keyword: 'Rain Jacket', volume: 500, cpc: 1.2 }, { keyword: 'rain jacket' }, { keyword: '', volume: 1 }],
      },
    });
    expect(json.json().data).toEqual({
      created: 1,
      skipped_duplicates: 1,
      errors: [{ row: 3, column: 'keyword', message: 'Keyword is required.' }],
    });
    const semicolons = await upload(
      sector.id,
      'eu.csv',
      Buffer.from('Keyword;Search Volume;KD %;CPC\nwindproof jacket;"1.300";12;1,25\n'),
    );
    expect(semicolons.json().data.created).toBe(1);
    expect((await keywordsOf(sector.id)).find((r) => r.keyword === 'windproof jacket')?.cpc).toBe('1.25');
  });

  it('refuses what is not a keyword CSV, and oversize imports, storing nothing', async () => {
    const sector = await createSector(t, owner, siteId);
    const png = await upload(
      sector.id,
      'logo.png',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]),
    );
    expect(png.statusCode).toBe(400);
    expect(png.json().errors.file).toBeDefined();
    expect((await upload(sector.id, 'notes.csv', Buffer.from('name,price\nshoe,10\n'))).statusCode).toBe(400);

    const many = `Keyword,Volume\n${Array.from({ length: 50_001 }, (_, i) => `kw ${i},${i}`).join('\n')}\n`;
    const tooMany = await upload(sector.id, 'many.csv', Buffer.from(many));
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().code).toBe('payload_too_large');
    const tooManyJson = await t.request({
      method: 'POST',
      url: IMPORT,
      headers: owner.headers,
      payload: { site_id: siteId, sector_id: sector.id, rows: Array.from({ length: 50_001 }, (_, i) => ({ keyword: `k${i}` })) },
    });
    expect(tooManyJson.statusCode).toBe(413);
    const big = Buffer.alloc(25 * 1024 * 1024 + 10, 'a');
    const tooBig = await upload(sector.id, 'big.csv', big);
    expect(tooBig.statusCode).toBe(413);
    expect(await keywordsOf(sector.id)).toEqual([]);
  });

  it('checks the multipart fields and the site', async () => {
    const sector = await createSector(t, owner, siteId);
    const noFile = multipart({ site_id: siteId, sector_id: sector.id });
    const res = await t.request({
      method: 'POST',
      url: IMPORT,
      headers: { ...owner.headers, ...noFile.headers },
      payload: noFile.payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.file).toBeDefined();
    const stranger = await signUp(t);
    const theirSite = await createSite(t, stranger);
    const theirSector = await createSector(t, stranger, theirSite.id);
    const body = multipart(
      { site_id: theirSite.id, sector_id: theirSector.id },
      { name: 'a.csv', content: fixture('keywords-ahrefs.csv') },
    );
    const foreign = await t.request({
      method: 'POST',
      url: IMPORT,
      headers: { ...owner.headers, ...body.headers },
      payload: body.payload,
    });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().errors.site_id).toBeDefined();
  });
});
