// edgelab dashboard: one page, five views, fed by Server-Sent Events from
// /api/events (a full State per round). Everything is drawn as plain SVG
// and DOM; no library. Times are shown in the viewer's locale.
'use strict';

const VIEWS = ['network', 'rollout', 'traffic', 'functions', 'chaos'];
// Okabe-Ito, for regions (each also labelled by name).
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
const STATE_ICON = { up: '✓', behind: '⟳', down: '✕', unhealthy: '!' };
const SVGNS = 'http://www.w3.org/2000/svg';

const app = {
  data: null, view: 'network', es: null, lastEvent: 0, replicas: [],
  compare: new Set(), rolloutKey: '', failing: false, note: '', newest: '',
};

// ---- DOM helpers ---------------------------------------------------------
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  for (const k of kids.flat()) if (k != null) e.append(k instanceof Node ? k : String(k));
  return e;
}
function sv(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  setAttrs(e, attrs);
  for (const k of kids.flat()) if (k != null) e.append(k instanceof Node ? k : String(k));
  return e;
}
function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'style') {
      // The page's CSP forbids style attributes; CSSOM properties are fine.
      for (const decl of String(v).split(';')) {
        const i = decl.indexOf(':');
        if (i > 0) e.style.setProperty(decl.slice(0, i).trim(), decl.slice(i + 1).trim());
      }
    }
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
}
const $ = (id) => document.getElementById(id);
// fill replaces a container's content. The views are redrawn every round,
// so what the user did in the old content carries over by data-key: the
// keyboard focus, and which disclosure widgets (details) are open.
function fill(id, ...kids) {
  const e = $(id);
  const a = document.activeElement;
  const focusKey = a && a !== e && e.contains(a) && a.dataset ? a.dataset.key : null;
  const open = new Map([...e.querySelectorAll('details[data-key]')].map((d) => [d.dataset.key, d.open]));
  e.replaceChildren(...kids.flat().filter((k) => k != null));
  for (const d of e.querySelectorAll('details[data-key]')) if (open.has(d.dataset.key)) d.open = open.get(d.dataset.key);
  if (focusKey) {
    const n = e.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (n) n.focus();
  }
  return e;
}
const fmtTime = (t) => new Date(t).toLocaleTimeString();
const fmtDateTime = (t) => new Date(t).toLocaleString();
function fmtNum(v, digits = 1) { return v == null ? '–' : Number(v).toLocaleString(undefined, { maximumFractionDigits: digits }); }
function fmtMs(ms) { return ms == null ? '–' : ms < 1000 ? `${fmtNum(ms, ms < 10 ? 2 : 0)} ms` : `${fmtNum(ms / 1000, 2)} s`; }
function fmtPct(v) { return v == null ? '–' : `${fmtNum(v * 100, 0)} %`; }
function ago(t) { const s = (Date.now() - new Date(t)) / 1000; return s < 0 ? 'now' : s < 90 ? `${fmtNum(s, 1)} s ago` : fmtTime(t); }
function regionColours(d) {
  const names = new Set();
  for (const r of d.network.regions) names.add(r.name);
  for (const r of d.traffic.regions) names.add(r.name);
  for (const ro of d.rollouts) for (const n of ro.nodes) names.add(n.region);
  const sorted = [...names].sort();
  const m = {};
  sorted.forEach((n, i) => { m[n] = PALETTE[i % PALETTE.length]; });
  return m;
}
// nodeList is a short "n nodes (x PoP, y REC)" that opens to the names.
function nodeList(key, ids, tierOf) {
  if (!ids.length) return 'none';
  const by = {};
  for (const id of ids) (by[tierOf[id] || 'pop'] = by[tierOf[id] || 'pop'] || []).push(id);
  const parts = Object.entries(by).sort().map(([t, l]) => `${l.length} ${tierName(t)}`);
  return el('details', { 'data-key': key }, el('summary', { 'data-key': key + '/summary' }, `${ids.length} node${ids.length > 1 ? 's' : ''} (${parts.join(', ')})`),
    el('span', { class: 'hint' }, ids.join(', ')));
}
function tiersByNode(d) {
  const m = {};
  for (const r of d.network.regions) for (const n of r.nodes) m[n.id] = n.tier;
  return m;
}
function table(headers, rows, attrs) {
  return el('table', attrs,
    el('thead', null, el('tr', null, headers.map((h) => el('th', { scope: 'col', class: h.num ? 'num' : null }, h.label || h)))),
    el('tbody', null, rows.length ? rows : el('tr', null, el('td', { colspan: headers.length, class: 'hint' }, 'nothing yet'))));
}

