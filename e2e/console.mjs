#!/usr/bin/env node
// End-to-end checks of the web console (/ui/) in headless Chromium, against a live
// keyhouse, each workflow driven through the page and checked through the API.
//
// Env:
//   KH_URL, KH_TOKEN  the server and its admin secret (required; see lib.sh)
//   KH_DIR            artifacts (failure screenshot); default: OS temp dir
//   SHOTS             where the screenshots go; default: $KH_DIR/console. SHOTS=docs/console
//                     refreshes the documentation's
//   SEED_ACCOUNTS     accounts seeded for the large-list check; default 10000
//   CHROMIUM          browser binary; default /usr/bin/chromium
//   STEP_TIMEOUT      per-step timeout in ms; default 30000
//   HEADFUL=1         show the browser
//
// Fails on any request to another origin, any console error or CSP violation, an axe
// violation of impact serious or critical on any page, and the signed-in secret in any
// storage API or URL. Prints `console: N passed, M failed` last.

import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const KH_URL = (process.env.KH_URL || '').replace(/\/+$/, '');
const KH_TOKEN = process.env.KH_TOKEN || '';
const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT || 30000);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACT_DIR = process.env.KH_DIR || os.tmpdir();
const SHOTS = process.env.SHOTS || path.join(ARTIFACT_DIR, 'console');
const SEED = Number(process.env.SEED_ACCOUNTS || 10000);
const MAX_FIRST_LOAD = 200 * 1024;

const log = (msg) => console.log(`[console] ${msg}`);
class CheckFailure extends Error {}
const fail = (msg) => {
  throw new CheckFailure(msg);
};
const expect = (cond, msg) => cond || fail(msg);

const urls = []; // every URL the browser requested

let passed = 0;
let failed = 0;
async function check(name, fn) {
  log(`check: ${name}`);
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    log(`  ok (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    log(`  FAILED: ${e instanceof CheckFailure ? e.message : (e && e.stack) || e}`);
    throw e;
  }
}

// The API from node, as curl would call it.
async function call(method, p, { body, token = KH_TOKEN, headers = {} } = {}) {
  const resp = await fetch(`${KH_URL}/api/v1${p}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  return { status: resp.status, body: text ? JSON.parse(text) : null, headers: resp.headers };
}

async function ok(method, p, opts) {
  const r = await call(method, p, opts);
  if (r.status >= 300) fail(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// Bytes on the wire of one GET with gzip accepted (node's fetch would decompress).
function wireBytes(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      let n = 0;
      res.on('data', (chunk) => {
        n += chunk.length;
      });
      res.on('end', () => resolve(n + JSON.stringify(res.rawHeaders).length));
    }).on('error', reject);
  });
}

// Creates `n` accounts through the API, `width` requests at a time.
async function seed(n, width = 16) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const name = `load-${String(i).padStart(5, '0')}`;
      const r = await call('POST', '/service-accounts', { body: { name, display_name: `Load ${i}` } });
      if (r.status !== 201) fail(`seeding ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

async function axeCheck(page, label) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    fail(`axe on ${label}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`).join(' | ')}`);
  }
  log(`  axe on ${label}: no serious or critical violation (${result.violations.length} minor)`);
}

