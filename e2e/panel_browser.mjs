// Drives headless Chromium for TestBrowserSecurityPanel: opens the demo's
// security panel as a non-admin and as an admin (a bearer token in every
// request the page makes), forces a denial from outside the browser, waits
// for it to appear on the open panel, saves a screenshot and prints what
// it saw as JSON.
//
// Usage: node panel_browser.mjs '{"chromium": "/usr/bin/chromium",
//   "userDataDir": "/tmp/x", "base": "http://127.0.0.1:1", "admin": "…",
//   "user": "…", "screenshot": "artifacts/panel.png", "timeoutMs": 10000}'
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.argv[2]);
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--no-first-run', '--disable-quic', '--disable-component-update', '--disable-sync',
];
const ctx = await chromium.launchPersistentContext(cfg.userDataDir, {
  executablePath: cfg.chromium,
  headless: true,
  args,
  timeout: cfg.timeoutMs,
  viewport: { width: 1400, height: 1000 },
});
const url = cfg.base + '/admin/security';
const out = { console: [] };
try {
  const user = await ctx.newPage();
  await user.setExtraHTTPHeaders({ Authorization: 'Bearer ' + cfg.user });
  out.userStatus = (await user.goto(url, { timeout: cfg.timeoutMs })).status();
  await user.close();

  const page = await ctx.newPage();
  page.on('console', (m) => out.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => out.console.push(`pageerror: ${e.message}`));
  await page.setExtraHTTPHeaders({ Authorization: 'Bearer ' + cfg.admin });
  const res = await page.goto(url, { timeout: cfg.timeoutMs });
  out.adminStatus = res.status();
  out.csp = res.headers()['content-security-policy'] || '';
  out.heading = await page.textContent('h1');

  // A denial the page has not seen: a malformed bearer token, sent from
  // outside the browser. Its request ID must show up on the open page.
  const forced = await fetch(cfg.base + '/api/protected', { headers: { Authorization: 'Bearer not-a-token' } });
  out.forcedStatus = forced.status;
  out.forcedRequestId = forced.headers.get('x-request-id');
  const start = Date.now();
  await page.waitForFunction(
    (id) => document.getElementById('events').textContent.includes(id),
    out.forcedRequestId, { timeout: cfg.timeoutMs, polling: 100 });
  out.seenAfterMs = Date.now() - start;
  out.forcedRow = await page.evaluate((id) => {
    for (const tr of document.querySelectorAll('#events tr')) {
      if (tr.textContent.includes(id)) return Array.from(tr.cells, (c) => c.textContent);
    }
    return null;
  }, out.forcedRequestId);
  out.live = await page.getAttribute('#live', 'class');
  await page.screenshot({ path: cfg.screenshot, fullPage: true });
} finally {
  await ctx.close();
}
process.stdout.write(JSON.stringify(out));
