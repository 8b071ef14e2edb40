// Drives headless Chromium for e2e/browser_test.go: opens each page URL,
// waits for the page's script to publish window.__corsResults (what it
// could read from the API), and prints {url: {probes, console}} as JSON.
//
// Usage: node cors_browser.mjs '{"chromium": "/usr/bin/chromium",
//   "userDataDir": "/tmp/x", "pages": ["http://127.0.0.1:1/"], "timeoutMs": 10000}'
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
});
const out = {};
try {
  for (const url of cfg.pages) {
    const page = await ctx.newPage();
    const console = [];
    page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
    await page.goto(url, { timeout: cfg.timeoutMs });
    const handle = await page.waitForFunction(() => window.__corsResults, null, { timeout: cfg.timeoutMs });
    out[url] = { probes: await handle.jsonValue(), console };
    await page.close();
  }
} finally {
  await ctx.close();
}
process.stdout.write(JSON.stringify(out));