// A screenshot for docs/console.md: the viewport of a page, or one element (a Locator).
async function shot(target, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await target.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

// Presses Tab until the focused element matches `selector` (at most 80 presses).
async function tabTo(page, selector) {
  for (let i = 0; i < 80; i++) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  fail(`Tab never reached ${selector}`);
}

async function signIn(page, secret) {
  await page.goto(`${KH_URL}/ui/`);
  await page.getByLabel('Secret').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function main() {
  expect(KH_URL && KH_TOKEN, 'KH_URL and KH_TOKEN must be set (see e2e/lib.sh)');
  expect(fs.existsSync(CHROMIUM), `browser not found at ${CHROMIUM} (run e2e/install.sh)`);
  const server = new URL(KH_URL);
  const foreign = [];
  const pageErrors = [];
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kh-console-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: process.env.HEADFUL !== '1',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${server.hostname}`],
    viewport: { width: 1280, height: 860 },
    serviceWorkers: 'block',
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.on('request', (req) => {
    urls.push(req.url());
    const u = new URL(req.url());
    if (!['data:', 'blob:', 'about:'].includes(u.protocol) && u.origin !== server.origin) foreign.push(req.url());
  });
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    return u.origin === server.origin ? route.continue() : route.abort('blockedbyclient');
  });
  const watch = (page) => {
    page.on('pageerror', (err) => pageErrors.push(String(err.message || err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/the server responded with a status of (401|403|404|409|412)/.test(msg.text())) {
        pageErrors.push(`console: ${msg.text()}`);
      }
    });
  };
  const page = context.pages()[0] || (await context.newPage());
  watch(page);

  try {
    await run(context, page, watch);
    expect(foreign.length === 0, `requests to other origins: ${foreign.join(', ')}`);
    expect(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
    log(`all ${urls.length} requests went to ${server.host}; no page error`);
  } catch (e) {
    await page.screenshot({ path: path.join(ARTIFACT_DIR, 'console-failure.png'), fullPage: true }).catch(() => {});
    if (pageErrors.length) log(`page errors: ${pageErrors.join(' | ')}`);
    throw e;
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

async function run(context, page, watch) {
  await check('headers: CSP (own origin only, no inline script), no framing, no referrer; /ui redirects', async () => {
    const r = await fetch(`${KH_URL}/ui/`);
    const csp = r.headers.get('content-security-policy') || '';
    expect(/default-src 'self'/.test(csp) && /script-src 'self'(;|$)/.test(csp), `CSP: ${csp}`);
    expect(!/unsafe-inline|unsafe-eval|https?:/.test(csp), `CSP allows more than the server: ${csp}`);
    expect(r.headers.get('x-frame-options') === 'DENY', 'X-Frame-Options');
    expect(r.headers.get('referrer-policy') === 'no-referrer', 'Referrer-Policy');
    const redirect = await fetch(`${KH_URL}/ui`, { redirect: 'manual' });
    expect(redirect.status === 308 && redirect.headers.get('location') === '/ui/', `/ui: ${redirect.status}`);
  });

  let firstLoad = [];
  await check('sign-in page: first load under 200 KB over the wire, wrong secret shows the error', async () => {
    const before = new Set();
    const seen = [];
    const onReq = (req) => seen.push(req.url());
    page.on('request', onReq);
    await page.goto(`${KH_URL}/ui/`);
    await page.getByLabel('Secret').waitFor();
    page.off('request', onReq);
    firstLoad = [...new Set(seen)].filter((u) => !before.has(u));
    let total = 0;
    for (const u of firstLoad) total += await wireBytes(u);
    log(`  first load: ${firstLoad.length} files, ${total} bytes over the wire`);
    expect(total < MAX_FIRST_LOAD, `first load is ${total} bytes`);
    await page.getByLabel('Secret').fill('kh_not-a-real-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'UNAUTHENTICATED' }).waitFor();
    await axeCheck(page, 'sign-in');
    await shot(page, 'signin');
  });

  await check('keyboard only: sign in, search, open an account', async () => {
    await page.goto(`${KH_URL}/ui/`);
    await tabTo(page, 'input[name=secret]');
    await page.keyboard.type(KH_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('heading', { name: 'Service accounts' }).waitFor();
    await tabTo(page, 'input[name=query]');
    await page.keyboard.type('admin');
    await page.keyboard.press('Enter');
    await page.getByText('Showing 1–1 of 1').waitFor();
    await tabTo(page, 'a[href="#/accounts/admin"]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /admin/ }).first().waitFor();
    await page.getByRole('heading', { name: 'Credentials' }).waitFor();
  });

  await check('the secret is in no storage API and no URL after sign-in', async () => {
    const stored = await page.evaluate(async () => {
      const dump = (s) => Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i))}`).join('\n');
      const dbs = indexedDB.databases ? await indexedDB.databases() : [];
      const caches_ = 'caches' in self ? await caches.keys() : [];
      return {
        local: dump(localStorage), session: dump(sessionStorage), cookie: document.cookie,
        dbs: dbs.map((d) => d.name), caches: caches_, url: location.href, history: history.length,
      };
    });
    const cookies = await context.cookies();
    expect(!stored.local.includes(KH_TOKEN) && stored.local === '', `localStorage: ${stored.local}`);
    expect(stored.session === '', `sessionStorage: ${stored.session}`);
    expect(stored.cookie === '' && cookies.length === 0, 'cookies');
    expect(stored.dbs.length === 0, `IndexedDB: ${stored.dbs}`);
    expect(stored.caches.length === 0, `Cache Storage: ${stored.caches}`);
    expect(!stored.url.includes(KH_TOKEN), 'the page URL');
  });

  let botSecret;
  await check('create an account with the form; its first secret is shown once and works', async () => {
    await page.goto(`${KH_URL}/ui/#/accounts`);
    await page.getByText('New service account').click();
    await page.getByLabel('Name', { exact: true }).fill('e2e-bot');
    await page.getByLabel('Display name').fill('E2E bot');
    await page.getByLabel('Days valid').fill('30');
    await page.getByRole('button', { name: 'Create service account' }).click();
    await page.getByText('you will not see it again').waitFor();
    botSecret = (await page.locator('output.secret').innerText()).trim();
    expect(/^kh_/.test(botSecret), `shown secret: ${botSecret}`);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Copied.').waitFor();
    expect((await page.evaluate(() => navigator.clipboard.readText())) === botSecret, 'clipboard');
    const me = await ok('GET', '/me', { token: botSecret });
    expect(me.name === 'e2e-bot', 'the new secret signs in as e2e-bot');
    await axeCheck(page, 'account page with a new secret');
    await shot(page.locator('#credentials'), 'new-secret');
    await page.reload(); // the session is memory only: back to sign-in
    await page.getByLabel('Secret').waitFor();
    await signIn(page, KH_TOKEN);
  });

  await check('edit an account: display name, roles, metadata, status; a stale edit offers a reload', async () => {
    await page.goto(`${KH_URL}/ui/#/accounts/e2e-bot`);
    await page.getByLabel('Display name').fill('E2E bot, edited');
    await page.getByLabel('Roles').fill('viewer');
    await page.getByRole('button', { name: 'Add metadata' }).click();
    await page.getByLabel('Metadata key').last().fill('team');
    await page.getByLabel('Metadata value').last().fill('platform');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /E2E bot, edited/ }).waitFor();
    let a = await ok('GET', '/service-accounts/e2e-bot');
    expect(a.display_name === 'E2E bot, edited' && a.metadata.team === 'platform' && a.roles.join() === 'viewer', `saved: ${JSON.stringify(a)}`);
    await page.getByRole('button', { name: 'Disable account' }).click();
    await page.getByRole('button', { name: 'Enable account' }).waitFor();
    a = await ok('GET', '/service-accounts/e2e-bot');
    expect(a.status === 'disabled', 'disabled through the page');
    expect((await call('GET', '/me', { token: botSecret })).status === 401, 'a disabled account cannot sign in');
    await page.getByRole('button', { name: 'Enable account' }).click();
    await page.getByRole('button', { name: 'Disable account' }).waitFor();
    // Someone else changes it: the page's etag is stale.
    await ok('PATCH', '/service-accounts/e2e-bot', { body: { description: 'changed elsewhere' } });
    await page.getByLabel('Display name').fill('Mine');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'STALE_ETAG' }).waitFor();
    await page.getByRole('button', { name: 'Reload the latest version' }).click();
    await page.getByRole('definition').filter({ hasText: 'changed elsewhere' }).waitFor();
    await axeCheck(page, 'account page');
    await shot(page, 'account');
  });

  await check('credentials: new secret, public key, expiring soon, rotate (old fails), revoke (fails)', async () => {
    const newSecret = page.getByRole('form', { name: 'New secret' });
    await newSecret.getByLabel('Name').fill('deploy');
    await newSecret.getByRole('button', { name: 'Create secret' }).click();
    await page.getByText('you will not see it again').waitFor();
    const deploySecret = (await page.locator('output.secret').innerText()).trim();
    expect((await call('GET', '/me', { token: deploySecret })).status === 200, 'the new secret works');
    await page.getByRole('button', { name: 'Done' }).click();

    const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const addKey = page.getByRole('form', { name: 'Add public key' });
    await addKey.getByLabel('Name').fill('laptop-key');
    await addKey.getByLabel(/Public key/).fill(publicKey.export({ type: 'spki', format: 'pem' }));
    await addKey.getByRole('button', { name: 'Add public key' }).click();
    await page.getByRole('cell', { name: 'laptop-key', exact: true }).waitFor();

    const soon = new Date(Date.now() + 3 * 86400000).toISOString().replace(/\.\d+Z$/, 'Z');
    await ok('POST', '/service-accounts/e2e-bot/credentials', { body: { name: 'short-lived', expires_at: soon } });
    await page.reload();
    await page.getByLabel('Secret').waitFor();
    await signIn(page, KH_TOKEN);
    await page.goto(`${KH_URL}/ui/#/accounts/e2e-bot`);
    const shortRow = page.getByRole('row').filter({ hasText: 'short-lived' });
    await shortRow.locator('.badge.soon').waitFor();
    await shot(page.locator('#credentials'), 'credentials');

    const rotate = page.getByRole('form', { name: 'Rotate secret' });
    await rotate.getByLabel(/Grace period/).fill('0');
    await rotate.getByRole('button', { name: 'Rotate' }).click();
    await page.getByText('you will not see it again').waitFor();
    const rotated = (await page.locator('output.secret').innerText()).trim();
    expect((await call('GET', '/me', { token: rotated })).status === 200, 'the rotated secret works');
    expect((await call('GET', '/me', { token: deploySecret })).status === 401, 'the old secret fails after rotation');
    expect((await call('GET', '/me', { token: botSecret })).status === 401, 'the first secret fails after rotation');

    const keyRow = page.getByRole('row').filter({ hasText: 'laptop-key' });
    // Keyboard only: the confirmation opens on Cancel, and Escape cancels too.
    await keyRow.getByRole('button', { name: /Revoke/ }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect(await page.evaluate(() => document.activeElement.textContent) === 'Cancel', 'the dialog opens on Cancel');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await keyRow.waitFor(); // cancelled: still there
    expect((await ok('GET', '/service-accounts/e2e-bot/credentials')).items.some((c) => c.name === 'laptop-key'), 'cancel revoked');
    const rotatedRow = page.getByRole('row').filter({ hasText: rotated.slice(0, 8) });
    await rotatedRow.getByRole('button', { name: /Revoke/ }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await axeCheck(page, 'revoke confirmation');
    await page.keyboard.press('Tab'); // to "Revoke"
    await page.keyboard.press('Enter');
    await rotatedRow.waitFor({ state: 'detached' });
    expect((await call('GET', '/me', { token: rotated })).status === 401, 'a revoked secret fails');
  });

  await check('a viewer is not offered what it may not do, and a revoked session returns to sign-in', async () => {
    const viewer = await ok('POST', '/service-accounts', { body: { name: 'e2e-viewer', roles: ['viewer'], initial_secret: {} } });
    const secret = viewer.secret.secret;
    const other = await context.newPage();
    watch(other);
    await signIn(other, secret);
    await other.getByRole('heading', { name: 'Service accounts' }).waitFor();
    expect(await other.getByText('New service account').count() === 0, 'a viewer is offered account creation');
    expect(await other.getByRole('link', { name: 'Audit trail' }).count() === 0, 'a viewer is offered the audit trail');
    await other.getByRole('link', { name: 'Roles' }).click();
    await other.getByRole('link', { name: 'operator' }).waitFor();
    expect(await other.getByText('New role').count() === 0, 'a viewer is offered role creation');
    await other.goto(`${KH_URL}/ui/#/accounts/e2e-bot`);
    await other.getByRole('heading', { name: 'Credentials' }).waitFor();
    for (const name of ['Disable account', 'Save changes', 'Delete account', 'Create secret', 'Rotate']) {
      expect(await other.getByRole('button', { name }).count() === 0, `a viewer is offered "${name}"`);
    }
    expect(await other.getByRole('button', { name: /Revoke/ }).count() === 0, 'a viewer is offered "Revoke"');
    await axeCheck(other, 'account page, read only');
    // Its secret is revoked elsewhere: the next call returns the page to sign-in.
    const creds = await ok('GET', '/service-accounts/e2e-viewer/credentials');
    await ok('DELETE', `/service-accounts/e2e-viewer/credentials/${creds.items[0].id}`);
    await other.getByRole('link', { name: 'Service accounts' }).first().click();
    await other.getByText('no longer valid').waitFor();
    await other.getByLabel('Secret').waitFor();
    await other.close();
  });

  await check('delete an account after confirming', async () => {
    await page.goto(`${KH_URL}/ui/#/accounts/e2e-bot`);
    await page.getByRole('button', { name: 'Delete account' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete e2e-bot' }).click();
    await page.getByRole('heading', { name: 'Service accounts' }).waitFor();
    expect((await call('GET', '/service-accounts/e2e-bot')).status === 404, 'e2e-bot is gone');
  });

  await check(`the list at ${SEED} more accounts: searched and paged, one page at a time`, async () => {
    const started = Date.now();
    await seed(SEED);
    log(`  seeded ${SEED} accounts in ${Date.now() - started} ms`);
    const calls = [];
    const onReq = (req) => {
      if (req.url().includes('/api/v1/service-accounts')) calls.push(new URL(req.url()));
    };
    page.on('request', onReq);
    await page.getByRole('button', { name: 'Search' }).click(); // the same filters: a fresh read
    await page.getByText(`of ${SEED + 2}`).waitFor(); // admin, e2e-viewer
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText(`Showing 51–100 of ${SEED + 2}`).waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText(`Showing 101–150 of ${SEED + 2}`).waitFor();
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText(`Showing 51–100 of ${SEED + 2}`).waitFor();
    const probe = `load-${String(SEED - 1).padStart(5, '0').slice(0, 4)}`; // its last ten
    await page.getByLabel('Name contains').fill(probe);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Showing 1–10 of 10').waitFor();
    await page.getByRole('link', { name: `${probe}0` }).waitFor();
    await page.getByLabel('Status').selectOption('disabled');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Showing 0 of 0').waitFor();
    page.off('request', onReq);
    const perPage = calls.map((u) => Number(u.searchParams.get('per_page') || 100));
    expect(perPage.every((n) => n <= 100), `a list call asked for ${Math.max(...perPage)} items`);
    expect(calls.some((u) => u.searchParams.get('query') === probe), 'the search went to the server');
    expect(calls.some((u) => u.searchParams.get('page_token')), 'paging used page_token');
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Name contains').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(`Showing 1–50 of ${SEED + 2}`).waitFor();
    await axeCheck(page, 'service-account list');
    await shot(page, 'accounts');
    // A count the server gave only as a lower bound (`total_count_exact: false`) shows
    // as "N+": a query of forty characters whose every trigram these names hold at each
    // position costs more than a page to count exactly (docs/api.md).
    const long = Array.from({ length: 12 }, (_, i) => `${'a'.repeat(60)}-${String(i).padStart(2, '0')}`);
    for (const name of long) await ok('POST', '/service-accounts', { body: { name } });
    const costly = 'a'.repeat(40);
    const answer = await ok('GET', `/service-accounts?query=${costly}`);
    expect(answer.total_count_exact === false, 'the server marks the costly count a lower bound');
    await page.getByLabel('Name contains').fill(costly);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(`Showing 1–12 of ${answer.total_count}+`).waitFor();
    for (const name of long) await ok('DELETE', `/service-accounts/${name}`);
    await page.getByLabel('Name contains').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(`Showing 1–50 of ${SEED + 2}`).waitFor();
  });

  await check('groups: create, membership add/remove/set with the answer shown, all or nothing, keyboard only', async () => {
    await page.getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('heading', { name: 'Groups' }).waitFor();
    await page.getByText('New group').click();
    await page.getByLabel('Name', { exact: true }).fill('e2e-deployers');
    await page.getByLabel('Roles').fill('viewer');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: /e2e-deployers/ }).waitFor();
    const form = page.getByRole('form', { name: 'Change members' });
    const answer = form.getByRole('status');
    await form.getByLabel('Add').fill('load-00001, load-00002');
    await form.getByRole('button', { name: 'Apply membership change' }).click();
    await answer.filter({ hasText: 'now has 2 members: load-00001, load-00002.' }).waitFor();
    // Keyboard only: add one and remove one in the same change.
    await tabTo(page, 'input[name=add]');
    await page.keyboard.type('load-00003');
    await page.keyboard.press('Tab');
    await page.keyboard.type('load-00001');
    await page.keyboard.press('Enter');
    await answer.filter({ hasText: 'now has 2 members: load-00002, load-00003.' }).waitFor();
    await page.getByRole('cell', { name: 'load-00003' }).waitFor();
    // One unknown name: 404 naming it, and nothing changes.
    await form.getByLabel('Add').fill('load-00004, nobody-here');
    await form.getByRole('button', { name: 'Apply membership change' }).click();
    await form.getByRole('alert').filter({ hasText: 'nobody-here' }).waitFor();
    let members = await ok('GET', '/groups/e2e-deployers/members');
    expect(members.items.map((a) => a.name).join() === 'load-00002,load-00003', `after the refused change: ${JSON.stringify(members.items)}`);
    await form.getByLabel('Add').fill('');
    await form.getByLabel('Or set exactly').fill('load-00004');
    await form.getByRole('button', { name: 'Apply membership change' }).click();
    await answer.filter({ hasText: 'now has 1 member: load-00004.' }).waitFor();
    members = await ok('GET', '/groups/e2e-deployers/members');
    expect(members.items.map((a) => a.name).join() === 'load-00004', 'set');
    const account = await ok('GET', '/service-accounts/load-00004');
    expect(account.groups.map((g) => g.name).join() === 'e2e-deployers', 'the account side');
    await axeCheck(page, 'group page');
    await shot(page, 'group');
    await page.getByRole('button', { name: 'Delete group' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete e2e-deployers' }).click();
    await page.getByRole('heading', { name: 'Groups' }).waitFor();
    expect((await call('GET', '/groups/e2e-deployers')).status === 404, 'the group is gone');
    await axeCheck(page, 'group list');
  });

  await check('roles: built-in ones read only, a custom role\'s permissions edited', async () => {
    await page.getByRole('link', { name: 'Roles' }).click();
    await page.getByRole('link', { name: 'viewer' }).click();
    await page.getByText('built-in, read only').waitFor();
    expect(await page.getByRole('button', { name: 'Save changes' }).count() === 0, 'a built-in role is editable');
    await page.getByRole('link', { name: '← Roles' }).click();
    await page.getByText('New role').click();
    await page.getByLabel('Name', { exact: true }).fill('e2e-reader');
    await page.getByRole('checkbox', { name: 'audit:read' }).check();
    await page.getByLabel('Other permissions').fill('billing:view');
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('heading', { name: 'e2e-reader' }).waitFor();
    let role = await ok('GET', '/roles/e2e-reader');
    expect(role.permissions.join() === 'audit:read,billing:view', `created: ${role.permissions}`);
    await page.getByRole('checkbox', { name: 'audit:read' }).uncheck();
    await page.getByRole('checkbox', { name: 'groups:read' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('code.perm', { hasText: 'groups:read' }).waitFor();
    role = await ok('GET', '/roles/e2e-reader');
    expect(role.permissions.join() === 'billing:view,groups:read', `edited: ${role.permissions}`);
    await axeCheck(page, 'role page');
    await shot(page, 'role');
    await page.getByRole('button', { name: 'Delete role' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete e2e-reader' }).click();
    await page.getByRole('heading', { name: 'Roles' }).waitFor();
    await axeCheck(page, 'role list');
    expect((await call('GET', '/roles/e2e-reader')).status === 404, 'the role is gone');
  });

  await check('audit trail: filtered by target, action and time, paged, changes as from and to', async () => {
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByText(/Showing 1–50 of \d+/).waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText(/Showing 51–100 of/).waitFor();
    await page.getByLabel('Target').fill('e2e-bot');
    await page.getByLabel('Action').fill('service_account.update');
    await page.getByRole('button', { name: 'Filter' }).click();
    const edit = page.getByRole('row').filter({ hasText: 'E2E bot, edited' }).first();
    await edit.waitFor();
    const change = edit.getByRole('row').filter({ hasText: 'display_name' });
    expect((await change.innerText()).replace(/\s+/g, ' ').includes('display_name E2E bot E2E bot, edited'), `from/to: ${await change.innerText()}`);
    expect(page.url().includes('target=e2e-bot'), 'the filters are in the address');
    await axeCheck(page, 'audit trail');
    await shot(page, 'audit');
    await page.getByLabel('Since').fill('2100-01-01T00:00');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('Showing 0 of 0').waitFor();
  });

  // Projects: the same names at the root and in a project are different objects.
  const P = 'payments';
  const inP = (p) => `/projects/${P}${p}`;
  let tenantSecret;
  await check('projects (setup through the API): two projects, more than a page of them, the same name at the root and in one', async () => {
    await ok('POST', '/projects', { body: { name: P, display_name: 'Payments' } });
    await ok('POST', '/projects', { body: { name: 'analytics', display_name: 'Analytics' } });
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 101) {
        const name = `proj-${String(next++).padStart(3, '0')}`;
        await ok('POST', '/projects', { body: { name } });
      }
    }));
    await ok('POST', '/service-accounts', { body: { name: 'shared-bot', display_name: 'Root shared bot' } });
    await ok('POST', inP('/service-accounts'), { body: { name: 'shared-bot', display_name: 'Payments shared bot' } });
    await ok('POST', inP('/service-accounts'), { body: { name: 'pay-worker', display_name: 'Payments worker' } });
    await ok('POST', inP('/groups'), { body: { name: 'pay-deployers', display_name: 'Payments deployers' } });
    const admin = await ok('POST', inP('/service-accounts'), { body: { name: 'pay-admin', roles: ['admin'], initial_secret: {} } });
    tenantSecret = admin.secret.secret;
    const me = await ok('GET', '/me', { token: tenantSecret });
    expect(me.project === P && me.permissions.includes('*'), `the tenant admin: ${JSON.stringify(me)}`);
  });

  await check('the switcher: Root and the projects (a page of 100, the rest under All projects); a project\'s list holds only its accounts', async () => {
    const calls = [];
    const onReq = (req) => {
      if (req.url().includes('/api/v1/')) calls.push(new URL(req.url()));
    };
    await page.getByRole('link', { name: 'Service accounts' }).click();
    await page.getByRole('heading', { name: 'Service accounts' }).waitFor();
    const switcher = page.getByLabel('Project', { exact: true });
    await switcher.locator('option', { hasText: /more: see All projects/ }).waitFor({ state: 'attached' });
    const options = await switcher.locator('option').allInnerTexts();
    expect(options[0] === 'Root' && options.includes('payments (Payments)') && options.length === 102,
      `the switcher offers: ${options.slice(0, 4).join(', ')}, … (${options.length})`);
    expect(await switcher.inputValue() === '', 'the root is the current scope');
    await switcher.selectOption(P);
    page.on('request', onReq);
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.waitForURL(/#\/p\/payments\/accounts$/);
    await page.getByText('Showing 1–3 of 3').waitFor(); // pay-admin, pay-worker, shared-bot
    expect(await switcher.inputValue() === P, 'the switcher shows the project');
    expect(await page.title() === 'payments · keyhouse console', `title: ${await page.title()}`);
    const link = page.getByRole('link', { name: 'shared-bot', exact: true });
    expect(await link.getAttribute('href') === '#/p/payments/accounts/shared-bot', 'a link stays in the project');
    expect(await page.getByRole('link', { name: /^load-/ }).count() === 0, 'the root\'s accounts in the project\'s list');
    for (const [name, href] of [['Groups', '#/p/payments/groups'], ['Roles', '#/p/payments/roles'], ['Audit trail', '#/p/payments/audit']]) {
      expect(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name }).getAttribute('href') === href, `the section ${name} is not in the project`);
    }
    await axeCheck(page, 'service-account list in a project');
    await shot(page, 'project-accounts');
    await link.click();
    await page.getByRole('heading', { name: /Payments shared bot/ }).waitFor();
    await page.getByRole('heading', { name: 'Credentials' }).waitFor();
    page.off('request', onReq);
    const accountCalls = calls.filter((u) => u.pathname.includes('/service-accounts'));
    expect(accountCalls.length && accountCalls.every((u) => u.pathname.startsWith('/api/v1/projects/payments/')),
      `calls outside the project: ${accountCalls.filter((u) => !u.pathname.startsWith('/api/v1/projects/payments/')).map((u) => u.pathname).join(', ')}`);
    // Back to the root: the same name is the root's account.
    await switcher.selectOption('');
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.waitForURL(/#\/accounts$/);
    await page.getByLabel('Name contains').fill('shared-bot');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Showing 1–1 of 1').waitFor();
    await page.getByRole('cell', { name: 'Root shared bot' }).waitFor();
  });

  await check('All projects: searched and paged on the server, each opening its scope', async () => {
    await page.getByRole('link', { name: 'All projects' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.getByText('Showing 1–50 of 103').waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Showing 51–100 of 103').waitFor();
    await page.getByLabel('Name contains').fill('proj-10');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Showing 1–1 of 1').waitFor();
    await page.getByRole('link', { name: 'proj-100' }).waitFor();
    await axeCheck(page, 'projects');
    await page.getByLabel('Name contains').fill('analytics');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'analytics' }).click();
    await page.waitForURL(/#\/p\/analytics\/accounts$/);
    await page.getByText('Showing 0 of 0').waitFor();
    expect(await page.getByLabel('Project', { exact: true }).inputValue() === 'analytics', 'the switcher shows the project opened');
  });

  let paySecret;
  await check('in a project: create an account (secret once), credentials, groups, membership, roles and audit', async () => {
    await page.goto(`${KH_URL}/ui/#/p/${P}/accounts`);
    await page.getByText('Showing 1–3 of 3').waitFor();
    await page.getByText('New service account').click();
    await page.getByLabel('Name', { exact: true }).fill('pay-new');
    await page.getByLabel('Display name').fill('Payments new');
    await page.getByLabel('Groups').fill('pay-deployers');
    await page.getByRole('button', { name: 'Create service account' }).click();
    await page.getByText('you will not see it again').waitFor();
    await page.waitForURL(/#\/p\/payments\/accounts\/pay-new$/);
    paySecret = (await page.locator('output.secret').innerText()).trim();
    expect((await call('GET', inP('/service-accounts/pay-new'))).status === 200, 'pay-new is in the project');
    expect((await call('GET', '/service-accounts/pay-new')).status === 404, 'pay-new is at the root');
    const me = await ok('GET', '/me', { token: paySecret });
    expect(me.name === 'pay-new' && me.project === P, `the shown secret: ${JSON.stringify(me)}`);
    await page.getByRole('button', { name: 'Done' }).click();

    // Credentials: a new secret, then revoked.
    const newSecret = page.getByRole('form', { name: 'New secret' });
    await newSecret.getByLabel('Name').fill('pay-deploy');
    await newSecret.getByRole('button', { name: 'Create secret' }).click();
    await page.getByText('you will not see it again').waitFor();
    const second = (await page.locator('output.secret').innerText()).trim();
    expect((await call('GET', '/me', { token: second })).status === 200, 'the second secret works');
    const creds = await ok('GET', inP('/service-accounts/pay-new/credentials'));
    expect(creds.items.some((c) => c.name === 'pay-deploy'), 'the secret is the project account\'s');
    await page.getByRole('row').filter({ hasText: 'pay-deploy' }).getByRole('button', { name: /Revoke/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('row').filter({ hasText: 'pay-deploy' }).waitFor({ state: 'detached' });
    expect((await call('GET', '/me', { token: second })).status === 401, 'the revoked secret fails');

    // Edit, disable and enable in the project.
    await page.getByLabel('Display name').fill('Payments new, edited');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /Payments new, edited/ }).waitFor();
    await page.getByRole('button', { name: 'Disable account' }).click();
    await page.getByRole('button', { name: 'Enable account' }).waitFor();
    expect((await ok('GET', inP('/service-accounts/pay-new'))).status === 'disabled', 'disabled in the project');
    await page.getByRole('button', { name: 'Enable account' }).click();
    await page.getByRole('button', { name: 'Disable account' }).waitFor();
    await axeCheck(page, 'account page in a project');

    // Its group, linked in the project; a membership change there.
    await page.getByRole('link', { name: 'pay-deployers' }).click();
    await page.waitForURL(/#\/p\/payments\/groups\/pay-deployers$/);
    await page.getByRole('cell', { name: 'pay-new' }).waitFor();
    const form = page.getByRole('form', { name: 'Change members' });
    await form.getByLabel('Add').fill('pay-worker');
    await form.getByRole('button', { name: 'Apply membership change' }).click();
    await form.getByRole('status').filter({ hasText: 'now has 2 members: pay-new, pay-worker.' }).waitFor();
    const members = await ok('GET', inP('/groups/pay-deployers/members'));
    expect(members.items.map((a) => a.name).join() === 'pay-new,pay-worker', `members: ${JSON.stringify(members.items)}`);
    // The root's account of the same name is not the project's to add.
    await form.getByLabel('Add').fill('load-00001');
    await form.getByRole('button', { name: 'Apply membership change' }).click();
    await form.getByRole('alert').filter({ hasText: 'load-00001' }).waitFor();
    expect(await page.getByRole('link', { name: 'pay-worker' }).getAttribute('href') === '#/p/payments/accounts/pay-worker', 'a member links into the project');

    // A custom role of the project.
    await page.getByRole('link', { name: 'Roles' }).click();
    await page.waitForURL(/#\/p\/payments\/roles$/);
    await page.getByText('New role').click();
    await page.getByLabel('Name', { exact: true }).fill('pay-reader');
    await page.getByRole('checkbox', { name: 'service_accounts:read' }).check();
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.waitForURL(/#\/p\/payments\/roles\/pay-reader$/);
    await page.getByRole('heading', { name: 'pay-reader' }).waitFor();
    const role = await ok('GET', inP('/roles/pay-reader'));
    expect(role.project === P && role.permissions.join() === 'service_accounts:read', `role: ${JSON.stringify(role)}`);
    expect((await call('GET', '/roles/pay-reader')).status === 404, 'the project\'s role is at the root');

    // The project's audit trail: its own events only.
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.waitForURL(/#\/p\/payments\/audit$/);
    await page.getByRole('cell', { name: 'role pay-reader' }).waitFor();
    expect(await page.getByRole('cell', { name: /e2e-bot/ }).count() === 0, 'the root\'s events in the project\'s trail');
    await page.getByLabel('Target').fill('pay-new');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/#\/p\/payments\/audit\?target=pay-new$/);
    await page.getByRole('row').filter({ hasText: 'Payments new, edited' }).first().waitFor();
    await axeCheck(page, 'audit trail in a project');

    // The address keeps the scope: after a reload and sign-in, the same view.
    await page.reload();
    await page.getByLabel('Secret').fill(KH_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    expect(page.url().endsWith('#/p/payments/audit?target=pay-new'), `after sign-in: ${page.url()}`);
    expect(await page.getByLabel('Project', { exact: true }).inputValue() === P, 'the switcher after a reload');
    expect(!urls.some((u) => u.includes(paySecret) || u.includes(second)), 'a secret in a URL');
  });

  await check('an address naming no valid project, account, group or role: an error on the page, and no request', async () => {
    // Each as written in the address, what it names, and the text shown. Before the
    // rule, `..` reached the root (or the project itself) once the browser resolved
    // the API path, and `%E0` broke the page.
    const bad = [
      ['#/p/%2E%2E/accounts', 'project', '..'],
      ['#/p/..%2F/accounts', 'project', '../'],
      ['#/p/Payments/accounts', 'project', 'Payments'],
      [`#/p/${'a'.repeat(64)}/accounts`, 'project', 'a'.repeat(64)],
      ['#/p//accounts', 'project', ''],
      ['#/p/-payments/groups', 'project', '-payments'],
      ['#/p/payments/accounts/%2E%2E', 'service-account', '..'],
      ['#/p/payments/groups/pay%20ops', 'group', 'pay ops'],
      ['#/roles/%2E', 'role', '.'],
      ['#/accounts/%E0%A4%A', 'service-account', '%E0%A4%A'],
    ];
    const requests = [];
    const onReq = (req) => requests.push(new URL(req.url()));
    page.on('request', onReq);
    for (const [hash, kind, text] of bad) {
      requests.length = 0;
      await page.evaluate((x) => { location.hash = x; }, hash);
      await page.getByRole('heading', { name: 'Not a valid address' }).waitFor();
      const alert = page.getByRole('alert');
      await alert.getByText(`Not a ${kind} name:`).waitFor();
      const shown = text ? await alert.locator('code').innerText() : '';
      expect(shown === text, `${hash}: shown ${JSON.stringify(shown)}, not ${JSON.stringify(text)}`);
      expect(page.url().endsWith(hash), `${hash}: the address became ${page.url()}`);
      if (kind === 'project') expect(await page.title() === 'keyhouse console', `${hash}: title ${await page.title()}`);
      if (hash === '#/p/%2E%2E/accounts') {
        await axeCheck(page, 'an address naming no project');
        await shot(page, 'not-a-name');
      }
      // A valid address after it, whose two calls (the switcher's list and the roles)
      // come after any the error view made: no more than those two were made.
      await page.evaluate(() => { location.hash = '#/p/payments/roles'; });
      await page.getByRole('link', { name: 'pay-reader' }).waitFor();
      const made = requests.map((u) => u.pathname).sort().join(', ');
      expect(made === '/api/v1/projects, /api/v1/projects/payments/roles', `${hash}: requests ${made}`);
    }
    // A valid project's address still works, every call in its scope.
    requests.length = 0;
    await page.evaluate(() => { location.hash = '#/p/payments/accounts/shared-bot'; });
    await page.getByRole('heading', { name: /Payments shared bot/ }).waitFor();
    await page.getByRole('heading', { name: 'Credentials' }).waitFor();
    page.off('request', onReq);
    const api = requests.filter((u) => u.pathname.startsWith('/api/'));
    expect(api.length && api.every((u) => u.pathname.startsWith('/api/v1/projects/payments/service-accounts/shared-bot') || u.pathname === '/api/v1/projects'),
      `a valid project's calls: ${api.map((u) => u.pathname).join(', ')}`);
  });

  await check('a tenant admin lands in its project, acts there, and is offered no root', async () => {
    const other = await context.newPage();
    watch(other);
    await signIn(other, tenantSecret);
    await other.waitForURL(/#\/p\/payments\/accounts$/);
    await other.getByText('Showing 1–4 of 4').waitFor(); // pay-admin, pay-new, pay-worker, shared-bot
    const header = other.getByRole('banner');
    const shown = (await header.locator('.scope').innerText()).replace(/\s+/g, ' ').trim();
    expect(shown === 'Project payments', `the project shown: ${shown}`);
    expect(await other.getByLabel('Project', { exact: true }).count() === 0, 'a tenant admin is offered a switcher');
    expect(await other.getByRole('link', { name: 'All projects' }).count() === 0, 'a tenant admin is offered All projects');
    expect(await header.getByText('Root').count() === 0, 'a tenant admin is offered the root');
    await axeCheck(other, 'service-account list of a tenant admin');
    await shot(other, 'tenant-admin');
    // An address at the root, of another project or of no valid one lands in its project.
    for (const hash of ['#/accounts', '#/projects', '#/p/analytics/groups', '#/p/%2E%2E/accounts']) {
      await other.getByRole('link', { name: 'Roles' }).click();
      await other.waitForURL(/#\/p\/payments\/roles$/);
      await other.getByRole('link', { name: 'pay-reader' }).waitFor();
      await other.evaluate((h) => { location.hash = h; }, hash);
      await other.waitForURL(/#\/p\/payments\/accounts$/);
      await other.getByText('Showing 1–4 of 4').waitFor();
    }
    // It administers its project: a group made through the page lands there.
    await other.getByRole('link', { name: 'Groups' }).click();
    await other.getByText('New group').click();
    await other.getByLabel('Name', { exact: true }).fill('pay-ops');
    await other.getByRole('button', { name: 'Create group' }).click();
    await other.waitForURL(/#\/p\/payments\/groups\/pay-ops$/);
    expect((await call('GET', inP('/groups/pay-ops'))).status === 200, 'pay-ops is in the project');
    expect((await call('GET', '/groups/pay-ops')).status === 404, 'pay-ops is at the root');
    await other.close();
  });

  await check('a root account without projects:read lists the projects and opens one by name', async () => {
    await ok('POST', '/roles', { body: { name: 'e2e-account-reader', permissions: ['service_accounts:read'] } });
    const reader = await ok('POST', '/service-accounts', { body: { name: 'e2e-reader', roles: ['e2e-account-reader'], initial_secret: {} } });
    const other = await context.newPage();
    watch(other);
    await signIn(other, reader.secret.secret);
    await other.getByRole('heading', { name: 'Service accounts' }).waitFor();
    // Its permissions hold in every project, so it may list them all.
    const switcher = other.getByLabel('Project', { exact: true });
    const options = await switcher.locator('option').allInnerTexts();
    expect(options[0] === 'Root' && options.some((o) => o.includes(P)), 'the switcher offers Root and the projects');
    await other.getByRole('link', { name: 'All projects' }).click();
    await other.getByLabel('Project name').fill(P);
    await other.getByRole('button', { name: 'Open project' }).click();
    await other.waitForURL(/#\/p\/payments\/accounts$/);
    await other.getByText('Showing 1–4 of 4').waitFor();
    expect(await switcher.inputValue() === P, 'the switcher shows the project opened');
    await other.close();
  });

  await check('sign out forgets the secret', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Signed out.').waitFor();
    await page.goto(`${KH_URL}/ui/#/accounts`);
    await page.getByLabel('Secret').waitFor();
  });
}

const guard = setTimeout(() => {
  console.error('[console] FAIL: overall timeout of 600 s exceeded');
  console.log(`console: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, 600000);
guard.unref();

main().then(
  () => {
    console.log(`console: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  },
  (e) => {
    console.error(`[console] FAIL: ${e instanceof CheckFailure ? e.message : (e && e.stack) || e}`);
    console.log(`console: ${passed} passed, ${Math.max(failed, 1)} failed`);
    process.exit(1);
  },
);
