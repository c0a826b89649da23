// Debian's Chromium through playwright-core, as every browser test starts
// it, and a page that collects console errors and uncaught exceptions.
// When the browser cannot start it prints {"launched": false, "why": ...}
// and exits 3, so the caller can tell that from a page that failed.
import { chromium } from 'playwright-core';

export async function launch() {
  try {
    return await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      // Root needs --no-sandbox; WebGL (parallel coordinates, large scatter
      // plots) runs on the software rasteriser where there is no GPU.
      args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--disable-dev-shm-usage'],
    });
  } catch (e) {
    console.log(JSON.stringify({ launched: false, why: String(e.message || e).split('\n')[0] }));
    process.exit(3);
  }
}

// A 1400 x 1000 page; `errors` receives every console error and uncaught
// exception.
export async function newPage(browser, errors) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push('uncaught: ' + String(e)));
  return page;
}
