// Sweep's dashboard: plain JavaScript and the browser's own canvas and SVG, nothing fetched from elsewhere.
// Data: GET /api/sweeps/{id}/points (every finished trial, in columns), then the events stream from where it ended.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const esc = s => String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (v, d = 4) => v == null || Number.isNaN(v) ? '–' : (Math.abs(v) > 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : (+v).toFixed(d));
const PALETTE = ['#3d6df2', '#e8663d', '#2a9d5c', '#9b51e0', '#d4a017', '#0aa2c0', '#c2417a', '#6b7487'];
const MAX_CLOUD = 20000;      // points of the cloud drawn at most (a deterministic sample beyond)
const PAGE = 50;              // table rows per page

// What a test or a benchmark reads back.
window.sweepDash = { ready: false, rows: 0, frontPoints: 0, nodeFrontPoints: 0, tableRows: 0, draws: 0,
  updateLatencies: [], loadMs: null, loadParts: null, drawParts: null, status: null };

let token = sessionStorage.getItem('sweepToken') || '';
let current = null;   // the page shown: { stop() }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers.Authorization = 'Bearer ' + token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) { showLogin(); throw new Error('unauthorized'); }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}
const getJson = async path => (await api(path)).json();

function showLogin() {
  if (current) current.stop();
  current = { stop() {} };
  $('#main').innerHTML = `<div class="card login"><h2>This cluster asks for its client credential</h2>
    <p class="muted">The token is kept in this tab only (session storage).</p>
    <form id="login"><input id="token" type="password" placeholder="token" size="40" autofocus> <button>Open</button></form></div>`;
  $('#login').onsubmit = e => {
    e.preventDefault();
    token = $('#token').value.trim();
    sessionStorage.setItem('sweepToken', token);
    route();
  };
}

function route() {
  if (current) current.stop();
  window.sweepDash.ready = false;
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'sweep' && parts[1] && parts[2] === 'trial' && parts[3]) current = trialPage(parts[1], parts[3]);
  else if (parts[0] === 'sweep' && parts[1]) current = sweepPage(parts[1]);
  else current = listPage();
}
window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', route);

function crumbs(items) {
  $('#crumbs').innerHTML = items.map(([text, href]) => href ? `<a href="${href}">${esc(text)}</a>` : esc(text)).join(' / ');
}

function stateBadge(state) { return `<span class="state ${esc(state)}">${esc(state)}</span>`; }
function progressBar(done, total) {
  const pct = total > 0 ? 100 * done / total : 0;
  return `<div class="bar" title="${done} of ${total}"><i style="width:${pct.toFixed(1)}%"></i></div>`;
}

