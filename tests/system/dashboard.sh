#!/usr/bin/env bash
# System test: the read-only web dashboard (--web), in headless Chromium.
#  1. `ka dashboard-demo` serves a synthetic three-node session on 127.0.0.1 (any free port) with a
#     token from a file (base64: '+', '/' and '=' must survive the URL ka prints)
#  2. HTTP (python3 urllib): /healthz without the token; /api/session 401 without the token and
#     with a wrong one, 200 with it (3 nodes); POST 405; /api/log of node2 pages; unknown node 404
#  3. the page in Chromium (--dump-dom after --virtual-time-budget), #node=node2 preselected: the
#     three nodes in the nodes table, the chain "sender → node1 → node2 …", an SVG chart with a
#     data path and its axis labels, node2's log lines in <pre id="log">, node2's row selected
#  4. without the token the page is the 401 message; the refusal is logged with the address
#  5. a screenshot (1280x900) once node3 has failed mid-stream, kept as a test artifact:
#     ${KA_ARTIFACT_DIR:-<dir of KA_BIN>/test-artifacts}/dashboard.png (> 10 KB)
# Only loopback is used. Processes are killed by PID at exit.
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_KEEP=1, KA_ARTIFACT_DIR.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

if [[ $(id -u) -ne 0 ]]; then echo "SKIP: needs root (Chromium runs with --no-sandbox)"; exit 77; fi
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROMIUM ]] || { echo "SKIP: chromium not installed (scripts/setup.sh installs it)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
bed_require_ka
bed_trap
bed_workdir
W=$BED_WORK
BUILD=$(cd "$(dirname "$KA_BIN")" && pwd)
ARTIFACTS=${KA_ARTIFACT_DIR:-$BUILD/test-artifacts}
mkdir -p "$W/home"

# chrome ARGS...: headless Chromium with a fresh profile, its own HOME, a hard time limit.
chrome() {
  HOME=$W/home XDG_CONFIG_HOME=$W/home/.config XDG_CACHE_HOME=$W/home/.cache \
    timeout 90 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$W/profile.XXXXXX")" "$@" 2>>"$W/chromium.err"
}

# http METHOD URL [BEARER]: prints "STATUS BODY" (python3 urllib; curl may not be installed)
http() {
  python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
if len(sys.argv) > 3:
    req.add_header("Authorization", "Bearer " + sys.argv[3])
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception as e:
    status, body = 0, str(e).encode()
print(status, body.decode("utf-8", "replace").replace("\n", " "))
PY
}
status_is() {  # status_is WANT METHOD URL [BEARER]
  local want=$1 got; shift
  got=$(http "$@")
  [[ ${got%% *} == "$want" ]] && return 0
  echo "    $1 $2: got '${got:0:200}', want status $want"; return 1
}

echo "== 1. ka dashboard-demo on 127.0.0.1, any free port"
bed_secret "$W/token"
TOKEN=$(head -n 1 "$W/token")
timeout "$KA_TIMEOUT" "$KA_BIN" dashboard-demo --web 127.0.0.1:0 --token-file "$W/token" --seconds 45 \
  >"$W/demo.log" 2>"$W/demo.log.err" </dev/null &
DEMO=$!
BED_PIDS+=("$DEMO")
URL=
for (( t = 0; t < 100; t++ )); do
  URL=$(sed -n 's/^dashboard: //p' "$W/demo.log")
  [[ -n $URL ]] && break
  sleep 0.1
done
bed_check "the demo prints its URL: http://127.0.0.1:PORT/?token=..." \
  grep -Eq '^dashboard: http://127\.0\.0\.1:[0-9]+/\?token=[A-Za-z0-9%._~-]+$' "$W/demo.log"
if [[ -z $URL ]]; then
  bed_dump "$W/demo.log"; echo "dashboard: FAIL (the demo did not start)"; exit 1
fi
echo "    $URL"
BASE=${URL%%/\?*}

echo "== 2. HTTP"
bed_check "/healthz answers ok without the token" status_is 200 GET "$BASE/healthz"
bed_check "/api/session without the token: 401" status_is 401 GET "$BASE/api/session"
bed_check "/api/session with a wrong token: 401" status_is 401 GET "$BASE/api/session?token=wrong"
bed_check "/api/session with a wrong Bearer token: 401" status_is 401 GET "$BASE/api/session" wrong
bed_check "/api/session with the token of the printed URL: 200" status_is 200 GET "$BASE/api/session?${URL#*\?}"
bed_check "/api/session with the token as Bearer: 200" status_is 200 GET "$BASE/api/session" "$TOKEN"
bed_check "POST /api/session: 405" status_is 405 POST "$BASE/api/session" "$TOKEN"
bed_check "/api/log of an unknown node: 404" status_is 404 GET "$BASE/api/log?node=node9&from=0" "$TOKEN"
session_ok() {
  http GET "$BASE/api/session" "$TOKEN" | python3 -c '
import json, sys
status, body = sys.stdin.read().split(" ", 1)
s = json.loads(body)
names = sorted(n["name"] for n in s["nodes"])
ok = status == "200" and names == ["node1", "node2", "node3"] and s["session"] == "demo"
for k in ("session_id", "source", "phase", "elapsed", "total_bytes", "sent_bytes", "chain", "exec_enabled", "throughput"):
    ok = ok and k in s
if not ok: print("    snapshot:", body[:300])
sys.exit(0 if ok else 1)'
}
sleep 1   # the three nodes join within the first second of the demo
bed_check "snapshot: session demo, the schema's keys, nodes node1..node3" session_ok
log_pages() {
  local a b
  a=$(http GET "$BASE/api/log?node=node2&from=0&max=2" "$TOKEN")
  b=$(http GET "$BASE/api/log?node=node2&from=2&max=2" "$TOKEN")
  python3 - "$a" "$b" <<'PY'
import json, sys
a = json.loads(sys.argv[1].split(" ", 1)[1]); b = json.loads(sys.argv[2].split(" ", 1)[1])
ok = a["node"] == "node2" and len(a["lines"]) == 2 and a["next"] == 2 and b["next"] == 4 and a["lines"] != b["lines"]
if not ok: print("    pages:", a, b)
sys.exit(0 if ok else 1)
PY
}
bed_check "/api/log pages node2's lines (from, max, next)" log_pages

echo "== 3. the page in headless Chromium (#node=node2)"
chrome --virtual-time-budget=4000 --dump-dom "$URL#node=node2" >"$W/dom.html"
check_dom() {
  python3 - "$W/dom.html" <<'PY'
import html, re, sys
d = open(sys.argv[1], encoding="utf-8").read()
bad = []
def element(tag, id_):
    m = re.search(r'<%s\b[^>]*\bid="%s"[^>]*>(.*?)</%s>' % (tag, id_, tag), d, re.S)
    return m.group(1) if m else None
def text(fragment):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment))).strip()
nodes = element("table", "nodes")
if nodes is None:
    bad.append("no <table id=nodes>")
