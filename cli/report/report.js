// The report page: draws a study with plotly.js, from the JSON embedded in
// #parzen-data (parzen report) or from what the dashboard fetches and
// keeps up to date (window.parzenRender(data) draws it all again). Each
// plot is a div whose id names it; window.parzenReport lists what was
// drawn (and what was sampled) for tests and curious readers.
(function () {
  'use strict';
  // Plots with more than this many marks draw a sample and say so.
  const MAX_LINES = 300;
  const MAX_BARS = 2000;
  const MAX_TABLE_ROWS = 100;
  // WebGL scatter plots draw many points fast but each costs a context
  // (seconds on a software rasteriser): SVG below this many points.
  const GL_FROM = 5000;
  const scatterType = (points) => (points >= GL_FROM ? 'scattergl' : 'scatter');
  const STATE_COLORS = {
    COMPLETE: '#1f77b4', PRUNED: '#ff7f0e', FAIL: '#d62728', RUNNING: '#2ca02c', WAITING: '#7f7f7f',
  };
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  let renders = 0;

  function render(data) {
  const trials = data.trials;
  const n = trials.number.length;
  const multi = data.directions.length > 1;
  const report = { drawn: {}, sampled: {}, renders: ++renders };
  window.parzenReport = report;
  const old = document.querySelector('main');
  if (old) {
    for (const div of old.querySelectorAll('div.plot')) Plotly.purge(div);
    old.remove();
  }
  const main = el('main');
  document.body.appendChild(main);

  function section(id, title, note) {
    const s = el('section', { class: 'plot-section' });
    s.appendChild(el('h2', {}, title));
    if (note) s.appendChild(el('p', { class: 'note' }, note));
    const div = el('div', { id: id, class: 'plot' });
    s.appendChild(div);
    main.appendChild(s);
    return div;
  }
  function draw(id, title, traces, layout, note) {
    const div = section(id, title, note);
    Plotly.newPlot(div, traces, Object.assign({
      margin: { t: 30, r: 20, b: 50, l: 60 }, hovermode: 'closest', showlegend: true,
    }, layout), { responsive: true, displaylogo: false });
    report.drawn[id] = traces.length;
    return div;
  }
  // Every k-th of `indices` so that at most `max` remain.
  function sample(indices, max) {
    if (indices.length <= max) return indices;
    const step = indices.length / max;
    const out = [];
    for (let i = 0; i < max; i++) out.push(indices[Math.floor(i * step)]);
    return out;
  }
  const range = (k) => Array.from({ length: k }, (_, i) => i);
  const completeIdx = range(n).filter((i) => trials.state[i] === 'COMPLETE' && trials.values[i] &&
    trials.values[i].every((v) => v !== null));
  const value = (i, k = 0) => trials.values[i][k];
  const sign = data.directions.map((d) => (d === 'maximize' ? -1 : 1));
  const paramByName = Object.fromEntries(data.params.map((p) => [p.name, p]));
  // Axis values: categorical choices by name, log parameters on a log axis.
  function axisFor(p) {
    if (p.type === 'categorical') return { type: 'category', title: { text: p.name } };
    return { type: p.log ? 'log' : 'linear', title: { text: p.name } };
  }
  const fmt = (v) => (typeof v === 'number' ? Number(v.toPrecision(6)).toString() : String(v));

  // Header and summary.
  const header = el('header');
  header.appendChild(el('h1', {}, 'Study ' + data.study));
  const counts = {};
  for (const s of trials.state) counts[s] = (counts[s] || 0) + 1;
  let summary = n + ' trials (' + Object.entries(counts).map(([s, c]) => c + ' ' + s).join(', ') +
    '); ' + data.directions.join(', ') + '; report made ' + data.generated + '.';
  if (!multi && completeIdx.length) {
    let best = completeIdx[0];
    for (const i of completeIdx) if (sign[0] * value(i) < sign[0] * value(best)) best = i;
    summary += ' Best: trial ' + trials.number[best] + ', value ' + fmt(value(best)) + ' (' +
      Object.keys(trials.params).filter((p) => trials.params[p][best] !== null)
        .map((p) => p + '=' + fmt(trials.params[p][best])).join(', ') + ').';
  }
  header.appendChild(el('p', { id: 'summary' }, summary));
  main.appendChild(header);

  if (n === 0) {
    main.appendChild(el('p', {}, 'The study has no trials yet.'));
    report.drawn.table = 1;  // nothing more to draw
    return;
  }

  // Optimization history, with the best value so far.
  for (let k = 0; k < (multi ? data.directions.length : 1); k++) {
    const x = completeIdx.map((i) => trials.number[i]);
    const y = completeIdx.map((i) => value(i, k));
    const best = [];
    let so_far = null;
    for (const v of y) {
      if (so_far === null || sign[k] * v < sign[k] * so_far) so_far = v;
      best.push(so_far);
    }
    const name = multi ? 'values_' + k : 'value';
    draw(k === 0 ? 'history' : 'history-' + k, 'Optimization history' + (multi ? ' (objective ' + k + ')' : ''), [
      { type: scatterType(x.length), mode: 'markers', name: name, x: x, y: y, marker: { size: 5 } },
      { type: 'scatter', mode: 'lines', name: 'best so far', x: x, y: best, line: { shape: 'hv' } },
    ], { xaxis: { title: { text: 'trial' } }, yaxis: { title: { text: name } } });
  }

  // Intermediate values per trial; pruned ones dashed and orange.
  const reported = range(n).filter((i) => trials.intermediate[i]);
  if (reported.length) {
    const shown = sample(reported, MAX_LINES);
    if (shown.length < reported.length) report.sampled.intermediate = [shown.length, reported.length];
    const traces = shown.map((i) => ({
      type: 'scatter', mode: 'lines+markers', name: 'trial ' + trials.number[i] + ' ' + trials.state[i],
      x: trials.intermediate[i][0], y: trials.intermediate[i][1], showlegend: false,
      line: { color: STATE_COLORS[trials.state[i]] || '#444', dash: trials.state[i] === 'PRUNED' ? 'dot' : 'solid', width: 1 },
      marker: { size: 3 },
    }));
    draw('intermediate', 'Intermediate values', traces, {
      xaxis: { title: { text: 'step' } }, yaxis: { title: { text: 'reported value' } }, showlegend: false,
    }, 'One line per trial: pruned trials dotted orange, complete blue, running green.' +
      (shown.length < reported.length ? ' Showing every ' + (reported.length / shown.length).toFixed(1) +
        '-th trial: ' + shown.length + ' of ' + reported.length + '.' : ''));
  }

  // Parallel coordinates over the COMPLETE trials.
  if (completeIdx.length && data.params.length) {
    const dims = data.params.map((p) => {
      const column = trials.params[p.name];
      if (p.type === 'categorical') {
        const labels = p.choices.map(String);
        return {
          label: p.name, tickvals: range(labels.length), ticktext: labels, range: [0, Math.max(1, labels.length - 1)],
          values: completeIdx.map((i) => (column[i] === null ? -1 : labels.indexOf(String(column[i])))),
        };
      }
      const log = p.log;
      return {
        label: log ? 'log10 ' + p.name : p.name,
        values: completeIdx.map((i) => (column[i] === null ? NaN : (log ? Math.log10(column[i]) : column[i]))),
      };
    });
    const objective = completeIdx.map((i) => value(i));
    dims.push({ label: multi ? 'values_0' : 'value', values: objective });
    draw('parallel', 'Parallel coordinates', [{
      type: 'parcoords', dimensions: dims,
      line: { color: objective, colorscale: 'Viridis', reversescale: sign[0] > 0, showscale: true },
    }], { margin: { t: 60, r: 60, b: 30, l: 60 } }, 'Each line a COMPLETE trial, coloured by its value (' +
      completeIdx.length + ' trials).');
  }

  // Contours of the most important pairs: the mean value of the trials in
  // each cell of a grid, empty cells filled in between their neighbours
  // (connectgaps), and the trials themselves on top.
  const GRID = 20;
  function gridAxis(p, coords) {
    if (p.type === 'categorical') {
      const labels = p.choices.map(String);
      return {
        cell: (v) => labels.indexOf(String(v)), centres: range(labels.length),
        axis: { title: { text: p.name }, tickvals: range(labels.length), ticktext: labels },
      };
    }
    let lo = Infinity, hi = -Infinity;
    for (const v of coords) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const width = hi > lo ? (hi - lo) / GRID : 1;
    return {
      cell: (v) => Math.min(GRID - 1, Math.floor((v - lo) / width)),
      centres: range(GRID).map((k) => lo + (k + 0.5) * width),
      axis: { title: { text: p.log ? 'log10 ' + p.name : p.name } },
    };
  }
  data.contour_pairs.forEach(([a, b], k) => {
    const pa = paramByName[a], pb = paramByName[b];
    const idx = completeIdx.filter((i) => trials.params[a][i] !== null && trials.params[b][i] !== null);
    const coord = (p, v) => (p.type === 'categorical' ? v : (p.log ? Math.log10(v) : v));
    const xs = idx.map((i) => coord(pa, trials.params[a][i]));
    const ys = idx.map((i) => coord(pb, trials.params[b][i]));
    const gx = gridAxis(pa, pa.type === 'categorical' ? [] : xs);
    const gy = gridAxis(pb, pb.type === 'categorical' ? [] : ys);
    const sum = gy.centres.map(() => gx.centres.map(() => 0));
    const count = gy.centres.map(() => gx.centres.map(() => 0));
    idx.forEach((i, j) => {
      const cx = gx.cell(xs[j]), cy = gy.cell(ys[j]);
      sum[cy][cx] += value(i);
      count[cy][cx] += 1;
    });
    const z = sum.map((row, r) => row.map((v, c) => (count[r][c] ? v / count[r][c] : null)));
    const point = (p, v) => (p.type === 'categorical' ? p.choices.map(String).indexOf(String(v)) : v);
    draw('contour-' + k, 'Contour: ' + a + ' and ' + b, [
      {
        type: 'contour', x: gx.centres, y: gy.centres, z: z, connectgaps: true, name: 'mean value',
        colorscale: 'Viridis', reversescale: sign[0] > 0, contours: { coloring: 'heatmap' },
      },
      {
        type: scatterType(xs.length), mode: 'markers', name: 'trials', x: xs.map((v) => point(pa, v)),
        y: ys.map((v) => point(pb, v)), text: idx.map((i) => 'trial ' + trials.number[i]),
        marker: { size: 4, color: '#000', opacity: 0.5 },
      },
    ], { xaxis: gx.axis, yaxis: gy.axis, showlegend: false },
    'The mean value of the COMPLETE trials in each cell (' + idx.length + ' trials), for two of the ' +
      'most important parameters; cells without trials are filled in from their neighbours.');
  });

  // Slices: the value against each parameter.
  if (completeIdx.length && data.params.length) {
    const traces = [];
    const layout = { showlegend: false, grid: { rows: 1, columns: data.params.length, pattern: 'independent' } };
    data.params.forEach((p, k) => {
      const idx = completeIdx.filter((i) => trials.params[p.name][i] !== null);
      const axis = k === 0 ? '' : String(k + 1);
      traces.push({
        type: scatterType(idx.length), mode: 'markers', name: p.name, xaxis: 'x' + axis, yaxis: 'y' + axis,
        x: idx.map((i) => (p.type === 'categorical' ? String(trials.params[p.name][i]) : trials.params[p.name][i])),
        y: idx.map((i) => value(i)), marker: { size: 4, color: idx.map((i) => trials.number[i]), colorscale: 'Blues' },
      });
      layout['xaxis' + axis] = axisFor(p);
      layout['yaxis' + axis] = { title: { text: k === 0 ? (multi ? 'values_0' : 'value') : '' } };
    });
    draw('slice', 'Slices', traces, layout, 'The value of each COMPLETE trial against each parameter; ' +
      'darker points are later trials.');
  }

  // Parameter importances.
  if (data.importance.values.length) {
    const v = data.importance.values.slice().reverse();
    draw('importance', 'Parameter importances', [{
      type: 'bar', orientation: 'h', x: v.map((e) => e.importance), y: v.map((e) => e.name),
      text: v.map((e) => e.importance.toFixed(3)), textposition: 'auto', name: 'importance',
    }], { xaxis: { title: { text: 'importance' }, range: [0, 1] }, showlegend: false },
    'Method: ' + data.importance.method + '.');
  }

  // Empirical distribution function of the values.
  if (completeIdx.length) {
    const sorted = completeIdx.map((i) => value(i)).sort((a, b) => a - b);
    draw('edf', 'Empirical distribution of values', [{
      type: 'scatter', mode: 'lines', line: { shape: 'hv' }, name: 'EDF',
      x: sorted, y: sorted.map((_, i) => (i + 1) / sorted.length),
    }], { xaxis: { title: { text: multi ? 'values_0' : 'value' } }, yaxis: { title: { text: 'fraction of trials' }, range: [0, 1] }, showlegend: false });
  }

  // Timeline: who ran what, when.
  const started = range(n).filter((i) => trials.start[i] !== null);
  if (started.length) {
    const shown = sample(started, MAX_BARS);
    if (shown.length < started.length) report.sampled.timeline = [shown.length, started.length];
    const now = started.reduce((m, i) => Math.max(m, trials.complete[i] || trials.start[i]), -Infinity);
    const byState = {};
    for (const i of shown) (byState[trials.state[i]] = byState[trials.state[i]] || []).push(i);
    const traces = Object.entries(byState).map(([state, idx]) => ({
      type: 'bar', orientation: 'h', name: state, marker: { color: STATE_COLORS[state] || '#444' },
      base: idx.map((i) => new Date(trials.start[i] * 1000).toISOString()),
      x: idx.map((i) => ((trials.complete[i] || now) - trials.start[i]) * 1000),
      y: idx.map((i) => trials.worker[i] || '(no worker id)'),
      text: idx.map((i) => 'trial ' + trials.number[i]), hoverinfo: 'text+name',
    }));
    draw('timeline', 'Timeline of trials per worker', traces, {
      barmode: 'overlay', xaxis: { type: 'date', title: { text: 'time (UTC)' } }, yaxis: { type: 'category', automargin: true },
    }, 'One bar per trial from its start to its end (to the report time if still running).' +
      (shown.length < started.length ? ' Showing ' + shown.length + ' of ' + started.length + ' trials, evenly spread.' : ''));
  }

  // Pareto front of a two-objective study.
  if (multi && completeIdx.length) {
    const dominated = (i, j) => data.directions.every((_, k) => sign[k] * value(j, k) <= sign[k] * value(i, k)) &&
      data.directions.some((_, k) => sign[k] * value(j, k) < sign[k] * value(i, k));
    const front = completeIdx.filter((i) => !completeIdx.some((j) => dominated(i, j)));
    const rest = completeIdx.filter((i) => !front.includes(i));
    const trace = (idx, name, color) => ({
      type: scatterType(idx.length), mode: 'markers', name: name, x: idx.map((i) => value(i, 0)), y: idx.map((i) => value(i, 1)),
      text: idx.map((i) => 'trial ' + trials.number[i]), marker: { color: color, size: 6 },
    });
    draw('pareto', 'Pareto front', [trace(rest, 'dominated', '#aaa'), trace(front, 'Pareto front', '#d62728')], {
      xaxis: { title: { text: 'values_0 (' + data.directions[0] + ')' } }, yaxis: { title: { text: 'values_1 (' + data.directions[1] + ')' } },
    });
  }

  // The trials table, sortable by clicking a header, a page at a time.
  const columns = ['number', ...(multi ? data.directions.map((_, k) => 'values_' + k) : ['value']), 'state',
    'duration_s', 'worker', ...data.params.map((p) => 'params_' + p.name)];
  const cell = (i, c) => {
    if (c === 'number') return trials.number[i];
    if (c === 'state') return trials.state[i];
    if (c === 'worker') return trials.worker[i];
    if (c === 'duration_s') return trials.complete[i] !== null && trials.start[i] !== null ? trials.complete[i] - trials.start[i] : null;
    if (c === 'value') return trials.values[i] ? trials.values[i][0] : null;
    if (c.startsWith('values_')) return trials.values[i] ? trials.values[i][Number(c.slice(7))] : null;
    return trials.params[c.slice(7)][i];
  };
  const tableSection = el('section', { class: 'plot-section' });
  tableSection.appendChild(el('h2', {}, 'Trials'));
  const pager = el('p', { class: 'note', id: 'trials-pager' });
  tableSection.appendChild(pager);
  const table = el('table', { id: 'trials-table' });
  tableSection.appendChild(table);
  main.appendChild(tableSection);
  let order = range(n), sortColumn = 'number', descending = false, page = 0;
  function renderTable() {
    table.textContent = '';
    const head = el('tr');
    for (const c of columns) {
      const th = el('th', { 'data-column': c }, c + (c === sortColumn ? (descending ? ' ▼' : ' ▲') : ''));
      th.addEventListener('click', () => {
        descending = c === sortColumn ? !descending : false;
        sortColumn = c;
        order.sort((a, b) => {
          const x = cell(a, c), y = cell(b, c);
          if (x === null || y === null) return (x === null) - (y === null);
          const less = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
          return (descending ? -less : less) || trials.number[a] - trials.number[b];
        });
        page = 0;
        renderTable();
      });
      head.appendChild(th);
    }
    table.appendChild(head);
    const pages = Math.max(1, Math.ceil(n / MAX_TABLE_ROWS));
    for (const i of order.slice(page * MAX_TABLE_ROWS, (page + 1) * MAX_TABLE_ROWS)) {
      const tr = el('tr', { class: 'state-' + trials.state[i] });
      for (const c of columns) {
        const v = cell(i, c);
        tr.appendChild(el('td', {}, v === null || v === undefined ? '' : fmt(v)));
      }
      table.appendChild(tr);
    }
    pager.textContent = 'Rows ' + (page * MAX_TABLE_ROWS + 1) + '–' + Math.min(n, (page + 1) * MAX_TABLE_ROWS) +
      ' of ' + n + '; click a column to sort. ';
    if (pages > 1) {
      for (const [label, to] of [['‹ previous', page - 1], ['next ›', page + 1]]) {
        if (to < 0 || to >= pages) continue;
        const a = el('a', { href: '#trials-pager' }, label + ' ');
        a.addEventListener('click', (e) => { e.preventDefault(); page = to; renderTable(); });
        pager.appendChild(a);
      }
    }
  }
  renderTable();
  report.drawn.table = 1;
  }

  window.parzenRender = render;
  const embedded = document.getElementById('parzen-data');
  if (embedded) render(JSON.parse(embedded.textContent));
})();
