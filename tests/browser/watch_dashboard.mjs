// Opens `parzen dashboard` in Debian's Chromium: the list of studies, then
// one study's page, and waits, without reloading, until the page shows
// more COMPLETE trials than when it was first drawn (the test makes one
// finish meanwhile). Prints JSON lines on stdout: {"stage": "drawn", ...}
// once the study page is drawn, {"stage": "updated", ...} at the end.
// Screenshots go to SHOT_DIR.
//
//   node watch_dashboard.mjs BASE_URL STUDY SHOT_DIR [TIMEOUT_MS]
//
// CHROMIUM names the browser (default /usr/bin/chromium). Exit 3 when it
// cannot start.
import { launch, newPage } from './launch.mjs';

const [base, study, shots, timeoutArg] = process.argv.slice(2);
const timeout = Number(timeoutArg || 60000);
const browser = await launch();
const errors = [];
const page = await newPage(browser, errors);
let navigations = 0;
page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations += 1; });

await page.goto(base + '/', { timeout });
await page.waitForSelector(`tr[data-study="${study}"]`, { timeout });
const listRow = await page.$$eval(`tr[data-study="${study}"] td`, (cells) => cells.map((c) => c.textContent));
await page.screenshot({ path: shots + '/dashboard-list.png', fullPage: true });

const historyPoints = () => {
  const div = document.getElementById('history');
  return div && div.data ? div.data[0].x.length : -1;
};
navigations = 0;
await page.goto(base + '/study?name=' + encodeURIComponent(study), { timeout });
await page.waitForFunction(() => window.parzenReport && window.parzenReport.drawn.table === 1, null, { timeout });
const before = await page.evaluate(historyPoints);
// A reload would lose this.
await page.evaluate(() => { window.parzenMarker = 'still here'; });
console.log(JSON.stringify({ launched: true, stage: 'drawn', history: before, listRow }));
await page.waitForFunction((n) => {
  const div = document.getElementById('history');
  return div && div.data && div.data[0].x.length > n;
}, before, { timeout });
const after = await page.evaluate(historyPoints);
const seen = await page.evaluate(() => ({
  marker: window.parzenMarker || null,
  renders: window.parzenReport.renders,
  events: window.parzenReport.events,
  live: document.getElementById('live').textContent,
  tableRows: document.querySelectorAll('#trials-table tr').length - 1,
}));
await page.screenshot({ path: shots + '/dashboard-study.png', fullPage: true });
await browser.close();
console.log(JSON.stringify({ launched: true, stage: 'updated', errors, history: after, navigations, ...seen }));