else:
    rows = re.findall(r'<tr\b[^>]*\bdata-node="([^"]+)"', nodes)
    if rows != ["node1", "node2", "node3"]:
        bad.append("nodes table rows %s, want node1, node2, node3" % rows)
    if "<th" not in nodes:
        bad.append("nodes table without headers")
    if not re.search(r'<tr\b[^>]*data-node="node2"[^>]*class="[^"]*selected', nodes) and \
       not re.search(r'<tr\b[^>]*class="[^"]*selected[^"]*"[^>]*data-node="node2"', nodes):
        bad.append("node2's row is not marked selected")
    badges = re.findall(r'<span class="badge st-[a-z]+">([a-z]+)</span>', nodes)
    if len(badges) != 3:
        bad.append("state badges %s, want 3" % badges)
chain = element("div", "chain")
if chain is None or not text(chain).startswith("sender → node1 → node2"):
    bad.append("chain %r, want 'sender → node1 → node2 ...'" % (chain and text(chain)))
chart = element("svg", "chart")
if chart is None:
    bad.append("no <svg id=chart>")
else:
    m = re.search(r'<path\b[^>]*class="series"[^>]*\bd="([^"]+)"', chart)
    if not m or not re.match(r"M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+$", m.group(1)):
        bad.append("chart without a data path (class series, M..L..): %r" % (m and m.group(1)[:80]))
    t = text(chart)
    if "MiB/s" not in t or "seconds" not in t:
        bad.append("chart axis labels missing (MiB/s, seconds): %r" % t[:120])
