// The ES module in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// a loopback HTTP server serves crates/wasm/, the page runs the shared checks (checks.mjs).
// `node --test crates/wasm/js/chromium.test.mjs` after build.sh. CHROMIUM overrides the binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('../', import.meta.url);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };

test('the shared checks pass in headless Chromium', async () => {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://127.0.0.1').pathname;
    if (path.includes('..') || !/^\/(pkg|js)\//.test(path) || path.startsWith('/js/node_modules')) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(new URL(`.${path}`, root));
      response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    // Loopback only: any other address is aborted.
    await page.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    await page.goto(`http://127.0.0.1:${server.address().port}/js/browser.html`);
    await page.waitForFunction(() => window.results !== undefined, null, { timeout: 30_000 });
    const results = await page.evaluate(() => window.results);
    for (const result of results) console.log(`${result.ok ? 'ok  ' : 'FAIL'} chromium: ${result.name}${result.error ? ` — ${result.error}` : ''}`);
    assert.ok(results.length > 10, 'every check ran');
    assert.deepEqual(results.filter((r) => !r.ok), []);
  } finally {
    await browser.close();
    server.close();
  }
});