// ---- the list of sweeps -------------------------------------------------------------------------------------------
function listPage() {
  crumbs([['sweeps']]);
  let stopped = false, timer = null;
  $('#main').innerHTML = `<div class="card"><h2>Sweeps</h2><div id="sweeps" class="tablewrap"><p class="muted">Loading…</p></div></div>`;
  async function refresh() {
    try {
      const sweeps = await getJson('api/sweeps');
      if (stopped) return;
      sweeps.reverse();
      $('#sweeps').innerHTML = sweeps.length === 0 ? '<p class="muted">No sweeps yet.</p>' :
        `<table><thead><tr><th>sweep</th><th>name</th><th>state</th><th>progress</th><th>done</th><th>created</th></tr></thead><tbody>` +
        sweeps.map(s => `<tr data-id="${esc(s.sweepId)}"><td>${esc(s.sweepId)}</td><td>${esc(s.name)}</td><td>${stateBadge(s.state)}</td>
          <td>${progressBar(s.done, s.total)}</td><td class="num">${s.done} / ${s.total}</td>
          <td>${esc(new Date(s.createdAt).toLocaleString())}</td></tr>`).join('') + '</tbody></table>';
      for (const tr of document.querySelectorAll('#sweeps tbody tr'))
        tr.onclick = () => { location.hash = '#/sweep/' + encodeURIComponent(tr.dataset.id); };
      window.sweepDash.ready = true;
    } catch (e) {
      if (e.message !== 'unauthorized' && !stopped) $('#sweeps').innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
    if (!stopped) timer = setTimeout(refresh, 2000);
  }
  refresh();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

// ---- one sweep ----------------------------------------------------------------------------------------------------
// Columns of every finished trial: measures, status, silo and each parameter, grown as results land.
function emptyData() {
  return { n: 0, trialId: [], status: [], accuracy: [], weightSparsity: [], nodeSparsity: [], seconds: [], silo: [], params: {} };
}
function decodeColumn(column, n) {
  if (Array.isArray(column)) return column;
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = column.values[column.index[i]];
  return out;
}
function appendPoints(data, points) {
  const n = points.count, c = points.columns;
  for (const name of ['trialId', 'status', 'accuracy', 'weightSparsity', 'nodeSparsity', 'seconds', 'silo'])
    pushAll(data[name], decodeColumn(c[name], n));
  const known = new Set(Object.keys(data.params));
  for (const [name, column] of Object.entries(points.params)) {
    if (!data.params[name]) data.params[name] = new Array(data.n).fill(null);
    pushAll(data.params[name], decodeColumn(column, n));
    known.delete(name);
  }
  for (const name of known) for (let i = 0; i < n; i++) data.params[name].push(null);
  data.n += n;
}
// push(...values) passes every value as an argument: past ~100k the engine's stack overflows.
function pushAll(target, values) { for (let i = 0; i < values.length; i++) target.push(values[i]); }
function minMax(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}
function appendRows(data, trials) {
  for (const t of trials) {
    data.trialId.push(t.trialId); data.status.push(t.status); data.accuracy.push(t.accuracy);
    data.weightSparsity.push(t.weightSparsity); data.nodeSparsity.push(t.nodeSparsity); data.seconds.push(t.seconds);
    data.silo.push(t.silo);
    const p = t.params || {};
    for (const name of Object.keys(p)) if (!data.params[name]) data.params[name] = new Array(data.n).fill(null);
    for (const [name, column] of Object.entries(data.params)) {
      const v = p[name];
      column.push(v == null ? null : typeof v === 'object' ? JSON.stringify(v) : v);
    }
    data.n++;
  }
}
function columnOf(data, name) { return Array.isArray(data[name]) ? data[name] : data.params[name]; }
// Parameters whose value differs between trials: the table's columns and the heat map's axes.
function varying(data) {
  if (data.varyingAt === data.n) return data.varying;
  const out = [];
  for (const [name, column] of Object.entries(data.params)) {
    const first = column[0];
    if (column.some(v => v !== first)) out.push(name);
  }
  data.varyingAt = data.n; data.varying = out;
  return out;
}

// Server-Sent Events over fetch (EventSource cannot send the Authorization header).
function stream(path, onEvent) {
  const controller = new AbortController();
  let from = null;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        const headers = token ? { Authorization: 'Bearer ' + token } : {};
        const url = from == null ? path : path.replace(/from=\d+/, 'from=' + from);
        const response = await fetch(url, { headers, signal: controller.signal });
        if (response.status === 401) { showLogin(); return; }
        if (response.status === 404) { $('#conn').textContent = 'no such sweep'; return; }
        if (!response.ok) throw new Error(response.statusText);   // 503: the cluster did not answer; try again
        $('#conn').textContent = 'live';
        const reader = response.body.getReader(), decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          buffer = buffer.replace(/\r\n/g, '\n');
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
            let event = 'message', data = null, id = null;
            for (const line of block.split('\n')) {
              const colon = line.indexOf(':');
              if (colon <= 0) continue;   // a comment (": keep-alive") or a field without a value
              const field = line.slice(0, colon), value = line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
              if (field === 'event') event = value;
              else if (field === 'data') data = data == null ? value : data + '\n' + value;
              else if (field === 'id') id = value;
            }
            if (id != null) from = +id;
            if (data && onEvent(event, JSON.parse(data)) === false) { controller.abort(); $('#conn').textContent = ''; return; }
          }
        }
      } catch (e) {
        if (controller.signal.aborted) return;
      }
      $('#conn').textContent = 'reconnecting…';
      await new Promise(r => setTimeout(r, 2000));
    }
  })();
  return () => controller.abort();
}

