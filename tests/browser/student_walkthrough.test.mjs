// Real-browser walk-through of Tellwise: a student (JavaScript off) does a whole lesson, an admin
// (JavaScript on) looks at the class, the login cards and the results. Every page is checked with
// axe-core (WCAG 2.0/2.1 A and AA); every request must stay on 127.0.0.1/localhost; no response
// may be >= 500 and no page may log a console error.
//
// Started by run.sh, which builds nothing, starts the server and sets:
//   TELLWISE_URL             http://127.0.0.1:PORT of a freshly started server
//   TELLWISE_ADMIN_EMAIL     an admin created with `tellwise create-admin`
//   TELLWISE_ADMIN_PASSWORD
//   CHROMIUM_PATH            Debian's Chromium (default /usr/bin/chromium)
// Optional: BROWSER_TEST_ARTIFACTS  folder for screenshots/HTML of failing pages and axe JSON
//           (default: tests/browser/artifacts, ignored by git).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));

const BASE = process.env.TELLWISE_URL;
const ADMIN_EMAIL = process.env.TELLWISE_ADMIN_EMAIL ?? 'admin@school.test';
const ADMIN_PASSWORD = process.env.TELLWISE_ADMIN_PASSWORD ?? 'browser test password';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = process.env.BROWSER_TEST_ARTIFACTS || path.join(HERE, 'artifacts');
const MODULE = 'online-friends-and-strangers';
const CLASS_NAME = 'Room 5';
const STUDENT_NAME = 'Ana';
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const LAUNCH_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

assert.ok(BASE, 'TELLWISE_URL is not set: run this through tests/browser/run.sh');

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// ---------------------------------------------------------------- shared state

/** Everything the browser asked for, from every context: { url, method, resourceType, page } */
const requests = [];
/** Responses with status >= 500: { url, status, method } */
const serverErrors = [];
/** Console errors and uncaught page errors: { page, text } */
const consoleErrors = [];
/** One entry per audited page: { name, url, violations, error } */
const audits = [];
/** Console errors a test provokes on purpose: [{ pattern, url }] while they are expected. */
const expectedConsole = [];
/** Filled by the seed test. */
const seed = {};

let browser;
let auditContext; // JavaScript on: replays snapshots of JavaScript-off pages for axe

async function getBrowser() {
  if (!browser) {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 60_000 });
  }
  return browser;
}

after(async () => {
  await browser?.close().catch(() => {});
});

function isLocal(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'data:' || u.protocol === 'about:' || u.protocol === 'blob:') return true;
  return LOCAL_HOSTS.has(u.hostname) || u.hostname === '::1';
}

/** A browser context whose traffic, errors and console output are all recorded. */
async function newContext(label, options) {
  const b = await getBrowser();
  const context = await b.newContext({ baseURL: BASE, ...options });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  context.on('request', (req) => {
    requests.push({ url: req.url(), method: req.method(), resourceType: req.resourceType(), context: label });
  });
  context.on('response', (res) => {
    if (res.status() >= 500) {
      serverErrors.push({ url: res.url(), status: res.status(), method: res.request().method(), context: label });
    }
  });
  // Nothing may leave the machine: a third-party request is recorded above and then refused here.
  await context.route('**/*', (route) =>
    isLocal(route.request().url()) ? route.fallback() : route.abort('blockedbyclient'),
  );
  context.on('page', (page) => watchPage(page, label));
  return context;
}

function watchPage(page, label) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      if (expectedConsole.some((e) => e.pattern.test(msg.text()) && (loc?.url ?? '').startsWith(e.url))) return;
      consoleErrors.push({ context: label, page: page.url(), text: msg.text(), source: loc?.url ?? '' });
    }
  });
  page.on('pageerror', (err) => {
    consoleErrors.push({ context: label, page: page.url(), text: `uncaught: ${err.message}` });
  });
  page.on('crash', () => consoleErrors.push({ context: label, page: page.url(), text: 'page crashed' }));
}

// ---------------------------------------------------------------- helpers