log = element("pre", "log")
lines = [l for l in html.unescape(log or "").split("\n") if l.strip()]
if not lines or not all(re.match(r"\[\s*\d+\.\d\] ", l) for l in lines):
    bad.append("no log lines of node2 in <pre id=log>: %r" % lines[:3])
elif not any("192.168.50.12" in l or "node2" in l for l in lines):
    bad.append("the log is not node2's: %r" % lines[:3])
phase = re.search(r'<span id="phase"[^>]*>([a-z]+)</span>', d)
if not phase or phase.group(1) not in ("waiting", "preparing", "streaming", "finishing", "done"):
    bad.append("phase badge %r" % (phase and phase.group(1)))
if 'id="banner" class="banner " role="alert" hidden' not in d and not re.search(r'id="banner"[^>]*hidden', d):
    bad.append("an error banner is shown: %r" % text(element("div", "banner") or ""))
for b in bad:
    print("    DOM: " + b)
print("    DOM: %d nodes rows, chain %r, %d log lines" % (len(rows) if nodes else 0, chain and text(chain), len(lines)))
sys.exit(1 if bad else 0)
PY
}
bed_check "DOM: nodes table, chain order, SVG chart with a data path, node2's log" check_dom

echo "== 4. without the token"
chrome --virtual-time-budget=2000 --dump-dom "$BASE/" >"$W/dom401.html"
bed_check "the page without the token is the 401 message" grep -q '401 Unauthorized' "$W/dom401.html"
bed_check "  ... and shows no session data" bash -c "! grep -q 'node1' '$W/dom401.html'"
bed_check "the demo logged the refused requests with their address" \
  grep -Eq 'refused GET /[^ ]* from 127\.0\.0\.1' "$W/demo.log.err"

echo "== 5. screenshot once node3 has failed mid-stream"
node3_failed() {
  http GET "$BASE/api/session" "$TOKEN" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read().split(" ", 1)[1])
