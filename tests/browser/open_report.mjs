// Opens a report (or any page of ours) in Debian's Chromium and says what
// it saw, as one JSON line on stdout: console errors and uncaught
// exceptions, how long until the page said it had drawn everything, each
// plot's traces and points, the importance ranking, the table's rows. A
// full-page screenshot goes to SHOT.
//
//   node open_report.mjs FILE_OR_URL SHOT [TIMEOUT_MS]
//
// CHROMIUM names the browser (default /usr/bin/chromium). Exit 3 when it
// cannot start, so the caller can tell that from a page that failed.
import { launch, newPage } from './launch.mjs';

const [target, shot, timeoutArg] = process.argv.slice(2);
const timeout = Number(timeoutArg || 60000);
const browser = await launch();
const errors = [];
const page = await newPage(browser, errors);
const url = target.includes('://') ? target : 'file://' + target;
const started = Date.now();
await page.goto(url, { timeout });
await page.waitForFunction(() => window.parzenReport && window.parzenReport.drawn.table === 1,
  null, { timeout });
const drawnMs = Date.now() - started;
const seen = await page.evaluate(() => {
  const plots = {};
  for (const div of document.querySelectorAll('div.plot')) {
    plots[div.id] = {
      containers: div.querySelectorAll('.plot-container.plotly').length,
      traces: (div.data || []).map((t) => ({
        type: t.type,
        points: t.type === 'parcoords' ? t.dimensions[0].values.length
          : t.type === 'contour' ? t.z.flat().filter((v) => v !== null).length
            : (t.x || []).length,
      })),
    };
  }
  const importance = document.getElementById('importance');
  return {
    plots,
    sampled: window.parzenReport.sampled,
    // Bars are drawn bottom-up: the most important is the last.
    importance: importance ? importance.data[0].y.slice().reverse() : [],
    contours: [...document.querySelectorAll('.plot-section h2')].map((h) => h.textContent)
      .filter((t) => t.startsWith('Contour: ')).map((t) => t.slice(9).split(' and ')),
    tableRows: document.querySelectorAll('#trials-table tr').length - 1,
    summary: (document.getElementById('summary') || {}).textContent,
  };
});
await page.screenshot({ path: shot, fullPage: true });
await browser.close();
console.log(JSON.stringify({ launched: true, errors, drawnMs, ...seen }));
