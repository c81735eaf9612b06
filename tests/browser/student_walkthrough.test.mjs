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

    // A student's records page, where a family's records request is answered.
    await visit(page, `${classPath}/students/${seed.student.id}`);
    assert.ok(await page.getByRole('heading', { level: 1, name: STUDENT_NAME }).count(), 'no records page for the student');
    await audit('teacher student records', page);

    // A report before anyone has finished: every figure is held back and the page says why.
    const empty = await api('POST', '/api/v1/classes', { token: seed.token, body: { name: 'Room Not Yet', tier: '3-5' }, expect: [201] });
    await api('POST', `/api/v1/classes/${empty.json.data.id}/assignments`, { token: seed.token, body: { module: MODULE }, expect: [201] });
    const emptyAssignments = (await api('GET', `/api/v1/classes/${empty.json.data.id}/assignments`, { token: seed.token })).json.data;
    await visit(page, `/teacher/classes/${empty.json.data.id}/assignments/${emptyAssignments[0].id}`);
    assert.ok(await page.getByText('Figures appear once').count(), 'the empty report does not say when figures appear');
    assert.equal(await page.locator('svg[role=img] title').count(), 0, 'an empty report draws a chart');
    await audit('teacher results (not enough yet)', page);
    await visit(page, `/teacher/classes/${empty.json.data.id}`);
    await audit('teacher class page (nobody started)', page);

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
    await clickAndLoad(page, page.getByRole('link', { name: 'Audit log', exact: true }), 'open the audit log');
    assert.ok(await page.getByRole('cell', { name: 'administrator created from the command line', exact: true }).count(), 'the audit log does not show how the administrator was created');
    await audit('admin audit log', page);

    await visit(page, '/teacher/modules');
    assert.ok(await page.getByRole('heading', { name: 'Grades 9-12' }).count(), 'the curriculum lists no 9-12 modules');
    await audit('teacher curriculum', page);
    await visit(page, `/teacher/modules/${MODULE}`);
    assert.ok(await page.getByRole('heading', { name: 'If a student tells you something' }).count(), 'the module guide says nothing about disclosures');
    await audit('teacher module guide', page);
  });
  await context.close();
});

// ---------------------------------------------------------------- family opt-outs and partners

const OPT_OUT_STUDENT = 'Noor K';
const PARTNER = { name: 'Pat Partner', email: 'partner@prevention.test', password: 'partner test password' };
let partnerLink; // the one-time link with which the partner chooses a password
const OTHER_SCHOOL = 'Lakeside Middle School';

/** Signs a staff member in at /login; answers the page's path afterwards. */
async function staffSignIn(page, email, password, what) {
  await visit(page, '/login');
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await clickAndLoad(page, page.getByRole('button', { name: 'Sign in', exact: true }), `${what}: staff sign-in`);
  assert.notEqual(pathOf(page), '/login', `${what}: still on the sign-in page after signing in`);
  return pathOf(page);
}

/** Signs a student in at /student/login. */
async function studentSignIn(page, code, name, secret, what) {
  await visit(page, '/student/login');
  await page.locator('#code').fill(code);
  await page.locator('#name').fill(name);
  await page.locator('#secret').fill(secret);
  await clickAndLoad(page, page.locator('main form button[type=submit]'), `${what}: sign in`);
  assert.equal(pathOf(page), '/student', `${what}: signing in did not lead to /student`);
}

/** "1 finished, 0 in progress, 2 not started" on an assignment card, as numbers. */
async function assignmentProgress(page, assignmentId) {
  const text = await page.locator(`#progress-${assignmentId}`).innerText();
  const m = text.match(/(\d+) finished, (\d+) in progress, (\d+) not started/);
  assert.ok(m, `assignment ${assignmentId}: no progress label (got "${text}")`);
  return { finished: Number(m[1]), inProgress: Number(m[2]), notStarted: Number(m[3]) };
}

/** The text of one student's cell in the class page's status grid, for the module titled `title`. */
async function gridCell(page, studentName, title) {
  const grid = page.locator('table.status-grid');
  assert.equal(await grid.count(), 1, 'the class page has no status grid');
  const headers = (await grid.locator('thead th').allInnerTexts()).map((h) => h.trim());
  const column = headers.indexOf(title);
  assert.ok(column > 0, `the status grid has no column "${title}" (has ${JSON.stringify(headers)})`);
  const row = grid.locator('tbody tr').filter({ has: page.getByRole('rowheader', { name: studentName, exact: true }) });
  assert.equal(await row.count(), 1, `the status grid has no row for ${studentName}`);
  return (await row.locator('td').nth(column - 1).innerText()).trim();
}

