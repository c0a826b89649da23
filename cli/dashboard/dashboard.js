// The dashboard's pages. "list": every study, fetched again every few
// seconds (a short list). "study": the report of one study, drawn by
// report.js from /api/study?name=NAME and then kept up to date from the server's
// event stream (each trial that changes, as WatchStudy reports it), merged
// into the data and drawn again at most once a second; no reload.
(function () {
  'use strict';
  const page = document.body.dataset.page;
  const live = document.getElementById('live');
  const say = (text) => { live.textContent = text; };
  const fmt = (v) => (typeof v === 'number' ? Number(v.toPrecision(6)).toString() : String(v));

  if (page === 'list') {
    const main = document.createElement('main');
    main.innerHTML = '<header><h1>Studies</h1></header><table id="studies"></table>';
    document.body.appendChild(main);
    const table = document.getElementById('studies');
    const columns = ['study', 'directions', 'trials', 'running', 'waiting', 'complete', 'pruned', 'fail', 'best'];
    async function refresh() {
      try {
        const response = await fetch('/api/studies');
        const studies = await response.json();
        if (!response.ok) throw new Error(studies.error || response.statusText);
        table.textContent = '';
        const head = table.insertRow();
        for (const c of columns) head.appendChild(Object.assign(document.createElement('th'), { textContent: c }));
        for (const s of studies) {
          const row = table.insertRow();
          row.dataset.study = s.name;
          const link = Object.assign(document.createElement('a'), { href: '/study?name=' + encodeURIComponent(s.name), textContent: s.name });
          row.insertCell().appendChild(link);
          row.insertCell().textContent = s.directions.join(', ');
          for (const c of ['trials', 'running', 'waiting', 'complete', 'pruned', 'fail']) row.insertCell().textContent = s.counts[c];
          row.insertCell().textContent = s.best_value === null ? '' : fmt(s.best_value);
        }
        say(studies.length + ' studies; updated ' + new Date().toLocaleTimeString());
        window.parzenReport = { drawn: { table: 1 }, studies: studies.length };
      } catch (e) {
        say('cannot reach the dashboard: ' + e.message);
      }
    }
    refresh();
    setInterval(refresh, 3000);
    return;
  }

  const name = document.body.dataset.study;
  const query = '?name=' + encodeURIComponent(name);
  let data = null;
  let index = new Map();  // trial number -> column index
  let dirty = false, refetch = false, events = 0;
  // Events that arrive while the data is fetched again, merged into it
  // once it is there (the fetch may predate them).
  let held = null;
  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  async function load() {
    held = [];
    try {
      const response = await fetch('/api/study' + query);
      const fetched = await response.json();
      if (!response.ok) throw new Error(fetched.error || response.statusText);
      data = fetched;
      index = new Map(data.trials.number.map((number, i) => [number, i]));
      const replay = held;
      held = null;
      for (const row of replay) merge(row);
    } finally {
      held = null;
    }
    window.parzenRender(data);
    window.parzenReport.events = events;
  }

  // A trial as the event stream gives it, into the columns: a new trial
  // appended, a known one updated, its reports added step by step (outside
  // the first snapshot WatchStudy sends only the newest step).
  function merge(row) {
    if (held) {
      held.push(row);
      return;
    }
    const t = data.trials;
    for (const p of Object.keys(row.params)) {
      if (!has(t.params, p)) refetch = true;  // a parameter the page has not seen: fetch it all
    }
    let i = index.get(row.number);
    if (i === undefined) {
      i = t.number.length;
      index.set(row.number, i);
      for (const key of ['number', 'state', 'values', 'start', 'complete', 'worker', 'intermediate']) t[key].push(null);
      for (const p of Object.keys(t.params)) t.params[p].push(null);
    }
    const before = JSON.stringify([t.state[i], t.values[i], t.complete[i], t.intermediate[i]]);
    t.number[i] = row.number;
    t.state[i] = row.state;
    t.values[i] = row.values;
    t.start[i] = row.start;
    t.complete[i] = row.complete;
    t.worker[i] = row.worker;
    for (const p of Object.keys(t.params)) t.params[p][i] = has(row.params, p) ? row.params[p] : null;
    if (row.intermediate) {
      const [steps, values] = t.intermediate[i] || [[], []];
      row.intermediate[0].forEach((step, k) => {
        const at = steps.indexOf(step);
        if (at >= 0) {
          values[at] = row.intermediate[1][k];
        } else {
          let j = steps.findIndex((s) => s > step);
          if (j < 0) j = steps.length;
          steps.splice(j, 0, step);
          values.splice(j, 0, row.intermediate[1][k]);
        }
      });
      t.intermediate[i] = [steps, values];
    }
    if (JSON.stringify([t.state[i], t.values[i], t.complete[i], t.intermediate[i]]) !== before) dirty = true;
  }

  function listen() {
    const stream = new EventSource('/api/events' + query);
    stream.onopen = () => say('live: watching the study');
    stream.onmessage = (e) => {
      events += 1;
      merge(JSON.parse(e.data));
    };
    stream.addEventListener('ended', (e) => { say('the server ended the watch: ' + JSON.parse(e.data)); stream.close(); });
    stream.addEventListener('failed', (e) => { say('cannot watch: ' + JSON.parse(e.data)); stream.close(); });
    // EventSource reconnects by itself; the stream starts with every trial.
    stream.onerror = () => say('live: connection lost, reconnecting…');
  }

  setInterval(async () => {
    if (held) return;  // a fetch is under way
    if (refetch) {
      refetch = false;
      dirty = false;
      try {
        await load();
      } catch (e) {
        say('cannot load the study: ' + e.message + '; trying again');
        refetch = true;
      }
    } else if (dirty) {
      dirty = false;
      window.parzenRender(data);
      window.parzenReport.events = events;
    }
    if (window.parzenReport) window.parzenReport.events = events;
  }, 1000);

  load().then(listen, (e) => say('cannot load the study: ' + e.message));
})();