function sweepPage(id) {
  crumbs([['sweeps', '#/'], [id]]);
  const enc = encodeURIComponent(id);
  const data = emptyData();
  const view = { status: null, front: null, hv: [], sort: 'accuracy', asc: false, filter: '', statusFilter: '', page: 0,
    metric: 'accuracy', order: null, orderN: -1 };
  let stopped = false, stopStream = null, drawPending = false, pendingAt = [];
  const started = performance.now();
  $('#main').innerHTML = `
    <h1>${esc(id)}</h1>
    <div class="stats" id="stats"></div>
    <div class="grid">
      <div class="card"><h2 id="titleA">Accuracy vs weight sparsity</h2><canvas class="plot" id="plotA"></canvas><div class="legend" id="legend"></div></div>
      <div class="card"><h2>accuracy vs nodeSparsity</h2><canvas class="plot" id="plotB"></canvas></div>
      <div class="card"><h2>Hypervolume over the trials finished</h2><div id="hv"></div></div>
      <div class="card"><h2>Heat map</h2><div class="controls">
        <label>measure <select id="metric"><option>accuracy</option><option>nodeSparsity</option><option>weightSparsity</option></select></label>
        <span class="muted">mean over the completed trials of each cell</span></div><div id="heat"></div></div>
    </div>
    <div class="card" style="margin-top:14px"><h2>Trials</h2>
      <div class="controls"><input id="filter" placeholder="filter: text, or accuracy>0.9" size="30">
        <select id="statusFilter"><option value="">any status</option><option>completed</option><option>failed</option><option>cancelled</option><option>stopped</option></select>
        <button id="prev">‹</button><span id="pageinfo"></span><button id="next">›</button></div>
      <div class="tablewrap" id="table"></div></div>`;
  $('#metric').onchange = e => { view.metric = e.target.value; drawHeat(); };
  $('#filter').oninput = e => { view.filter = e.target.value.trim(); view.page = 0; view.orderN = -1; drawTable(); };
  $('#statusFilter').onchange = e => { view.statusFilter = e.target.value; view.page = 0; view.orderN = -1; drawTable(); };
  $('#prev').onclick = () => { view.page = Math.max(0, view.page - 1); drawTable(); };
  $('#next').onclick = () => { view.page++; drawTable(); };
  const plotA = scatter($('#plotA'), id), plotB = scatter($('#plotB'), id);

  function drawStats() {
    const s = view.status;
    if (!s) return;
    window.sweepDash.status = s;
    $('#stats').innerHTML = `
      <div class="stat"><b>${stateBadge(s.state)}</b><span>${s.reason ? esc(s.reason) : 'state'}</span></div>
      <div class="stat"><b>${s.done} / ${s.total}</b><span>${progressBar(s.done, s.total)}</span></div>
      <div class="stat"><b>${s.completed}</b><span>completed</span></div>
      <div class="stat"><b>${s.failed}</b><span>failed</span></div>
      <div class="stat"><b>${s.cancelled}</b><span>cancelled</span></div>
      ${s.stopped ? `<div class="stat"><b>${s.stopped}</b><span>stopped early</span></div>` : ''}
      <div class="stat"><b>${s.running}</b><span>running</span></div>
      <div class="stat"><b>${fmt(s.hypervolume)}</b><span>hypervolume</span></div>
      <div class="stat"><b>${fmt(s.nodeHypervolume)}</b><span>node hypervolume</span></div>
      <div class="stat"><b>${s.elapsedSeconds.toFixed(1)} s</b><span>${s.etaSeconds != null && s.state === 'running' ? 'ETA ' + s.etaSeconds.toFixed(0) + ' s' : 'elapsed'}</span></div>
      ${s.state === 'running' ? '<div class="stat"><button class="danger" id="cancel">Cancel sweep</button></div>' : ''}`;
    const cancel = $('#cancel');
    if (cancel) cancel.onclick = async () => {
      if (!confirm('Cancel ' + id + '?')) return;
      try { await api('api/sweeps/' + enc + '/cancel', { method: 'POST' }); } catch (e) { alert(e.message); }
    };
  }

  function colorOf() {
    const reg = data.params.regularizer;
    if (!reg) return () => PALETTE[0];
    const names = [...new Set(reg)].sort();
    $('#legend').innerHTML = names.map((r, k) => `<span><i style="background:${PALETTE[k % PALETTE.length]}"></i>${esc(r)}</span>`).join('');
    const index = new Map(names.map((r, k) => [r, PALETTE[k % PALETTE.length]]));
    return i => index.get(reg[i]);
  }

  function drawPlots() {
    const f = view.front;
    const objectives = f && f.objectives && f.objectives.length === 2 ? f.objectives : ['accuracy', 'weightSparsity'];
    const [yName, xName] = objectives;
    $('#titleA').textContent = `${yName} vs ${xName}`;
    const color = colorOf();
    plotA.draw(data, xName, yName, f ? f.points : [], color);
    plotB.draw(data, 'nodeSparsity', 'accuracy', f && f.nodeFront ? f.nodeFront.points : [], color);
    window.sweepDash.frontPoints = f ? f.points.length : 0;
    window.sweepDash.nodeFrontPoints = f && f.nodeFront ? f.nodeFront.points.length : 0;
  }

  function drawHv() {
    if (view.hv.length === 0) { $('#hv').innerHTML = '<p class="muted">No finished trials yet.</p>'; return; }
    // The series only grows (a front only improves), so the last point of each of ~500 buckets draws it faithfully.
    const step = Math.ceil(view.hv.length / 500);
    const series = step === 1 ? view.hv : view.hv.filter((p, i) => i === 0 || i % step === step - 1 || i === view.hv.length - 1);
    $('#hv').innerHTML = lineChart([
      { name: 'hypervolume', color: PALETTE[0], points: series.map(p => [p[0], p[1]]) },
      { name: 'node hypervolume', color: PALETTE[1], points: series.map(p => [p[0], p[2]]) },
    ], 'trials finished', '');
  }

  function drawHeat() {
    const names = varying(data).filter(n => data.params[n].every(v => v == null || typeof v === 'number'));
    const xName = names.includes('pruneRate') ? 'pruneRate' : names[0];
    const yName = names.includes('lambda') && xName !== 'lambda' ? 'lambda' : names.find(n => n !== xName);
    if (!xName || !yName) { $('#heat').innerHTML = '<p class="muted">Needs two numeric parameters that vary.</p>'; return; }
    $('#heat').innerHTML = heatMap(data, xName, yName, view.metric);
  }

  function rowMatches(i, tests) {
    if (view.statusFilter && data.status[i] !== view.statusFilter) return false;
    for (const t of tests) if (!t(i)) return false;
    return true;
  }
  function filterTests() {
    const tests = [];
    for (const term of view.filter.split(/\s+/).filter(Boolean)) {
      const m = term.match(/^(\w+)(<=|>=|<|>|=)(.+)$/);
      if (m) {
        const column = columnOf(data, m[1]);
        if (!column) { tests.push(() => false); continue; }
        const num = Number(m[3]);
        const op = { '<': (a, b) => a < b, '>': (a, b) => a > b, '<=': (a, b) => a <= b, '>=': (a, b) => a >= b,
          '=': (a, b) => a == b }[m[2]];
        tests.push(i => column[i] != null && op(column[i], Number.isNaN(num) ? m[3] : num));
      } else {
        const text = term.toLowerCase();
        const strings = ['trialId', 'status', 'silo'].map(n => data[n])
          .concat(Object.values(data.params).filter(c => typeof c[0] === 'string'));
        tests.push(i => strings.some(c => c[i] != null && String(c[i]).toLowerCase().includes(text)));
      }
    }
    return tests;
  }
  function drawTable() {
    const cols = ['trialId', 'status', ...varying(data), 'accuracy', 'weightSparsity', 'nodeSparsity', 'seconds', 'silo'];
    const column = name => columnOf(data, name);
    if (view.orderN !== data.n) {
      // New rows only are filtered and sorted, then merged into the order kept: O(n) per redraw, not O(n log n).
      const key = column(view.sort) || data.accuracy, dir = view.asc ? 1 : -1;
      const before = (a, b) => {
        const x = key[a], y = key[b];
        if (x == null) return y == null ? a - b : 1;
        if (y == null) return -1;
        return x < y ? -dir : x > y ? dir : a - b;
      };
      const incremental = view.orderN >= 0 && view.orderKey === key;
      const tests = filterTests(), added = [];
      for (let i = incremental ? view.orderN : 0; i < data.n; i++) if (rowMatches(i, tests)) added.push(i);
      added.sort(before);
      let order = added;
      if (incremental) {
        const old = view.order;
        order = new Array(old.length + added.length);
        let a = 0, b = 0, k = 0;
        while (a < old.length && b < added.length) order[k++] = before(old[a], added[b]) <= 0 ? old[a++] : added[b++];
        while (a < old.length) order[k++] = old[a++];
        while (b < added.length) order[k++] = added[b++];
      }
      view.order = order; view.orderN = data.n; view.orderKey = key;
    }
    const order = view.order, pages = Math.max(1, Math.ceil(order.length / PAGE));
    view.page = Math.min(view.page, pages - 1);
    const shown = order.slice(view.page * PAGE, view.page * PAGE + PAGE);
    window.sweepDash.tableRows = order.length;
    $('#pageinfo').textContent = `${order.length} trial(s), page ${view.page + 1} of ${pages}`;
    $('#table').innerHTML = `<table><thead><tr>${cols.map(c =>
      `<th data-col="${esc(c)}" class="${c === view.sort ? 'sorted' + (view.asc ? ' asc' : '') : ''}">${esc(c)}</th>`).join('')}</tr></thead><tbody>` +
      shown.map(i => `<tr data-trial="${esc(data.trialId[i])}">` + cols.map(c => {
        const v = column(c)[i];
        return typeof v === 'number' ? `<td class="num">${fmt(v, c === 'seconds' ? 2 : 4)}</td>` : `<td>${esc(v ?? '')}</td>`;
      }).join('') + '</tr>').join('') + '</tbody></table>';
    for (const th of document.querySelectorAll('#table th'))
      th.onclick = () => {
        view.asc = view.sort === th.dataset.col ? !view.asc : false;
        view.sort = th.dataset.col; view.orderN = -1; drawTable();
      };
    for (const tr of document.querySelectorAll('#table tbody tr'))
      tr.onclick = () => { location.hash = `#/sweep/${enc}/trial/${encodeURIComponent(tr.dataset.trial)}`; };
  }

  function drawAll() {
    const t0 = performance.now();
    const parts = window.sweepDash.drawParts = {};
    for (const [name, draw] of [['stats', drawStats], ['plots', drawPlots], ['hv', drawHv], ['heat', drawHeat], ['table', drawTable]]) {
      const t = performance.now();
      draw();
      parts[name] = Math.round(performance.now() - t);
    }
    window.sweepDash.rows = data.n;
    window.sweepDash.draws++;
    window.sweepDash.lastDrawMs = performance.now() - t0;
    const now = performance.timeOrigin + performance.now();
    for (const at of pendingAt) window.sweepDash.updateLatencies.push(now - at);
    pendingAt = [];
  }
  // At most one redraw per animation frame, at most four a second, and never more than half of the page's time: results
  // may land by the thousand, and hover and scrolling must stay responsive at 100,000 trials.
  let lastDraw = 0;
  function scheduleDraw() {
    if (drawPending || stopped) return;
    drawPending = true;
    const wait = Math.max(0, Math.max(250, window.sweepDash.lastDrawMs || 0) - (performance.now() - lastDraw));
    setTimeout(() => requestAnimationFrame(() => { drawPending = false; lastDraw = performance.now(); if (!stopped) drawAll(); }), wait);
  }

  (async () => {
    try {
      const [points, front] = await Promise.all([getJson(`api/sweeps/${enc}/points`), getJson(`api/sweeps/${enc}/front`)]);
      if (stopped) return;
      const fetched = performance.now();
      appendPoints(data, points);
      view.status = points.status; view.front = front; view.hv = points.hypervolume;
      const appended = performance.now();
      drawAll();
      window.sweepDash.loadParts = { fetch: Math.round(fetched - started), decode: Math.round(appended - fetched),
        draw: Math.round(performance.now() - appended) };
      window.sweepDash.ready = true;
      window.sweepDash.loadMs = performance.now() - started;
      stopStream = stream(`api/sweeps/${enc}/events?from=${data.n}`, (event, payload) => {
        if (event === 'results') {
          if (payload.from !== data.n) return;   // already have these (a reconnect)
          appendRows(data, payload.trials);
          for (const point of payload.hypervolume || []) view.hv.push(point);
          pendingAt.push(payload.at);
        } else if (event === 'status') view.status = payload;
        else if (event === 'front') view.front = payload;
        else if (event === 'end') { scheduleDraw(); return false; }
        scheduleDraw();
      });
    } catch (e) {
      if (e.message !== 'unauthorized') $('#main').innerHTML = `<div class="card"><p class="error">${esc(e.message)}</p></div>`;
    }
  })();
  return { stop() { stopped = true; if (stopStream) stopStream(); plotA.dispose(); plotB.dispose(); $('#conn').textContent = ''; } };
}