async function api(method, urlPath, { token, body, expect = [200, 201] } = {}) {
  const res = await fetch(BASE + urlPath, {
    method,
    headers: {
      accept: 'application/json',
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!expect.includes(res.status)) {
    const detail = json?.errors?.map((e) => `${e.status}: ${e.detail}`).join('; ') ?? text.slice(0, 500);
    throw new Error(`${method} ${urlPath} answered ${res.status} (expected ${expect.join('/')}): ${detail}`);
  }
  return { status: res.status, json };
}

/** Codes are shown grouped ("ABC-DEF"); compare letters and digits only. */
function alnum(s) {
  return String(s).replace(/[^A-Za-z0-9]/g, '').toUpperCase();
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** Navigate and insist on a successful page. */
async function visit(page, urlPath) {
  const res = await page.goto(urlPath);
  assert.ok(res, `no response for ${urlPath}`);
  assert.ok(res.status() < 400, `GET ${urlPath} answered ${res.status()}`);
  return res;
}

/** Click something that submits a form or follows a link, and wait for the next document. */
async function clickAndLoad(page, locator, what, { status } = {}) {
  const before = page.url();
  const [res] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    locator.click(),
  ]).catch((e) => {
    throw new Error(`${what}: clicking did not load a page (was on ${before}): ${e.message}`);
  });
  if (res && status) {
    assert.equal(res.status(), status, `${what}: ${res.request().method()} ${res.url()} answered ${res.status()}`);
  } else if (res) {
    assert.ok(res.status() < 400, `${what}: ${res.request().method()} ${res.url()} answered ${res.status()}`);
  }
  return res;
}

/** Every page has a "Get help" link to /help. */
async function expectHelpLink(page, where) {
  const link = page.getByRole('link', { name: 'Get help', exact: true }).first();
  assert.equal(await link.count(), 1, `${where}: no "Get help" link`);
  assert.equal(await link.getAttribute('href'), '/help', `${where}: "Get help" does not go to /help`);
}

function formatViolations(violations) {
  return violations
    .map((v) => {
      const targets = v.nodes
        .map((n) => {
          const summary = (n.failureSummary || '').replace(/\s+/g, ' ').trim();
          return `      - ${JSON.stringify(n.target)}  ${n.html.replace(/\s+/g, ' ').slice(0, 160)}\n        ${summary.slice(0, 400)}`;
        })
        .join('\n');
      return `  * ${v.id} [${v.impact}] ${v.help}\n    ${v.helpUrl}\n${targets}`;
    })
    .join('\n');
}

async function runAxe(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
    }));
  }, AXE_TAGS);
}

/**
 * Run axe on what `page` shows now. axe needs JavaScript and timers, which a JavaScript-off page
 * does not run (injecting axe there even crashes Chromium's renderer), so the DOM of such a page is
 * replayed, unchanged and at the same URL, in a JavaScript-on context; its stylesheets load from the
 * server as usual.
 */
async function audit(name, page) {
  const url = page.url();
  const entry = { name, url, violations: [], error: null };
  audits.push(entry);
  try {
    if (page.context()._jsOff) {
      const html = await page.content();
      auditContext ??= await newContext('axe', { javaScriptEnabled: true });
      const replay = await auditContext.newPage();
      try {
        await replay.route(url, (route) =>
          route.request().isNavigationRequest()
            ? route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html })
            : route.fallback(),
        );
        await replay.goto(url, { waitUntil: 'load' });
        entry.violations = await runAxe(replay);
      } finally {
        await replay.close();
      }
    } else {
      entry.violations = await runAxe(page);
    }
  } catch (e) {
    entry.error = e.message;
  }
  if (entry.violations.length || entry.error) {
    saveArtifacts(name, page, entry).catch(() => {});
  }
  return entry;
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

async function saveArtifacts(name, page, extra) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const base = path.join(ARTIFACTS, slug(name));
  await page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => {});
  const html = await page.content().catch(() => '');
  writeFileSync(`${base}.html`, html);
  if (extra) writeFileSync(`${base}.json`, JSON.stringify(extra, null, 2));
}

/** Wrap a test body so a failure leaves a screenshot of the page it was on. */
async function withArtifacts(name, page, fn) {
  try {
    await fn();
  } catch (e) {
    await saveArtifacts(`failed-${name}`, page).catch(() => {});
    e.message += `\n  (page: ${page.url()}; screenshot in ${ARTIFACTS})`;
    throw e;
  }
}


