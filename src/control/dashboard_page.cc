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

std::string DashboardPage() {
  std::string page;
  page.reserve(kHead.size() + kStyle.size() + kBody.size() + DashboardScript().size() + kTail.size());
  page.append(kHead).append(kStyle).append(kBody).append(DashboardScript()).append(kTail);
  return page;
}

}  // namespace ka::control