// ---- routing -------------------------------------------------------------
function viewFromPath() {
  const v = location.pathname.replace(/^\//, '').replace(/\/$/, '');
  return VIEWS.includes(v) ? v : 'network';
}
function show(view, focus) {
  app.view = view;
  for (const v of VIEWS) $('view-' + v).hidden = v !== view;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${view[0].toUpperCase()}${view.slice(1)} · edgelab dashboard`;
  render();
  if (focus) $('main').focus();
}
document.addEventListener('click', (ev) => {
  const a = ev.target.closest('nav a');
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  ev.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  show(a.dataset.view, true);
});
window.addEventListener('popstate', () => show(viewFromPath(), false));

// ---- connection and failover --------------------------------------------
function setConn(state, text) {
  const c = $('conn');
  c.dataset.state = state;
  c.textContent = text;
}
function banner(text) {
  const b = $('banner');
  b.hidden = !text;
  b.textContent = text || '';
}
function connect() {
  if (app.es) app.es.close();
  const es = new EventSource('/api/events');
  app.es = es;
  es.addEventListener('state', (e) => {
    app.lastEvent = Date.now();
    app.data = JSON.parse(e.data);
    if (app.data.replicas && app.data.replicas.length) app.replicas = app.data.replicas;
    app.failing = false;
    banner(app.note);
    setConn('live', `live from ${app.data.replica}`);
    render();
  });
  es.addEventListener('bye', () => lost('is shutting down'));
  es.onerror = () => lost('stopped answering');
}
function myReplica() {
  const self = app.replicas.find((r) => new URL(r.url).origin === location.origin);
  return self ? self.id : (app.data ? app.data.replica : 'this replica');
}
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
async function reachable(url, sameOrigin) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 1500);
  try {
    // Another replica is another origin: an opaque (no-cors) answer is
    // enough to know it is up; the page then moves there.
    const r = await fetch(new URL('api/replicas', url), { mode: sameOrigin ? 'same-origin' : 'no-cors', cache: 'no-store', signal: ctl.signal });
    return sameOrigin ? r.ok : true;
  } catch (_) {
    return false;
  } finally {
    clearTimeout(t);
  }
}
async function lost(why) {
  if (app.failing) return;
  app.failing = true;
  if (app.es) { app.es.close(); app.es = null; }
  const me = myReplica();
  for (let attempt = 1; ; attempt++) {
    setConn('lost', `${me} lost`);
    const others = app.replicas.filter((r) => new URL(r.url).origin !== location.origin);
    banner(`The control-plane replica serving this page (${me}, ${location.host}) ${why}. ` +
      (others.length ? `Trying ${others.map((r) => `${r.id || ''} ${new URL(r.url).host}`).join(', ')} (attempt ${attempt})…`
        : `No other replica is known; retrying (attempt ${attempt})…`));
    // Our own replica may be back (or only restarting its stream): it
    // counts when it sends a state within a few seconds.
    if (await reachable(location.origin + '/', true)) {
      const before = app.lastEvent;
      connect();
      await sleep(3000);
      if (app.lastEvent > before) return;
      if (app.es) { app.es.close(); app.es = null; }
    }
    for (const r of others) {
      if (await reachable(r.url, false)) {
        setConn('moving', `moving to ${r.id || new URL(r.url).host}`);
        banner(`${me} is down. Moving to replica ${r.id || ''} at ${new URL(r.url).host}…`);
        const to = new URL(location.pathname + location.search, r.url);
        to.searchParams.set('from', me);
        location.assign(to.toString());
        return;
      }
    }
    await sleep(2000);
  }
}
function tick() {
  $('footer-time').textContent = `now ${fmtTime(Date.now())}`;
  if (!app.failing && app.lastEvent && Date.now() - app.lastEvent > 5000) {
    setConn('stale', `no update for ${fmtNum((Date.now() - app.lastEvent) / 1000, 0)} s`);
  }
}
tick();
setInterval(tick, 1000);

// ---- rendering -----------------------------------------------------------
function render() {
  const d = app.data;
  if (!d) return;
  const errs = d.errors.filter((e) => e !== 'starting');
  if (!app.failing) banner(errs.length ? `${d.replica} could not read: ${errs.join('; ')}` : app.note);
  ({ network: renderNetwork, rollout: renderRollout, traffic: renderTraffic, functions: renderFunctions, chaos: renderChaos })[app.view](d, regionColours(d));
}

function stateLegend() {
  return Object.entries({ up: 'up to date', behind: 'behind the desired revision', unhealthy: 'unhealthy', down: 'down / detached' })
    .map(([s, label]) => el('span', null, el('span', { class: 'node', 'data-state': s, style: 'display:inline-grid;padding:0;margin:0;background:none;border:0' },
      el('span', { class: 'icon', 'aria-hidden': 'true' }, STATE_ICON[s])), label));
}

const TIER_NAME = { pop: 'PoP', rec: 'REC' };
const TIER_LONG = { pop: 'edge locations (PoPs)', rec: 'regional edge caches (RECs)' };
function tierName(t) { return TIER_NAME[t] || t || 'PoP'; }
function renderNetwork(d, colours) {
  const counts = { up: 0, behind: 0, unhealthy: 0, down: 0 };
  for (const r of d.network.regions) for (const n of r.nodes) counts[n.state]++;
  fill('network-summary', `Desired revision `, el('b', null, d.network.desired), ` · `,
    Object.entries(counts).map(([s, c]) => `${c} ${s}`).join(' · '), ` · served by `, el('b', null, d.replica));
  fill('network-tiers', table(['tier', { label: 'nodes', num: 1 }, { label: 'up', num: 1 }, { label: 'behind', num: 1 }, { label: 'unhealthy', num: 1 }, { label: 'down', num: 1 }],
    (d.network.tiers || []).map((t) => el('tr', { 'data-tier': t.tier },
      el('th', { scope: 'row' }, TIER_LONG[t.tier] || t.tier), el('td', { class: 'num' }, t.nodes),
      ['up', 'behind', 'unhealthy', 'down'].map((s) => el('td', { class: 'num' + (s !== 'up' && t.byState[s] ? ' warn' : ''), 'data-state': s }, t.byState[s] || 0)))),
    { class: 'compact', 'aria-label': 'Nodes per tier and state' }));
  if (!$('network-legend').childElementCount) fill('network-legend', stateLegend(), el('span', null, el('span', { class: 'tier', 'data-tier': 'rec' }, 'REC'), 'regional edge cache'));
  fill('network-regions', d.network.regions.map((r) => {
    const tiers = {};
    for (const n of r.nodes) { const t = tiers[n.tier] || (tiers[n.tier] = { up: 0, all: 0 }); t.all++; if (n.state === 'up') t.up++; }
    const head = Object.entries(tiers).map(([t, c]) => `${c.up}/${c.all} ${tierName(t)}${c.all > 1 ? 's' : ''} up`).join(' · ');
    return el('section', { class: 'region', style: `--rc:${colours[r.name]}`, 'data-region': r.name, 'aria-label': `region ${r.name}` },
      el('h3', null, el('span', null, r.name), el('span', { class: 'hint' }, head)),
      r.nodes.map((n) => el('div', { class: 'node', 'data-node': n.id, 'data-state': n.state, 'data-tier': n.tier, title: n.lastError || '' },
        el('span', { class: 'icon', 'aria-hidden': 'true' }, STATE_ICON[n.state]),
        el('span', { class: 'nid' }, el('span', { class: 'tier', 'data-tier': n.tier }, tierName(n.tier)), ' ', n.id),
        el('span', { class: 'badge' }, n.state === 'behind' ? `behind by ${n.behind}` : n.state),
        el('span', { class: 'meta' }, `${n.tier === 'rec' ? 'REC' : 'PoP'} ${n.pop} · rev ${n.appliedRevision} · via ${n.attachedTo || '–'} · ${n.health || '–'} · seen ${ago(n.lastSeen)}`))));
  }));
  if (!d.network.regions.length) fill('network-regions', el('p', { class: 'hint' }, 'No edge node has connected yet.'));
}

// rollouts: a list to pick from (newest first) and one chart per picked one.
function rolloutId(r) { return `${r.distribution}@${r.revision}`; }
function renderRollout(d, colours) {
  const ids = d.rollouts.map(rolloutId);
  for (const id of [...app.compare]) if (!ids.includes(id)) app.compare.delete(id);
  // Follow the newest rollout: a new change is picked as it appears.
  if (ids.length && ids[0] !== app.newest) {
    app.newest = ids[0];
    app.compare.add(ids[0]);
    app.rolloutKey = '';
  }
  while (app.compare.size > 4) app.compare.delete(app.compare.values().next().value);
  const key = ids.join(',') + '|' + d.rollouts.map((r) => r.state).join(',');
  if (key !== app.rolloutKey) {
    app.rolloutKey = key;
    fill('rollout-list', d.rollouts.map((r) => {
      const id = rolloutId(r);
      const cb = el('input', { type: 'checkbox', id: 'cmp-' + id, checked: app.compare.has(id), 'data-rollout': id, 'data-key': 'cmp:' + id,
        onchange: (e) => { if (e.target.checked) app.compare.add(id); else app.compare.delete(id); while (app.compare.size > 4) app.compare.delete(app.compare.values().next().value); app.rolloutKey = ''; render(); } });
      return el('li', null, cb, el('label', { for: 'cmp-' + id },
        el('b', null, r.distribution), ` rev ${r.revision} `, el('span', { class: 'state-' + r.state }, r.state),
        el('br'), el('span', { class: 'hint' }, `${fmtTime(r.changed)} · ${r.deployedMs != null ? 'deployed in ' + fmtMs(r.deployedMs) : r.nodes.length + ' nodes'}`),
        r.versions.length ? el('br') : null, r.versions.length ? el('span', { class: 'hint' }, r.versions.join(', ')) : null));
    }));
    if (!d.rollouts.length) fill('rollout-list', el('li', { class: 'hint' }, 'No distribution yet.'));
  }
  if (!$('rollout-legend').childElementCount) {
    fill('rollout-legend', el('span', null, markSvg('sent', '#555'), 'sent'), el('span', null, markSvg('applied', '#555'), 'applied'),
      el('span', null, markSvg('acked', '#555'), 'acked'), el('span', null, lineSvg(), 'Deployed'), el('span', { class: 'hint' }, 'colour: region'));
  }
  const picked = d.rollouts.filter((r) => app.compare.has(rolloutId(r)));
  const now = Date.now();
  let span = 1;
  for (const r of picked) {
    for (const n of r.nodes) span = Math.max(span, n.sentMs || 0, n.appliedMs || 0, n.ackedMs || 0);
    if (r.state === 'InProgress') span = Math.max(span, now - new Date(r.changed));
  }
  fill('rollout-charts', picked.map((r) => rolloutChart(r, span * 1.08, colours, now)));
}
function markSvg(kind, colour) {
  return sv('svg', { width: 14, height: 14, 'aria-hidden': 'true' }, mark(kind, 7, 7, colour));
}
function lineSvg() {
  return sv('svg', { width: 14, height: 14, 'aria-hidden': 'true' }, sv('line', { x1: 7, x2: 7, y1: 0, y2: 14, stroke: '#000', 'stroke-width': 2, 'stroke-dasharray': '3 2' }));
}
function mark(kind, x, y, colour) {
  if (kind === 'sent') return sv('circle', { cx: x, cy: y, r: 5, fill: '#fff', stroke: colour, 'stroke-width': 2, class: 'mark-sent' });
  if (kind === 'applied') return sv('path', { d: `M${x} ${y - 6}L${x + 6} ${y}L${x} ${y + 6}L${x - 6} ${y}Z`, fill: '#fff', stroke: colour, 'stroke-width': 2, class: 'mark-applied' });
  return sv('circle', { cx: x, cy: y, r: 6, fill: colour, stroke: '#000', 'stroke-width': 1, class: 'mark-acked' });
}
function ticks(span, n) {
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v <= span; v += step) out.push(v);
  return out;
}
function rolloutChart(r, span, colours, now) {
  const left = 230, right = 20, top = 26, row = 22, W = 960;
  const H = top + r.nodes.length * row + 30;
  const x = (ms) => left + (ms / span) * (W - left - right);
  const g = [];
  for (const t of ticks(span, 8)) {
    g.push(sv('line', { x1: x(t), x2: x(t), y1: top - 4, y2: H - 26, class: 'grid' }));
    g.push(sv('text', { x: x(t), y: H - 10, 'text-anchor': 'middle' }, fmtMs(t)));
  }
  g.push(sv('text', { x: left, y: 14 }, 'time since the change →'));
  const acked = r.nodes.filter((n) => n.ackedMs != null).length;
  r.nodes.forEach((n, i) => {
    const y = top + i * row + row / 2;
    const c = colours[n.region];
    g.push(sv('rect', { x: 0, y: y - row / 2, width: W, height: row, fill: c, opacity: i % 2 ? 0.06 : 0.12 }));
    g.push(sv('rect', { x: 2, y: y - 7, width: 6, height: 14, fill: c }));
    g.push(sv('text', { x: 12, y: y + 4, 'font-weight': n.tier === 'rec' ? 700 : null }, `${n.region} · ${tierName(n.tier)} · ${n.id}`));
    const pts = [n.sentMs, n.appliedMs, n.ackedMs].filter((v) => v != null);
    if (pts.length > 1) g.push(sv('line', { x1: x(Math.min(...pts)), x2: x(Math.max(...pts)), y1: y, y2: y, stroke: c, 'stroke-width': 2 }));
    const title = `${n.id} (${n.region}, ${tierName(n.tier)}): sent ${fmtMs(n.sentMs)}, applied ${fmtMs(n.appliedMs)}, acked ${fmtMs(n.ackedMs)}${n.error ? ', error: ' + n.error : ''}`;
    const marks = [];
    if (n.sentMs != null) marks.push(mark('sent', x(n.sentMs), y, c));
    if (n.appliedMs != null) marks.push(mark('applied', x(n.appliedMs), y, c));
    if (n.ackedMs != null) marks.push(mark('acked', x(n.ackedMs), y, c));
    if (n.ackedMs == null) marks.push(sv('text', { x: W - right, y: y + 4, 'text-anchor': 'end', class: 'pending' }, n.error ? 'NACK' : `waiting (rev ${n.ackedRevision})`));
    g.push(sv('g', { 'data-node': n.id, 'data-tier': n.tier }, sv('title', null, title), marks));
  });
  if (r.deployedMs != null) {
    g.push(sv('line', { x1: x(r.deployedMs), x2: x(r.deployedMs), y1: top - 6, y2: H - 26, stroke: '#000', 'stroke-width': 2, 'stroke-dasharray': '5 3' }));
    const nearEnd = x(r.deployedMs) > W - 160;
    g.push(sv('text', { x: x(r.deployedMs) + (nearEnd ? -4 : 4), y: top - 8, 'font-weight': 700, 'text-anchor': nearEnd ? 'end' : 'start' }, `Deployed +${fmtMs(r.deployedMs)}`));
  } else if (r.state === 'InProgress') {
    const t = now - new Date(r.changed);
    g.push(sv('line', { x1: x(t), x2: x(t), y1: top - 6, y2: H - 26, stroke: '#D55E00', 'stroke-width': 2 }));
    g.push(sv('text', { x: x(t) - 4, y: top - 8, 'text-anchor': 'end', fill: '#a33c00' }, 'now'));
  }
  const byRegion = {};
  for (const n of r.nodes) {
    const b = byRegion[n.region] || (byRegion[n.region] = { total: 0, acked: 0 });
    b.total++; if (n.ackedMs != null && n.ackedRevision >= r.revision) b.acked++;
  }
  const mix = Object.entries(byRegion).map(([reg, b]) => `${reg}: ${b.acked === b.total ? 'new' : b.acked ? `mixed ${b.acked}/${b.total} new` : 'old'}`);
  const tierRows = table(['region', 'tier', { label: 'acked', num: 1 }, { label: 'first ack', num: 1 }, { label: 'last ack', num: 1 }, 'state'],
    (r.tiers || []).map((t) => el('tr', { 'data-region': t.region, 'data-tier': t.tier, 'data-state': t.state },
      el('td', null, el('span', { class: 'swatch', style: `--rc:${colours[t.region]}`, 'aria-hidden': 'true' }), t.region),
      el('td', null, el('span', { class: 'tier', 'data-tier': t.tier }, tierName(t.tier))),
      el('td', { class: 'num' }, `${t.acked}/${t.nodes}`), el('td', { class: 'num' }, fmtMs(t.firstAckMs)), el('td', { class: 'num' }, fmtMs(t.lastAckMs)),
      el('td', null, el('span', { class: 'state-' + t.state }, t.state)))),
    { class: 'compact tier-rows', 'aria-label': `Status per region and tier of ${r.distribution} revision ${r.revision}` });
  const perTier = {};
  for (const t of r.tiers || []) { const p = perTier[t.tier] || (perTier[t.tier] = { acked: 0, nodes: 0 }); p.acked += t.acked; p.nodes += t.nodes; }
  const id = rolloutId(r);
  // Open by default on the newest rollout only; fill keeps what the user chose.
  const tierBox = el('details', { class: 'tier-box', open: id === app.newest, 'data-key': 'tiers:' + id },
    el('summary', { 'data-key': 'tiers:' + id + '/summary' }, 'Status per region and tier: ', Object.entries(perTier).sort().map(([t, p]) => `${tierName(t)}s ${p.acked}/${p.nodes} acked`).join(' · ')),
    tierRows);
  return el('figure', { class: 'chart', 'data-rollout': rolloutId(r), 'data-state': r.state, 'data-acked': acked, 'data-nodes': r.nodes.length },
    el('h4', null, `${r.distribution} · revision ${r.revision} · `, el('span', { class: 'state-' + r.state }, r.state),
      ` · ${acked}/${r.nodes.length} nodes acked · changed ${fmtTime(r.changed)}`),
    sv('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': `Rollout of ${r.distribution} revision ${r.revision}: ${acked} of ${r.nodes.length} nodes acked, ${r.state}` }, g),
    el('figcaption', { class: 'hint' }, `versions: ${r.versions.join(', ') || '–'} · ${mix.join(' · ')}`), tierBox);
}

function lineChart(series, field, colours, label, fmt) {
  const W = 1240, H = 190, left = 60, right = 150, top = 14, bottom = 24;
  let t0 = Infinity, t1 = -Infinity, vmax = 0;
  for (const s of series) for (const p of s.points) {
    t0 = Math.min(t0, p.t); t1 = Math.max(t1, p.t);
    if (p[field] != null) vmax = Math.max(vmax, p[field]);
  }
  if (!isFinite(t0)) return el('p', { class: 'hint' }, 'No traffic samples yet.');
  if (t1 - t0 < 60000) t0 = t1 - 60000;
  vmax = vmax > 0 ? vmax * 1.15 : 1;
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
  const y = (v) => top + (1 - v / vmax) * (H - top - bottom);
  const g = [];
  for (const v of ticks(vmax, 4)) {
    g.push(sv('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), class: 'grid' }));
    g.push(sv('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  for (let t = Math.ceil(t0 / 60000) * 60000; t <= t1; t += 60000) g.push(sv('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' }, fmtTime(t)));
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[field] != null).map((p) => `${x(p.t).toFixed(1)},${y(p[field]).toFixed(1)}`);
    const dash = ['', '6 3', '2 3', '8 3 2 3'][i % 4];
    if (pts.length) g.push(sv('polyline', { points: pts.join(' '), fill: 'none', stroke: colours[s.name] || '#333', 'stroke-width': 2.5, 'stroke-dasharray': dash || null }));
    g.push(sv('line', { x1: W - right + 10, x2: W - right + 34, y1: top + 8 + i * 18, y2: top + 8 + i * 18, stroke: colours[s.name], 'stroke-width': 3, 'stroke-dasharray': dash || null }));
    g.push(sv('text', { x: W - right + 40, y: top + 12 + i * 18 }, s.name));
  });
  return sv('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': label }, g);
}
function last(s) { return s.points.length ? s.points[s.points.length - 1] : {}; }
function renderTraffic(d, colours) {
  const t = d.traffic;
  const total = t.regions.reduce((a, s) => a + (last(s).rps || 0), 0);
  fill('traffic-summary', t.source === 'nodes'
    ? [`From the edge nodes' own metrics, rates over ${t.windowSeconds} s windows. Now `, el('b', null, `${fmtNum(total)} req/s`), ' in total.']
    : el('span', { class: 'error' }, t.source === 'none' ? 'No edge metrics are configured for this control plane.' : `Edge metrics unavailable: ${t.source}`));
  fill('traffic-chart', el('figure', { class: 'chart' }, el('h4', null, 'Requests per second by region'),
    lineChart(t.regions, 'rps', colours, 'Requests per second by region over the last minutes', (v) => fmtNum(v))),
  el('figure', { class: 'chart', id: 'traffic-latency' }, el('h4', null, 'p99 request latency at the edge by region'),
    lineChart(t.regions, 'p99Ms', colours, 'p99 request latency by region over the last minutes', (v) => fmtMs(v))));
  const kv = (label, v) => el('span', null, label, el('b', null, v));
  fill('traffic-regions', t.regions.map((s) => {
    const p = last(s);
    return el('div', { class: 'card', style: `--rc:${colours[s.name]}`, 'data-region': s.name },
      el('h4', null, s.name),
      el('div', { class: 'kv' }, kv('req/s', fmtNum(p.rps)), kv('hit ratio', fmtPct(p.hitRatio)), kv('4xx/s', fmtNum(p.rate4xx, 2)), kv('5xx/s', fmtNum(p.rate5xx, 2)),
        kv('exec err/s', fmtNum(p.executionErrors, 2)), kv('valid. err/s', fmtNum(p.validationErrors, 2)), kv('p50', fmtMs(p.p50Ms)), kv('p99', fmtMs(p.p99Ms)),
        kv('origin p50', fmtMs(p.originP50Ms)), kv('origin p99', fmtMs(p.originP99Ms))),
      el('span', { class: 'hint' }, `${fmtNum(s.requests, 0)} requests, ${fmtNum(s.executionErrors, 0)} LambdaExecutionError, ${fmtNum(s.validationErrors, 0)} LambdaValidationError since start`));
  }));
  const H = ['node', 'region', 'tier', { label: 'req/s', num: 1 }, { label: 'hit ratio', num: 1 }, { label: '4xx/s', num: 1 }, { label: '5xx/s', num: 1 },
    { label: 'LambdaExecution\u00adError', num: 1 }, { label: 'LambdaValidation\u00adError', num: 1 }, { label: 'p50', num: 1 }, { label: 'p99', num: 1 },
    { label: 'origin p50', num: 1 }, { label: 'origin p99', num: 1 }, { label: 'requests', num: 1 }];
  const tierOf = tiersByNode(d);
  fill('traffic-nodes', table(H, t.nodes.map((s) => {
    const p = last(s);
    return el('tr', { 'data-node': s.name, 'data-tier': tierOf[s.name] || '' }, el('td', null, s.name), el('td', null, s.region),
      el('td', null, el('span', { class: 'tier', 'data-tier': tierOf[s.name] }, tierName(tierOf[s.name]))), el('td', { class: 'num' }, fmtNum(p.rps)),
      el('td', { class: 'num' }, fmtPct(p.hitRatio)), el('td', { class: 'num' }, fmtNum(p.rate4xx, 2)), el('td', { class: 'num' }, fmtNum(p.rate5xx, 2)),
      el('td', { class: 'num' }, fmtNum(s.executionErrors, 0)), el('td', { class: 'num' }, fmtNum(s.validationErrors, 0)),
      el('td', { class: 'num', 'data-field': 'p50' }, fmtMs(p.p50Ms)), el('td', { class: 'num', 'data-field': 'p99' }, fmtMs(p.p99Ms)),
      el('td', { class: 'num' }, fmtMs(p.originP50Ms)), el('td', { class: 'num' }, fmtMs(p.originP99Ms)), el('td', { class: 'num' }, fmtNum(s.requests, 0)));
  }), { class: 'wide', 'aria-label': 'Traffic per node' }));
}

