#include "control/dashboard_page.h"

namespace ka::control {
namespace {

constexpr std::string_view kStyle = R"KA(
:root {
  --bg: #f3f5f8; --card: #ffffff; --line: #dde2e8; --soft: #eef1f4;
  --text: #1b1f24; --muted: #57606a; --accent: #1f6feb;
  --mono: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
  --sans: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Roboto, sans-serif;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; color: var(--text); font: 14px/1.45 var(--sans); }
.top { background: var(--card); border-bottom: 1px solid var(--line); padding: 14px 24px; }
.title { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
.logo { font: 700 15px/1 var(--mono); background: var(--text); color: #fff; border-radius: 6px; padding: 6px 8px; }
h1 { font-size: 20px; margin: 0; font-weight: 650; }
.source { color: var(--muted); margin: 4px 0 0; overflow-wrap: anywhere; }
.tag { font-size: 12px; padding: 2px 8px; border-radius: 999px; border: 1px solid #d4a72c; color: #7d4e00; background: #fff8c5; }
.live { margin-left: auto; font-size: 12px; color: var(--muted); display: flex; align-items: center; gap: 6px; }
.live::before { content: ""; width: 9px; height: 9px; border-radius: 50%; background: #9aa4b0; }
.live.ok::before { background: #1a7f37; }
.live.bad::before { background: #cf222e; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 56px; margin: 12px 0 10px; }
.facts div { min-width: 110px; }
dt { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
dd { margin: 2px 0 0; font: 600 16px/1.3 var(--mono); font-variant-numeric: tabular-nums;
     overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.overall { display: flex; align-items: center; gap: 14px; }
.overall span { font: 13px var(--mono); color: var(--muted); white-space: nowrap; }
.bar { position: relative; height: 8px; flex: 1; background: #e6e9ee; border-radius: 4px; overflow: hidden; min-width: 70px; }
.bar > div { height: 100%; width: 0; background: var(--accent); border-radius: 4px; transition: width .4s ease; }
.bar.big { height: 12px; border-radius: 6px; }
.bar.done > div { background: #1a7f37; }
.bar.failed > div { background: #cf222e; }
.banner { margin: 16px 24px 0; padding: 10px 14px; border-radius: 8px; font-weight: 600; border: 1px solid; }
.banner.auth, .banner.error { background: #ffebe9; border-color: #ffb3ad; color: #86181d; }
.banner.gone { background: #fff8c5; border-color: #e3c85b; color: #633c01; }
main { padding: 16px 24px 8px; display: grid; gap: 14px; }
main.stale-view section { opacity: .65; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; min-width: 0; }
h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .07em; color: var(--muted); margin: 0 0 10px; font-weight: 650; }
.chain { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; font: 600 13px/1 var(--mono); }
.hop { padding: 6px 11px; border-radius: 999px; }
.hop.sender { background: var(--text); color: #fff; }
.arrow { color: var(--muted); font: 400 17px/1 var(--sans); }
.dropped { margin-left: 12px; color: #a40e26; font: 12px var(--sans); }
.muted { color: var(--muted); font: 13px var(--sans); }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
     font-weight: 600; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 7px 10px; border-bottom: 1px solid var(--soft); vertical-align: middle; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr[data-node] { cursor: pointer; }
tbody tr[data-node]:hover { background: #f6f8fb; }
tbody tr.selected { background: #eaf2ff; }
tbody tr:focus-visible { outline: 2px solid var(--accent); outline-offset: -2px; }
th.num, td.num { text-align: right; }
td.num { font-family: var(--mono); font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono { font-family: var(--mono); font-size: 13px; white-space: nowrap; }
td.name { font-weight: 650; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font: 600 12px/20px var(--sans); white-space: nowrap; }
.st-wait { background: #eef0f3; color: #3d444d; }
.st-prep { background: #efe6ff; color: #5a32a3; }
.st-recv { background: #dbe9ff; color: #0a4aa8; }
.st-fin { background: #fff0d1; color: #7d4400; }
.st-done { background: #d8f3df; color: #0f5c25; }
.st-fail { background: #ffe0df; color: #a00d24; }
.detail { display: block; font-size: 12px; color: var(--muted); margin-top: 1px; white-space: nowrap; }
.prog { display: flex; align-items: center; gap: 10px; min-width: 290px; }
.prog .bar { min-width: 120px; }
.prog span { font: 12px var(--mono); font-variant-numeric: tabular-nums; color: var(--muted); min-width: 10.5em; text-align: right; white-space: nowrap; }
.msg { color: #3b434c; min-width: 220px; overflow-wrap: anywhere; }
.msg.error { color: #a00d24; font-weight: 600; }
.stale { color: #7d4400; font-weight: 600; }
.empty td { color: var(--muted); text-align: center; padding: 18px; cursor: default; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 14px; }
@media (max-width: 960px) { .grid2 { grid-template-columns: minmax(0, 1fr); } }
#chart { width: 100%; height: auto; display: block; }
#chart .grid { stroke: #e8ebef; }
#chart .axis { stroke: #8c959f; }
#chart text { font: 11px var(--mono); fill: #57606a; }
#chart text.label { font: 600 11px var(--sans); fill: #3d444d; }
#chart text.value { font: 600 12px var(--mono); fill: #0a4aa8; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
#chart text.none { font: 13px var(--sans); }
#chart .area { fill: #1f6feb; fill-opacity: .12; }
#chart .series { fill: none; stroke: #1f6feb; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
#chart .dot { fill: #1f6feb; stroke: #fff; stroke-width: 2; }
.logbar { display: flex; gap: 10px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }
.logbar label { font-weight: 600; }
.logbar span { color: var(--muted); font-size: 12px; margin-left: auto; font-family: var(--mono); }
select { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--text); }
#log { margin: 0; height: 236px; overflow: auto; background: #f6f8fa; border: 1px solid var(--soft); border-radius: 6px;
       padding: 8px 10px; font: 12px/1.5 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; color: #24292f; }
footer { padding: 4px 24px 18px; color: var(--muted); font-size: 12px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
)KA";

constexpr std::string_view kScript = R"KA(
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const token = new URLSearchParams(location.search).get('token') || '';
  const MiB = 1048576;
  const LOG_PAGE = 1000, LOG_KEEP = 5000;
  const KIND = {
    joined: 'wait', waiting: 'wait', partitioning: 'prep', formatting: 'prep', preparing: 'prep',
    receiving: 'recv', streaming: 'recv', extracting: 'fin', individualising: 'fin', drivers: 'fin',
    bootloader: 'fin', finishing: 'fin', done: 'done', failed: 'fail'
  };
  const kind = (s) => 'st-' + (KIND[s] || 'wait');

  let snap = null, lastOk = 0, logNode = '', logNext = 0, logShown = 0, logBusy = false, nodeNames = '';
  const rows = new Map();

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function sv(tag, attrs, text) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  const num = (v) => typeof v === 'number' && isFinite(v);
  function fmtBytes(b) {
    if (!num(b)) return '–';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (b >= 1024 && i < 4) { b /= 1024; i++; }
    return i ? b.toFixed(1) + ' ' + u[i] : b + ' B';
  }
  const fmtRate = (bps) => num(bps) && bps > 0 ? (bps / MiB).toFixed(1) + ' MiB/s' : '–';
  function fmtDur(s) {
    if (!num(s) || s < 0) return '–';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60), r = String(s % 60).padStart(2, '0');
    if (m < 60) return m + ' min ' + r + ' s';
    return Math.floor(m / 60) + ' h ' + String(m % 60).padStart(2, '0') + ' min';
  }
  const pct = (n, d) => num(n) && num(d) && d > 0 ? Math.max(0, Math.min(100, 100 * n / d)) : 0;
  const clock = (t) => new Date(t).toLocaleTimeString();

  function setBar(bar, p, label) {
    bar.firstChild.style.width = p.toFixed(2) + '%';
    bar.setAttribute('aria-valuenow', String(Math.round(p)));
    bar.setAttribute('aria-valuetext', label);
  }
  function banner(kindName, text) {
    const b = $('banner');
    b.hidden = !kindName;
    b.className = 'banner ' + (kindName || '');
    b.textContent = text || '';
    $('main').classList.toggle('stale-view', kindName === 'gone');
  }
  function live(cls, text) {
    $('live').className = 'live ' + cls;
    $('live').textContent = text;
  }

  function renderHeader(s) {
    document.title = s.session + ' · ' + s.phase + ' · ka';
    $('session-name').textContent = 'Session ' + s.session;
    $('phase').textContent = s.phase;
    $('phase').className = 'badge ' + kind(s.phase);
    $('source').textContent = s.source;
    $('exec').hidden = !s.exec_enabled;
    $('elapsed').textContent = fmtDur(s.elapsed);
    $('session-id').textContent = s.session_id;
    $('session-id').title = s.session_id;
    const tp = s.throughput || [];
    $('rate').textContent = s.phase === 'streaming' && tp.length ? fmtRate(tp[tp.length - 1].bytes_per_s) : '–';
    const total = s.total_bytes;
    $('sent').textContent = fmtBytes(s.sent_bytes);
    $('total').textContent = num(total) ? fmtBytes(total) : 'unknown';
    const done = s.nodes.filter((n) => n.state === 'done').length;
    const failed = s.nodes.filter((n) => n.state === 'failed').length;
    $('node-count').textContent = s.nodes.length + ' · ' + done + ' done' + (failed ? ' · ' + failed + ' failed' : '');
    const p = num(total) ? pct(s.sent_bytes, total) : (s.phase === 'done' ? 100 : 0);
    const text = num(total) ? p.toFixed(1) + ' % sent' : 'total size unknown';
    setBar($('overall'), p, text);
    $('overall').classList.toggle('done', s.phase === 'done');
    $('overall-text').textContent = text;
  }

  function renderChain(s) {
    const c = $('chain');
    c.textContent = '';
    const byName = new Map(s.nodes.map((n) => [n.name, n]));
    c.append(el('span', { class: 'hop sender' }, 'sender'));
    for (const name of s.chain) {
      const n = byName.get(name);
      c.append(el('span', { class: 'arrow' }, ' → '));
      c.append(el('span', { class: 'hop ' + kind(n ? n.state : ''), title: n ? n.state : '' }, name));
    }
    if (!s.chain.length) c.append(el('span', { class: 'muted' }, '(no node in the chain yet)'));
    const out = s.nodes.filter((n) => !s.chain.includes(n.name)).map((n) => n.name);
    if (out.length) c.append(el('span', { class: 'dropped' }, 'out of the chain: ' + out.join(', ')));
  }

  function makeRow(name) {
    const r = { tr: el('tr', { 'data-node': name, tabindex: '0', title: 'Show the log of ' + name }) };
    const td = (cls) => { const d = el('td', cls ? { class: cls } : {}); r.tr.append(d); return d; };
    r.pos = td('num');
    td('name').textContent = name;
    r.addr = td('mono');
    const st = td();
    r.badge = el('span', { class: 'badge' });
    r.detail = el('span', { class: 'detail' });
    st.append(r.badge, r.detail);
    const pr = el('div', { class: 'prog' });
    r.bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
                        'aria-label': 'Progress of ' + name });
    r.bar.append(el('div'));
    r.ptext = el('span');
    pr.append(r.bar, r.ptext);
    td().append(pr);
    r.rate = td('num');
    r.eta = td('num');
    r.msg = td('msg');
    r.tr.addEventListener('click', () => selectLog(name));
    r.tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); selectLog(name); }
    });
    return r;
  }

  function updateRow(r, n, s) {
    r.pos.textContent = n.position;
    r.addr.textContent = n.address;
    r.badge.textContent = n.state;
    r.badge.className = 'badge ' + kind(n.state);
    r.detail.textContent = n.detail || '';
    const total = s.total_bytes;
    const p = n.state === 'done' ? 100 : pct(n.bytes, total);
    const text = num(total) ? p.toFixed(0).padStart(3, ' ') + ' % · ' + fmtBytes(n.bytes) : fmtBytes(n.bytes);
    setBar(r.bar, p, text);
    r.bar.classList.toggle('done', n.state === 'done');
    r.bar.classList.toggle('failed', n.state === 'failed');
    r.ptext.textContent = text;
    const moving = n.state === 'receiving';
    r.rate.textContent = moving ? fmtRate(n.rate_bps) : '–';
    r.eta.textContent = moving && num(n.eta_s) ? fmtDur(n.eta_s) : '–';
    r.msg.textContent = n.error || n.last_message || '';
    r.msg.className = 'msg' + (n.error ? ' error' : '');
    const age = s.elapsed - n.updated;
    if (!['joined', 'done', 'failed'].includes(n.state) && num(age) && age > 15) {
      r.msg.append(' ', el('span', { class: 'stale' }, '(no news for ' + fmtDur(age) + ')'));
    }
    r.msg.title = num(n.updated) ? 'updated ' + fmtDur(n.updated) + ' into the session' : '';
  }

  function renderNodes(s) {
    const tbody = $('nodes').tBodies[0];
    const nodes = s.nodes.slice().sort((a, b) => (a.position - b.position) || a.name.localeCompare(b.name));
    const empty = $('nodes-empty');
    if (nodes.length && empty) empty.remove();
    const seen = new Set();
    nodes.forEach((n, i) => {
      let r = rows.get(n.name);
      if (!r) { r = makeRow(n.name); rows.set(n.name, r); }
      seen.add(n.name);
      if (tbody.rows[i] !== r.tr) tbody.insertBefore(r.tr, tbody.rows[i] || null);
      updateRow(r, n, s);
    });
    for (const [name, r] of rows) if (!seen.has(name)) { r.tr.remove(); rows.delete(name); }
    if (!nodes.length && !$('nodes-empty')) {
      const tr = el('tr', { id: 'nodes-empty', class: 'empty' });
      tr.append(el('td', { colspan: '8' }, 'No node has joined yet.'));
      tbody.append(tr);
    }
    markSelected();
    const names = nodes.map((n) => n.name).join('\n');
    if (names !== nodeNames) {
      nodeNames = names;
      const sel = $('log-node');
      sel.textContent = '';
      sel.append(el('option', { value: '' }, '— choose a node —'));
      for (const n of nodes) sel.append(el('option', { value: n.name }, n.name));
      if (logNode && !nodes.some((n) => n.name === logNode)) sel.append(el('option', { value: logNode }, logNode));
      sel.value = logNode;
    }
  }

  function niceStep(range, count, whole) {
    const raw = range / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 && !whole ? 2.5 : f <= 5 ? 5 : 10) * mag;
    return whole ? Math.max(1, step) : step;
  }
  const tick = (v, step) => v.toFixed(step < 1 ? 2 : step % 1 ? 1 : 0);

  function renderChart(s) {
    const svg = $('chart');
    const W = 640, H = 270, L = 58, R = 18, T = 16, B = 44;
    svg.textContent = '';
    const pts = (s.throughput || []).filter((p) => num(p.t) && num(p.bytes_per_s));
    let tmax = Math.max(10, num(s.elapsed) ? s.elapsed : 0), vmax = 10;
    for (const p of pts) { tmax = Math.max(tmax, p.t); vmax = Math.max(vmax, p.bytes_per_s / MiB); }
    const ystep = niceStep(vmax * 1.1, 4), ymax = Math.ceil(vmax * 1.1 / ystep) * ystep;
    const xstep = niceStep(tmax, 6, true), xmax = Math.ceil(tmax / xstep) * xstep;
    const x = (t) => L + (W - L - R) * t / xmax, y = (v) => H - B - (H - T - B) * v / ymax;
    const last = pts.length ? pts[pts.length - 1] : null;
    const title = last ? 'Throughput over time; latest ' + (last.bytes_per_s / MiB).toFixed(1) + ' MiB/s at ' + fmtDur(last.t)
                       : 'Throughput over time; no samples yet';
    svg.setAttribute('aria-label', title);
    svg.append(sv('title', {}, title));
    for (let i = 0, v = 0; v <= ymax + ystep / 1e6; v = ++i * ystep) {
      svg.append(sv('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      svg.append(sv('text', { x: L - 8, y: y(v) + 4, 'text-anchor': 'end' }, tick(v, ystep)));
    }
    for (let i = 0, t = 0; t <= xmax + xstep / 1e6; t = ++i * xstep) {
      svg.append(sv('line', { class: 'axis', x1: x(t), x2: x(t), y1: H - B, y2: H - B + 5 }));
      svg.append(sv('text', { x: x(t), y: H - B + 18, 'text-anchor': 'middle' }, tick(t, xstep)));
    }
    svg.append(sv('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
    svg.append(sv('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
    svg.append(sv('text', { class: 'label', x: 14, y: T + (H - T - B) / 2, 'text-anchor': 'middle',
                            transform: 'rotate(-90 14 ' + (T + (H - T - B) / 2) + ')' }, 'MiB/s'));
    svg.append(sv('text', { class: 'label', x: L + (W - L - R) / 2, y: H - 6, 'text-anchor': 'middle' },
                  'seconds since the session started'));
    if (!pts.length) {
      svg.append(sv('text', { class: 'none', x: L + (W - L - R) / 2, y: T + (H - T - B) / 2, 'text-anchor': 'middle' },
                    'No throughput samples yet'));
      return;
    }
    let d = '';
    pts.forEach((p, i) => { d += (i ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p.bytes_per_s / MiB).toFixed(1); });
    svg.append(sv('path', { class: 'area', d: d + 'L' + x(last.t).toFixed(1) + ' ' + y(0) + 'L' + x(pts[0].t).toFixed(1) + ' ' + y(0) + 'Z' }));
    svg.append(sv('path', { class: 'series', d: d }));
    const lx = x(last.t), ly = y(last.bytes_per_s / MiB);
    svg.append(sv('circle', { class: 'dot', cx: lx, cy: ly, r: 4 }));
    // the label goes above the recent samples, so the line does not cross it
    const recent = pts.slice(-8).reduce((m, p) => Math.max(m, p.bytes_per_s / MiB), 0);
    if (last.bytes_per_s > 0) svg.append(sv('text', { class: 'value', x: Math.min(lx, W - R - 4), y: Math.max(T + 10, y(recent) - 10),
                            'text-anchor': lx > W - R - 90 ? 'end' : 'middle' }, fmtRate(last.bytes_per_s)));
  }

  function markSelected() {
    for (const [name, r] of rows) {
      r.tr.classList.toggle('selected', name === logNode);
      r.tr.setAttribute('aria-selected', name === logNode ? 'true' : 'false');
    }
  }
  function logInfo(text) { $('log-info').textContent = text; }

  function selectLog(name, fromHash) {
    if (name === logNode) return;
    logNode = name;
    logNext = 0;
    logShown = 0;
    $('log').textContent = '';
    logInfo(name ? 'loading…' : '');
    const sel = $('log-node');
    if (name && !Array.from(sel.options).some((o) => o.value === name)) sel.append(el('option', { value: name }, name));
    sel.value = name;
    if (!fromHash) history.replaceState(null, '', location.pathname + location.search + (name ? '#node=' + encodeURIComponent(name) : ''));
    $('log-title').textContent = name ? 'Log of ' + name : 'Node log';
    markSelected();
    pollLog();
  }
  function appendLog(lines) {
    if (!lines.length) return;
    const pre = $('log');
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    pre.append(lines.join('\n') + '\n');
    logShown += lines.length;
    if (logShown > LOG_KEEP) {
      const keep = pre.textContent.split('\n').slice(-LOG_KEEP - 1);
      pre.textContent = '[earlier lines not shown]\n' + keep.join('\n');
      logShown = LOG_KEEP;
    }
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  }
  async function pollLog() {
    if (!logNode || logBusy) return;
    logBusy = true;
    const node = logNode;
    try {
      for (let round = 0; round < 20; round++) {
        const r = await get('api/log?node=' + encodeURIComponent(node) + '&from=' + logNext + '&max=' + LOG_PAGE);
        if (node !== logNode) return;
        if (r.status === 404) { logInfo('no such node on the server'); return; }
        if (!r.ok) return;
        const j = await r.json();
        if (node !== logNode) return;
        appendLog(j.lines);
        logNext = j.next;
        logInfo(logNext + (logNext === 1 ? ' line' : ' lines'));
        if (j.lines.length < LOG_PAGE) break;
      }
    } catch (e) {
      // the session poll reports a lost server
    } finally {
      logBusy = false;
    }
  }
  function hashNode() {
    const m = /^#node=(.*)$/.exec(location.hash);
    if (!m) return '';
    try { return decodeURIComponent(m[1]); } catch (e) { return ''; }
  }

  function get(path) {
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'omit' });
  }

  async function poll() {
    let delay = 1000;
    try {
      const r = await get('api/session');
      if (r.status === 401) {
        delay = 5000;
        live('bad', 'unauthorized');
        banner('auth', token
          ? 'The ka server refused this page\'s token (HTTP 401 Unauthorized). Open this address with ?token=TOKEN, TOKEN being the first line of the token file that ka\'s log names (--web-token-file).'
          : 'HTTP 401 Unauthorized: this page was opened without a token. Add ?token=TOKEN to the address, TOKEN being the first line of the token file that ka\'s log names (--web-token-file).');
      } else if (!r.ok) {
        live('bad', 'error');
        banner('error', 'The ka server answered HTTP ' + r.status + ' for the session state; retrying every second.');
      } else {
        const s = await r.json();
        snap = s;
        lastOk = Date.now();
        live('ok', 'live');
        banner(null);
        renderHeader(s);
        renderChain(s);
        renderNodes(s);
        renderChart(s);
        $('updated').textContent = 'Last update ' + clock(lastOk) + '.';
        await pollLog();
      }
    } catch (e) {
      live('bad', 'offline');
      if (snap && snap.phase === 'done') {
        banner('gone', 'The session is done and its ka server has stopped: this is its final state (received at ' + clock(lastOk) + ').');
      } else {
        banner('gone', snap
          ? 'Lost contact with the ka server at ' + location.host + ' since ' + clock(lastOk) + ': the session may have ended. The figures below are the last ones received; retrying every second.'
          : 'Cannot reach the ka server at ' + location.host + '; retrying every second.');
      }
    }
    setTimeout(poll, delay);
  }

  $('log-node').addEventListener('change', (e) => selectLog(e.target.value));
  window.addEventListener('hashchange', () => selectLog(hashNode(), true));
  const first = hashNode();
  if (first) selectLog(first, true);
  poll();
})();
)KA";

constexpr std::string_view kHead = R"KA(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>ka dashboard</title>
<style>)KA";

constexpr std::string_view kBody = R"KA(</style>
</head>
<body>
<header class="top">
  <div class="title">
    <span class="logo" aria-hidden="true">ka</span>
    <h1 id="session-name">Session</h1>
    <span id="phase" class="badge st-wait">connecting</span>
    <span id="exec" class="tag" hidden>exec enabled</span>
    <span id="live" class="live" role="status">connecting</span>
  </div>
  <p id="source" class="source"></p>
  <dl class="facts">
    <div><dt>Elapsed</dt><dd id="elapsed">–</dd></div>
    <div><dt>Sent</dt><dd id="sent">–</dd></div>
    <div><dt>Total</dt><dd id="total">–</dd></div>
    <div><dt>Throughput</dt><dd id="rate">–</dd></div>
    <div><dt>Nodes</dt><dd id="node-count">–</dd></div>
    <div><dt>Session id</dt><dd id="session-id">–</dd></div>
  </dl>
  <div class="overall">
    <div id="overall" class="bar big" role="progressbar" aria-label="Overall progress" aria-valuemin="0" aria-valuemax="100"><div></div></div>
    <span id="overall-text"></span>
  </div>
</header>
<div id="banner" class="banner" role="alert" hidden></div>
<main id="main">
  <section aria-labelledby="chain-h">
    <h2 id="chain-h">Chain order</h2>
    <div id="chain" class="chain"><span class="muted">waiting for the server…</span></div>
  </section>
  <section aria-labelledby="nodes-h">
    <h2 id="nodes-h">Nodes</h2>
    <div class="table-wrap">
    <table id="nodes">
      <caption class="sr">Nodes of the session in chain order; select a row to show its log</caption>
      <thead><tr>
        <th scope="col" class="num">#</th><th scope="col">Node</th><th scope="col">Address</th><th scope="col">State</th>
        <th scope="col">Progress</th><th scope="col" class="num">Rate</th><th scope="col" class="num">ETA</th>
        <th scope="col">Last message</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    </div>
  </section>
  <div class="grid2">
    <section aria-labelledby="chart-h">
      <h2 id="chart-h">Throughput</h2>
      <svg id="chart" viewBox="0 0 640 270" role="img" aria-label="Throughput over time"></svg>
    </section>
    <section aria-labelledby="log-title">
      <h2 id="log-title">Node log</h2>
      <div class="logbar">
        <label for="log-node">Node</label>
        <select id="log-node"><option value="">— choose a node —</option></select>
        <span id="log-info" aria-live="polite"></span>
      </div>
      <pre id="log" tabindex="0" aria-label="Log lines of the selected node"></pre>
    </section>
  </div>
</main>
<footer>Read-only view of a ka session; refreshes every second. <span id="updated"></span></footer>
<script>)KA";

constexpr std::string_view kTail = R"KA(</script>
</body>
</html>
)KA";

}  // namespace

std::string_view DashboardStyle() { return kStyle; }
std::string_view DashboardScript() { return kScript; }

std::string DashboardPage() {
  std::string page;
  page.reserve(kHead.size() + kStyle.size() + kBody.size() + kScript.size() + kTail.size());
  page.append(kHead).append(kStyle).append(kBody).append(kScript).append(kTail);
  return page;
}

}  // namespace ka::control