test('teacher records and withdraws a family opt-out; the student gets a different activity', async () => {
  assert.ok(seed.classId, 'seeding failed; nothing to test');
  const context = await newContext('opt-out teacher', { javaScriptEnabled: true });
  const page = await context.newPage();
  const studentContext = await newContext('opt-out student', { javaScriptEnabled: false });
  studentContext._jsOff = true;
  const student = await studentContext.newPage();
  const classPath = `/teacher/classes/${seed.classId}`;
  const slugPath = `/student/modules/${MODULE}`;
  const title = seed.moduleTitle;
  const section = page.locator('section[aria-labelledby="opt-outs"]');
  const withdraw = page.getByRole('button', { name: `Withdraw the opt-out of ${OPT_OUT_STUDENT} from ${title}`, exact: true });
  const startButton = student.getByRole('button', { name: 'Start the lesson', exact: true });
  const lessonCard = student.locator('li.card').filter({ has: student.getByRole('link', { name: title, exact: true }) });

  await withArtifacts('opt-out-teacher', page, async () => {
    // ---- a new student in the seeded class, added through the class page
    await staffSignIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, 'opt-out teacher');
    await visit(page, classPath);
    await page.locator('#names').fill(OPT_OUT_STUDENT);
    await clickAndLoad(page, page.getByRole('button', { name: 'Add students', exact: true }), 'add a student');
    assert.equal(pathOf(page), classPath, 'adding a student left the class page');
    assert.equal(await gridCell(page, OPT_OUT_STUDENT, title), 'Not started', `${OPT_OUT_STUDENT} is not "Not started"`);
    const before = await assignmentProgress(page, seed.assignmentId);
    assert.ok(before.notStarted >= 1, `the new student is not counted as not started: ${JSON.stringify(before)}`);
    assert.equal(await section.getByText('No opt-outs recorded.', { exact: true }).count(), 1, 'the class starts with an opt-out');

    await visit(page, `${classPath}/cards`);
    const secret = (await page.locator('.login-card', { hasText: OPT_OUT_STUDENT }).locator('.secret').innerText()).trim();
    assert.match(secret, /\S/, `no secret words on ${OPT_OUT_STUDENT}'s login card`);

    // ---- before any opt-out, the student can start the lesson
    await withArtifacts('opt-out-student', student, async () => {
      await studentSignIn(student, seed.joinCode, OPT_OUT_STUDENT, secret, 'opt-out student');
      assert.equal(await lessonCard.count(), 1, `the lessons list has no card for "${title}"`);
      assert.equal(await lessonCard.getByText('Not started', { exact: true }).count(), 1, 'the lesson is not "Not started"');
      await visit(student, slugPath);
      assert.equal(await startButton.count(), 1, 'before the opt-out the module page has no "Start the lesson"');
    });

    // ---- the teacher records the opt-out through the form
    await visit(page, classPath);
    await page.locator('#opt-out-student').selectOption({ label: OPT_OUT_STUDENT });
    await page.locator('#opt-out-module').selectOption(MODULE);
    assert.equal(await page.getByLabel('Student', { exact: true }).count(), 1, 'the student select has no label "Student"');
    await clickAndLoad(page, page.getByRole('button', { name: 'Record the opt-out', exact: true }), 'record the opt-out');
    assert.equal(pathOf(page), classPath, 'recording the opt-out left the class page');
    assert.equal(new URL(page.url()).hash, '#opt-outs', 'recording the opt-out did not return to #opt-outs');
    const item = section.locator('li').filter({ has: withdraw });
    assert.equal(await item.count(), 1, 'the opt-out is not listed with a withdraw button');
    assert.match((await item.innerText()).trim(), new RegExp(`^${OPT_OUT_STUDENT}: ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the opt-out is not listed as "<student>: <module>"');
    assert.equal(await section.getByText('No opt-outs recorded.', { exact: true }).count(), 0, 'still says no opt-outs');
    assert.equal(await gridCell(page, OPT_OUT_STUDENT, title), 'Family opted out', 'the status grid does not show the opt-out');
    assert.notEqual(await gridCell(page, STUDENT_NAME, title), 'Family opted out', `${STUDENT_NAME} shows as opted out too`);
    const after = await assignmentProgress(page, seed.assignmentId);
    assert.deepEqual(after, { ...before, notStarted: before.notStarted - 1 }, 'the opted-out student still counts in the module progress');
    await expectHelpLink(page, 'class page with an opt-out');
    await audit('teacher class page (family opt-out listed)', page);

    // ---- the student sees a different activity and cannot start the lesson
    await withArtifacts('opt-out-student', student, async () => {
      await visit(student, '/student');
      assert.equal(await lessonCard.count(), 1, `the lessons list has no card for "${title}" after the opt-out`);
      assert.equal(await lessonCard.getByText('A different activity', { exact: true }).count(), 1, 'the lessons list does not say "A different activity"');
      assert.equal(await lessonCard.locator('progress').count(), 0, 'the lessons list still shows lesson progress');
      await expectHelpLink(student, 'lessons list with an opt-out');
      await audit('student lessons list (family opt-out)', student);

      await clickAndLoad(student, lessonCard.getByRole('link', { name: title, exact: true }), 'open the opted-out module');
      assert.equal(pathOf(student), slugPath);
      assert.equal(await student.getByRole('heading', { level: 1, name: 'A different activity for you', exact: true }).count(), 1, 'no "A different activity for you" heading');
      assert.ok((await student.locator('main ol li').count()) >= 1, 'the different activity lists no steps');
      assert.equal(await student.getByRole('heading', { name: 'Where to get help', exact: true }).count(), 1, 'no "Where to get help"');
      assert.equal(await startButton.count(), 0, 'an opted-out student still sees "Start the lesson"');
      assert.equal(await student.locator(`form[action="${slugPath}/start"]`).count(), 0, 'an opted-out student still has a start form');
      await expectHelpLink(student, 'different activity');
      await audit('student alternative activity', student);

      // Starting anyway is refused, with a valid CSRF token (so the 403 is the opt-out's).
      const csrf = await student.locator('meta[name="csrf-token"]').getAttribute('content');
      assert.match(String(csrf), /\S/, 'no CSRF token on the page');
      const refused = await student.request.post(`${slugPath}/start`, { form: { csrf_token: csrf }, maxRedirects: 0 });
      assert.equal(refused.status(), 403, `POST ${slugPath}/start answered ${refused.status()} for an opted-out student`);
      assert.match(await refused.text(), /cannot be started/, 'the 403 does not say the lesson cannot be started');
      const step = await student.request.get(`${slugPath}/steps/1`, { maxRedirects: 0 });
      assert.equal(step.status(), 403, `GET ${slugPath}/steps/1 answered ${step.status()} for an opted-out student`);
    });

    // ---- the teacher withdraws the opt-out
    await clickAndLoad(page, withdraw, 'withdraw the opt-out');
    assert.equal(pathOf(page), classPath, 'withdrawing the opt-out left the class page');
    assert.equal(new URL(page.url()).hash, '#opt-outs', 'withdrawing did not return to #opt-outs');
    assert.equal(await withdraw.count(), 0, 'the withdrawn opt-out is still listed');
    assert.equal(await section.getByText('No opt-outs recorded.', { exact: true }).count(), 1, 'the list does not say "No opt-outs recorded."');
    assert.equal(await gridCell(page, OPT_OUT_STUDENT, title), 'Not started', 'the status grid still shows the opt-out');
    assert.deepEqual(await assignmentProgress(page, seed.assignmentId), before, 'the module progress did not count the student again');

    // ---- the student can start the lesson again
    await withArtifacts('opt-out-student', student, async () => {
      await visit(student, '/student');
      assert.equal(await lessonCard.getByText('A different activity', { exact: true }).count(), 0, 'the lessons list still says "A different activity"');
      assert.equal(await lessonCard.getByText('Not started', { exact: true }).count(), 1, 'the lessons list does not say "Not started" again');
      await visit(student, slugPath);
      assert.equal(await student.getByRole('heading', { level: 1, name: title, exact: true }).count(), 1, 'the module page is not back');
      assert.equal(await startButton.count(), 1, 'after the withdrawal there is no "Start the lesson"');
      await clickAndLoad(student, startButton, 'start the lesson after the withdrawal');
      assert.ok(pathOf(student).startsWith(`${slugPath}/before/`), `starting led to ${pathOf(student)}, not the first knowledge check`);
    });
  });
  await studentContext.close();
  await context.close();
});

test('admin creates a partner who sees only the aggregates of the schools that granted access', async () => {
  assert.ok(seed.classId, 'seeding failed; nothing to test');
  const context = await newContext('partner admin', { javaScriptEnabled: true });
  const page = await context.newPage();
  const schoolCard = (name) =>
    page.locator('article.card').filter({ has: page.getByRole('heading', { level: 2, name, exact: true }) });
  let grantedSchool;
  let otherSchoolId;

  await withArtifacts('partner-admin', page, async () => {
    await staffSignIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, 'partner admin');

    // ---- the seeded classes belong to the admin's school
    await visit(page, '/admin/teachers');
    const adminRow = page.locator('tbody tr', { hasText: ADMIN_EMAIL });
    assert.equal(await adminRow.count(), 1, 'the staff list does not show the admin');
    grantedSchool = (await adminRow.locator('td').nth(3).innerText()).trim();
    assert.ok(grantedSchool && grantedSchool !== 'none', 'the admin has no school');

    // ---- a second school, which will not share its reports
    await visit(page, '/admin/schools');
    await page.locator('#school-name').fill(OTHER_SCHOOL);
    await clickAndLoad(page, page.getByRole('button', { name: 'Add school', exact: true }), 'add a school');
    assert.equal(pathOf(page), '/admin/schools');
    assert.equal(await schoolCard(OTHER_SCHOOL).count(), 1, `"${OTHER_SCHOOL}" is not listed after adding it`);

    // ---- the partner account (the school chosen is ignored: partners belong to none)
    await visit(page, '/admin/teachers');
    await page.locator('#name').fill(PARTNER.name);
    await page.locator('#email').fill(PARTNER.email);
    assert.equal(await page.locator('input[type="password"]').count(), 0, 'the administrator is asked to type a password for someone else');
    await page.locator('#role').selectOption('partner');
    await page.locator('#school_id').selectOption({ label: OTHER_SCHOOL });
    await clickAndLoad(page, page.getByRole('button', { name: 'Add account', exact: true }), 'add the partner');
    assert.equal(await page.getByRole('heading', { level: 1, name: `Account created for ${PARTNER.name}` }).count(), 1, 'no "account created" page');
    partnerLink = await page.getByLabel('Link').inputValue();
    assert.match(partnerLink, /\/reset\?token=/, `the new account's link is "${partnerLink}"`);
    await audit('admin account created (one-time link)', page);
    await visit(page, '/admin/teachers');
    const partnerRow = page.locator('tbody tr', { hasText: PARTNER.email });
    assert.equal(await partnerRow.count(), 1, 'the partner is not in the staff list');
    const cells = (await partnerRow.locator('td').allInnerTexts()).map((c) => c.trim());
    assert.equal(cells[0], PARTNER.name);
    assert.match(cells[2], /partner/i, `the partner's role shows as "${cells[2]}"`);
    assert.equal(cells[3], 'none', `the partner belongs to a school ("${cells[3]}")`);
    assert.equal(cells[4], 'Active');
    await audit('admin staff accounts (partner added)', page);

    // ---- the seeded school shares its aggregates with the partner; the other school does not
    await visit(page, '/admin/schools');
    const granted = schoolCard(grantedSchool);
    assert.equal(await granted.count(), 1, `no card for "${grantedSchool}" on /admin/schools`);
    const other = schoolCard(OTHER_SCHOOL);
    const otherForm = other.locator('form[action$="/partners"]');
    assert.equal(await otherForm.count(), 1, `"${OTHER_SCHOOL}" offers no partner to share with`);
    otherSchoolId = Number((await otherForm.getAttribute('action')).match(/\/admin\/schools\/(\d+)\/partners/)?.[1]);
    assert.ok(Number.isInteger(otherSchoolId), 'could not read the other school id');
    await granted.locator('select[name="partner_id"]').selectOption({ label: PARTNER.name });
    await clickAndLoad(page, granted.getByRole('button', { name: 'Share', exact: true }), 'share with the partner');
    assert.equal(pathOf(page), '/admin/schools');
    assert.equal(await schoolCard(grantedSchool).getByText(`${PARTNER.name} sees this school's aggregates.`).count(), 1, 'the grant is not listed');
    assert.equal(await schoolCard(grantedSchool).getByRole('button', { name: `Stop sharing with ${PARTNER.name}`, exact: true }).count(), 1, 'no way to stop sharing');
    assert.equal(await schoolCard(OTHER_SCHOOL).getByText('No partner sees this school\'s reports.').count(), 1, `"${OTHER_SCHOOL}" shares its reports too`);
    await audit('admin schools (partner granted)', page);

    // The admin's roll-up offers both schools, so the partner's having one less means something.
    await visit(page, '/reports');
    const adminSchools = (await page.locator('#f-school option').allInnerTexts()).map((s) => s.trim());
    assert.ok(adminSchools.includes(grantedSchool) && adminSchools.includes(OTHER_SCHOOL), `the admin's roll-up does not offer both schools: ${JSON.stringify(adminSchools)}`);
  });
  await context.close();

  // ---- the partner signs in
  const partnerContext = await newContext('partner', { javaScriptEnabled: true });
  const partner = await partnerContext.newPage();
  const classPath = `/teacher/classes/${seed.classId}`;
  const leaks = async (where) => {
    const text = await partner.locator('body').innerText();
    for (const [what, re] of [
      ['the student name', new RegExp(`\\b${STUDENT_NAME}\\b`)],
      ['the opted-out student', new RegExp(`\\b${OPT_OUT_STUDENT}\\b`)],
      ['the class name', new RegExp(`\\b${CLASS_NAME}\\b`)],
      ['the secret words', new RegExp(String(seed.student.secret).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))],
    ]) {
      assert.doesNotMatch(text, re, `${where}: a partner sees ${what}`);
    }
  };

  await withArtifacts('partner', partner, async () => {
    assert.ok(partnerLink, 'the administrator made no link for the partner');
    await visit(partner, partnerLink);
    assert.equal(await partner.getByRole('heading', { level: 1, name: 'Choose a new password' }).count(), 1);
    await audit('choose a password (new account)', partner);
    await partner.locator('#password').fill(PARTNER.password);
    await clickAndLoad(partner, partner.getByRole('button', { name: 'Set the password', exact: true }), 'choose the partner password');
    assert.equal(pathOf(partner), '/login', 'choosing a password does not lead to the sign-in page');
    const landed = await staffSignIn(partner, PARTNER.email, PARTNER.password, 'partner');
    assert.equal(landed, '/reports', `a partner's sign-in led to ${landed}, not /reports`);
    await visit(partner, '/teacher');
    assert.equal(pathOf(partner), '/reports', '/teacher did not send the partner to /reports');

    assert.equal(await partner.getByRole('heading', { level: 1, name: 'Reports across classes' }).count(), 1);
    assert.equal(await partner.getByRole('link', { name: 'Classes', exact: true }).count(), 0, 'a partner is offered "Classes"');
    assert.equal(await partner.getByRole('link', { name: 'Staff accounts', exact: true }).count(), 0, 'a partner is offered "Staff accounts"');
    const schools = (await partner.locator('#f-school option').allInnerTexts()).map((s) => s.trim());
    assert.ok(schools.includes(grantedSchool), `the partner's roll-up does not offer "${grantedSchool}": ${JSON.stringify(schools)}`);
    assert.ok(!schools.includes(OTHER_SCHOOL), `the partner's roll-up offers "${OTHER_SCHOOL}", which granted nothing`);
    const rowHeaders = (await partner.locator('table tbody th').allInnerTexts()).map((s) => s.trim());
    assert.ok(rowHeaders.includes(grantedSchool), `the partner's roll-up has no row for "${grantedSchool}": ${JSON.stringify(rowHeaders)}`);
    assert.ok(!rowHeaders.includes(OTHER_SCHOOL), `the partner's roll-up has a row for "${OTHER_SCHOOL}"`);
    const moduleRow = partner.locator('table tbody tr', { hasText: seed.moduleTitle }).filter({ has: partner.getByRole('rowheader', { name: grantedSchool, exact: true }) });
    assert.equal(await moduleRow.count(), 1, `the partner's roll-up has no row for ${seed.moduleTitle} at ${grantedSchool}`);
    await leaks('/reports');
    await expectHelpLink(partner, 'partner roll-up');
    await audit('partner roll-up report', partner);

    const csv = await partner.request.get('/reports.csv?period=all');
    assert.equal(csv.status(), 200, `a partner's /reports.csv answered ${csv.status()}`);
    const csvText = await csv.text();
    assert.ok(csvText.includes(grantedSchool), 'the partner CSV does not cover the granted school');
    assert.ok(!csvText.includes(OTHER_SCHOOL), 'the partner CSV covers a school that granted nothing');
    assert.doesNotMatch(csvText, new RegExp(`\\b${STUDENT_NAME}\\b`), 'the partner CSV names a student');
    const notGranted = await partner.request.get(`/reports?school=${otherSchoolId}`, { maxRedirects: 0 });
    assert.equal(notGranted.status(), 404, `/reports?school=<not granted> answered ${notGranted.status()}`);

    await visit(partner, `/reports/items?module=${MODULE}`);
    assert.equal(await partner.getByRole('heading', { level: 1, name: `Item statistics: ${seed.moduleTitle}` }).count(), 1, 'no item statistics heading');
    assert.ok((await partner.locator('table tbody tr').count()) >= 1, 'the partner sees no item statistics for the granted school');
    await leaks('/reports/items');
    await audit('partner item statistics', partner);

    // ---- no class, by any door
    const expected = { pattern: /status of 404/, url: `${BASE}${classPath}` };
    expectedConsole.push(expected);
    try {
      const res = await partner.goto(classPath);
      assert.equal(res?.status(), 404, `a partner's GET ${classPath} answered ${res?.status()}`);
    } finally {
      expectedConsole.splice(expectedConsole.indexOf(expected), 1);
    }
    await leaks(classPath);
    await expectHelpLink(partner, 'not-found page');
    await audit('partner: class page not found', partner);
    for (const p of [`${classPath}/cards`, `${classPath}/progress.csv`, `${classPath}/summary`, `${classPath}/assignments/${seed.assignmentId}`]) {
      const res = await partner.request.get(p, { maxRedirects: 0 });
      assert.equal(res.status(), 404, `a partner's GET ${p} answered ${res.status()}`);
    }

    const token = (await api('POST', '/api/v1/tokens', { body: { email: PARTNER.email, password: PARTNER.password } })).json?.data?.token;
    assert.ok(token, 'the partner got no API token');
    const listed = (await api('GET', '/api/v1/classes', { token })).json.data;
    assert.deepEqual(listed, [], `the API lists classes to a partner: ${JSON.stringify(listed).slice(0, 200)}`);
    await api('GET', `/api/v1/classes/${seed.classId}`, { token, expect: [404] });
  });
  await partnerContext.close();
});

