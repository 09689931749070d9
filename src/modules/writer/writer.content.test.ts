import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import * as repo from './writer.repository.js';

let t: TestApp;
let owner: SignedUp;
let siteId: number;
let sectorId: number;

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  siteId = (await createSite(t, owner)).id;
  sectorId = (await createSector(t, owner, siteId)).id;
});
afterAll(async () => {
  await t?.close();
});

const HOSTILE =
  '<h2 onclick="x()">Fit</h2><script>alert(1)</script><p>Trail <a href="javascript:alert(1)">shoes</a> ' +
  '<img src="x.png" onerror="alert(1)"> grip.</p><img src="data:image/png;base64,AAAA"><iframe src="https://x"></iframe>';

describe('the repository: one choke point for article text', () => {
  it('inserts sanitised html, counts words from it, and makes the slug unique per site', async () => {
    const db = t.database.db;
    const first = await repo.insertContent(db, owner.accountId, {
      site_id: siteId,
      sector_id: sectorId,
      title: 'Trail Shoés: a Guide!',
      html: HOSTILE,
    });
    expect(first.slug).toBe('trail-shoes-a-guide');
    expect(first.html).toBe('<h2>Fit</h2><p>Trail <a>shoes</a> <img src="x.png" /> grip.</p>');
    expect(first.html).not.toMatch(/script|onerror|onclick|javascript:|data:|iframe/);
    expect(first.word_count).toBe(4);
    expect(first.version).toBe(1);

    const [second, third] = await Promise.all([
      repo.insertContent(db, owner.accountId, { site_id: siteId, sector_id: sectorId, title: 'Trail shoes a guide' }),
      repo.insertContent(db, owner.accountId, { site_id: siteId, sector_id: sectorId, title: 'trail-shoes-a-guide' }),
    ]);
    expect([second.slug, third.slug].sort()).toEqual(['trail-shoes-a-guide-2', 'trail-shoes-a-guide-3']);

    // Another site may use the same slug.
    const otherSite = (await createSite(t, owner)).id;
    const otherSector = (await createSector(t, owner, otherSite)).id;
    const elsewhere = await repo.insertContent(db, owner.accountId, {
      site_id: otherSite,
      sector_id: otherSector,
      title: 'Trail shoes, a guide',
    });
    expect(elsewhere.slug).toBe('trail-shoes-a-guide');

    // A slug asked for exactly is refused on a clash when the caller says so (a person's choice), not renamed.
    await expect(
      db.transaction((tx) =>
        repo.insertContent(
          tx,
          owner.accountId,
          { site_id: siteId, sector_id: sectorId, title: 'x', slug: 'trail-shoes-a-guide' },
          { slugTaken: 'error' },
        ),
      ),
    ).rejects.toMatchObject({ code: 'validation_error', options: { errors: { slug: expect.any(Array) } } });
  });

  it('keeps the previous text as a version on a text change, and none on other changes', async () => {
    const db = t.database.db;
    const row = await repo.insertContent(db, owner.accountId, {
      site_id: siteId,
      sector_id: sectorId,
      title: 'Versions',
      html: '<p>one two</p>',
    });
    const revised = await db.transaction((tx) =>
      repo.reviseContent(
        tx,
        owner.accountId,
        row.id,
        { html: '<p>one two three<script>x</script></p>', tags: ['a'] },
        {
          userId: owner.userId,
          reason: 'edit',
          expectedVersion: 1,
        },
      ),
    );
    expect(revised).toMatchObject({ version: 2, html: '<p>one two three</p>', word_count: 3, tags: ['a'] });
    const versions = await repo.contentVersions(db, owner.accountId, row.id);
    expect(versions).toEqual([
      expect.objectContaining({ number: 1, html: '<p>one two</p>', word_count: 2, reason: 'edit', created_by_id: owner.userId }),
    ]);

    // Tags alone: no version, same version number.
    const tagged = await db.transaction((tx) =>
      repo.reviseContent(tx, owner.accountId, row.id, { tags: ['b'] }, { userId: null, reason: 'edit' }),
    );
    expect(tagged.version).toBe(2);
    // Nothing different: nothing written.
    const same = await db.transaction((tx) =>
      repo.reviseContent(tx, owner.accountId, row.id, { html: '<p>one two three</p>' }, { userId: null, reason: 'edit' }),
    );
    expect(same.updated_at).toEqual(tagged.updated_at);
    expect(await repo.contentVersions(db, owner.accountId, row.id)).toHaveLength(1);

    // A stale version is a 412 and changes nothing.
    await expect(
      db.transaction((tx) =>
        repo.reviseContent(tx, owner.accountId, row.id, { title: 'Stale' }, { userId: null, reason: 'edit', expectedVersion: 1 }),
      ),
    ).rejects.toMatchObject({ code: 'precondition_failed' });
    expect((await repo.contentById(db, owner.accountId, row.id))?.title).toBe('Versions');
  });

  it('keeps a revised slug unique, and reads only the account (and reachable sites)', async () => {
    const db = t.database.db;
    const a = await repo.insertContent(db, owner.accountId, { site_id: siteId, sector_id: sectorId, title: 'Slug A' });
    const b = await repo.insertContent(db, owner.accountId, { site_id: siteId, sector_id: sectorId, title: 'Slug B' });
    const moved = await db.transaction((tx) =>
      repo.reviseContent(tx, owner.accountId, b.id, { slug: a.slug }, { userId: null, reason: 'restore' }),
    );
    expect(moved.slug).toBe('slug-a-2');
    await expect(
      db.transaction((tx) =>
        repo.reviseContent(tx, owner.accountId, b.id, { slug: a.slug }, { userId: null, reason: 'edit', slugTaken: 'error' }),
      ),
    ).rejects.toMatchObject({ code: 'validation_error' });
    // Its own slug is not a clash.
    const kept = await db.transaction((tx) =>
      repo.reviseContent(tx, owner.accountId, a.id, { slug: 'Slug A', title: 'Slug A!' }, { userId: null, reason: 'edit' }),
    );
    expect(kept.slug).toBe('slug-a');

    const stranger = await signUp(t);
    expect(await repo.contentById(db, stranger.accountId, a.id)).toBeNull();
    expect(await repo.contentById(db, owner.accountId, a.id, [])).toBeNull();
    expect(await repo.contentById(db, owner.accountId, a.id, [siteId])).toMatchObject({ id: a.id });
    await expect(
      db.transaction((tx) => repo.reviseContent(tx, stranger.accountId, a.id, { title: 'x' }, { userId: null, reason: 'edit' })),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reads writer tasks of the account only', async () => {
    const db = t.database.db;
    const [task] = await repo.insertTasks(db, owner.accountId, [
      { site_id: siteId, sector_id: sectorId, title: 'Task', word_count_target: 800 },
    ]);
    const id = task?.id;
    expect(await repo.writerTaskById(db, owner.accountId, id as number)).toMatchObject({ id, status: 'queued' });
    expect(await repo.writerTaskById(db, owner.accountId + 1000, id as number)).toBeNull();
    expect(await repo.writerTaskById(db, owner.accountId, id as number, [])).toBeNull();
  });
});
