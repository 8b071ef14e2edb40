// Drives headless Chromium through the demo's HTML app for
// e2e/app_browser_test.go, in one browser with one profile: a forged login
// from a cross-site and a same-site page, a real login through the form,
// a note posted through the page, forged note posts (forms with and
// without a stolen token, a credentialed fetch) from both attacker
// origins, the X-XSRF-Token double submit from the page's own origin, and
// logout. Prints what the browser saw as JSON; the Go test checks it
// against what reached the server.
//
// Usage: node app_browser.mjs '{"chromium": "/usr/bin/chromium",
//   "userDataDir": "/tmp/x", "app": "http://127.0.0.1:1",
//   "attackers": {"cross": "http://localhost:2", "sibling": "http://127.0.0.1:3"},
//   "timeoutMs": 10000}'
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.argv[2]);
const timeout = cfg.timeoutMs;
const ctx = await chromium.launchPersistentContext(cfg.userDataDir, {
  executablePath: cfg.chromium,
  headless: true,
  timeout,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--no-first-run', '--disable-quic', '--disable-component-update', '--disable-sync',
  ],
});
ctx.setDefaultTimeout(timeout);
const out = { console: [], attacks: {} };

// attack opens an attacker page, which fires at the app on load, and
// waits until the forged request is answered: a form navigates to the
// app's answer, a fetch publishes window.__done.
async function attack(name, origin, query) {
  const p = await ctx.newPage();
  p.on('pageerror', (e) => out.console.push(`${name}: ${e.message}`));
  const url = `${origin}/attack?${new URLSearchParams(query)}`;
  if (query.kind === 'form') {
    await Promise.all([
      p.waitForURL((u) => u.href.startsWith(cfg.app), { waitUntil: 'load' }),
      p.goto(url),
    ]);
    out.attacks[name] = { landed: p.url(), text: (await p.textContent('body')).slice(0, 200) };
  } else {
    await p.goto(url);
    out.attacks[name] = { result: await (await p.waitForFunction(() => window.__done)).jsonValue() };
  }
  await p.close();
}

const status = (page, path) => page.evaluate(async (p) => (await fetch(p)).status, path);
const notes = (page) => page.$$eval('ul.notes li', (els) => els.map((e) => e.firstChild.textContent));

try {
  const page = await ctx.newPage();
  page.on('console', (m) => out.console.push(`app ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => out.console.push(`app pageerror: ${e.message}`));

  // A visitor with the app's pre-session cookie; forged logins as bob.
  await page.goto(`${cfg.app}/app`);
  for (const [who, origin] of Object.entries(cfg.attackers)) {
    await attack(`login-${who}`, origin, { kind: 'form', action: 'login' });
  }
  out.meAfterForgedLogins = await status(page, '/session/me');

  // The real login, through the form.
  await page.goto(`${cfg.app}/app`);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'wonderland-2026');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/session/login"] button')]);
  out.documentCookie = await page.evaluate(() => document.cookie);
  out.cookies = (await ctx.cookies(cfg.app)).map(({ name, httpOnly, sameSite, secure }) => ({ name, httpOnly, sameSite, secure }));
  out.meAfterLogin = await status(page, '/session/me');

  // A note through the page.
  await page.fill('#text', 'hello from Chromium <b>bold</b>');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/app/notes"] button')]);
  out.notesAfterPost = await notes(page);

  // Forged notes, with a token stolen from the page and without.
  const stolen = await page.inputValue('form[action="/app/notes"] input[name=csrf_token]');
  for (const [who, origin] of Object.entries(cfg.attackers)) {
    await attack(`form-${who}`, origin, { kind: 'form', action: 'notes', text: `forged form ${who}` });
    await attack(`form-token-${who}`, origin, { kind: 'form', action: 'notes', text: `forged form+token ${who}`, token: stolen });
    await attack(`fetch-${who}`, origin, { kind: 'fetch', action: 'notes', text: `forged fetch ${who}`, token: stolen });
  }
  await page.goto(`${cfg.app}/app`);
  out.notesAfterAttacks = await notes(page);
  out.meAfterAttacks = await status(page, '/session/me');

  // The double submit, from a script on the app's own origin.
  out.xsrf = await page.evaluate(async () => {
    const cookie = document.cookie.split('; ').find((c) => c.startsWith('XSRF-TOKEN='));
    const tok = decodeURIComponent(cookie.slice('XSRF-TOKEN='.length));
    const post = (header, text) => fetch('/app/notes', {
      method: 'POST', headers: { 'X-XSRF-Token': header }, body: new URLSearchParams({ text }),
    });
    const ok = await post(tok, 'via X-XSRF-Token');
    const bad = await post(tok.slice(0, -4) + (tok.endsWith('AAAA') ? 'BBBB' : 'AAAA'), 'bad X-XSRF-Token');
    return { ok: ok.status, okRedirected: ok.redirected, bad: bad.status };
  });
  await page.goto(`${cfg.app}/app`);
  out.notesAfterXSRF = await notes(page);

  // Logout through the page; the cookie it held goes to the Go test.
  out.sessionCookie = (await ctx.cookies(cfg.app)).find((c) => c.name === 'session')?.value ?? '';
  await Promise.all([page.waitForNavigation(), page.click('form[action="/session/logout"] button')]);
  out.loginFormAfterLogout = (await page.$('form[action="/session/login"]')) !== null;
  out.meAfterLogout = await status(page, '/session/me');
} finally {
  await ctx.close();
}
process.stdout.write(JSON.stringify(out));