// ---------------------------------------------------------------- school administrators

const SCHOOL_ADMIN = { name: 'Priya Principal', email: 'principal@school.test', password: 'violet harbor pencil rainfall' };
const SCHOOL_ADMIN_ROLE = 'School administrator (all classes of one school)';
// A school of the same district with a class of its own, which the school administrator must never see.
const SA_OTHER_SCHOOL = 'Hillside Elementary School';
const SA_OTHER_TEACHER = { name: 'Omar Okafor', email: 'teacher@hillside.test', password: 'copper lantern meadow thistle' };
const SA_OTHER_CLASS = 'Hillside Room 3';
const SA_OTHER_STUDENT = 'Hugo';
// A class the school administrator creates, with a module nobody has started: every figure hidden.
const SA_NEW_CLASS = 'Room 12';
const SA_NEW_STUDENT = 'Bea';
const SA_NEW_MODULE = 'fake-profiles';

/** The rows of the roll-up table: school (or "All schools"), module cell, counts and figures. */
async function rollupRows(page) {
  const rows = await page.locator('table tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      school: tr.querySelector('th')?.innerText.trim() ?? '',
      cells: [...tr.querySelectorAll('td')].map((td) => td.innerText.trim()),
    })),
  );
  return rows.map(({ school, cells }) => {
    const countsShown = cells.length === 6;
    return {
      school,
      module: cells[0],
      assigned: countsShown ? cells[1] : null,
      started: countsShown ? cells[2] : null,
      finished: countsShown ? cells[3] : null,
      average: cells.at(-2),
      gain: cells.at(-1),
    };
  });
}

