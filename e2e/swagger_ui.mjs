#!/usr/bin/env node
// End-to-end check of keyhouse's Swagger UI in a real (headless) browser.
//
// Env:
//   KH_URL       base URL of a running keyhouse, e.g. http://127.0.0.1:8080 (required)
//   KH_TOKEN     admin bearer secret (required)
//   KH_DIR       directory for artifacts (screenshot); default: OS temp dir
//   SCREENSHOT   screenshot path; default: $KH_DIR/swagger.png
//   CHROMIUM     browser binary; default: /usr/bin/chromium
//   STEP_TIMEOUT per-step timeout in ms; default: 30000
//   HEADFUL=1    show the browser (debugging only)
//
// Flow: open $KH_URL/swagger-ui/, fail on any request to a host other than
// the server's host:port (data:/blob:/about: are fine; such requests are also
// aborted so nothing leaves the machine), wait for the operations, Authorize
// with the bearer token, expand GET /api/v1/me, Try it out, Execute, and
// assert the live response is 200 with a body containing "admin".
//
// Prints `swagger-ui: 1 passed, 0 failed` on success, otherwise the reason and
// `swagger-ui: 0 passed, 1 failed`, exiting 1.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const KH_URL = (process.env.KH_URL || '').replace(/\/+$/, '');
const KH_TOKEN = process.env.KH_TOKEN || '';
const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT || 30000);
const TOTAL_TIMEOUT = Math.max(STEP_TIMEOUT * 10, 180000);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ME_PATH = '/api/v1/me';
const LIVE_ROW = '.live-responses-table tbody tr.response';
const LIVE_STATUS = `${LIVE_ROW} .response-col_status`;
const ARTIFACT_DIR = process.env.KH_DIR || os.tmpdir();
const SCREENSHOT = process.env.SCREENSHOT || path.join(ARTIFACT_DIR, 'swagger.png');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function log(msg) {
  console.log(`[swagger-ui] ${msg}`);
}

class CheckFailure extends Error {}

function fail(msg) {
  throw new CheckFailure(msg);
}

// Run one named step with a bounded timeout and a clear message on failure.
async function step(name, fn) {
  log(`step: ${name}`);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new CheckFailure(`step "${name}" timed out after ${STEP_TIMEOUT} ms`)),
      STEP_TIMEOUT + 5000,
    );
  });
  try {
    return await Promise.race([fn(), timeout]);
  } catch (e) {
    if (e instanceof CheckFailure) throw e;
    throw new CheckFailure(`step "${name}" failed: ${e && e.message ? e.message.split('\n')[0] : e}`);
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  if (!KH_URL) fail('KH_URL is not set');
  if (!KH_TOKEN) fail('KH_TOKEN is not set');
  let server;
  try {
    server = new URL(KH_URL);
  } catch {
    fail(`KH_URL is not a valid URL: ${KH_URL}`);
  }
  if (!fs.existsSync(CHROMIUM)) fail(`browser not found at ${CHROMIUM} (run e2e/install.sh)`);

  const allowedOrigin = server.origin; // scheme://host:port
  const foreign = []; // requests to anything but the server
  const allRequests = [];
  const pageErrors = [];
  let meRequest = null; // the network request the Execute click made

  const isAllowed = (url) => {
    let u;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
    return u.origin === allowedOrigin;
  };

  // Chromium still resolves some Google hosts (accounts, update, autofill)
  // even with the flags above: make every name but the server's fail locally
  // so no DNS query leaves the machine.
  const resolverRules = `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${server.hostname}`;

  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kh-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: process.env.HEADFUL !== '1',
      args: [...CHROMIUM_ARGS, resolverRules],
      viewport: { width: 1280, height: 1600 },
      serviceWorkers: 'block',
      timeout: STEP_TIMEOUT,
    });
  } catch (e) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fail(`could not launch ${CHROMIUM}: ${e.message.split('\n')[0]}`);
  }

  try {
    context.setDefaultTimeout(STEP_TIMEOUT);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT);

    // Record every request; abort (and flag) anything not aimed at the server.
    context.on('request', (req) => {
      allRequests.push(`${req.method()} ${req.url()}`);
      if (!isAllowed(req.url())) foreign.push(`${req.method()} ${req.url()}`);
      try {
        const u = new URL(req.url());
        if (u.origin === allowedOrigin && u.pathname === ME_PATH) meRequest = req;
      } catch {}
    });
    await context.route('**/*', (route) => {
      if (isAllowed(route.request().url())) return route.continue();
      return route.abort('blockedbyclient');
    });

    const page = context.pages()[0] || (await context.newPage());
    page.on('websocket', (ws) => {
      if (!isAllowed(ws.url().replace(/^ws/, 'http'))) foreign.push(`WEBSOCKET ${ws.url()}`);
    });
    page.on('pageerror', (err) => pageErrors.push(String(err && err.message ? err.message : err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
    });

    try {
      await runFlow(page, () => meRequest);
    } catch (e) {
      await saveScreenshot(page);
      if (foreign.length) log(`requests to other hosts:\n  ${foreign.join('\n  ')}`);
      if (pageErrors.length) log(`page errors:\n  ${pageErrors.slice(0, 20).join('\n  ')}`);
      log(`requests made (${allRequests.length}):\n  ${allRequests.slice(0, 50).join('\n  ')}`);
      throw e;
    }
    await saveScreenshot(page);

    if (foreign.length) {
      fail(`page made ${foreign.length} request(s) to hosts other than ${server.host}:\n  ${foreign.join('\n  ')}`);
    }
    log(`all ${allRequests.length} requests went to ${server.host} (or data:/blob:)`);
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

async function saveScreenshot(page) {
  try {
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true, timeout: 10000 });
    log(`screenshot: ${SCREENSHOT}`);
  } catch (e) {
    log(`could not save screenshot: ${e.message.split('\n')[0]}`);
  }
}