function syncSelect(id, values, allLabel) {
  const s = $(id);
  const want = ['', ...values];
  const have = [...s.options].map((o) => o.value);
  if (want.join('\n') === have.join('\n')) return;
  const cur = s.value;
  s.replaceChildren(...want.map((v) => el('option', { value: v }, v || allLabel)));
  s.value = want.includes(cur) ? cur : '';
}
function renderFunctions(d) {
  const f = d.functions;
  const tiers = tiersByNode(d);
  const H = ['function', { label: 'latest', num: 1 }, 'associated', { label: 'invocations', num: 1 }, { label: 'per s', num: 1 },
    { label: 'exec errors', num: 1 }, { label: 'validation', num: 1 }, { label: 'limit', num: 1 }, { label: 'cold starts', num: 1 }, { label: 'memory', num: 1 }, 'nodes (holding or ran it)'];
  fill('functions-table', table(H, f.functions.map((fn) => el('tr', { 'data-function': fn.name },
    el('td', null, el('b', null, fn.name)), el('td', { class: 'num' }, fn.latestVersion || '–'), el('td', null, fn.associated.join(', ') || '–'),
    el('td', { class: 'num' }, fmtNum(fn.invocations, 0)), el('td', { class: 'num' }, fmtNum(fn.rate, 2)),
    el('td', { class: 'num' }, fmtNum(fn.executionErrors, 0)), el('td', { class: 'num' }, fmtNum(fn.validationErrors, 0)),
    el('td', { class: 'num' }, fmtNum(fn.limitExceeded, 0)), el('td', { class: 'num' }, fmtNum(fn.coldStarts, 0)),
    el('td', { class: 'num' }, fn.memoryMB ? `${fn.memoryMB} MB` : 'default'), el('td', null, nodeList(`fn:${fn.name}`, fn.nodes, tiers))))));
  const V = ['version', 'used by', { label: 'invocations', num: 1 }, { label: 'per s', num: 1 }, { label: 'exec errors', num: 1 },
    { label: 'timeouts', num: 1 }, { label: 'over memory', num: 1 }, { label: 'validation', num: 1 }, { label: 'throttled', num: 1 },
    { label: 'cold starts', num: 1 }, { label: 'p50', num: 1 }, { label: 'p99', num: 1 }, { label: 'memory used / limit', num: 1 }, 'held by'];
  fill('functions-versions', table(V, (f.versions || []).map((v) => el('tr', { 'data-function': v.function, 'data-version': v.version, class: v.latest ? 'latest' : null },
    el('th', { scope: 'row' }, el('b', null, `${v.function}:${v.version || '?'}`), v.latest ? el('span', { class: 'tag' }, 'latest') : null),
    el('td', null, v.associated.join(', ') || '–'),
    el('td', { class: 'num', 'data-field': 'invocations' }, fmtNum(v.invocations, 0)), el('td', { class: 'num' }, fmtNum(v.rate, 2)),
    el('td', { class: 'num' }, fmtNum(v.executionErrors, 0)), el('td', { class: 'num' }, fmtNum(v.timeouts, 0)), el('td', { class: 'num' }, fmtNum(v.memoryExceeded, 0)),
    el('td', { class: 'num' }, fmtNum(v.validationErrors, 0)), el('td', { class: 'num' }, fmtNum(v.limitExceeded, 0)), el('td', { class: 'num' }, fmtNum(v.coldStarts, 0)),
    el('td', { class: 'num', 'data-field': 'p50' }, fmtMs(v.p50Ms)), el('td', { class: 'num', 'data-field': 'p99' }, fmtMs(v.p99Ms)),
    el('td', { class: 'num', 'data-field': 'memory', title: 'largest worker RSS / memory limit' },
      v.memoryMB == null ? '–' : `${v.memoryUsedMB == null ? '–' : fmtNum(v.memoryUsedMB, 0)} / ${fmtNum(v.memoryMB, 0)} MB`),
    el('td', { 'data-field': 'nodes', 'data-count': v.nodes.length }, nodeList(`ver:${v.function}:${v.version}`, v.nodes, tiers)))),
    { class: 'wide', 'aria-label': 'Function versions' }));
  fill('functions-events', table(['event type', { label: 'invocations', num: 1 }, { label: 'p50', num: 1 }, { label: 'p99', num: 1 }],
    f.events.map((e) => el('tr', null, el('td', null, e.event), el('td', { class: 'num' }, fmtNum(e.invocations, 0)),
      el('td', { class: 'num' }, fmtMs(e.p50Ms)), el('td', { class: 'num' }, fmtMs(e.p99Ms))))));
  syncSelect('log-region', [...new Set([...d.network.regions.map((r) => r.name), ...d.logs.map((l) => l.region)])].sort(), 'all regions');
  syncSelect('log-function', [...new Set([...f.functions.map((x) => x.name), ...d.logs.map((l) => l.function)])].sort(), 'all functions');
  const region = $('log-region').value, fnName = $('log-function').value;
  const lines = d.logs.filter((l) => (!region || l.region === region) && (!fnName || l.function === fnName)).slice(-100).reverse();
  fill('functions-logs', table(['time', 'region', 'node', 'function', 'message'], lines.map((l) => el('tr', { 'data-region': l.region },
    el('td', null, fmtTime(l.time)), el('td', null, l.region), el('td', null, l.node), el('td', null, `${l.function}:${l.version}`),
    el('td', null, l.kind === 'validation' ? el('span', { class: 'error' }, l.message) : l.message))), { class: 'logs' }));
}
$('log-region').addEventListener('change', render);
$('log-function').addEventListener('change', render);