sys.exit(0 if any(n["name"] == "node3" and n["state"] == "failed" for n in s["nodes"]) else 1)' 2>/dev/null
}
for (( t = 0; t < 300; t++ )); do node3_failed && break; sleep 0.1; done
bed_check "node3 failed in the demo (chain goes on without it)" node3_failed
chrome --virtual-time-budget=4000 --window-size=1280,900 --screenshot="$W/dashboard.png" "$URL#node=node3" >/dev/null
mkdir -p "$ARTIFACTS" && cp "$W/dashboard.png" "$ARTIFACTS/dashboard.png"
png_ok() {
  local f=$ARTIFACTS/dashboard.png size
  [[ -f $f ]] || { echo "    $f missing"; return 1; }
  size=$(stat -c %s "$f")
  [[ $(head -c 8 "$f" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || { echo "    $f is not a PNG"; return 1; }
  (( size > 10240 )) || { echo "    $f: $size bytes (want > 10 KB)"; return 1; }
  echo "    $f: $size bytes"
}
bed_check "screenshot kept as a test artifact (PNG > 10 KB)" png_ok
bed_check "the demo is still serving" kill -0 "$DEMO"

echo "== 6. a real session: ka send --web to 2 nodes (network namespaces, 20 Mbit/s links)"
bed_up 2 20mbit || exit 1
head -c $(( 24 << 20 )) /dev/urandom >"$W/src.bin"
bed_secret "$W/secret"
ka_bg 0 "$W/send.log" send --nodes 2 --session web$$ --secret-file "$W/secret" --session-dir none \
  --web 127.0.0.1:0 --web-token-file "$W/webtoken" "$W/src.bin"
SPID=$BED_LAST_PID
bed_wait_tcp 0 30765 20
for i in 1 2; do
  ka_bg "$i" "$W/r$i.log" receive --server "$(bed_ip 0)" --session web$$ --secret-file "$W/secret" --name "node$i" \
    --output "$W/out$i"
done
SURL=
for (( t = 0; t < 100; t++ )); do
  SURL=$(sed -n 's/.*dashboard (read-only): //p' "$W/send.log.err" | head -1)
  [[ -n $SURL ]] && break
  sleep 0.1
done
bed_check "ka send prints the dashboard URL" test -n "$SURL"
# The log may name the token file instead of holding the token: "http://A:P/ (token in FILE)".
if [[ $SURL == *" (token in "*")" ]]; then
  tfile=${SURL##* (token in }; tfile=${tfile%)}
  SURL="${SURL%% *}?token=$(head -n 1 "$tfile")"
fi
bed_check "the token went to --web-token-file (mode 600)" test "$(stat -c %a "$W/webtoken")" = 600
for (( t = 0; t < 100; t++ )); do [[ -s $W/out2.ka-incomplete ]] && break; sleep 0.1; done
# Chromium runs in the sender's namespace: the dashboard listens on its loopback.
chrome_ns() { bed_exec 0 env HOME="$W/home" "$CHROMIUM" --headless=new --no-sandbox --disable-gpu \
  --disable-dev-shm-usage --no-first-run --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$(mktemp -d "$W/profile.XXXXXX")" "$@" 2>>"$W/chromium.err"; }
chrome_ns --virtual-time-budget=3000 --dump-dom "$SURL#node=node2" >"$W/session-dom.html"
live_dom() {
  python3 - "$W/session-dom.html" <<'PY'
import html, re, sys
d = open(sys.argv[1], encoding="utf-8").read()
rows = re.findall(r'<tr\b[^>]*\bdata-node="([^"]+)"', d)
chain = re.search(r'<div[^>]*id="chain"[^>]*>(.*?)</div>', d, re.S)
chain = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", chain.group(1)))).strip() if chain else ""
states = re.findall(r'<span class="badge st-[a-z]+">([a-z]+)</span>', d)
print(f"    live session DOM: rows {rows}, chain {chain!r}, states {states}")
ok = rows == ["node1", "node2"] and chain.startswith("sender → node1 → node2") and \
     all(s in ("joined", "receiving", "done") for s in states) and len(states) == 2
sys.exit(0 if ok else 1)
PY
}
bed_check "the live session in Chromium: both nodes, the chain, consistent states" live_dom
chrome_ns --virtual-time-budget=3000 --window-size=1280,900 --screenshot="$W/session.png" "$SURL#node=node1" >/dev/null
cp "$W/session.png" "$ARTIFACTS/dashboard-session.png" 2>/dev/null
bed_check "screenshot of the live session kept (test-artifacts/dashboard-session.png)" \
  test -s "$ARTIFACTS/dashboard-session.png"
bed_check "the session completes (sender exits 0)" ka_rc_is 0 "$SPID"

if (( BED_FAILS )); then
  bed_dump "$W/demo.log"
  [[ -s $W/chromium.err ]] && { echo "----- chromium.err (tail)"; grep -v dbus "$W/chromium.err" | tail -n 15; }
  echo "dashboard: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "dashboard: PASS"