/**
 * Walks a lesson from its module page to its done page, in any language, with JavaScript on or
 * off: the knowledge checks first, then every step in order. Pages are found by their structure,
 * not their words. The first page of each kind is audited before and after answering.
 */
async function walkLesson(page, slugPath, label) {
  const kinds = { check: 0, reading: 0, chat: 0, feed: 0, reply: 0, sort: 0, question: 0 };
  const jsOn = !page.context()._jsOff;
  const main = page.locator('main');
  const submit = main.locator('form button[type=submit]');
  const next = main.locator('p.next a');
  if (jsOn && (await page.evaluate(() => 'speechSynthesis' in window))) {
    assert.ok(await page.locator('[data-read-aloud]').isVisible(), `${label}: read-aloud button stays hidden with speech synthesis`);
  }
  await clickAndLoad(page, page.locator(`form[action="${slugPath}/start"] button`), `${label}: start`);

  while (pathOf(page).includes('/before/')) {
    kinds.check++;
    assert.ok(kinds.check <= 5, `${label}: more than 5 knowledge checks`);
    assert.equal(await page.locator('.feedback').count(), 0, `${label}: feedback shown before the lesson`);
    if (kinds.check === 1) await audit(`${label}: knowledge check before the lesson`, page);
    await main.locator('input[name=choice]').first().check();
    await clickAndLoad(page, submit, `${label}: knowledge check ${kinds.check}`);
  }
  assert.ok(kinds.check >= 3, `${label}: only ${kinds.check} knowledge checks before the lesson`);
  assert.equal(pathOf(page), `${slugPath}/steps/1`, `${label}: the checks did not lead to step 1`);

  const seen = [];
  let total;
  for (let guard = 0; guard < 100; guard++) {
    const p = pathOf(page);
    if (p === `${slugPath}/done`) break;
    const m = p.match(/\/steps\/(\d+)$/);
    assert.ok(m, `${label}: expected a step page or the done page, got ${p}`);
    const number = Number(m[1]);
    const progress = await page.locator('label[for="lesson-progress"]').innerText();
    const pm = progress.match(/(\d+)\D+(\d+)/);
    assert.ok(pm, `${label} step ${number}: no progress label (got "${progress}")`);
    assert.equal(Number(pm[1]), number, `${label} step ${number}: label says "${progress}"`);
    total ??= Number(pm[2]);
    assert.equal(Number(pm[2]), total, `${label} step ${number}: total changed`);
    assert.equal(number, seen.length + 1, `${label}: step ${number} came after step ${seen.at(-1) ?? 'none'}`);
    seen.push(number);
    assert.equal(await page.locator('a.help-link[href="/help"]').count(), 1, `${label} step ${number}: no help link`);
    const where = `${label} step ${number}`;

    if (await main.locator('form[data-flag-form]').count()) {
      const kind = (await main.locator('fieldset.feed').count()) ? 'feed' : 'chat';
      kinds[kind]++;
      const flags = main.locator('form[data-flag-form] input[name=choice]');
      const n = await flags.count();
      assert.ok(n >= 1, `${where}: nothing to flag`);
      if (kinds[kind] === 1) await audit(`${label}: ${kind} (before answering)`, page);
      await flags.first().check();
      if (n > 2) await flags.nth(n - 1).check();
      if (jsOn) {
        const count = await main.locator('.flag-count').innerText();
        assert.match(count, n > 2 ? /2/ : /1/, `${where}: the flag count does not follow the ticks ("${count}")`);
      }
      await clickAndLoad(page, submit, `${where}: check`);
      assert.equal(pathOf(page), p, `${where}: answering left the step`);
      assert.equal(await main.locator('input[name=choice]').count(), 0, `${where}: still asks after answering`);
      assert.ok((await main.locator('.feedback').count()) >= n, `${where}: not every message has feedback`);
      if (kinds[kind] === 1) await audit(`${label}: ${kind} (after answering)`, page);
    } else if (await main.locator('.sort-items input[type=radio]').count()) {
      kinds.sort++;
      if (kinds.sort === 1) await audit(`${label}: sort (before answering)`, page);
      const items = main.locator('.sort-item fieldset');
      const n = await items.count();
      for (let i = 0; i < n; i++) await items.nth(i).locator('input[type=radio]').first().check();
      await clickAndLoad(page, submit, `${where}: sort`);
      assert.equal(pathOf(page), p, `${where}: sorting left the step`);
      assert.equal(await main.locator('.sort-item .feedback').count(), n, `${where}: not every item has feedback`);
      if (kinds.sort === 1) await audit(`${label}: sort (after answering)`, page);
    } else if (await main.locator('nav.replies a').count()) {
      kinds.reply++;
      if (kinds.reply === 1) await audit(`${label}: reply (start)`, page);
      let turns = 0;
      while (await main.locator('nav.replies a').count()) {
        assert.ok(++turns <= 8, `${where}: the conversation does not end`);
        const before = await main.locator('#conversation .message').count();
        await clickAndLoad(page, main.locator('nav.replies a').first(), `${where}: reply ${turns}`);
        assert.ok((await main.locator('#conversation .message').count()) > before, `${where}: the story did not go on`);
      }
      assert.equal(await main.locator('input[name=path]').count(), 1, `${where}: an ending offers no way on`);
      assert.ok(await main.locator('.notice[role=status]').count(), `${where}: the ending gives no feedback`);
      if (kinds.reply === 1) await audit(`${label}: reply (ending)`, page);
      await clickAndLoad(page, submit, `${where}: save the conversation`);
      assert.equal(pathOf(page), p, `${where}: saving left the step`);
    } else if (await main.locator('fieldset.question input[name=choice]').count()) {
      kinds.question++;
      const options = main.locator('input[name=choice]');
      assert.ok((await options.count()) >= 2, `${where}: fewer than two options`);
      if (kinds.question === 1) await audit(`${label}: question (before answering)`, page);
      await options.first().check();
      await clickAndLoad(page, submit, `${where}: check my answer`);
      assert.equal(pathOf(page), p, `${where}: answering left the step`);
      assert.equal(await main.locator('input[name=choice]').count(), 0, `${where}: still asks after answering`);
      assert.ok((await main.locator('.options.answered li.right').count()) >= 1, `${where}: the right answer is not shown`);
      assert.ok((await main.locator('.options.answered .feedback').count()) >= 2, `${where}: not every option has feedback`);
      if (kinds.question === 1) await audit(`${label}: question (after answering)`, page);
    } else {
      kinds.reading++;
      assert.ok(await main.locator('article.reading h1').count(), `${where}: a reading with no heading`);
      if (kinds.reading === 1) await audit(`${label}: reading`, page);
      await clickAndLoad(page, submit, `${where}: next`);
      continue;
    }
    assert.equal(await next.count(), 1, `${where}: no way on after answering`);
    await clickAndLoad(page, next, `${where}: next`);
  }
  assert.equal(pathOf(page), `${slugPath}/done`, `${label}: the lesson did not end on the done page`);
  assert.equal(seen.length, total, `${label}: visited steps ${seen.join(',')} of ${total}`);
  await audit(`${label}: done page`, page);
  return { total, kinds };
}