// A scatter plot on a canvas: the cloud (sampled past MAX_CLOUD), the front joined on top; hover and click find the
// nearest drawn point through a grid of 10-pixel cells.
function scatter(canvas, sweepId) {
  let hits = new Map(), dpr = 1, info = null;
  const tip = $('#tip');
  const cell = 10;
  function draw(data, xName, yName, front, color) {
    dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = w * dpr; canvas.height = h * dpr;
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const m = { l: 48, r: 12, t: 10, b: 34 };
    const xs = columnOf(data, xName) || [], ys = columnOf(data, yName) || [];
    const X = v => m.l + v * (w - m.l - m.r), Y = v => h - m.b - v * (h - m.t - m.b);
    axes(g, w, h, m, xName, yName);
    hits = new Map();
    const remember = (px, py, i) => {
      const key = Math.floor(px / cell) * 4096 + Math.floor(py / cell);
      if (!hits.has(key)) hits.set(key, []);
      hits.get(key).push([px, py, i]);
    };
    const stride = Math.max(1, Math.ceil(data.n / MAX_CLOUD));
    g.globalAlpha = data.n > 5000 ? 0.35 : 0.6;
    // Points grouped by colour, fillStyle set once per colour: set per point it cost most of a redraw at 20,000 points.
    const groups = new Map();
    for (let i = 0; i < data.n; i += stride) {
      if (data.status[i] !== 'completed' || xs[i] == null || ys[i] == null) continue;
      const px = X(xs[i]), py = Y(ys[i]), c = color(i);
      let group = groups.get(c);
      if (!group) groups.set(c, group = []);
      group.push(px, py);
      remember(px, py, i);
    }
    for (const [c, group] of groups) {
      g.fillStyle = c;
      for (let k = 0; k < group.length; k += 2) g.fillRect(group[k] - 1.5, group[k + 1] - 1.5, 3, 3);
    }
    g.globalAlpha = 1;
    const pts = (front || []).map(p => ({ p, x: p[xName] ?? p.params?.[xName], y: p[yName] ?? p.params?.[yName] }))
      .filter(q => q.x != null && q.y != null).sort((a, b) => a.x - b.x);
    g.strokeStyle = '#1d2330'; g.lineWidth = 1.5; g.beginPath();
    pts.forEach((q, k) => k ? g.lineTo(X(q.x), Y(q.y)) : g.moveTo(X(q.x), Y(q.y)));
    g.stroke();
    const wanted = new Set(pts.map(q => q.p.trialId)), index = new Map();
    for (let i = 0; i < data.n && index.size < wanted.size; i++) if (wanted.has(data.trialId[i])) index.set(data.trialId[i], i);
    for (const q of pts) {
      g.fillStyle = '#ffb000'; g.strokeStyle = '#1d2330'; g.lineWidth = 1;
      g.beginPath(); g.arc(X(q.x), Y(q.y), 4, 0, 2 * Math.PI); g.fill(); g.stroke();
      remember(X(q.x), Y(q.y), index.has(q.p.trialId) ? index.get(q.p.trialId) : { front: q.p });
    }
    info = { data, xName, yName };
  }
  function nearest(ev) {
    const r = canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    let best = null, bestD = 64;
    const cx = Math.floor(x / cell), cy = Math.floor(y / cell);
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++)
      for (const [px, py, i] of hits.get((cx + dx) * 4096 + (cy + dy)) || []) {
        const d = (px - x) ** 2 + (py - y) ** 2;
        if (d < bestD) { bestD = d; best = i; }
      }
    return best;
  }
  function describe(i) {
    const d = info.data;
    if (typeof i === 'object') {
      const p = i.front;
      return [p.trialId, ...Object.entries(p.params).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`),
        `accuracy ${fmt(p.accuracy)}  weight sp. ${fmt(p.weightSparsity)}  node sp. ${fmt(p.nodeSparsity)}`].join('\n');
    }
    const lines = [d.trialId[i]];
    for (const name of varying(d)) lines.push(`${name}: ${d.params[name][i]}`);
    lines.push(`accuracy ${fmt(d.accuracy[i])}  weight sp. ${fmt(d.weightSparsity[i])}  node sp. ${fmt(d.nodeSparsity[i])}`);
    return lines.join('\n');
  }
  const move = ev => {
    const i = info && nearest(ev);
    if (i == null) { tip.hidden = true; canvas.style.cursor = ''; return; }
    tip.textContent = describe(i);
    tip.style.left = (ev.clientX + 14) + 'px'; tip.style.top = (ev.clientY + 10) + 'px';
    tip.hidden = false; canvas.style.cursor = 'pointer';
  };
  const click = ev => {
    const i = info && nearest(ev);
    if (i == null) return;
    const trial = typeof i === 'object' ? i.front.trialId : info.data.trialId[i];
    tip.hidden = true;
    location.hash = `#/sweep/${encodeURIComponent(sweepId)}/trial/${encodeURIComponent(trial)}`;
  };
  const leave = () => { tip.hidden = true; };
  canvas.addEventListener('mousemove', move);
  canvas.addEventListener('click', click);
  canvas.addEventListener('mouseleave', leave);
  return { draw, dispose() { tip.hidden = true; } };
}

function axes(g, w, h, m, xName, yName) {
  g.strokeStyle = '#c9d0dc'; g.fillStyle = '#6b7487'; g.lineWidth = 1; g.font = '11px "DejaVu Sans", sans-serif';
  for (let k = 0; k <= 5; k++) {
    const v = k / 5, x = m.l + v * (w - m.l - m.r), y = h - m.b - v * (h - m.t - m.b);
    g.beginPath(); g.moveTo(x, m.t); g.lineTo(x, h - m.b); g.moveTo(m.l, y); g.lineTo(w - m.r, y); g.stroke();
    g.textAlign = 'center'; g.fillText(v.toFixed(1), x, h - m.b + 14);
    g.textAlign = 'right'; g.fillText(v.toFixed(1), m.l - 6, y + 4);
  }
  g.textAlign = 'center'; g.fillStyle = '#1d2330';
  g.fillText(xName, (m.l + w - m.r) / 2, h - 4);
  g.save(); g.translate(12, (m.t + h - m.b) / 2); g.rotate(-Math.PI / 2); g.fillText(yName, 0, 0); g.restore();
}

// An SVG line chart of several series [[x, y], …].
function lineChart(series, xLabel, yLabel, width = 640, height = 260) {
  const m = { l: 52, r: 14, t: 26, b: 36 };   // the legend sits in the top margin, above the data
  const all = series.flatMap(s => s.points);
  if (all.length === 0) return '<p class="muted">No data.</p>';
  let [x0, x1] = minMax(all.map(p => p[0]));
  let [y0, y1] = minMax(all.map(p => p[1]));
  y0 = Math.min(0, y0);
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) y1 = y0 + 1;
  const X = v => m.l + (v - x0) / (x1 - x0) * (width - m.l - m.r), Y = v => height - m.b - (v - y0) / (y1 - y0) * (height - m.t - m.b);
  let svg = `<svg viewBox="0 0 ${width} ${height}" font-size="11" font-family="DejaVu Sans, sans-serif">`;
  // x ticks: whole numbers when every x is one (epochs, trial counts), else quarters of the range.
  const whole = all.every(p => Number.isInteger(p[0])), step = whole ? Math.max(1, Math.ceil((x1 - x0) / 4)) : (x1 - x0) / 4;
  for (let k = 0; k <= 4; k++) {
    const vy = y0 + (y1 - y0) * k / 4;
    svg += `<line x1="${m.l}" x2="${width - m.r}" y1="${Y(vy)}" y2="${Y(vy)}" stroke="#e3e7ee"/>`;
    svg += `<text x="${m.l - 6}" y="${Y(vy) + 4}" text-anchor="end" fill="#6b7487">${fmt(vy, 3)}</text>`;
  }
  for (let vx = x0; vx <= x1 + 1e-9; vx += step)
    svg += `<text x="${X(vx)}" y="${height - m.b + 14}" text-anchor="middle" fill="#6b7487">${whole ? vx : +vx.toPrecision(3)}</text>`;
  svg += `<text x="${(m.l + width - m.r) / 2}" y="${height - 4}" text-anchor="middle">${esc(xLabel)}</text>`;
  if (yLabel) svg += `<text x="12" y="${m.t + 10}">${esc(yLabel)}</text>`;
  series.forEach((s, k) => {
    const pts = s.points.filter(p => p[1] != null);
    svg += `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(p => X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1)).join(' ')}"/>`;
    if (pts.length <= 60) for (const p of pts) svg += `<circle cx="${X(p[0])}" cy="${Y(p[1])}" r="2.5" fill="${s.color}"/>`;
    svg += `<rect x="${m.l + 10 + k * 150}" y="4" width="10" height="10" fill="${s.color}"/>`
      + `<text x="${m.l + 24 + k * 150}" y="13">${esc(s.name)}</text>`;
  });
  return svg + '</svg>';
}

