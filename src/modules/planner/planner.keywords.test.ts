import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';

const KW = '/api/v1/planner/keywords/';
let t: TestApp;
let owner: SignedUp;
let site: { id: number };
let sector: { id: number };
let otherSector: { id: number };

async function post(url: string, payload: unknown, who: SignedUp = owner) {
  return t.request({ method: 'POST', url, headers: who.headers, payload: payload as object });
}
async function get(url: string, who: SignedUp = owner) {
  return t.request({ method: 'GET', url, headers: who.headers });
}
async function keyword(text: string, extra: Record<string, unknown> = {}) {
  const res = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: text, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: number; status: string; cluster_id: number | null };
}
async function cluster(name: string, sectorId = sector.id) {
  const res = await post('/api/v1/planner/clusters/', { site_id: site.id, sector_id: sectorId, name });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: number };
}
async function clusterTotals(id: number) {
  const { keywords_count, volume, difficulty } = (await get(`/api/v1/planner/clusters/${id}/`)).json().data;
  return { keywords_count, volume, difficulty };
}

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  site = await createSite(t, owner);
  sector = await createSector(t, owner, site.id, 'Trail');
  otherSector = await createSector(t, owner, site.id, 'Road');
});
afterAll(async () => t?.close());

describe('keywords', () => {
  it('creates a keyword normalised, with cpc as a 2-place string, and refuses a duplicate as a field error', async () => {
    const res = await post(KW, {
      site_id: site.id,
      sector_id: sector.id,
      keyword: '  Trail   Running  SHOES ',
      volume: 1200,
      difficulty: 35,
      cpc: '1.5',
      intent: 'commercial',
    });
    expect(res.statusCode, res.body).toBe(201);
    const data = res.json().data;
    expect(data).toMatchObject({
      keyword: 'trail running shoes',
      volume: 1200,
      difficulty: 35,
      cpc: '1.50',
      intent: 'commercial',
      status: 'new',
      source: 'manual',
      cluster_id: null,
    });
    expect(data.created_at).toMatch(/\.\d{3}Z$/);
    const again = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: 'trail running shoes' });
    expect(again.statusCode).toBe(400);
    expect(again.json().errors.keyword).toBeDefined();
    // The same keyword in another sector is another keyword.
    expect((await post(KW, { site_id: site.id, sector_id: otherSector.id, keyword: 'trail running shoes' })).statusCode).toBe(
      201,
    );
  });

  it('validates fields strictly and reports all errors at once', async () => {
    const res = await post(KW, {
      site_id: site.id,
      sector_id: sector.id,
      keyword: '',
      volume: -1,
      difficulty: 101,
      cpc: 'abc',
      intent: 'curious',
      extra: 1,
    });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json().errors)).toEqual(
      expect.arrayContaining(['keyword', 'volume', 'difficulty', 'cpc', 'intent', 'extra']),
    );
    const blank = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: '    ' });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().errors.keyword).toBeDefined();
  });

  it('filters, searches and orders the list', async () => {
    await keyword('hoka speedgoat', { volume: 5000, difficulty: 60, intent: 'navigational' });
    await keyword('trail shoe sizing', { volume: 90, difficulty: 10, intent: 'informational' });
    const byVolume = (await get(`${KW}?sector_id=${sector.id}&ordering=-volume`)).json().data;
    expect(byVolume.results.map((k: { volume: number }) => k.volume)).toEqual([5000, 1200, 90]);
    const ranged = (await get(`${KW}?sector_id=${sector.id}&volume__gte=100&volume__lte=2000`)).json().data;
    expect(ranged.results.map((k: { keyword: string }) => k.keyword)).toEqual(['trail running shoes']);
    const hard = (await get(`${KW}?difficulty__gte=50&intent=navigational`)).json().data;
    expect(hard.count).toBe(1);
    const search = (await get(`${KW}?search=SHOE&sector_id=${sector.id}&ordering=keyword`)).json().data;
    expect(search.results.map((k: { keyword: string }) => k.keyword)).toEqual(['trail running shoes', 'trail shoe sizing']);
    expect((await get(`${KW}?status__in=new,archived&source=manual`)).json().data.count).toBe(4);
    expect((await get(`${KW}?ordering=-bogus`)).statusCode).toBe(400);
    expect((await get(`${KW}?intent=curious`)).statusCode).toBe(400);
    expect((await get(`${KW}?unknown=1`)).statusCode).toBe(400);
  });

  it('moves status with cluster membership and keeps cluster totals right', async () => {
    const c = await cluster('shoes');
    const a = await keyword('salomon trail shoes', { volume: 100, difficulty: 20, cluster_id: c.id });
    expect(a.status).toBe('mapped');
    const b = await keyword('altra trail shoes', { volume: 300, difficulty: 41 });
    expect(await clusterTotals(c.id)).toEqual({ keywords_count: 1, volume: 100, difficulty: 20 });

    const joined = await t.request({
      method: 'PATCH',
      url: `${KW}${b.id}/`,
      headers: owner.headers,
      payload: { cluster_id: c.id },
    });
    expect(joined.json().data.status).toBe('mapped');
    expect(await clusterTotals(c.id)).toEqual({ keywords_count: 2, volume: 400, difficulty: 31 });

    await t.request({ method: 'PATCH', url: `${KW}${b.id}/`, headers: owner.headers, payload: { volume: 500 } });
    expect((await clusterTotals(c.id)).volume).toBe(600);

    // Leaving (status back to new) and archiving both take the keyword out of the cluster.
    const left = await t.request({ method: 'PATCH', url: `${KW}${b.id}/`, headers: owner.headers, payload: { status: 'new' } });
    expect(left.json().data).toMatchObject({ status: 'new', cluster_id: null });
    const archived = await t.request({
      method: 'PATCH',
      url: `${KW}${a.id}/`,
      headers: owner.headers,
      payload: { status: 'archived' },
    });
    expect(archived.json().data).toMatchObject({ status: 'archived', cluster_id: null });
    expect(await clusterTotals(c.id)).toEqual({ keywords_count: 0, volume: 0, difficulty: 0 });

    // archived → mapped is not an allowed move; archived → new is.
    const refused = await t.request({
      method: 'PATCH',
      url: `${KW}${a.id}/`,
      headers: owner.headers,
      payload: { cluster_id: c.id },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('conflict');
    const mappedAlone = await t.request({
      method: 'PATCH',
      url: `${KW}${b.id}/`,
      headers: owner.headers,
      payload: { status: 'mapped' },
    });
    expect(mappedAlone.statusCode).toBe(409);
    const back = await t.request({ method: 'PATCH', url: `${KW}${a.id}/`, headers: owner.headers, payload: { status: 'new' } });
    expect(back.json().data.status).toBe('new');

    // A cluster of another sector is a field error.
    const road = await cluster('road', otherSector.id);
    const wrong = await t.request({
      method: 'PATCH',
      url: `${KW}${a.id}/`,
      headers: owner.headers,
      payload: { cluster_id: road.id },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors.cluster_id).toBeDefined();

    // Deleting a clustered keyword updates the totals; deleting the cluster returns its keywords to new.
    const d = await keyword('inov8 trail shoes', { volume: 50, difficulty: 10, cluster_id: c.id });
    const e = await keyword('brooks trail shoes', { volume: 70, difficulty: 30, cluster_id: c.id });
    expect(await clusterTotals(c.id)).toEqual({ keywords_count: 2, volume: 120, difficulty: 20 });
    expect((await t.request({ method: 'DELETE', url: `${KW}${d.id}/`, headers: owner.headers })).statusCode).toBe(204);
    expect(await clusterTotals(c.id)).toEqual({ keywords_count: 1, volume: 70, difficulty: 30 });
    expect(
      (await t.request({ method: 'DELETE', url: `/api/v1/planner/clusters/${c.id}/`, headers: owner.headers })).statusCode,
    ).toBe(204);
    expect((await get(`${KW}${e.id}/`)).json().data).toMatchObject({ status: 'new', cluster_id: null });
  });

  it("bulk updates all or nothing, and bulk deletes only the caller's keywords", async () => {
    const c = await cluster('bulk');
    const x = await keyword('bulk one', { volume: 10 });
    const y = await keyword('bulk two', { volume: 20 });
    const z = await keyword('bulk three', { volume: 30 });
    await t.request({ method: 'PATCH', url: `${KW}${z.id}/`, headers: owner.headers, payload: { status: 'archived' } });

    const refused = await post(`${KW}bulk_update/`, { ids: [x.id, y.id, z.id], cluster_id: c.id });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().details.ids).toEqual([z.id]);
    expect((await get(`${KW}${x.id}/`)).json().data.status).toBe('new');

    const mapped = await post(`${KW}bulk_update/`, { ids: [x.id, y.id, 999999], cluster_id: c.id });
    expect(mapped.json().data).toEqual({ updated: 2, skipped: [999999] });
    expect(await clusterTotals(c.id)).toMatchObject({ keywords_count: 2, volume: 30 });
    expect(
      (await get(`/api/v1/planner/clusters/${c.id}/keywords/?ordering=-volume`))
        .json()
        .data.results.map((k: { id: number }) => k.id),
    ).toEqual([y.id, x.id]);

    const stranger = await signUp(t);
    const foreign = await post(`${KW}bulk_delete/`, { ids: [x.id, y.id] }, stranger);
    // Another account's ids are reported as skipped, never counted.
    expect(foreign.json().data).toEqual({ deleted: 0, skipped: [x.id, y.id] });
    const deleted = await post(`${KW}bulk_delete/`, { ids: [x.id, y.id] });
    expect(deleted.json().data).toEqual({ deleted: 2, skipped: [] });
    expect(await clusterTotals(c.id)).toMatchObject({ keywords_count: 0, volume: 0 });
    expect((await post(`${KW}bulk_delete/`, { ids: Array.from({ length: 1001 }, (_, i) => i + 1) })).statusCode).toBe(400);
    expect((await post(`${KW}bulk_update/`, { ids: [x.id] })).statusCode).toBe(400);
  });

  it('exports the filtered list as CSV', async () => {
    const res = await get(`${KW}export/?sector_id=${sector.id}&search=trail`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="keywords-/);
    const lines = res.body.trim().split('\n');
    expect(lines[0]).toBe('id,keyword,volume,difficulty,cpc,intent,status,cluster_id,source,site_id,sector_id,created_at');
    const keywords = lines.slice(1).map((l) => l.split(',')[1]);
    expect(keywords).toContain('trail running shoes');
    expect(keywords).not.toContain('hoka speedgoat');
    expect((await get(`${KW}export/?page=2`)).statusCode).toBe(400);
  });

  it('exports a formula-looking keyword so a spreadsheet shows it as text', async () => {
    await keyword('=hyperlink("http://x.example","trail")');
    const res = await get(`${KW}export/?sector_id=${sector.id}&search=hyperlink`);
    const [, line] = res.body.trim().split('\n');
    expect(line).toContain(`"'=hyperlink(""http://x.example"",""trail"")"`);
  });

  it('limits members to their sites', async () => {
    const otherSite = await createSite(t, owner, 'Other');
    const otherSiteSector = await createSector(t, owner, otherSite.id, 'Other sector');
    const limited = await addMember(t, owner, 'editor', [otherSite.id]);
    const visible = (await get(KW, limited)).json().data;
    expect(visible.count).toBe(0);
    const refused = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: 'not mine' }, limited);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors.site_id).toBeDefined();
    expect((await post(KW, { site_id: otherSite.id, sector_id: otherSiteSector.id, keyword: 'mine' }, limited)).statusCode).toBe(
      201,
    );
  });

  it('deleting the site deletes its keywords', async () => {
    const doomed = await createSite(t, owner, 'Doomed');
    const doomedSector = await createSector(t, owner, doomed.id, 'Doomed sector');
    await post(KW, { site_id: doomed.id, sector_id: doomedSector.id, keyword: 'gone soon' });
    expect((await get(`${KW}?site_id=${doomed.id}`)).json().data.count).toBe(1);
    expect(
      (await t.request({ method: 'DELETE', url: `/api/v1/auth/sites/${doomed.id}/`, headers: owner.headers })).statusCode,
    ).toBe(204);
    expect((await get(`${KW}?site_id=${doomed.id}`)).json().data.count).toBe(0);
  });

  it('secures every keyword route', async () => {
    const k = await keyword('secured keyword');
    const body = { site_id: site.id, sector_id: sector.id, keyword: 'secured new' };
    await expectSecured(t, { method: 'GET', url: KW, owner });
    await expectSecured(t, { method: 'POST', url: KW, payload: body, owner, siteScopedBody: true });
    await expectSecured(t, { method: 'GET', url: `${KW}${k.id}/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'PATCH', url: `${KW}${k.id}/`, payload: { volume: 3 }, owner, objectScoped: true });
    await expectSecured(t, {
      method: 'PUT',
      url: `${KW}${k.id}/`,
      payload: {
        keyword: 'secured keyword',
        volume: 1,
        difficulty: 1,
        cpc: '0.10',
        intent: null,
        status: 'new',
        cluster_id: null,
      },
      owner,
      objectScoped: true,
    });
    await expectSecured(t, { method: 'POST', url: `${KW}bulk_update/`, payload: { ids: [k.id], status: 'archived' }, owner });
    // The export answers CSV, not an envelope: the shared checks cover credentials; its rows are checked here.
    await expectSecured(t, { method: 'GET', url: `${KW}export/`, owner });
    const outsider = await signUp(t);
    const theirs = await get(`${KW}export/`, outsider);
    expect(theirs.statusCode).toBe(200);
    expect(theirs.body.trim().split('\n')).toHaveLength(1);
    await expectSecured(t, {
      method: 'POST',
      url: `${KW}import/`,
      payload: { site_id: site.id, sector_id: sector.id, rows: [{ keyword: 'x' }] },
      owner,
      siteScopedBody: true,
    });
    await expectSecured(t, {
      method: 'POST',
      url: `${KW}auto_cluster/`,
      payload: { site_id: site.id, sector_id: sector.id },
      owner,
      siteScopedBody: true,
    });
    await expectSecured(t, { method: 'POST', url: `${KW}bulk_delete/`, payload: { ids: [k.id] }, owner });
    await expectSecured(t, { method: 'DELETE', url: `${KW}${k.id}/`, owner, objectScoped: true });
  });
});