// ---------------------------------------------------------------- tests

test('seed a class, a student and an assignment through the JSON API', async () => {
  const tokenRes = await api('POST', '/api/v1/tokens', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  const token = tokenRes.json?.data?.token;
  assert.ok(token, 'POST /api/v1/tokens gave no token');

  const modules = (await api('GET', '/api/v1/modules', { token })).json.data;
  assert.ok(Array.isArray(modules), 'GET /api/v1/modules: data is not a list');
  const mod = modules.find((m) => m.slug === MODULE || m.id === MODULE);
  assert.ok(mod, `module ${MODULE} is not in GET /api/v1/modules: ${JSON.stringify(modules).slice(0, 300)}`);

  const klass = await api('POST', '/api/v1/classes', { token, body: { name: CLASS_NAME, tier: '3-5' }, expect: [201] });
  const { id, join_code: joinCode } = klass.json.data;
  assert.ok(Number.isInteger(id), 'class has no id');
  assert.match(String(joinCode), /\S/, 'class has no join code');

  const students = await api('POST', `/api/v1/classes/${id}/students`, {
    token,
    body: { names: [STUDENT_NAME] },
    expect: [201],
  });
  assert.equal(students.json.data.length, 1);
  const student = students.json.data[0];
  assert.equal(student.name, STUDENT_NAME);
  assert.match(String(student.secret), /\S/, 'student has no secret words');

  await api('POST', `/api/v1/classes/${id}/assignments`, { token, body: { module: MODULE }, expect: [201] });
  const assignments = (await api('GET', `/api/v1/classes/${id}/assignments`, { token })).json.data;
  const assignment = assignments.find((a) => a.module === MODULE);
  assert.ok(assignment, `assignment for ${MODULE} not listed: ${JSON.stringify(assignments)}`);

  // A bad request answers with the documented error envelope.
  const bad = await api('POST', '/api/v1/classes', { token, body: { name: 'X', tier: 'nope' }, expect: [400, 422] });
  assert.ok(Array.isArray(bad.json?.errors) && bad.json.errors[0]?.detail, 'error response has no {"errors":[{detail}]}');

  Object.assign(seed, {
    token,
    classId: id,
    joinCode,
    student,
    assignmentId: assignment.id,
    moduleTitle: mod.title,
    moduleSteps: mod.steps,
  });
});

test('student does the whole lesson with JavaScript off', async (t) => {
  assert.ok(seed.classId, 'seeding failed; nothing to test');
  const context = await newContext('student', { javaScriptEnabled: false });
  context._jsOff = true;
  const page = await context.newPage();
  seed.studentPage = page;
  const slugPath = `/student/modules/${MODULE}`;

  await withArtifacts('student', page, async () => {
    // ---- sign in: a wrong secret first (error state), then the real one
    await visit(page, '/student/login');
    await expectHelpLink(page, 'student login');
    await audit('student login', page);

    await page.locator('#code').fill(seed.joinCode);
    await page.locator('#name').fill(STUDENT_NAME);
    await page.locator('#secret').fill('definitely not the secret');
    // The form comes back with 401, which Chromium also logs as a failed resource: expected here.
    const expected = { pattern: /status of 401/, url: `${BASE}/student/login` };
    expectedConsole.push(expected);
    try {
      await clickAndLoad(page, page.getByRole('button', { name: 'Sign in', exact: true }), 'wrong sign-in', { status: 401 });
    } finally {
      expectedConsole.splice(expectedConsole.indexOf(expected), 1);
    }
    assert.ok(!pathOf(page).startsWith('/student/modules'), 'a wrong secret signed the student in');
    assert.ok(await page.getByRole('alert').count(), 'a wrong secret shows no error message');
    await audit('student login (wrong secret)', page);

    await page.locator('#code').fill(seed.joinCode);
    await page.locator('#name').fill(STUDENT_NAME);
    await page.locator('#secret').fill(seed.student.secret);
    await clickAndLoad(page, page.getByRole('button', { name: 'Sign in', exact: true }), 'sign-in');
    assert.equal(pathOf(page), '/student', 'signing in did not lead to /student');

    // ---- lessons list
    await expectHelpLink(page, 'lessons list');
    const lessonLink = page.getByRole('link', { name: seed.moduleTitle, exact: true });
    assert.equal(await lessonLink.count(), 1, `no lesson link "${seed.moduleTitle}" on /student`);
    assert.equal(await lessonLink.getAttribute('href'), slugPath);
    await audit('student lessons list', page);

    // ---- module page
    await clickAndLoad(page, lessonLink, 'open the lesson');
    assert.equal(pathOf(page), slugPath);
    await expectHelpLink(page, 'module page');
    assert.ok(await page.getByRole('heading', { name: 'Before you start' }).count(), 'module page has no content note');
    await audit('student module page', page);

    const { total, kinds } = await walkLesson(page, slugPath, 'student');
    if (Number.isInteger(seed.moduleSteps)) assert.equal(total, seed.moduleSteps, 'step count differs from the API');
    assert.ok(kinds.reading && kinds.chat && kinds.feed && kinds.question, `expected readings, a chat, a feed and questions, got ${JSON.stringify(kinds)}`);
    t.diagnostic(`walked ${total} steps after ${kinds.check} knowledge checks: ${JSON.stringify(kinds)}`);
    assert.equal(await page.getByRole('heading', { name: 'Where to get help' }).count(), 1, 'done page has no "Where to get help"');
    await expectHelpLink(page, 'done page');
    await audit('student done page', page);

    // The lessons list now says the lesson is finished.
    await visit(page, '/student');
    assert.ok(await page.getByText('Finished', { exact: true }).count(), 'lessons list does not show the lesson as finished');
  });
});


const TIER_WALKS = [
  { tier: 'K-2', module: 'check-first-and-say-no', language: 'en', js: false },
  { tier: '3-5', module: 'when-in-doubt-talk-it-out', language: 'en', js: true },
  { tier: '6-8', module: 'photo-requests-and-sextortion', language: 'en', js: false },
  { tier: '9-12', module: 'recruitment-and-trafficking-myths', language: 'en', js: true },
  { tier: '6-8', module: 'how-grooming-works', language: 'es', js: false },
  { tier: '3-5', module: 'block-and-report', language: 'es', js: true },
];

test('a student walks one module of each tier, and modules in Spanish, with JavaScript off and on', async (t) => {
  assert.ok(seed.token, 'seeding failed; nothing to test');
  for (const walk of TIER_WALKS) {
    const label = `${walk.tier} ${walk.module} (${walk.language}, JavaScript ${walk.js ? 'on' : 'off'})`;
    const klass = await api('POST', '/api/v1/classes', {
      token: seed.token,
      body: { name: `Walk ${walk.module} ${walk.language}`, tier: walk.tier, language: walk.language },
      expect: [201],
    });
    assert.equal(klass.json.data.language, walk.language);
    const classId = klass.json.data.id;
    const [student] = (await api('POST', `/api/v1/classes/${classId}/students`, { token: seed.token, body: { names: ['Sam'] }, expect: [201] })).json.data;
    await api('POST', `/api/v1/classes/${classId}/assignments`, { token: seed.token, body: { module: walk.module }, expect: [201] });

    const context = await newContext(label, { javaScriptEnabled: walk.js });
    context._jsOff = !walk.js;
    const page = await context.newPage();
    await withArtifacts(slug(label), page, async () => {
      await visit(page, '/student/login');
      await page.locator('#code').fill(klass.json.data.join_code);
      await page.locator('#name').fill('Sam');
      await page.locator('#secret').fill(student.secret);
      await clickAndLoad(page, page.locator('main form button[type=submit]'), `${label}: sign in`);
      assert.equal(pathOf(page), '/student');
      assert.equal(await page.locator('html').getAttribute('lang'), walk.language, `${label}: page language`);
      const slugPath = `/student/modules/${walk.module}`;
      await clickAndLoad(page, page.locator(`a[href="${slugPath}"]`), `${label}: open the lesson`);
      if (walk.language === 'es') {
        assert.ok(await page.getByText('Antes de empezar').count() || (await page.locator('aside.notice').count()) === 0, `${label}: the content note is not in Spanish`);
      }
      const { total, kinds } = await walkLesson(page, slugPath, label);
      t.diagnostic(`${label}: ${total} steps after ${kinds.check} checks: ${JSON.stringify(kinds)}`);
      if (walk.language === 'es') {
        assert.ok(await page.getByRole('heading', { name: 'Dónde pedir ayuda' }).count(), `${label}: the done page is not in Spanish`);
      }
      // The family page, printable and public.
      await clickAndLoad(page, page.locator(`a[href^="/family/${walk.module}"]`), `${label}: family page`);
      assert.equal(await page.locator('html').getAttribute('lang'), walk.language);
      await audit(`${label}: family page`, page);
    });
    await context.close();
  }
});

test('student opens the help page', async () => {
  const page = seed.studentPage;
  assert.ok(page, 'the student walk-through did not start');
  await withArtifacts('help', page, async () => {
    const help = page.getByRole('link', { name: 'Get help', exact: true }).first();
    await clickAndLoad(page, help, 'Get help');
    assert.equal(pathOf(page), '/help');
    assert.ok(await page.getByRole('heading', { level: 1 }).count(), '/help has no heading');
    await audit('help page', page);
  });
});

test('admin sees the class page, the login cards and the results', async () => {
  assert.ok(seed.classId, 'seeding failed; nothing to test');
  const context = await newContext('admin', { javaScriptEnabled: true });
  const page = await context.newPage();
  const classPath = `/teacher/classes/${seed.classId}`;

  await withArtifacts('admin', page, async () => {
    await visit(page, '/login');
    await expectHelpLink(page, 'staff login');
    await audit('staff login', page);
    await page.locator('#email').fill(ADMIN_EMAIL);
    await page.locator('#password').fill(ADMIN_PASSWORD);
    await clickAndLoad(page, page.getByRole('button', { name: 'Sign in', exact: true }), 'staff sign-in');
    assert.equal(pathOf(page), '/teacher', 'staff sign-in did not lead to /teacher');
    await expectHelpLink(page, 'teacher class list');
    await audit('teacher class list', page);

    const classLink = page.getByRole('link', { name: CLASS_NAME, exact: true });
    assert.ok(await classLink.count(), `/teacher does not list "${CLASS_NAME}"`);
    await clickAndLoad(page, classLink.first(), 'open the class');
    assert.equal(pathOf(page), classPath);
    assert.equal(await page.getByRole('heading', { level: 1, name: CLASS_NAME }).count(), 1);
    const shownCode = await page.locator('.code').first().innerText();
    assert.equal(alnum(shownCode), alnum(seed.joinCode), 'class page does not show the class code');
    assert.ok(await page.getByRole('link', { name: seed.moduleTitle }).count(), 'class page does not list the assignment');
    await expectHelpLink(page, 'teacher class page');
    await audit('teacher class page', page);

    await visit(page, `${classPath}/cards`);
    const card = page.locator('.login-card', { hasText: STUDENT_NAME });
    assert.equal(await card.count(), 1, `no login card for ${STUDENT_NAME}`);
    assert.ok((await card.innerText()).includes(seed.student.secret), 'login card lacks the secret words');
    assert.equal(alnum(await card.locator('.code').innerText()), alnum(seed.joinCode), 'login card lacks the class code');
    await expectHelpLink(page, 'teacher login cards');
    await audit('teacher login cards', page);

    await visit(page, `${classPath}/assignments/${seed.assignmentId}`);
    assert.equal(await page.getByRole('heading', { level: 1, name: seed.moduleTitle }).count(), 1);
    const row = page.locator('tr', { hasText: STUDENT_NAME });
    assert.equal(await row.count(), 1, `results do not list ${STUDENT_NAME}`);
    if (seed.studentPage) {
      assert.match(await page.getByText(/\d+ finished, \d+ in progress/).first().innerText(), /^1 finished/, 'results do not count the finished student');
    }
    await expectHelpLink(page, 'teacher results');
    // The server runs with a minimum group of one, so the finished student's figures show.
    assert.ok(await page.locator('svg[role=img] title').count(), 'the report has no chart');
    assert.ok(await page.getByRole('heading', { name: 'What the class learned' }).count());
    await audit('teacher results', page);

    await visit(page, `${classPath}/summary`);
    assert.ok(await page.getByRole('heading', { level: 1, name: `${CLASS_NAME}: class summary` }).count());
    await audit('teacher class summary', page);
    const csv = await page.request.get(`${classPath}/progress.csv`);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), new RegExp(`^${STUDENT_NAME},Finished`, 'm'));

    await visit(page, '/reports');
    assert.ok(await page.getByRole('heading', { level: 1, name: 'Reports across classes' }).count());
    assert.ok(await page.locator('table tbody tr').count(), 'the roll-up lists no school');
    await audit('roll-up report', page);
    const rollupCsv = await page.request.get('/reports.csv?period=all');
    assert.equal(rollupCsv.status(), 200);
    assert.match(await rollupCsv.text(), /^school,module,grades/);
    await visit(page, `/reports/items?module=${MODULE}`);
    assert.ok(await page.getByRole('heading', { level: 1, name: /^Item statistics/ }).count());
    await audit('item statistics', page);
    await visit(page, '/admin/schools');
    await audit('admin schools', page);
    await visit(page, '/admin/teachers');
    await audit('admin staff accounts', page);

    await visit(page, '/teacher/modules');
    assert.ok(await page.getByRole('heading', { name: 'Grades 9-12' }).count(), 'the curriculum lists no 9-12 modules');
    await audit('teacher curriculum', page);
    await visit(page, `/teacher/modules/${MODULE}`);
    assert.ok(await page.getByRole('heading', { name: 'If a student tells you something' }).count(), 'the module guide says nothing about disclosures');
    await audit('teacher module guide', page);
  });
  await context.close();
});