// Chaos actions need an API token with the operator role; the page asks
// for one when the control plane says so and keeps it for this tab only.
const tokenKey = 'edgelab-token';
async function post(path, body, asked) {
  const headers = { 'Content-Type': 'application/json' };
  const token = sessionStorage.getItem(tokenKey);
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  const out = await r.json().catch(() => ({ error: r.statusText }));
  if ((r.status === 401 || r.status === 403) && !asked) {
    const t = window.prompt(`${out.error}\n\nAPI token with the operator role:`);
    if (t) {
      sessionStorage.setItem(tokenKey, t.trim());
      return post(path, body, true);
    }
  }
  if (!r.ok) throw new Error(out.error || r.statusText);
  return out;
}
function renderChaos(d) {
  const c = d.chaos;
  syncSelect('inject-kind', c.kinds, 'choose a kind');
  syncSelect('inject-target', c.targets, 'choose a target');
  fill('chaos-active', table(['id', 'kind', 'target', 'detail', 'since', { label: 'remaining', num: 1 }, ''], c.active.map((f) => el('tr', { 'data-fault': f.id },
    el('td', null, f.id), el('td', null, el('b', null, f.kind)), el('td', null, f.target), el('td', null, f.detail || ''),
    el('td', null, fmtTime(f.created)), el('td', { class: 'num' }, f.remainingSeconds == null ? 'until healed' : `${fmtNum(f.remainingSeconds, 0)} s`),
    el('td', null, el('button', { type: 'button', class: 'secondary', 'data-heal': f.id, 'data-key': 'heal:' + f.id, 'aria-label': `Heal ${f.id}`, onclick: () => heal({ id: f.id }) }, 'Heal'))))));
  fill('chaos-timeline', faultTimeline(c.timeline, d.time));
}
function faultTimeline(events, nowISO) {
  const now = new Date(nowISO).getTime();
  const spans = {};
  const first = Math.min(now, ...events.map((e) => new Date(e.time).getTime()));
  // Ten minutes at most, two at least, starting a little before the first fault.
  const t0 = Math.max(now - 10 * 60000, Math.min(now - 2 * 60000, first - 20000));
  for (const e of events) {
    const s = spans[e.id] || (spans[e.id] = { id: e.id, kind: e.kind, target: e.target, from: null, to: null });
    if (e.action === 'injected') s.from = new Date(e.time).getTime(); else s.to = new Date(e.time).getTime();
  }
  const list = Object.values(spans).filter((s) => (s.to || now) >= t0).sort((a, b) => (a.from || t0) - (b.from || t0)).slice(-14);
  if (!list.length) return el('p', { class: 'hint' }, 'No fault in the last minutes.');
  const W = 1240, left = 330, right = 20, row = 22, H = 30 + list.length * row;
  const x = (t) => left + ((Math.max(t, t0) - t0) / (now - t0)) * (W - left - right);
  const g = [];
  const step = now - t0 > 5 * 60000 ? 120000 : 30000;
  for (let t = Math.ceil(t0 / step) * step; t <= now; t += step) {
    g.push(sv('line', { x1: x(t), x2: x(t), y1: 0, y2: H - 20, class: 'grid' }));
    g.push(sv('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' }, fmtTime(t)));
  }
  list.forEach((s, i) => {
    const y = 6 + i * row;
    const from = s.from || t0, to = s.to || now;
    g.push(sv('text', { x: 4, y: y + 14 }, `${s.kind} ${s.target}`));
    g.push(sv('rect', { x: x(from), y, width: Math.max(3, x(to) - x(from)), height: row - 6, fill: s.to ? '#56B4E9' : '#D55E00', stroke: '#000', 'stroke-width': 0.5 },
      sv('title', null, `${s.id}: ${s.kind} ${s.target}, injected ${s.from ? fmtDateTime(s.from) : 'earlier'}, ${s.to ? 'healed ' + fmtDateTime(s.to) : 'active'}`)));
    g.push(sv('text', { x: Math.min(x(to) + 4, W - 60), y: y + 13 }, s.to ? 'healed' : 'active'));
  });
  return el('figure', { class: 'chart' }, sv('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': 'Faults injected and healed in the last minutes' }, g));
}
async function heal(body) {
  try {
    const out = await post('/api/chaos/heal', body);
    $('inject-result').textContent = `healed: ${out.healed.join(', ') || 'nothing'}`;
  } catch (e) {
    $('inject-result').replaceChildren(el('span', { class: 'error' }, `heal failed: ${e.message}`));
  }
}
$('heal-all').addEventListener('click', () => heal({ all: true }));
$('inject-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = { kind: $('inject-kind').value, target: $('inject-target').value, duration: $('inject-duration').value.trim(), latency: $('inject-latency').value.trim() };
  if ($('inject-rate').value.trim()) body.rate = Number($('inject-rate').value);
  if ($('inject-status').value.trim()) body.status = Number($('inject-status').value);
  try {
    const f = await post('/api/chaos/inject', body);
    $('inject-result').textContent = `injected ${f.id}: ${f.kind} ${f.target}`;
  } catch (e) {
    $('inject-result').replaceChildren(el('span', { class: 'error' }, `inject failed: ${e.message}`));
  }
});

const from = new URLSearchParams(location.search).get('from');
if (from) app.note = `Replica ${from} went down; this page now follows the replica at ${location.host}.`;
banner(app.note);
show(viewFromPath(), false);
connect();