// Bins of a numeric column: its distinct values when there are few, else 12 equal bins (logarithmic for λ-like ranges).
// One pass, no sort: at 100,000 random values a sort of the distinct ones cost more than the rest of a redraw.
function bins(values) {
  let seen = new Set(), lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v == null) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (seen && !seen.has(v)) { seen.add(v); if (seen.size > 12) seen = null; }
  }
  if (seen) {
    const distinct = [...seen].sort((a, b) => a - b);
    return { labels: distinct.map(v => fmt(v, 3)), of: v => distinct.indexOf(v) };
  }
  const log = lo > 0 && hi / lo > 100;
  const f = log ? Math.log10 : v => v, a = f(lo), b = f(hi), n = 12;
  const labels = [];
  for (let k = 0; k < n; k++) { const v = a + (b - a) * (k + 0.5) / n; labels.push(fmt(log ? 10 ** v : v, 3)); }
  return { labels, of: v => Math.min(n - 1, Math.floor((f(v) - a) / (b - a) * n)) };
}

// A sequential colour ramp over [0, 1] (dark blue → green → yellow, as viridis), by linear steps between five stops.
const RAMP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function ramp(v) {
  const t = Math.max(0, Math.min(1, v)) * (RAMP.length - 1), k = Math.min(RAMP.length - 2, Math.floor(t)), f = t - k;
  const c = RAMP[k].map((a, j) => Math.round(a + (RAMP[k + 1][j] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function heatMap(data, xName, yName, metric) {
  const xs = data.params[xName], ys = data.params[yName], zs = data[metric];
  const bx = bins(xs), by = bins(ys);
  const nx = bx.labels.length, ny = by.labels.length;
  const sum = new Float64Array(nx * ny), count = new Uint32Array(nx * ny);
  for (let i = 0; i < data.n; i++) {
    if (data.status[i] !== 'completed' || xs[i] == null || ys[i] == null || zs[i] == null) continue;
    const k = by.of(ys[i]) * nx + bx.of(xs[i]);
    sum[k] += zs[i]; count[k]++;
  }
  const cw = 46, ch = 24, l = 74, t = 8, b = 40;
  const width = l + nx * cw + 10, height = t + ny * ch + b;
  let svg = `<svg viewBox="0 0 ${width} ${height}" style="max-width:${width * 1.4}px" font-size="10" font-family="DejaVu Sans, sans-serif">`;
  for (let j = 0; j < ny; j++) {
    svg += `<text x="${l - 4}" y="${t + (ny - 1 - j) * ch + 15}" text-anchor="end" fill="#6b7487">${by.labels[j]}</text>`;
    for (let i = 0; i < nx; i++) {
      const k = j * nx + i, v = count[k] ? sum[k] / count[k] : null;
      const x = l + i * cw, y = t + (ny - 1 - j) * ch;
      const fill = v == null ? '#f1f3f7' : ramp(v);
      svg += `<rect x="${x}" y="${y}" width="${cw - 1}" height="${ch - 1}" fill="${fill}"><title>${esc(yName)} ${by.labels[j]}, ${esc(xName)} ${bx.labels[i]}: ${v == null ? 'no trial' : fmt(v) + ' (' + count[k] + ' trials)'}</title></rect>`;
      if (v != null) svg += `<text x="${x + cw / 2}" y="${y + 15}" text-anchor="middle" fill="${v > 0.55 ? '#1d2330' : '#fff'}">${v.toFixed(2)}</text>`;
    }
  }
  for (let i = 0; i < nx; i++) svg += `<text x="${l + i * cw + cw / 2}" y="${t + ny * ch + 13}" text-anchor="middle" fill="#6b7487">${bx.labels[i]}</text>`;
  svg += `<text x="${l + nx * cw / 2}" y="${height - 6}" text-anchor="middle">${esc(xName)} →</text>`;
  return svg + `</svg><p class="muted">rows: ${esc(yName)}; columns: ${esc(xName)}; cells: mean ${esc(metric)}</p>`;
}

// ---- one trial ----------------------------------------------------------------------------------------------------
function trialPage(sweepId, trialId) {
  crumbs([['sweeps', '#/'], [sweepId, '#/sweep/' + encodeURIComponent(sweepId)], [trialId]]);
  let stopped = false, timer = null;
  $('#main').innerHTML = `<h1>${esc(trialId)}</h1><div id="trial"><p class="muted">Loading…</p></div>`;
  async function load() {
    try {
      const t = await getJson(`api/sweeps/${encodeURIComponent(sweepId)}/trials/${encodeURIComponent(trialId)}`);
      if (stopped) return;
      if (t.status === 'running') {
        $('#trial').innerHTML = `<div class="card"><p>${stateBadge('running')} epoch ${t.epoch} of ${t.epochs} on ${esc(t.silo)}</p>${progressBar(t.epoch, t.epochs)}</div>`;
        timer = setTimeout(load, 2000);
        return;
      }
      const epochs = t.epochs || [], layers = t.layers || [];
      const params = Object.entries(t.params || {}).map(([k, v]) =>
        `<tr><td>${esc(k)}</td><td>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`).join('');
      const curve = (names, label) => lineChart(names.map((n, k) => ({ name: n, color: PALETTE[k], points: epochs.map(e => [e.epoch, e[n]]) })), 'epoch', label, 520, 240);
      const hidden = layers.filter(l => l.nodes > 0);
      $('#trial').innerHTML = `
        <div class="stats">
          <div class="stat"><b>${stateBadge(t.status)}</b><span>${t.error ? esc(t.error) : 'status'}</span></div>
          <div class="stat"><b>${fmt(t.accuracy)}</b><span>accuracy</span></div>
          <div class="stat"><b>${fmt(t.weightSparsity)}</b><span>weight sparsity</span></div>
          <div class="stat"><b>${fmt(t.nodeSparsity)}</b><span>node sparsity</span></div>
          <div class="stat"><b>${fmt(t.seconds, 2)} s</b><span>on ${esc(t.silo)} (${esc(t.device)}), attempt ${t.attempts}</span></div>
        </div>
        <div class="grid">
          <div class="card"><h2>Loss and accuracy per epoch</h2>${epochs.length ? curve(['loss', 'accuracy'], '') : '<p class="muted">No epochs.</p>'}</div>
          <div class="card"><h2>Sparsity per epoch</h2>${epochs.length ? curve(['weightSparsity', 'nodeSparsity'], '') : '<p class="muted">No epochs.</p>'}</div>
          <div class="card"><h2>Dead nodes per layer</h2>${layerBars(hidden)}
            <table><thead><tr><th>layer</th><th>weights</th><th>zero weights</th><th>nodes</th><th>dead nodes</th></tr></thead><tbody>
            ${layers.map(l => `<tr><td>${esc(l.name)}</td><td class="num">${l.weights}</td><td class="num">${l.zeroWeights}</td><td class="num">${l.nodes}</td><td class="num">${l.deadNodes}</td></tr>`).join('')}
            </tbody></table></div>
          <div class="card"><h2>Parameters</h2><table><tbody>${params}</tbody></table></div>
        </div>`;
      window.sweepDash.ready = true;
    } catch (e) {
      if (e.message !== 'unauthorized' && !stopped) $('#trial').innerHTML = `<div class="card"><p class="error">${esc(e.message)}</p></div>`;
    }
  }
  load();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

function layerBars(layers) {
  if (layers.length === 0) return '<p class="muted">No hidden layers with nodes.</p>';
  const w = 520, bh = 22, l = 70, h = layers.length * bh + 10;
  let svg = `<svg viewBox="0 0 ${w} ${h}" font-size="11" font-family="DejaVu Sans, sans-serif">`;
  layers.forEach((layer, k) => {
    const f = layer.nodes ? layer.deadNodes / layer.nodes : 0, y = 5 + k * bh;
    svg += `<text x="${l - 6}" y="${y + 14}" text-anchor="end">${esc(layer.name)}</text>`;
    svg += `<rect x="${l}" y="${y}" width="${w - l - 90}" height="${bh - 6}" fill="#e3e7ee"/>`;
    svg += `<rect x="${l}" y="${y}" width="${(w - l - 90) * f}" height="${bh - 6}" fill="#e8663d"/>`;
    svg += `<text x="${w - 84}" y="${y + 14}">${layer.deadNodes} / ${layer.nodes} (${(100 * f).toFixed(0)} %)</text>`;
  });
  return svg + '</svg>';
}
