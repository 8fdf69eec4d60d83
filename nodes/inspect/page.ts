/**
 * The web inspector's page: plain HTML and vanilla JS (no framework, no CDN), served by
 * web-server.ts. The statechart is an SVG drawn from the machine graph (nested boxes, arrows
 * for transitions), the current state highlighted; live updates come over server-sent events.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kubeact inspector</title>
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 0; display: flex; height: 100vh; color: #222; }
  #side { width: 320px; overflow: auto; border-right: 1px solid #ccc; padding: 8px; background: #fafafa; }
  #main { flex: 1; overflow: auto; padding: 8px 16px; }
  h1 { font-size: 16px; margin: 4px 0 8px; }
  h3 { font-size: 12px; margin: 10px 0 2px; color: #555; text-transform: uppercase; }
  ul { list-style: none; margin: 0; padding: 0 0 0 8px; }
  li.actor { cursor: pointer; padding: 2px 4px; border-radius: 3px; display: flex; justify-content: space-between; gap: 8px; }
  li.actor:hover, li.actor.selected { background: #dde8ff; }
  li.actor .state { font-family: monospace; color: #064; }
  li.actor.gone .state { color: #999; text-decoration: line-through; }
  table { border-collapse: collapse; font-family: monospace; font-size: 12px; }
  td, th { padding: 1px 8px; text-align: left; border-bottom: 1px solid #eee; }
  tr.current { background: #ffefb0; }
  pre { background: #f4f4f4; padding: 6px; max-height: 300px; overflow: auto; font-size: 11px; }
  svg rect { fill: #fff; stroke: #888; }
  svg rect.active { fill: #c8f0c8; stroke: #080; stroke-width: 2; }
  svg text { font: 11px monospace; }
  svg line { stroke: #999; marker-end: url(#arrow); }
  #why li { padding: 1px 0; }
  .muted { color: #888; }
</style>
</head>
<body>
<div id="side"><h1>kubeact inspector</h1><div id="status" class="muted">connecting…</div><div id="actors"></div></div>
<div id="main">
  <h2 id="title" class="muted">Select an actor</h2>
  <div id="summary"></div>
  <h3>Statechart</h3><div id="chartbox"></div>
  <h3>Timeline</h3><input id="timeline" type="range" min="0" max="0" value="0" style="width: 100%"><div id="step" class="muted"></div>
  <h3>Why</h3><ul id="why"></ul>
  <h3>Transitions</h3><table id="log"></table>
  <h3>Context</h3><pre id="context"></pre>
</div>
<script src="/app.js"></script>
</body>
</html>
`;

export const PAGE_SCRIPT = String.raw`
'use strict';
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const graphs = {};
let selected = null;
let history = null;
let step = -1; // -1: live (latest)

function fmtValue(v, nested) {
  if (v === null || v === undefined) return '-';
  if (typeof v !== 'object') return String(v);
  const parts = Object.entries(v).map(([k, x]) => (x && typeof x === 'object' && !Object.keys(x).length) ? k : k + '.' + fmtValue(x, true));
  if (parts.length > 1) return nested ? '(' + parts.join(', ') + ')' : parts.join(', ');
  return parts[0] || '-';
}

function activeIds(prefix, value, out) {
  if (value === null || value === undefined) return out;
  if (typeof value !== 'object') { out.add(prefix + '.' + value); return out; }
  for (const [k, v] of Object.entries(value)) { out.add(prefix + '.' + k); activeIds(prefix + '.' + k, v, out); }
  return out;
}

async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(url + ': ' + r.status);
  return r.json();
}

async function loadActors() {
  const actors = await getJson('/api/actors');
  const groups = {};
  for (const a of actors) {
    const g = a.kind + (a.namespace !== undefined ? ' · ' + a.namespace : '') + ' · ' + a.process;
    (groups[g] = groups[g] || []).push(a);
  }
  const html = Object.keys(groups).sort().map((g) => '<h3>' + esc(g) + '</h3><ul>' + groups[g].map((a) => {
    const gone = a.status !== 'active';
    return '<li class="actor' + (gone ? ' gone' : '') + (a.key === selected ? ' selected' : '') + '" data-key="' + esc(a.key) + '" data-kind="' + esc(a.kind) + '" data-name="' + esc(a.name) + '" data-status="' + esc(a.status) + '">'
      + '<span class="name">' + esc(a.name) + '</span><span class="state">' + esc(a.state) + (gone ? ' (' + esc(a.status) + ')' : '') + '</span></li>';
  }).join('') + '</ul>').join('');
  $('actors').innerHTML = html || '<div class="muted">no actors yet</div>';
  for (const li of document.querySelectorAll('li.actor')) li.onclick = () => select(li.dataset.key);
}

async function select(key) {
  selected = key;
  step = -1;
  for (const li of document.querySelectorAll('li.actor')) li.classList.toggle('selected', li.dataset.key === key);
  await loadHistory();
}

async function loadHistory() {
  if (!selected) return;
  history = await getJson('/api/history?key=' + encodeURIComponent(selected));
  const m = history.state && history.state.machine;
  if (m && !graphs[m]) graphs[m] = await getJson('/api/machine?id=' + encodeURIComponent(m)).catch(() => null);
  render();
}

function rootSnapshots() {
  return history.records.filter((r) => r.root && r.type === 'snapshot');
}

function render() {
  const s = history.state;
  if (!s) return;
  $('title').textContent = s.kind + ' ' + (s.namespace !== undefined ? s.namespace + '/' : '') + s.name;
  $('title').className = '';
  const snaps = rootSnapshots();
  const tl = $('timeline');
  tl.max = String(Math.max(0, snaps.length - 1));
  const idx = step < 0 ? snaps.length - 1 : Math.min(step, snaps.length - 1);
  tl.value = String(idx);
  const at = snaps[idx];
  const live = step < 0;
  $('step').textContent = at ? ('step ' + (idx + 1) + ' of ' + snaps.length + ' · ' + new Date(at.ts).toISOString().slice(11, 23) + ' · after ' + (at.event ? at.event.type : '-') + (live ? ' · live' : '')) : '';
  $('summary').innerHTML = '<span id="current-state" data-state="' + esc(at ? fmtValue(at.value) : s.state) + '">state <b>' + esc(at ? fmtValue(at.value) : s.state) + '</b></span> · status <b id="current-status">' + esc(at ? at.status : s.status) + '</b> · process ' + esc(s.process)
    + (Object.keys(s.children).length ? ' · ' + Object.entries(s.children).map(([k, v]) => esc(k) + '=' + esc(v)).join(', ') : '');
  drawChart(at);
  $('log').innerHTML = '<tr><th>time</th><th>actor</th><th>event</th><th>from</th><th>to</th></tr>' + history.transitions.map((t) =>
    '<tr class="' + (at && t.ts === at.ts && t.actor === s.kind.toLowerCase() ? 'current' : '') + '"><td>' + new Date(t.ts).toISOString().slice(11, 23) + '</td><td>' + esc(t.actor) + '</td><td>' + esc(t.event) + '</td><td>' + esc(t.from) + '</td><td>' + esc(t.to + (t.status ? ' (' + t.status + ')' : '')) + '</td></tr>').join('');
  $('context').textContent = JSON.stringify(at ? at.context : null, null, 2);
  renderWhy(s.kind, at ? at.context : null);
}

function renderWhy(kind, c) {
  const items = [];
  if (c && kind === 'Pod') {
    for (const ct of c.containers || []) {
      items.push('container ' + ct.name + ': ' + ct.phase + (ct.waiting ? ' — ' + ct.waiting.reason + (ct.waiting.message ? ': ' + ct.waiting.message : '') : '') + ', restarts ' + ct.restartCount
        + (ct.lastTerminated ? ', last exit ' + JSON.stringify(ct.lastTerminated.exitCode) + ' (' + (ct.lastTerminated.reason || '') + ')' : ''));
    }
    if (c.backoff) items.push('back-off: initial ' + c.backoff.initialMs + ' ms, max ' + c.backoff.maxMs + ' ms, reset after ' + c.backoff.resetMs + ' ms');
    for (const [type, cond] of Object.entries(c.conditions || {})) items.push('condition ' + type + '=' + (cond.status !== undefined ? cond.status : JSON.stringify(cond)) + (cond.reason ? ' (' + cond.reason + ')' : ''));
    const ps = c.pod && c.pod.status;
    if (ps && ps.conditions) for (const cd of ps.conditions) if (cd.status !== 'True' && cd.message) items.push(cd.type + ': ' + cd.message);
    if (c.deletion) items.push('being deleted, grace ' + c.deletion.graceMs + ' ms');
  } else if (c && kind === 'ReplicaSet') {
    const spec = (c.rs && c.rs.spec) || {};
    items.push('desired replicas ' + spec.replicas + ', pods owned ' + Object.keys(c.pods || {}).length);
    if (c.expectations) items.push('expectations: ' + JSON.stringify(c.expectations));
    if (c.effect) items.push('effect in flight: ' + JSON.stringify(c.effect).slice(0, 200));
  } else if (c && kind === 'Deployment') {
    const spec = (c.deployment && c.deployment.spec) || {};
    const st = c.status || {};
    items.push('desired replicas ' + spec.replicas + ', updated ' + (st.updatedReplicas || 0) + ', ready ' + (st.readyReplicas || 0) + ', available ' + (st.availableReplicas || 0));
    for (const cd of st.conditions || []) items.push(cd.type + '=' + cd.status + ' ' + (cd.reason || '') + (cd.message ? ': ' + cd.message : ''));
  } else if (c && kind === 'Node') {
    items.push('last heartbeat ' + Math.round((c.lastNow - c.renewedAt) / 100) / 10 + ' s before the last check; grace ' + c.gracePeriodMs + ' ms, eviction after ' + c.evictionTolerationMs + ' ms');
    if (c.unreachableSince) items.push('unreachable since ' + new Date(c.unreachableSince).toISOString());
  } else if (c && kind === 'HorizontalPodAutoscaler') {
    const spec = (c.hpa && c.hpa.spec) || {};
    const ref = spec.scaleTargetRef || {};
    const d = c.decision;
    items.push('target ' + ref.kind + '/' + ref.name + ', replicas ' + spec.minReplicas + '..' + spec.maxReplicas + ', sync every ' + c.syncPeriodMs + ' ms');
    if (d) items.push('last decision: ' + d.currentReplicas + ' → ' + d.desiredReplicas + ' replicas' + (d.rescale ? ' (rescale)' : ''));
    if (d) for (const cd of d.conditions || []) items.push(cd.type + '=' + cd.status + ' ' + (cd.reason || '') + (cd.message ? ': ' + cd.message : ''));
    if (c.error) items.push('last sync failed: ' + c.error);
  } else if (c && kind === 'Scheduler') {
    items.push('queue: ' + (c.queue || []).join(', '));
    for (const [k, why] of Object.entries(c.parked || {})) items.push('parked ' + k + ': ' + why + (c.reported && c.reported[k] ? ' — ' + c.reported[k] : ''));
  }
  $('why').innerHTML = items.map((i) => '<li>' + esc(i) + '</li>').join('') || '<li class="muted">nothing to explain</li>';
}

// --- statechart: nested boxes, children in rows of up to 4, arrows between drawn states
const LEAF_W = 150, LEAF_H = 34, PAD = 10, HEAD = 18, PER_ROW = 4;
function layout(node) {
  if (!node.states.length) { node.w = LEAF_W; node.h = LEAF_H; return node; }
  node.states.forEach(layout);
  let x = PAD, y = HEAD + PAD, rowH = 0, w = 0;
  node.states.forEach((c, i) => {
    if (i && i % PER_ROW === 0) { x = PAD; y += rowH + PAD * 3; rowH = 0; }
    c.x = x; c.y = y; x += c.w + PAD * 3; rowH = Math.max(rowH, c.h); w = Math.max(w, x);
  });
  node.w = w; node.h = y + rowH + PAD;
  return node;
}

function drawChart(at) {
  const m = history.state.machine;
  const g = m && graphs[m];
  if (!g) { $('chartbox').innerHTML = '<div class="muted">no machine graph</div>'; return; }
  const root = layout(JSON.parse(JSON.stringify(g.root)));
  const active = activeIds(g.id, at ? at.value : null, new Set());
  const pos = {};
  const boxes = [];
  (function walk(n, ox, oy, depth) {
    const x = ox + (n.x || 0), y = oy + (n.y || 0);
    pos[n.id] = { x, y, w: n.w, h: n.h };
    if (depth > 0) {
      boxes.push('<g><rect data-state-id="' + esc(n.id) + '" class="' + (active.has(n.id) ? 'active' : '') + '" x="' + x + '" y="' + y + '" width="' + n.w + '" height="' + n.h + '" rx="6"></rect>'
        + '<text x="' + (x + 6) + '" y="' + (y + 13) + '">' + esc(n.key) + (n.type === 'final' ? ' ◎' : '') + '</text></g>');
    }
    for (const c of n.states) walk(c, x, y, depth + 1);
  })(root, 0, 0, 0);
  const arrows = [];
  (function edges(n) {
    for (const t of n.transitions) for (const target of t.targets) {
      const a = pos[n.id], b = pos[target];
      if (!a || !b || n.id === root.id || target === n.id) continue;
      const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y;
      arrows.push('<line x1="' + x1 + '" y1="' + y1 + '" x2="' + x2 + '" y2="' + y2 + '"></line><text class="edge" x="' + ((x1 + x2) / 2 + 3) + '" y="' + ((y1 + y2) / 2) + '" fill="#666">' + esc(t.event) + '</text>');
    }
    n.states.forEach(edges);
  })(root);
  $('chartbox').innerHTML = '<svg id="chart" data-machine="' + esc(g.id) + '" width="' + (root.w + 40) + '" height="' + (root.h + 20) + '"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#999"/></marker></defs>'
    + boxes.join('') + arrows.join('') + '</svg>';
}

$('timeline').oninput = (e) => {
  if (!history) return;
  const v = Number(e.target.value);
  step = v >= rootSnapshots().length - 1 ? -1 : v;
  render();
};

let pendingList = null, pendingHistory = null;
function connect() {
  const es = new EventSource('/api/stream');
  es.onopen = () => { $('status').textContent = 'live'; };
  es.onerror = () => { $('status').textContent = 'reconnecting…'; };
  es.onmessage = (msg) => {
    const records = JSON.parse(msg.data);
    clearTimeout(pendingList);
    pendingList = setTimeout(() => loadActors().catch(() => {}), 150);
    if (selected && records.some((r) => (r.kind + '/' + (r.namespace === undefined ? '_' : r.namespace) + '/' + r.name) === selected)) {
      clearTimeout(pendingHistory);
      pendingHistory = setTimeout(() => loadHistory().catch(() => {}), 150);
    }
  };
}

loadActors().catch((e) => { $('status').textContent = String(e); });
connect();
`;