/** The roll-up row of one module at one school ("All schools" for the total). */
function rollupRow(rows, school, title) {
  return rows.find((r) => r.school === school && r.module.startsWith(`${title} (`));
}

/** Reads a number at the start of a cell such as "2 (50%)". */
function leadingNumber(cell, what) {
  const m = String(cell).match(/^(\d+)/);
  assert.ok(m, `${what}: "${cell}" does not start with a number`);
  return Number(m[1]);
}

test('a school administrator sees every class and the reports of their own school, and nothing of another school', async () => {
  assert.ok(seed.classId, 'seeding failed; nothing to test');
  const context = await newContext('school admin: administrator', { javaScriptEnabled: true });
  const page = await context.newPage();
  let ownSchool;
  let ownSchoolId;
  let otherSchoolId;
  let schoolAdminLink;
  let otherTeacherLink;
  const other = {}; // the other school's class: { id, assignmentId }

  // ---- the administrator adds a school administrator for their own school, and another school
  await withArtifacts('school-admin-setup', page, async () => {
    await staffSignIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, 'school admin setup');
    await visit(page, '/admin/teachers');
    const adminRow = page.locator('tbody tr', { hasText: ADMIN_EMAIL });
    assert.equal(await adminRow.count(), 1, 'the staff list does not show the admin');
    ownSchool = (await adminRow.locator('td').nth(3).innerText()).trim();
    assert.ok(ownSchool && ownSchool !== 'none', 'the admin has no school');
    ownSchoolId = Number(await page.locator('#school_id option', { hasText: ownSchool }).first().getAttribute('value'));
    assert.ok(Number.isInteger(ownSchoolId), 'could not read the id of the admin\'s school');

    await visit(page, '/admin/schools');
    await page.locator('#school-name').fill(SA_OTHER_SCHOOL);
    await clickAndLoad(page, page.getByRole('button', { name: 'Add school', exact: true }), 'add the other school');
    assert.equal(pathOf(page), '/admin/schools');

    await visit(page, '/admin/teachers');
    const roleOption = page.locator('#role option[value="school_admin"]');
    assert.equal(await roleOption.count(), 1, 'the staff form offers no school administrator role');
    assert.equal((await roleOption.innerText()).trim(), SCHOOL_ADMIN_ROLE);
    otherSchoolId = Number(await page.locator('#school_id option', { hasText: SA_OTHER_SCHOOL }).getAttribute('value'));
    assert.ok(Number.isInteger(otherSchoolId) && otherSchoolId !== ownSchoolId, 'could not read the other school id');

    await page.locator('#name').fill(SCHOOL_ADMIN.name);
    await page.locator('#email').fill(SCHOOL_ADMIN.email);
    await page.locator('#role').selectOption('school_admin');
    await page.locator('#school_id').selectOption({ label: ownSchool });
    await clickAndLoad(page, page.getByRole('button', { name: 'Add account', exact: true }), 'add the school administrator');
    assert.equal(await page.getByRole('heading', { level: 1, name: `Account created for ${SCHOOL_ADMIN.name}` }).count(), 1, 'no "account created" page');
    schoolAdminLink = await page.getByLabel('Link').inputValue();
    assert.match(schoolAdminLink, /\/reset\?token=/, `the new account's link is "${schoolAdminLink}"`);

    // ---- a teacher of the other school, whose class the school administrator must not see
    await visit(page, '/admin/teachers');
    await page.locator('#name').fill(SA_OTHER_TEACHER.name);
    await page.locator('#email').fill(SA_OTHER_TEACHER.email);
    await page.locator('#role').selectOption('teacher');
    await page.locator('#school_id').selectOption({ label: SA_OTHER_SCHOOL });
    await clickAndLoad(page, page.getByRole('button', { name: 'Add account', exact: true }), 'add the other school\'s teacher');
    otherTeacherLink = await page.getByLabel('Link').inputValue();
    assert.match(otherTeacherLink, /\/reset\?token=/);

    await visit(page, '/admin/teachers');
    const row = page.locator('tbody tr', { hasText: SCHOOL_ADMIN.email });
    assert.equal(await row.count(), 1, 'the school administrator is not in the staff list');
    const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
    assert.deepEqual(cells.slice(0, 5), [SCHOOL_ADMIN.name, SCHOOL_ADMIN.email, SCHOOL_ADMIN_ROLE, ownSchool, 'Active']);
    const teacherCells = (await page.locator('tbody tr', { hasText: SA_OTHER_TEACHER.email }).locator('td').allInnerTexts()).map((c) => c.trim());
    assert.deepEqual(teacherCells.slice(2, 4), ['Teacher', SA_OTHER_SCHOOL], 'the other teacher is not a teacher of the other school');
    await audit('admin staff accounts (school administrator added)', page);
  });

  // ---- the other school's teacher chooses a password and sets up a class; its student finishes the module
  const teacherContext = await newContext('school admin: other teacher', { javaScriptEnabled: true });
  const teacher = await teacherContext.newPage();
  await withArtifacts('school-admin-other-teacher', teacher, async () => {
    await visit(teacher, otherTeacherLink);
    await teacher.locator('#password').fill(SA_OTHER_TEACHER.password);
    await clickAndLoad(teacher, teacher.getByRole('button', { name: 'Set the password', exact: true }), 'choose the other teacher\'s password');
    assert.equal(pathOf(teacher), '/login');
    const token = (await api('POST', '/api/v1/tokens', { body: { email: SA_OTHER_TEACHER.email, password: SA_OTHER_TEACHER.password } })).json?.data?.token;
    assert.ok(token, 'the other teacher got no API token');
    const klass = (await api('POST', '/api/v1/classes', { token, body: { name: SA_OTHER_CLASS, tier: '3-5' }, expect: [201] })).json.data;
    other.id = klass.id;
    other.joinCode = klass.join_code;
    const [student] = (await api('POST', `/api/v1/classes/${klass.id}/students`, { token, body: { names: [SA_OTHER_STUDENT] }, expect: [201] })).json.data;
    other.assignmentId = (await api('POST', `/api/v1/classes/${klass.id}/assignments`, { token, body: { module: MODULE }, expect: [201] })).json.data.id;
    await studentSignIn(teacher, other.joinCode, SA_OTHER_STUDENT, student.secret, 'other school student');
    await visit(teacher, `/student/modules/${MODULE}`);
    await walkLesson(teacher, `/student/modules/${MODULE}`, 'other school student');
  });
  await teacherContext.close();

  // ---- the school administrator chooses a password and signs in
  const saContext = await newContext('school admin', { javaScriptEnabled: true });
  const sa = await saContext.newPage();
  const classPath = `/teacher/classes/${seed.classId}`;
  const otherClassPath = `/teacher/classes/${other.id}`;
  const body = () => sa.locator('body').innerText();
  /** Nothing of the other school on the page: not its name, its class or its student. */
  const nothingOfTheOtherSchool = async (where) => {
    const text = await body();
    for (const [what, re] of [
      ['the other school', /Hillside/],
      ['the other school\'s student', new RegExp(`\\b${SA_OTHER_STUDENT}\\b`)],
      ['a school that did not share', new RegExp(OTHER_SCHOOL)],
    ]) {
      assert.doesNotMatch(text, re, `${where}: a school administrator sees ${what}`);
    }
  };
  const oneH1 = async (where, name) => {
    const h1 = sa.getByRole('heading', { level: 1 });
    assert.equal(await h1.count(), 1, `${where}: not exactly one h1`);
    if (name !== undefined) assert.equal((await h1.innerText()).trim(), name, `${where}: the h1`);
  };
  const expectRefusal = async (urlPath, status) => {
    const expected = { pattern: new RegExp(`status of ${status}`), url: `${BASE}${urlPath}` };
    expectedConsole.push(expected);
    try {
      const res = await sa.goto(urlPath);
      assert.equal(res?.status(), status, `a school administrator's GET ${urlPath} answered ${res?.status()}`);
    } finally {
      expectedConsole.splice(expectedConsole.indexOf(expected), 1);
    }
  };

  await withArtifacts('school-admin', sa, async () => {
    assert.ok(schoolAdminLink, 'the administrator made no link for the school administrator');
    await visit(sa, schoolAdminLink);
    assert.equal(await sa.getByRole('heading', { level: 1, name: 'Choose a new password' }).count(), 1);
    await audit('choose a password (school administrator)', sa);
    await sa.locator('#password').fill(SCHOOL_ADMIN.password);
    await clickAndLoad(sa, sa.getByRole('button', { name: 'Set the password', exact: true }), 'choose the school administrator\'s password');
    assert.equal(pathOf(sa), '/login', 'choosing a password does not lead to the sign-in page');
    const landed = await staffSignIn(sa, SCHOOL_ADMIN.email, SCHOOL_ADMIN.password, 'school admin');
    assert.equal(landed, '/teacher', `a school administrator's sign-in led to ${landed}, not /teacher`);

    // ---- the navigation: classes, reports, curriculum, partner access, data retention, account; no staff accounts
    const nav = sa.locator('header nav');
    const navLinks = await nav.locator('a').evaluateAll((as) => as.map((a) => ({ text: a.innerText.trim(), href: a.getAttribute('href') })));
    const byText = Object.fromEntries(navLinks.map((l) => [l.text, l.href]));
    for (const [text, href] of [
      ['Classes', '/teacher'],
      ['Reports', '/reports'],
      ['Curriculum', '/teacher/modules'],
      ['Partner access', '/admin/schools'],
      ['Data retention', '/admin/retention'],
      ['Your account', '/account'],
    ]) {
      assert.equal(byText[text], href, `the school administrator's navigation has no "${text}" to ${href}: ${JSON.stringify(navLinks)}`);
    }
    for (const text of ['Staff accounts', 'Audit log']) {
      assert.ok(!(text in byText), `the school administrator is offered "${text}"`);
    }
    assert.equal(await nav.locator('a[href^="/admin/teachers"], a[href^="/admin/audit"]').count(), 0, 'the navigation links to administrator pages');
    assert.equal(await nav.getByRole('button', { name: 'Sign out', exact: true }).count(), 1, 'no "Sign out"');

    // ---- the classes list: every class of the school, none of another
    await oneH1('class list', 'Your classes');
    const listed = (await sa.locator('main ul.cards h2 a').allInnerTexts()).map((s) => s.trim());
    assert.ok(listed.includes(CLASS_NAME), `/teacher does not list "${CLASS_NAME}": ${JSON.stringify(listed)}`);
    assert.ok(!listed.includes(SA_OTHER_CLASS), `/teacher lists "${SA_OTHER_CLASS}" of ${SA_OTHER_SCHOOL}`);
    // The administrator made the seeded classes, so the school administrator sees someone else's classes:
    // every class but the other school's, the same through the JSON API.
    const adminClasses = (await api('GET', '/api/v1/classes', { token: seed.token })).json.data;
    assert.ok(adminClasses.some((c) => c.id === other.id), 'the administrator does not see the other school\'s class');
    const saToken = (await api('POST', '/api/v1/tokens', { body: { email: SCHOOL_ADMIN.email, password: SCHOOL_ADMIN.password } })).json?.data?.token;
    assert.ok(saToken, 'the school administrator got no API token');
    const saClasses = (await api('GET', '/api/v1/classes', { token: saToken })).json.data;
    assert.deepEqual(
      saClasses.map((c) => c.id).sort((a, b) => a - b),
      adminClasses.filter((c) => c.id !== other.id).map((c) => c.id).sort((a, b) => a - b),
      'the API lists other classes to the school administrator than every class of the school',
    );
    assert.deepEqual([...listed].sort(), saClasses.map((c) => c.name).sort(), 'the class list and the API list differ');
    await api('GET', `/api/v1/classes/${other.id}`, { token: saToken, expect: [404] });
    await nothingOfTheOtherSchool('/teacher');
    await expectHelpLink(sa, 'school admin class list');
    await audit('school admin class list', sa);

    // ---- a class of their own, with a module nobody has started
    await sa.locator('#name').fill(SA_NEW_CLASS);
    await sa.locator('#tier').selectOption('6-8');
    await clickAndLoad(sa, sa.getByRole('button', { name: 'Create class', exact: true }), 'create a class');
    assert.match(pathOf(sa), /^\/teacher\/classes\/\d+$/, `creating a class led to ${pathOf(sa)}`);
    const newClassPath = pathOf(sa);
    await oneH1('new class', SA_NEW_CLASS);
    await sa.locator('#names').fill(SA_NEW_STUDENT);
    await clickAndLoad(sa, sa.getByRole('button', { name: 'Add students', exact: true }), 'add a student to the new class');
    await sa.locator('#module').selectOption(SA_NEW_MODULE);
    await clickAndLoad(sa, sa.getByRole('button', { name: 'Assign', exact: true }), 'assign a module to the new class');
    assert.equal(pathOf(sa), newClassPath);
    const newAssignment = sa.locator('main ul.cards li.card h3 a');
    assert.equal(await newAssignment.count(), 1, 'the new class lists no assignment');
    const newTitle = (await newAssignment.innerText()).trim();
    const newAssignmentPath = await newAssignment.getAttribute('href');
    assert.match(await sa.locator('.progress-label').innerText(), /^0 finished, 0 in progress, 1 not started/);
    await audit('school admin: new class page', sa);

    // ---- the seeded class: page, status grid, progress CSV, login cards, a student's records
    await visit(sa, '/teacher');
    await clickAndLoad(sa, sa.getByRole('link', { name: CLASS_NAME, exact: true }), 'open the seeded class');
    assert.equal(pathOf(sa), classPath);
    await oneH1('class page', CLASS_NAME);
    assert.equal(alnum(await sa.locator('.code').first().innerText()), alnum(seed.joinCode), 'the class page does not show the class code');
    assert.equal(await gridCell(sa, STUDENT_NAME, seed.moduleTitle), 'Finished', `${STUDENT_NAME} is not "Finished" in the status grid`);
    const progressCsv = sa.locator(`main a[href="${classPath}/progress.csv"]`);
    assert.equal(await progressCsv.count(), 1, 'the class page has no progress CSV link');
    const csv = await sa.request.get(`${classPath}/progress.csv`);
    assert.equal(csv.status(), 200, `the progress CSV answered ${csv.status()}`);
    assert.match(await csv.text(), new RegExp(`^${STUDENT_NAME},Finished`, 'm'), 'the progress CSV does not show the finished student');
    await expectHelpLink(sa, 'school admin class page');
    await audit('school admin: class page', sa);

    await clickAndLoad(sa, sa.getByRole('link', { name: 'Print login cards', exact: true }), 'open the login cards');
    assert.equal(pathOf(sa), `${classPath}/cards`);
    assert.equal(await sa.locator('.login-card', { hasText: STUDENT_NAME }).count(), 1, `no login card for ${STUDENT_NAME}`);
    await audit('school admin: login cards', sa);

    await visit(sa, classPath);
    await clickAndLoad(sa, sa.locator('main ul.columns').getByRole('link', { name: STUDENT_NAME, exact: true }), 'open a student\'s records');
    assert.equal(pathOf(sa), `${classPath}/students/${seed.student.id}`);
    await oneH1('student records', STUDENT_NAME);
    assert.equal(await sa.getByRole('rowheader', { name: seed.moduleTitle }).count(), 1, 'the records do not list the finished module');
    await audit('school admin: student records', sa);

    // ---- the class's module report, with its CSV
    await visit(sa, classPath);
    await clickAndLoad(sa, sa.locator('main ul.cards h3').getByRole('link', { name: seed.moduleTitle, exact: true }), 'open the module report');
    assert.equal(pathOf(sa), `${classPath}/assignments/${seed.assignmentId}`);
    await oneH1('module report', seed.moduleTitle);
    assert.match(await sa.getByText(/\d+ finished, \d+ in progress/).first().innerText(), /^[1-9]\d* finished/, 'the report counts nobody as finished');
    const statusRow = sa.locator('section[aria-labelledby="progress"] tbody tr').filter({ has: sa.getByRole('cell', { name: STUDENT_NAME, exact: true }) });
    assert.equal(await statusRow.count(), 1, `the report does not list ${STUDENT_NAME}`);
    assert.equal((await statusRow.locator('td').nth(1).innerText()).trim(), 'finished', `${STUDENT_NAME} is not "finished" in the report`);
    assert.ok(await sa.locator('svg[role=img] title').count(), 'the report has no chart');
    const average = sa.locator('main p', { has: sa.locator('strong', { hasText: 'Average first-attempt score:' }) });
    assert.match(await average.innerText(), /\d+%/, 'the average score is not shown');
    const resultsCsv = sa.locator(`main a[href="${classPath}/assignments/${seed.assignmentId}/results.csv"]`);
    assert.equal(await resultsCsv.count(), 1, 'the module report has no CSV link');
    const resultsCsvRes = await sa.request.get(`${classPath}/assignments/${seed.assignmentId}/results.csv`);
    assert.equal(resultsCsvRes.status(), 200, `the results CSV answered ${resultsCsvRes.status()}`);
    assert.match(resultsCsvRes.headers()['content-type'] ?? '', /text\/csv/);
    assert.doesNotMatch(await resultsCsvRes.text(), new RegExp(`\\b${STUDENT_NAME}\\b`), 'the results CSV names a student');
    await expectHelpLink(sa, 'school admin module report');
    await audit('school admin: module report', sa);

    // ---- the printable class summary
    await visit(sa, classPath);
    await clickAndLoad(sa, sa.getByRole('link', { name: 'Printable class summary', exact: true }), 'open the class summary');
    assert.equal(pathOf(sa), `${classPath}/summary`);
    await oneH1('class summary', `${CLASS_NAME}: class summary`);
    const summaryRow = sa.locator('table tbody tr').filter({ has: sa.getByRole('rowheader', { name: seed.moduleTitle }) });
    assert.equal(await summaryRow.count(), 1, 'the summary has no row for the module');
    assert.match(await summaryRow.locator('td').nth(1).innerText(), /\d+%/, 'the summary shows no average score');
    await audit('school admin: class summary', sa);

    // ---- nobody has finished in the new class: every figure is hidden, not a number
    await visit(sa, newAssignmentPath);
    await oneH1('module report (nobody finished)', newTitle);
    assert.ok(await sa.getByText('Figures appear once').count(), 'the empty report does not say when figures appear');
    assert.equal((await average.innerText()).replace(/\s+/g, ' ').trim(), 'Average first-attempt score: not enough responses yet');
    assert.equal(await sa.locator('svg[role=img] title').count(), 0, 'an empty report draws a chart');
    assert.ok(await sa.getByText('Not enough responses yet.').count(), 'the questions do not say "Not enough responses yet."');
    assert.equal(await sa.getByText(/% answered correctly/).count(), 0, 'an empty report shows a share correct');
    await audit('school admin: module report (nobody finished)', sa);
    await visit(sa, `${newClassPath}/summary`);
    const emptyRow = sa.locator('table tbody tr').filter({ has: sa.getByRole('rowheader', { name: newTitle }) });
    const emptyCells = (await emptyRow.locator('td').allInnerTexts()).map((c) => c.trim());
    assert.deepEqual(emptyCells.slice(1), ['not enough yet', 'not enough yet', 'not enough yet'], `the summary shows figures nobody has earned: ${JSON.stringify(emptyCells)}`);
    await audit('school admin: class summary (nobody finished)', sa);

    // ---- the other school's class, by every door: not found
    await expectRefusal(otherClassPath, 404);
    await oneH1('other school\'s class', 'Page not found');
    assert.ok(await sa.getByRole('alert').count(), 'the not-found page explains nothing');
    await nothingOfTheOtherSchool(otherClassPath);
    await expectHelpLink(sa, 'school admin: other school\'s class');
    await audit('school admin: other school\'s class not found', sa);
    for (const p of [`${otherClassPath}/cards`, `${otherClassPath}/summary`, `${otherClassPath}/progress.csv`, `${otherClassPath}/assignments/${other.assignmentId}`, `${otherClassPath}/assignments/${other.assignmentId}/results.csv`]) {
      const res = await sa.request.get(p, { maxRedirects: 0 });
      assert.equal(res.status(), 404, `a school administrator's GET ${p} answered ${res.status()}`);
    }

    // ---- the school's roll-up: one school, the new module's figures hidden
    await visit(sa, '/teacher');
    await clickAndLoad(sa, nav.getByRole('link', { name: 'Reports', exact: true }), 'open the reports');
    assert.equal(pathOf(sa), '/reports');
    await oneH1('roll-up', 'Reports across classes');
    const schoolChoices = (await sa.locator('#f-school option').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(schoolChoices, ['All my schools', ownSchool], `the school administrator may choose other schools: ${JSON.stringify(schoolChoices)}`);
    const rows = await rollupRows(sa);
    const schoolsShown = [...new Set(rows.map((r) => r.school))].sort();
    assert.deepEqual(schoolsShown, ['All schools', ownSchool].sort(), `the roll-up shows other schools: ${JSON.stringify(schoolsShown)}`);
    const own = rollupRow(rows, ownSchool, seed.moduleTitle);
    const total = rollupRow(rows, 'All schools', seed.moduleTitle);
    assert.ok(own && total, `the roll-up has no rows for ${seed.moduleTitle}`);
    const ownFinished = leadingNumber(own.finished, 'own school finished');
    assert.ok(ownFinished >= 1, 'the roll-up counts nobody as finished');
    assert.equal(leadingNumber(total.finished, 'total finished'), ownFinished, 'the total counts students the school row does not (another school\'s?)');
    assert.equal(total.average, own.average, 'the total\'s average differs from the only school\'s');
    const ownIncluded = Number(own.average.match(/\((\d+) students\)/)?.[1]);
    assert.ok(ownIncluded >= 1, `the roll-up shows no average score for ${seed.moduleTitle}: "${own.average}"`);
    const hidden = rollupRow(rows, ownSchool, newTitle);
    assert.ok(hidden, `the roll-up has no row for ${newTitle}, assigned in "${SA_NEW_CLASS}" (is the new class in the school?)`);
    assert.equal(hidden.assigned, '1', `"${newTitle}" assigned: ${hidden.assigned}`);
    assert.equal(leadingNumber(hidden.finished, 'new module finished'), 0);
    assert.equal(hidden.average, 'not enough yet', `the average of "${newTitle}" shows "${hidden.average}"`);
    assert.equal(hidden.gain, 'not enough yet', `the knowledge gain of "${newTitle}" shows "${hidden.gain}"`);
    await nothingOfTheOtherSchool('/reports');
    await expectHelpLink(sa, 'school admin roll-up');
    await audit('school admin roll-up report', sa);

    // The roll-up's CSV link, and the school chosen through the filter form.
    const csvLink = await sa.locator('main a[download][href^="/reports.csv"]').getAttribute('href');
    assert.ok(csvLink, 'the roll-up has no CSV link');
    const rollupCsv = await sa.request.get(csvLink);
    assert.equal(rollupCsv.status(), 200, `${csvLink} answered ${rollupCsv.status()}`);
    const rollupCsvText = await rollupCsv.text();
    assert.match(rollupCsvText, /^school,module,grades/);
    assert.ok(rollupCsvText.includes(ownSchool), 'the roll-up CSV does not cover the school');
    assert.doesNotMatch(rollupCsvText, /Hillside/, 'the roll-up CSV covers another school');
    await sa.locator('#f-school').selectOption({ label: ownSchool });
    await clickAndLoad(sa, sa.getByRole('button', { name: 'Show', exact: true }), 'show the school\'s roll-up');
    assert.equal(new URL(sa.url()).searchParams.get('school'), String(ownSchoolId), `the filter led to ${sa.url()}`);
    assert.deepEqual(await rollupRows(sa), rows, 'the roll-up of the school differs from the roll-up of "All my schools"');
    await audit('school admin roll-up report (own school chosen)', sa);
    for (const p of [`/reports?school=${otherSchoolId}`, `/reports.csv?school=${otherSchoolId}`, `/reports/items?module=${MODULE}&school=${otherSchoolId}`]) {
      const res = await sa.request.get(p, { maxRedirects: 0 });
      assert.equal(res.status(), 404, `a school administrator's GET ${p} answered ${res.status()}`);
    }

    // ---- item statistics, linked from the "All schools" row
    const totalRow = sa.locator('table tbody tr').filter({ has: sa.getByRole('rowheader', { name: 'All schools', exact: true }) });
    await clickAndLoad(sa, totalRow.getByRole('link', { name: seed.moduleTitle, exact: true }), 'open the item statistics');
    assert.equal(`${pathOf(sa)}${new URL(sa.url()).search}`, `/reports/items?module=${MODULE}`);
    await oneH1('item statistics', `Item statistics: ${seed.moduleTitle}`);
    const cover = await sa.getByText(/^These figures cover \d+ students/).innerText();
    assert.equal(Number(cover.match(/cover (\d+) students/)[1]), ownIncluded, `item statistics "${cover}", the roll-up ${ownIncluded} students`);
    assert.ok((await sa.locator('table tbody tr').count()) >= 1, 'no item statistics');
    const itemsCsv = await sa.locator('main a[download][href^="/reports/items.csv"]').getAttribute('href');
    const itemsCsvRes = await sa.request.get(itemsCsv);
    assert.equal(itemsCsvRes.status(), 200, `${itemsCsv} answered ${itemsCsvRes.status()}`);
    await nothingOfTheOtherSchool('/reports/items');
    await audit('school admin item statistics', sa);
    await visit(sa, `/reports/items?module=${SA_NEW_MODULE}`);
    await oneH1('item statistics (nobody finished)', `Item statistics: ${newTitle}`);
    assert.ok(await sa.getByText('Not enough students have finished this module yet').count(), 'the item statistics of an unfinished module do not say they are held back');
    assert.equal(await sa.locator('table').count(), 0, 'item statistics with nobody finished show a table');
    await audit('school admin item statistics (nobody finished)', sa);

    // ---- partner access: their own school only, no schools to add
    await clickAndLoad(sa, nav.getByRole('link', { name: 'Partner access', exact: true }), 'open partner access');
    assert.equal(pathOf(sa), '/admin/schools');
    await oneH1('partner access', 'Partner access');
    const schoolCards = (await sa.locator('main article.card h2').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(schoolCards, [ownSchool], `the school administrator manages other schools: ${JSON.stringify(schoolCards)}`);
    const card = sa.locator('main article.card');
    assert.ok(
      (await card.getByText(/sees this school's aggregates\./).count()) + (await card.getByText('No partner sees this school\'s reports.').count()) >= 1,
      'the card does not say who sees the school\'s reports',
    );
    if (await card.getByText(`${PARTNER.name} sees this school's aggregates.`).count()) {
      assert.equal(await card.getByRole('button', { name: `Stop sharing with ${PARTNER.name}`, exact: true }).count(), 1, 'the school administrator cannot stop sharing');
    }
    assert.equal(await sa.locator('#school-name').count(), 0, 'a school administrator is offered "Add a school"');
    assert.equal(await sa.locator('main a[href="/admin/teachers"]').count(), 0, 'the page links to the staff accounts');
    await nothingOfTheOtherSchool('/admin/schools');
    await audit('school admin partner access', sa);

    // ---- data retention: the school's classes only
    await clickAndLoad(sa, nav.getByRole('link', { name: 'Data retention', exact: true }), 'open data retention');
    assert.equal(pathOf(sa), '/admin/retention');
    await oneH1('data retention', 'Data retention');
    const retention = await sa.locator('main table tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())),
    );
    const retained = retention.map((cells) => cells[0]);
    for (const name of [CLASS_NAME, SA_NEW_CLASS]) assert.ok(retained.includes(name), `data retention does not list "${name}": ${JSON.stringify(retained)}`);
    assert.ok(!retained.includes(SA_OTHER_CLASS), `data retention lists "${SA_OTHER_CLASS}" of another school`);
    assert.deepEqual([...new Set(retention.map((cells) => cells[1]))], [ownSchool], 'data retention lists classes of other schools');
    assert.deepEqual(retained.sort(), listed.concat(SA_NEW_CLASS).sort(), 'data retention and the class list differ');
    await nothingOfTheOtherSchool('/admin/retention');
    await audit('school admin data retention', sa);

    // ---- the curriculum and the account page
    await clickAndLoad(sa, nav.getByRole('link', { name: 'Curriculum', exact: true }), 'open the curriculum');
    await oneH1('curriculum', 'Curriculum');
    assert.ok(await sa.getByRole('link', { name: seed.moduleTitle, exact: true }).count(), 'the curriculum does not list the module');
    await audit('school admin curriculum', sa);
    await clickAndLoad(sa, nav.getByRole('link', { name: 'Your account', exact: true }), 'open the account page');
    assert.equal(pathOf(sa), '/account');
    await oneH1('account', 'Your account');
    assert.ok(await sa.getByText(SCHOOL_ADMIN.email, { exact: true }).count(), 'the account page does not say who is signed in');
    assert.equal(await sa.getByRole('button', { name: 'Change password', exact: true }).count(), 1);
    await audit('school admin account', sa);

    // ---- what only administrators reach: staff accounts and the audit log answer 403, readably
    await expectRefusal('/admin/teachers', 403);
    await oneH1('staff accounts refused', 'No access');
    assert.match(await sa.getByRole('alert').innerText(), /administrators/, 'the refusal does not say the page is for administrators');
    assert.equal(await sa.getByRole('cell', { name: ADMIN_EMAIL }).count(), 0, 'the refusal shows the staff list');
    await expectHelpLink(sa, 'school admin: staff accounts refused');
    await audit('school admin: staff accounts refused', sa);
    const audit403 = await sa.request.get('/admin/audit', { maxRedirects: 0 });
    assert.equal(audit403.status(), 403, `a school administrator's GET /admin/audit answered ${audit403.status()}`);

    // Nor can the forms be sent anyway (with a valid CSRF token, so the refusals are the role's).
    await visit(sa, '/account');
    const csrf = await sa.locator('meta[name="csrf-token"]').getAttribute('content');
    assert.match(String(csrf), /\S/, 'no CSRF token on the page');
    const refusedWrites = [
      ['/admin/teachers', { name: 'Sneaky Teacher', email: 'sneaky@school.test', role: 'admin', school_id: String(ownSchoolId) }, 403],
      ['/admin/schools', { name: 'Sneaky School' }, 403],
      [`/admin/schools/${otherSchoolId}/partners`, { partner_id: '999999' }, 404],
      [`/admin/retention/${other.id}/purge`, { confirm: 'yes' }, 404],
      [`${otherClassPath}/end`, {}, 404],
    ];
    for (const [p, form, status] of refusedWrites) {
      const res = await sa.request.post(p, { form: { csrf_token: csrf, ...form }, maxRedirects: 0 });
      assert.equal(res.status(), status, `a school administrator's POST ${p} answered ${res.status()}`);
    }
  });
  await saContext.close();

  // ---- the administrator's view: the other school is there and counted, and nothing was changed by the refused forms
  await withArtifacts('school-admin-check', page, async () => {
    await visit(page, `/reports?module=${MODULE}`);
    const rows = await rollupRows(page);
    const otherRow = rollupRow(rows, SA_OTHER_SCHOOL, seed.moduleTitle);
    assert.ok(otherRow, `the administrator's roll-up has no row for ${SA_OTHER_SCHOOL}`);
    assert.equal(leadingNumber(otherRow.finished, 'other school finished'), 1, `${SA_OTHER_STUDENT}'s finished module is not counted`);
    const ownRow = rollupRow(rows, ownSchool, seed.moduleTitle);
    const totalRow = rollupRow(rows, 'All schools', seed.moduleTitle);
    assert.equal(leadingNumber(totalRow.finished, 'district total'), leadingNumber(ownRow.finished, 'own school') + 1, 'the district total is not both schools');
    await visit(page, '/admin/teachers');
    assert.equal(await page.locator('tbody tr', { hasText: 'sneaky@school.test' }).count(), 0, 'the school administrator created a staff account');
    assert.equal(await page.locator('#school_id option', { hasText: 'Sneaky School' }).count(), 0, 'the school administrator created a school');
  });
  await context.close();
});

test('with JavaScript on, a step that cannot be saved says so, keeps trying, and is saved once', async () => {
  assert.ok(seed.token, 'seeding failed; nothing to test');
  const token = seed.token;
  const klass = (await api('POST', '/api/v1/classes', { token, body: { name: 'Flaky Wifi', tier: '3-5' }, expect: [201] })).json.data;
  const [student] = (await api('POST', `/api/v1/classes/${klass.id}/students`, {
    token, body: { names: ['Wen Wifi'] }, expect: [201],
  })).json.data;
  const assignment = (await api('POST', `/api/v1/classes/${klass.id}/assignments`, {
    token, body: { module: MODULE }, expect: [201],
  })).json.data;
  const context = await newContext('flaky connection', { javaScriptEnabled: true });
  const page = await context.newPage();
  await withArtifacts('flaky connection', page, async () => {
    await studentSignIn(page, klass.join_code, student.name, student.secret, 'flaky connection');
    await visit(page, `/student/modules/${MODULE}`);
    await clickAndLoad(page, page.locator('main form[action$="/start"] button[type=submit]'), 'flaky connection: start');
    // The first knowledge check before the lesson.
    const stepPath = `/student/modules/${MODULE}/before/1`;
    assert.equal(pathOf(page), stepPath, 'the module starts with its knowledge checks');
    await page.locator('main form[data-save] input[name=choice]').first().check();
    // The first two sends are lost on the way, as on a dropping Wi-Fi; then the network is back.
    let posts = 0;
    let lost = 2;
    await page.route(`**${stepPath}`, (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      posts += 1;
      if (lost > 0) {
        lost -= 1;
        return route.abort('internetdisconnected');
      }
      return route.fallback();
    });
    const expected = { pattern: /ERR_INTERNET_DISCONNECTED/, url: '' };
    expectedConsole.push(expected);
    try {
      await page.locator('main form[data-save] button[type=submit]').first().click();
      const status = page.locator('#save-status');
      await status.waitFor({ state: 'visible', timeout: 5_000 });
      assert.match(await status.innerText(), /not saved yet/, 'the page says the answer is not saved');
      await audit('step that could not be saved', page);
      await page.waitForURL((url) => url.pathname !== stepPath, { timeout: 20_000 });
    } finally {
      expectedConsole.splice(expectedConsole.indexOf(expected), 1);
    }
    assert.equal(posts, 3, 'two lost sends, then one that arrived');
    // The server moves on only once the answer is stored.
    assert.equal(pathOf(page), `/student/modules/${MODULE}/before/2`, 'on to the next check');
    const results = (await api('GET', `/api/v1/classes/${klass.id}/assignments/${assignment.id}/results`, { token })).json.data;
    const row = results.students.find((r) => r.name === student.name);
    assert.ok(row, `no row for ${student.name}: ${JSON.stringify(results.students)}`);
    assert.equal(row.status, 'in progress', `the attempt is under way: ${JSON.stringify(row)}`);
  });
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
    'admin audit log',
    'teacher curriculum',
    'teacher module guide',
    'help page',
    'staff login',
    'teacher class page',
    'teacher login cards',
    'teacher results',
    'teacher student records',
    'teacher results (not enough yet)',
    'teacher class page (nobody started)',
    'teacher class page (family opt-out listed)',
    'student lessons list (family opt-out)',
    'student alternative activity',
    'admin staff accounts (partner added)',
    'admin schools (partner granted)',
    'partner roll-up report',
    'partner item statistics',
    'partner: class page not found',
    'admin staff accounts (school administrator added)',
    'choose a password (school administrator)',
    'school admin class list',
    'school admin: new class page',
    'school admin: class page',
    'school admin: login cards',
    'school admin: student records',
    'school admin: module report',
    'school admin: class summary',
    'school admin: module report (nobody finished)',
    'school admin: class summary (nobody finished)',
    "school admin: other school's class not found",
    'school admin roll-up report',
    'school admin roll-up report (own school chosen)',
    'school admin item statistics',
    'school admin item statistics (nobody finished)',
    'school admin partner access',
    'school admin data retention',
    'school admin curriculum',
    'school admin account',
    'school admin: staff accounts refused',
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
