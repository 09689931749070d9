import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIST } from '../src/core/console.js';
import { PROJECT_ROOT } from '../src/core/db.js';
import { type FakeOpenAI, type FakeRequest, startFakeOpenAI } from './fake-openai.js';
import { fakeWriter } from './fake-writer.js';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * The console in a real browser (Debian's Chromium through playwright-core) against the real app listening on a
 * port, on a database of its own, with the job queue working and the fake AI provider answering as a model
 * would: a new user registers, makes a site and a sector, imports a CSV (and sees its bad row), clusters,
 * generates ideas and an article, meets a 412 while editing, approves the article and sees the credits drop.
 * Any error in the browser's console fails the test. With CONSOLE_SCREENSHOTS=<dir> (`npm run web:screenshots`)
 * the main screens are saved there as PNGs.
 */

const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const screenshots = process.env.CONSOLE_SCREENSHOTS ? resolve(PROJECT_ROOT, process.env.CONSOLE_SCREENSHOTS) : null;

/** The console as built from the current sources: rebuilt when any file under web/ is newer than the build. */
function ensureBuilt() {
  const index = join(CONSOLE_DIST, 'index.html');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  const sources = Math.max(newest(join(PROJECT_ROOT, 'web', 'src')), statSync(join(PROJECT_ROOT, 'web', 'index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync('npm', ['run', 'web:build'], { cwd: PROJECT_ROOT, stdio: 'pipe' });
}

/** Ideas as a model writes them, one per call: the planner's `ideas` function (the writer's come from fakeWriter). */
function ideasAnswer(request: FakeRequest) {
  if (request.body?.response_format?.json_schema?.name !== 'ideas') return { status: 400, message: 'unscripted call' };
  return {
    json: {
      ideas: [
        {
          title: 'How to choose trail running shoes',
          description: 'Grip, drop and fit for rough ground.',
          content_type: 'post',
          content_structure: 'guide',
          target_keywords: ['trail running shoes'],
          estimated_word_count: 300,
          outline: { sections: [{ heading: 'Grip', level: 2, points: ['Lugs for mud'] }] },
        },
      ],
    },
  };
}

const CSV = [
  'Keyword,Volume,Difficulty',
  'trail running shoes,1200,40',
  'best trail running shoes,900,45',
  'trail running shoes for women,500,30',
  'waterproof trail running shoes,300,35',
  'trail running shoes,1200,40',
  'hiking boots,not-a-number,20',
].join('\n');

let fake: FakeOpenAI;
let t: TestApp;
let base: string;
let browser: Browser | null = null;
let cannotStart: string | null = null;
/** Milliseconds from a click in the menu to the screen's content, by screen (printed at the end). */
const timings: Record<string, number> = {};

beforeAll(async () => {
  if (!existsSync(executablePath)) {
    cannotStart = `no Chromium at ${executablePath} (set CHROMIUM_PATH or apt-get install chromium)`;
    return;
  }
  try {
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  } catch (error) {
    cannotStart = `Chromium at ${executablePath} did not start: ${(error as Error).message.split('\n')[0]}`;
    return;
  }
  ensureBuilt();
  fake = await startFakeOpenAI();
  fake.respond = fakeWriter({ fallback: ideasAnswer }).respond;
  t = await buildTestApp(
    {
      WORKER: 'true',
      JOBS_POLL_MS: '50',
      AI_BASE_URL: fake.url,
      AI_MAX_RETRIES: '0',
      AI_TIMEOUT_SECONDS: '5',
      SHUTDOWN_GRACE_SECONDS: '1',
    },
    { consoleDist: CONSOLE_DIST },
  );
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  if (screenshots) mkdirSync(screenshots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await fake?.close();
});

/** A screen as a user sees it, without the passing notifications of the steps before. */
async function shot(page: Page, name: string) {
  if (!screenshots) return;
  const hidden = await page.addStyleTag({ content: '.mantine-Notifications-root { display: none !important; }' });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: false });
  await hidden.evaluate((style) => style.remove());
}

describe('the console in a browser', () => {
  it('takes a new user from sign-up to an approved article, with the API rules shown as messages', async (context) => {
    if (cannotStart || !browser) {
      console.warn(`console browser test skipped: ${cannotStart}`);
      context.skip();
      return;
    }
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const consoleErrors: string[] = [];
    // A refused request is logged by Chromium as a console error too: those are checked below, by request, so
    // only the ones this journey provokes on purpose (a wrong password, a stale edit) are let through.
    const refused: string[] = [];
    const calls: string[] = [];
    page.on('response', (response) => {
      calls.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
      if (response.status() >= 400)
        refused.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.setDefaultTimeout(15_000);
    try {
      await journey(page);
    } catch (error) {
      const file = join(tmpdir(), `console-failure-${process.pid}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      throw new Error(
        `${(error as Error).message}\n(the page as it was: ${file}; browser errors: ${consoleErrors.join(' | ') || 'none'}; last calls: ${calls.slice(-8).join(', ')})`,
      );
    }
    process.stdout.write(`console screens, ms from a click in the menu to the content: ${JSON.stringify(timings)}\n`);
    expect(consoleErrors).toEqual([]);
    expect(refused).toEqual([
      '401 POST /api/v1/auth/login',
      expect.stringMatching(/^412 PATCH \/api\/v1\/writer\/content\/\d+$/),
      expect.stringMatching(/^400 PATCH \/api\/v1\/automation\/configs\/\d+$/),
      '400 POST /api/v1/integration/integrations',
    ]);
  }, 120_000);
});

async function journey(page: Page) {
  // Sign-up: the sign-in screen has the "Create an account" tab; a wrong password first shows the API's message.
  await page.goto(`${base}/`);
  await page.getByRole('textbox', { name: /^Email/ }).fill('nobody@example.com');
  await page.getByRole('textbox', { name: /^Password/ }).fill('wrong-password-123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByTestId('api-error').textContent()).toMatch(/password|credentials/i);
  await shot(page, '01-sign-in');
  await page.getByRole('tab', { name: 'Create an account' }).click();
  await page.getByLabel('Team or company name').fill('Trail Shop');
  await page.getByRole('textbox', { name: /^Email/ }).fill('owner@trail.example');
  await page.getByRole('textbox', { name: /^Password/ }).fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Create the account' }).click();
  await page.getByRole('heading', { name: 'Welcome' }).waitFor();
  const badge = page.getByTestId('credits-badge');
  await expect.poll(() => badge.textContent()).toMatch(/^\d+ credits$/);
  const creditsAtStart = Number.parseInt((await badge.textContent()) ?? '', 10);

  // A site and a sector.
  await page.getByRole('link', { name: 'Sites & sectors' }).click();
  await page.getByLabel('Site name').fill('Trail Shop Blog');
  await page.getByRole('button', { name: 'Create site' }).click();
  await page.getByLabel('Sector name').fill('Trail running');
  await page.getByRole('button', { name: 'Add sector' }).click();
  await page.getByTestId('site-trail-shop-blog').getByText('Trail running').waitFor();
  await shot(page, '02-sites');

  // Keywords: the empty state leads to the import; the bad row is shown with its row number and column.
  await page.getByRole('link', { name: 'Keywords' }).click();
  await page.getByTestId('empty-state').getByRole('button', { name: 'Import a CSV' }).click();
  await page
    .getByRole('dialog')
    .locator('input[type=file]')
    .setInputFiles({ name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const result = page.getByTestId('import-result');
  await expect.poll(() => result.textContent()).toContain('4 created, 1 duplicates skipped, 1 rows with errors');
  const errorRow = page.getByTestId('import-errors').locator('tbody tr').first();
  expect(await errorRow.locator('td').nth(0).textContent()).toBe('6');
  expect((await errorRow.locator('td').nth(1).textContent())?.toLowerCase()).toBe('volume');
  await shot(page, '03-import-errors');
  await page.keyboard.press('Escape');
  const table = page.getByTestId('keywords-table');
  await table.getByText('waterproof trail running shoes').waitFor();
  // Server-side search and ordering.
  await page.getByLabel('Search').fill('women');
  await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
  await page.getByLabel('Search').fill('');
  await expect.poll(() => table.locator('tbody tr').count()).toBe(4);
  await page.getByRole('button', { name: 'Order by Volume' }).click();
  await expect
    .poll(() => table.locator('tbody tr').first().locator('td').nth(1).textContent())
    .toBe('waterproof trail running shoes');

  // Lexical clustering, followed live.
  await page.getByRole('button', { name: 'Cluster (lexical, free)' }).click();
  await expect.poll(() => page.getByTestId('task-progress').getAttribute('data-status')).toBe('succeeded');
  await expect.poll(() => table.getByText('mapped').count()).toBeGreaterThan(1);
  await shot(page, '04-keywords');

  // Clusters → ideas.
  await page.getByRole('link', { name: 'Clusters' }).click();
  await page.getByRole('checkbox', { name: 'Select every cluster on this page' }).check();
  await page.getByRole('button', { name: /Generate ideas for/ }).click();
  await expect.poll(() => page.getByTestId('task-progress').getAttribute('data-status')).toBe('succeeded');
  await shot(page, '05-clusters');

  // Ideas → writer tasks → an article.
  await page.getByRole('link', { name: 'Ideas' }).click();
  await page.getByTestId('ideas-table').getByText('How to choose trail running shoes').waitFor();
  await page.getByRole('checkbox', { name: 'Select every idea on this page' }).check();
  await page.getByRole('button', { name: /Queue .* to the writer/ }).click();
  await page.getByRole('heading', { name: 'Writer tasks' }).waitFor();
  await page.getByRole('checkbox', { name: 'Select every queued task on this page' }).check();
  await page.getByRole('button', { name: /Generate 1 article/ }).click();
  await expect.poll(() => page.getByTestId('task-progress').getAttribute('data-status'), { timeout: 30_000 }).toBe('succeeded');
  await shot(page, '06-tasks');
  await page.getByRole('link', { name: 'Open article' }).click();
  await page.getByTestId('article-preview').locator('p').first().waitFor();
  expect(await page.getByTestId('article-preview').locator('script').count()).toBe(0);
  await shot(page, '07-article');

  // Editing with someone else's change in between: the 412 is a clear warning, nothing is overwritten.
  const articleId = Number(page.url().split('/').pop());
  await page.getByRole('tab', { name: 'Edit' }).click();
  await page.getByRole('textbox', { name: /^Title/ }).fill('My edit of the title');
  const concurrent = await page.request.patch(`${base}/api/v1/writer/content/${articleId}/`, {
    data: { meta_title: 'Changed elsewhere' },
  });
  expect(concurrent.status()).toBe(200);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('conflict-warning').waitFor();
  expect(await page.getByTestId('conflict-warning').textContent()).toContain('changed since you opened');
  await shot(page, '08-conflict');

  // Submit, then approve from the review queue.
  await page.getByRole('tab', { name: 'Preview' }).click();
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect.poll(() => page.getByTestId('content-status').textContent()).toBe('review');
  await page.getByRole('link', { name: 'Open the review queue' }).click();
  await page.getByTestId('review-queue').getByText('Show the whole article').waitFor();
  await shot(page, '09-review');
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.getByText('Nothing to review').waitFor();
  const approved = await page.request.get(`${base}/api/v1/writer/content/${articleId}/`);
  expect((await approved.json()).data.status).toBe('approved');

  // The credits dropped by what the ideas and the article cost, and the usage chart shows it.
  await page.getByRole('link', { name: 'Credits', exact: true }).click();
  const balance = page.getByTestId('credits-balance');
  await expect.poll(async () => Number.parseInt((await balance.textContent()) ?? '', 10)).toBeLessThan(creditsAtStart);
  await page.getByTestId('usage-chart').waitFor();
  await page.getByTestId('transactions-table').getByText('usage').first().waitFor();
  await shot(page, '10-credits');

  // The article's other tabs: the optimizer's checks, its versions (the concurrent edit made one) with a diff.
  await page.getByRole('link', { name: 'Content', exact: true }).click();
  await page.getByTestId('content-table').getByRole('link').first().click();
  await page.getByRole('tab', { name: 'SEO & readability' }).click();
  await page.getByText(/^Score \d+/).waitFor();
  await page.getByRole('tab', { name: 'Versions' }).click();
  await page.getByTestId('version-diff').waitFor();
  await shot(page, '12-versions');

  // An API key is shown once, at creation.
  await page.getByRole('link', { name: 'API keys' }).click();
  await page.getByRole('textbox', { name: /^Name/ }).fill('agent');
  await page.getByRole('button', { name: 'Create key' }).click();
  expect(await page.getByTestId('new-api-key').textContent()).toMatch(/ik_live_[A-Za-z0-9]{38}/);

  // Every other screen opens without an error, and quickly: each is timed from the click to its content.
  const screens: [string, (p: Page) => Promise<unknown>][] = [
    ['Sites & sectors', (p) => p.getByTestId('site-trail-shop-blog').waitFor()],
    ['Keywords', (p) => p.getByTestId('keywords-table').locator('tbody tr').first().waitFor()],
    ['Clusters', (p) => p.getByTestId('clusters-table').locator('tbody tr').first().waitFor()],
    ['Ideas', (p) => p.getByTestId('empty-state').or(p.getByTestId('ideas-table')).waitFor()],
    ['Writer tasks', (p) => p.getByTestId('tasks-table').or(p.getByTestId('empty-state')).waitFor()],
    ['Review queue', (p) => p.getByText('Nothing to review').waitFor()],
    ['Images', (p) => p.getByTestId('empty-state').waitFor()],
    ['Team', (p) => p.getByRole('cell', { name: 'owner@trail.example' }).waitFor()],
    ['AI settings & prompts', (p) => p.getByText('clustering', { exact: true }).waitFor()],
    ['Events', (p) => p.getByTestId('events-table').locator('tbody tr').first().waitFor()],
    ['Credits', (p) => p.getByTestId('usage-chart').waitFor()],
    ['Publishing', (p) => p.getByTestId('empty-state').getByText('not connected to WordPress').waitFor()],
    ['WordPress', (p) => p.getByRole('button', { name: 'Connect WordPress' }).waitFor()],
    ['Deployments', (p) => p.getByTestId('empty-state').getByText('No deployments yet').waitFor()],
    ['Automation', (p) => p.getByTestId('next-runs').locator('li').first().waitFor()],
  ];
  for (const [name, ready] of screens) {
    const started = Date.now();
    await page.getByRole('link', { name, exact: true }).click();
    await ready(page);
    timings[name] = Date.now() - started;
  }
  // Automation: a bad schedule is the API's field error at its field, and the estimate answers per stage.
  await page.getByRole('link', { name: 'Automation', exact: true }).click();
  await page.getByRole('textbox', { name: /^Schedule \(cron\)/ }).fill('not a cron');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page
    .getByRole('textbox', { name: /^Schedule \(cron\)/ })
    .and(page.locator('[aria-invalid="true"]'))
    .waitFor();
  await page.getByRole('button', { name: 'Estimate the next run' }).click();
  await page.getByTestId('automation-estimate').getByRole('table').waitFor();

  // WordPress: an address where no WordPress answers is the API's field error at the address.
  await page.getByRole('link', { name: 'WordPress', exact: true }).click();
  await page.getByRole('textbox', { name: /^WordPress address/ }).fill('http://127.0.0.1:9/');
  await page.getByRole('textbox', { name: /^WordPress username/ }).fill('editor');
  await page.getByLabel(/^Application password/).fill('abcd efgh ijkl mnop');
  await page.getByRole('button', { name: 'Connect WordPress' }).click();
  await page
    .getByRole('textbox', { name: /^WordPress address/ })
    .and(page.locator('[aria-invalid="true"]'))
    .waitFor();

  // Publishing the approved article with no WordPress connected: the task fails with the reason, and the
  // record shows it with a Retry.
  await page.getByRole('link', { name: 'Content', exact: true }).click();
  await page.getByTestId('content-table').getByRole('link').first().click();
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await expect.poll(() => page.getByTestId('task-progress').getAttribute('data-status')).toBe('failed');
  // The article's own link to its record.
  await page.locator('#main').getByRole('link', { name: 'Publishing', exact: true }).click();
  const record = page.getByTestId('publishing-table').locator('tbody tr').first();
  await record.getByText('failed', { exact: true }).waitFor();
  await record.getByText(/no WordPress integration/).waitFor();
  await record.getByRole('button', { name: 'Retry' }).click();
  await expect.poll(() => page.getByTestId('task-progress').getAttribute('data-status')).toBe('failed');
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByTestId('events-table').waitFor();
  await shot(page, '13-events');

  await page.setViewportSize({ width: 390, height: 800 });
  await page.getByRole('button', { name: 'Open the menu' }).click();
  await page.getByRole('link', { name: 'Keywords', exact: true }).click();
  await page.getByTestId('keywords-table').waitFor();
  await shot(page, '11-phone');
  await page.setViewportSize({ width: 1280, height: 800 });

  // An agency's user in two accounts: another team invites them, they accept signed in, and switch to it.
  const other = await page.request.post(`${base}/api/v1/auth/register/`, {
    data: { email: 'lead@agency.example', password: 'another horse battery staple', account_name: 'Agency Two' },
  });
  const otherToken = (await other.json()).data.access as string;
  const invite = await page.request.post(`${base}/api/v1/account/team/invite/`, {
    headers: { authorization: `Bearer ${otherToken}` },
    data: { email: 'owner@trail.example', role: 'editor' },
  });
  const token = new URL((await invite.json()).data.accept_url).searchParams.get('token');
  expect((await page.request.post(`${base}/api/v1/account/team/accept/`, { data: { token } })).status()).toBe(200);
  await page.reload();
  await page.locator('input[aria-label="Account"]:visible').click();
  await page.getByRole('option', { name: 'Agency Two (editor)' }).click();
  await page.getByRole('heading', { name: 'Welcome' }).waitFor();
  await expect.poll(() => page.locator('input[aria-label="Account"]:visible').inputValue()).toBe('Agency Two (editor)');
  // The new account has no site yet: its screens say what to do first.
  await page.getByRole('link', { name: 'Keywords', exact: true }).click();
  await page.getByTestId('empty-state').getByText('No site yet').waitFor();

  // Phone width: the menu folds behind a button and still reaches every screen.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.getByRole('button', { name: 'Open the menu' }).click();
  await page.getByRole('link', { name: 'Content', exact: true }).click();
  await page.getByRole('heading', { name: 'Content', exact: true }).waitFor();

  // Signing out ends the session: the sign-in form again, and the API refuses the old cookie.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  expect((await page.request.get(`${base}/api/v1/auth/me/`)).status()).toBe(401);
}
