// The dashboard's script (see control/dashboard_page.h): vanilla JS, apart from the page's
// HTML and CSS only for size.
#include "control/dashboard_page.h"

namespace ka::control {
namespace {

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

}  // namespace

std::string_view DashboardScript() { return kScript; }

}  // namespace ka::control
