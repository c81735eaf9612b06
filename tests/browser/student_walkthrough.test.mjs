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

    await clickAndLoad(page, page.getByRole('button', { name: 'Start the lesson', exact: true }), 'start the lesson');
    assert.equal(pathOf(page), `${slugPath}/steps/1`, '"Start the lesson" did not lead to step 1');

    // ---- every step
    const seen = [];
    const kinds = { reading: 0, chat: 0, question: 0 };
    let total;
    for (let guard = 0; guard < 100; guard++) {
      const p = pathOf(page);
      if (p === `${slugPath}/done`) break;
      const m = p.match(/\/steps\/(\d+)$/);
      assert.ok(m, `expected a step page or the done page, got ${p}`);
      const number = Number(m[1]);
      const progress = await page.locator('label[for="lesson-progress"]').innerText();
      const pm = progress.match(/Step (\d+) of (\d+)/);
      assert.ok(pm, `step ${number}: no "Step N of M" label (got "${progress}")`);
      assert.equal(Number(pm[1]), number, `step ${number}: label says "${progress}"`);
      total ??= Number(pm[2]);
      assert.equal(Number(pm[2]), total, `step ${number}: total changed`);
      assert.ok(!seen.includes(number), `step ${number} came round twice`);
      assert.equal(number, seen.length + 1, `step ${number} came after step ${seen.at(-1) ?? 'none'}`);
      seen.push(number);
      await expectHelpLink(page, `step ${number}`);
      const isLast = number === total;
      const nextName = isLast ? 'Finish' : 'Next';

      const checkAll = page.getByRole('button', { name: 'Check my answers', exact: true });
      const checkOne = page.getByRole('button', { name: 'Check my answer', exact: true });

      if (await checkAll.count()) {
        // chat simulation: tick at least one red flag
        kinds.chat++;
        const flags = page.getByRole('checkbox', { name: 'Red flag' });
        const n = await flags.count();
        assert.ok(n >= 1, `chat step ${number}: no "Red flag" checkboxes`);
        assert.equal(await page.locator('input[type=checkbox][name=choice]').count(), n);
        await audit(`chat step ${number} (before answering)`, page);
        await flags.first().check();
        if (n > 2) await flags.nth(n - 1).check();
        await clickAndLoad(page, checkAll, `chat step ${number}: check my answers`);
        assert.equal(pathOf(page), p, `chat step ${number}: answering left the step`);
        assert.equal(await page.locator('input[name=choice]').count(), 0, `chat step ${number}: still asks after answering`);
        const feedback = page.locator('.feedback');
        assert.ok((await feedback.count()) >= 1, `chat step ${number}: no feedback after answering`);
        assert.ok(await page.getByText('You flagged it.').count(), `chat step ${number}: feedback does not show the flag we set`);
        await expectHelpLink(page, `chat step ${number} answered`);
        await audit(`chat step ${number} (after answering)`, page);
        const next = page.getByRole('link', { name: nextName, exact: true });
        assert.equal(await next.count(), 1, `chat step ${number}: no "${nextName}" link after answering`);
        await clickAndLoad(page, next, `chat step ${number}: ${nextName}`);
      } else if (await checkOne.count()) {
        // question: choose one option
        kinds.question++;
        const options = page.locator('input[name=choice]');
        const n = await options.count();
        assert.ok(n >= 2, `question step ${number}: only ${n} options`);
        const type = await options.first().getAttribute('type');
        assert.ok(['radio', 'checkbox'].includes(type), `question step ${number}: options are ${type}`);
        await audit(`question step ${number} (${type}, before answering)`, page);
        const chosenText = (await options.first().locator('xpath=..').innerText()).trim();
        await options.first().check();
        await clickAndLoad(page, checkOne, `question step ${number}: check my answer`);
        assert.equal(pathOf(page), p, `question step ${number}: answering left the step`);
        assert.equal(await page.locator('input[name=choice]').count(), 0, `question step ${number}: still asks after answering`);
        assert.ok((await page.locator('.feedback').count()) >= 1, `question step ${number}: no feedback after answering`);
        const mine = page.locator('li', { hasText: '(your answer)' });
        assert.ok((await mine.count()) >= 1, `question step ${number}: our answer is not marked`);
        assert.ok((await mine.first().innerText()).includes(chosenText), `question step ${number}: a different answer is marked as ours`);
        assert.ok(await page.getByText('(correct)').count(), `question step ${number}: the correct answer is not shown`);
        await expectHelpLink(page, `question step ${number} answered`);
        await audit(`question step ${number} (${type}, after answering)`, page);
        const next = page.getByRole('link', { name: nextName, exact: true });
        assert.equal(await next.count(), 1, `question step ${number}: no "${nextName}" link after answering`);
        await clickAndLoad(page, next, `question step ${number}: ${nextName}`);
      } else {
        // reading
        kinds.reading++;
        assert.ok(await page.getByRole('heading', { level: 1 }).count(), `reading step ${number}: no heading`);
        await audit(`reading step ${number}`, page);
        const next = page.getByRole('button', { name: nextName, exact: true });
        assert.equal(await next.count(), 1, `reading step ${number}: no "${nextName}" button`);
        await clickAndLoad(page, next, `reading step ${number}: ${nextName}`);
      }
    }

    // ---- done
    assert.equal(pathOf(page), `${slugPath}/done`, 'the lesson did not end on the done page');
    assert.ok(total >= 1, 'no steps');
    assert.equal(seen.length, total, `visited steps ${seen.join(',')} of ${total}`);
    if (Number.isInteger(seed.moduleSteps)) assert.equal(total, seed.moduleSteps, 'step count differs from the API');
    assert.ok(kinds.reading && kinds.chat && kinds.question, `expected readings, chats and questions, got ${JSON.stringify(kinds)}`);
    t.diagnostic(`walked ${total} steps: ${kinds.reading} readings, ${kinds.chat} chats, ${kinds.question} questions`);
    assert.equal(await page.getByRole('heading', { name: 'Where to get help' }).count(), 1, 'done page has no "Where to get help"');
    await expectHelpLink(page, 'done page');
    await audit('student done page', page);

    // The lessons list now says the lesson is finished.
    await visit(page, '/student');
    assert.ok(await page.getByText('Finished', { exact: true }).count(), 'lessons list does not show the lesson as finished');
  });
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
    await audit('teacher results', page);
  });
  await context.close();
});

test('accessibility: axe-core finds no WCAG 2.0/2.1 A or AA violations', async (t) => {
  const required = [
    'student login',
    'student lessons list',
    'student module page',
    /^reading step/,
    /^chat step \d+ \(before/,
    /^chat step \d+ \(after/,
    /^question step \d+ .*before/,
    /^question step \d+ .*after/,
    'student done page',
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