test('accessibility: axe-core finds no WCAG 2.0/2.1 A or AA violations', async (t) => {
  const required = [
    'student login',
    'student lessons list',
    'student module page',
    'student: reading',
    'student: chat (before answering)',
    'student: feed (after answering)',
    'student: question (before answering)',
    'student: question (after answering)',
    'student: knowledge check before the lesson',
    'student done page',
    /^K-2 .*: sort \(after answering\)/,
    /^K-2 .*: reply \(ending\)/,
    /\(es, JavaScript off\): done page/,
    /\(es, JavaScript on\): family page/,
    /^9-12 .*JavaScript on\): sort \(after answering\)/,
    'teacher class summary',
    'roll-up report',
    'item statistics',
    'admin schools',
    'admin staff accounts',
    'teacher curriculum',
    'teacher module guide',
    'help page',
    'staff login',
    'teacher class page',
    'teacher login cards',
    'teacher results',
  ];
  const missing = required.filter((r) => !audits.some((a) => (typeof r === 'string' ? a.name === r : r.test(a.name))));

  const failing = audits.filter((a) => a.error || a.violations.length);
  if (audits.length) {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'axe-results.json'), JSON.stringify(audits, null, 2));
  }
  for (const a of audits) {
    await t.test(`axe: ${a.name}`, () => {
      assert.ok(!a.error, `axe could not run on ${a.name} (${a.url}): ${a.error}`);
      if (a.violations.length) {
        const msg = `${a.violations.length} axe violation(s) on ${a.name} (${a.url}):\n${formatViolations(a.violations)}`;
        assert.fail(msg);
      }
    });
  }
  // One summary by rule, so a template problem repeated on many pages reads as one problem.
  if (failing.length) {
    const byRule = new Map();
    for (const a of failing) {
      for (const v of a.violations) {
        const r = byRule.get(v.id) ?? { impact: v.impact, help: v.help, pages: new Set(), targets: new Set() };
        r.pages.add(a.name);
        v.nodes.forEach((n) => r.targets.add(JSON.stringify(n.target)));
        byRule.set(v.id, r);
      }
    }
    const lines = [...byRule].map(
      ([id, r]) => `  ${id} [${r.impact}] ${r.help}\n    pages: ${[...r.pages].join('; ')}\n    targets: ${[...r.targets].join(' ')}`,
    );
    console.error(`axe summary by rule (${byRule.size} rule(s) on ${failing.length} page(s)):\n${lines.join('\n')}`);
  }
  assert.deepEqual(missing.map(String), [], 'some pages were never audited (an earlier test failed?)');
  assert.equal(failing.length, 0, `${failing.length} of ${audits.length} audited pages have axe violations (see above)`);
});

test('no request leaves 127.0.0.1/localhost', () => {
  assert.ok(requests.length > 0, 'no requests were recorded');
  const foreign = requests.filter((r) => !isLocal(r.url));
  const list = [...new Set(foreign.map((r) => `${r.context}: ${r.method} ${r.url} (${r.resourceType})`))];
  assert.deepEqual(list, [], `third-party requests:\n${list.join('\n')}`);
});

test('no HTTP response is a server error (>= 500)', () => {
  const list = serverErrors.map((e) => `${e.context}: ${e.method} ${e.url} -> ${e.status}`);
  assert.deepEqual(list, [], `server errors:\n${list.join('\n')}`);
});

test('no page logs a console error', () => {
  const list = consoleErrors.map((e) => `${e.context}: ${e.page}: ${e.text}${e.source ? ` (${e.source})` : ''}`);
  assert.deepEqual(list, [], `console errors:\n${list.join('\n')}`);
});