async function runFlow(page, getMeRequest) {
  const uiUrl = `${KH_URL}/swagger-ui/`;

  await step(`open ${uiUrl}`, async () => {
    const resp = await page.goto(uiUrl, { waitUntil: 'load' });
    if (!resp) fail(`no response for ${uiUrl}`);
    if (resp.status() !== 200) fail(`GET ${uiUrl} returned HTTP ${resp.status()}`);
  });

  await step('wait for operations to render', async () => {
    // Either operations, or Swagger UI's error box (e.g. spec failed to load).
    await page
      .locator('.opblock, .opblock-tag, .swagger-ui .errors-wrapper, .swagger-ui .loading-container .info')
      .first()
      .waitFor({ state: 'visible' });
    const errors = page.locator('.swagger-ui .errors-wrapper');
    if ((await page.locator('.opblock, .opblock-tag').count()) === 0 && (await errors.count()) > 0) {
      fail(`Swagger UI shows errors: ${(await errors.first().innerText()).replace(/\s+/g, ' ').slice(0, 500)}`);
    }
    // Expand collapsed tag sections (docExpansion "none").
    const closed = page.locator('.opblock-tag-section:not(.is-open) .opblock-tag');
    for (let i = await closed.count(); i > 0; i--) {
      await closed.first().click();
    }
    await page.locator('.opblock').first().waitFor({ state: 'visible' });
    log(`operations rendered: ${await page.locator('.opblock').count()}`);
  });

  await step('authorize with the bearer token', async () => {
    const openBtn = page.locator('.auth-wrapper .btn.authorize, .scheme-container .btn.authorize').first();
    try {
      await openBtn.waitFor({ state: 'visible' });
    } catch {
      fail('no "Authorize" button on the page (does the OpenAPI document declare the "bearer" security scheme?)');
    }
    await openBtn.click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.waitFor({ state: 'visible' });

    // Pick the container of the "bearer" scheme; fall back to the only/first
    // container that has a text/password input.
    const containers = dialog.locator('.auth-container');
    await containers.first().waitFor({ state: 'visible' });
    let container = containers.filter({ has: page.locator('h4 code', { hasText: /^bearer$/ }) });
    if ((await container.count()) === 0) {
      container = containers.filter({ has: page.locator('input[type="text"], input[type="password"]') });
    }
    if ((await container.count()) === 0) fail('authorize dialog has no bearer token input');
    container = container.first();

    const input = container.locator('input[type="text"], input[type="password"], input:not([type])').first();
    await input.fill(KH_TOKEN);
    await container.locator('.auth-btn-wrapper .btn.modal-btn.auth.authorize').click();
    // Once authorized Swagger UI swaps the button for "Logout".
    await container.locator('.auth-btn-wrapper .btn.modal-btn.auth', { hasText: /logout/i }).waitFor({ state: 'visible' });

    const done = dialog.locator('.btn-done');
    if ((await done.count()) > 0 && (await done.first().isVisible())) {
      await done.first().click();
    } else {
      await dialog.locator('.close-modal').first().click();
    }
    await page.locator('.dialog-ux').waitFor({ state: 'hidden' });
  });

  let op;
  await step(`expand GET ${ME_PATH}`, async () => {
    const hasPath = page.locator(`.opblock-summary-path[data-path="${ME_PATH}"]`);
    op = page.locator('.opblock.opblock-get').filter({ has: hasPath });
    if ((await op.count()) === 0) {
      // Fallback: match the visible path text exactly.
      op = page.locator('.opblock.opblock-get').filter({
        has: page.locator('.opblock-summary-path', { hasText: new RegExp(`^\\s*${ME_PATH.replace(/\//g, '\\/')}\\s*$`) }),
      });
    }
    const n = await op.count();
    if (n === 0) fail(`no GET ${ME_PATH} operation in Swagger UI`);
    if (n > 1) log(`warning: ${n} GET ${ME_PATH} blocks; using the first`);
    op = op.first();
    await op.scrollIntoViewIfNeeded();
    const isOpen = async () => (await op.getAttribute('class') || '').split(/\s+/).includes('is-open');
    if (!(await isOpen())) {
      const control = op.locator('.opblock-summary-control');
      if ((await control.count()) > 0) await control.first().click();
      else await op.locator('.opblock-summary').first().click();
    }
    await op.locator('.opblock-body').waitFor({ state: 'visible' });
  });

  await step('click "Try it out"', async () => {
    const btn = op.locator('.try-out__btn').first();
    await btn.waitFor({ state: 'visible' });
    await btn.click();
  });

  await step('click "Execute" and wait for the live response', async () => {
    const exec = op.locator('.btn.execute, .execute').first();
    await exec.waitFor({ state: 'visible' });
    await exec.click();
    await op.locator(LIVE_STATUS).first().waitFor({ state: 'visible' });
  });

  await step('check the live response', async () => {
    // First cell of the live response row (the header row also has a
    // .response-col_status cell, reading "Code").
    const statusCell = (await op.locator(LIVE_STATUS).first().innerText()).trim();
    const statusText = (statusCell.match(/\b\d{3}\b/) || [statusCell])[0];
    // The "Response body" block; fall back to the whole details cell.
    let body = op.locator(`${LIVE_ROW} .response-col_description .highlight-code pre`);
    if ((await body.count()) === 0) body = op.locator(`${LIVE_ROW} .response-col_description`);
    const bodyText = (await body.count()) > 0 ? (await body.first().innerText()).trim() : '';
    const req = getMeRequest();
    let sentAuth = null;
    let netStatus = null;
    if (req) {
      sentAuth = (await req.allHeaders())['authorization'] || null;
      const resp = await req.response();
      netStatus = resp ? resp.status() : null;
    }
    log(`live response status shown: ${statusText}` + (netStatus !== null ? ` (network: ${netStatus})` : ''));
    if (!req) fail(`Execute did not send a request to ${KH_URL}${ME_PATH}`);
    if (sentAuth !== `Bearer ${KH_TOKEN}`) {
      fail(`request to ${ME_PATH} carried Authorization ${sentAuth === null ? '(none)' : JSON.stringify(sentAuth.slice(0, 12) + '...')}, expected "Bearer <KH_TOKEN>"`);
    }
    if (statusText !== '200') {
      fail(`live response status is ${JSON.stringify(statusText)}, expected 200; body: ${bodyText.replace(/\s+/g, ' ').slice(0, 500)}`);
    }
    if (!/\badmin\b/.test(bodyText)) {
      fail(`live response body does not contain "admin": ${bodyText.replace(/\s+/g, ' ').slice(0, 500)}`);
    }
  });
}

const guard = setTimeout(() => {
  console.error(`[swagger-ui] FAIL: overall timeout of ${TOTAL_TIMEOUT} ms exceeded`);
  console.log('swagger-ui: 0 passed, 1 failed');
  process.exit(1);
}, TOTAL_TIMEOUT);
guard.unref();

main().then(
  () => {
    log('PASS');
    console.log('swagger-ui: 1 passed, 0 failed');
    process.exit(0);
  },
  (e) => {
    const msg = e instanceof CheckFailure ? e.message : e && e.stack ? e.stack : String(e);
    console.error(`[swagger-ui] FAIL: ${msg}`);
    console.log('swagger-ui: 0 passed, 1 failed');
    process.exit(1);
  },
);
