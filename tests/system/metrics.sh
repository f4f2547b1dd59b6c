#!/usr/bin/env bash
# System test: the dashboard's Prometheus /metrics (docs/dashboard.md §7) scraped during a real
# session and checked against the session's report.
#  - `ka send --web 127.0.0.1:PORT --web-token-file F --web-linger 3` in h0 to node1..node3 (h1..h3) over
#    rate-limited links (KA_METRICS_RATE, default 100mbit: 64 MiB take ~6 s), the token made by ka
#  - /metrics without the token and with a wrong one: 401, no metric in the answer; with the token
#    as Bearer (curl -H @file: it is never on a command line): 200, text/plain; version=0.0.4
#  - a scraper (curl every 0.1 s, Bearer) keeps every answer until the sender has exited; node3
#    (last in the chain) gets SIGKILL once it holds 40 % of the stream
#  - checks: at least 2 scrapes while streaming, and the last one (--web-linger 3 keeps the server
#    up after the report) in phase done; per-node ka_node_bytes_total and the session's
#    ka_session_sent_bytes_total never decrease; the last scrape's node count, per-node bytes,
#    addresses, states (done / failed), done and failed counts equal the report's; no scrape holds
#    the token; every sample's family has HELP and TYPE; the report is valid against
#    docs/report.schema.json (python3-jsonschema); node1 and node2 are byte-exact, sender exits 1.
# Processes are killed by PID; everything runs inside the bed's namespaces.
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_TEST_MIB (default 64), KA_METRICS_RATE, KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"

command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not installed (scripts/setup.sh installs it)"; exit 77; }
ka_have_jsonschema || { echo "SKIP: python3-jsonschema not installed (scripts/setup.sh installs it)"; exit 77; }

N=3
MIB=${KA_TEST_MIB:-64}
BYTES=$(( MIB << 20 ))
bed_begin "$N" "${KA_METRICS_RATE:-100mbit}" "$BYTES"
PORT=18080
URL=http://127.0.0.1:$PORT/metrics
SESSION=metrics.$$
mkdir -p "$W/scrapes"
logs=("$W/send.log" "$W/r1.log" "$W/r2.log" "$W/r3.log" "$W/scraper.log")

echo "== sender h0 with --web 127.0.0.1:$PORT, node1..node$N over ${KA_METRICS_RATE:-100mbit}, $MIB MiB"
ka_bg 0 "$W/send.log" send --nodes "$N" --session "$SESSION" --secret-file "$W/secret" \
  --web "127.0.0.1:$PORT" --web-token-file "$W/web-token" --web-linger 3 --session-dir "$W/session" \
  --report "$W/report.json" "$W/src.bin"
SPID=$BED_LAST_PID
bed_check "the dashboard listens in h0 on $PORT" bed_wait_tcp 0 "$PORT" 20
bed_check "ka made the token file, mode 600" test "$(stat -c %a "$W/web-token" 2>/dev/null)" = 600
TOKEN=$(head -n 1 "$W/web-token" 2>/dev/null)
(umask 077; printf 'Authorization: Bearer %s\n' "$TOKEN" >"$W/auth")
(umask 077; printf 'Authorization: Bearer %s\n' "wrong$TOKEN" >"$W/auth-wrong")

# scrape [CURL OPTION...]: GET /metrics from inside h0; prints "STATUS CONTENT-TYPE" and keeps the body
# in $W/body
scrape() { bed_exec 0 curl -s -o "$W/body" -w '%{http_code} %{content_type}' --max-time 5 "$@" "$URL"; }

echo "== /metrics refused without the token, answered with it"
got=$(scrape)
bed_check "no token: 401 (got '$got')" test "${got%% *}" = 401
bed_check "no token: no metric in the answer" bash -c "! grep -q '^ka_' '$W/body'"
got=$(scrape -H @"$W/auth-wrong")
bed_check "a wrong token: 401 (got '$got')" test "${got%% *}" = 401
got=$(scrape -H @"$W/auth")
bed_check "the token as Bearer: 200 text/plain; version=0.0.4 (got '$got')" \
  test "$got" = "200 text/plain; version=0.0.4; charset=utf-8"

# The scraper: every 0.1 s, each answer in scrapes/NNNNN (only complete 200 answers), until
# $W/scrape.stop exists (at most 1200 tries).
# shellcheck disable=SC2016  # the loop's own variables: expanded by the inner bash
bed_bg 0 "$W/scraper.log" bash -c '
  n=0
  while [[ ! -e $3/scrape.stop ]] && (( n < 1200 )); do
    n=$(( n + 1 ))
    f=$(printf "%s/scrapes/%05d" "$3" "$n")
    if curl -sf --max-time 2 -H @"$2" -o "$f.part" "$1"; then mv "$f.part" "$f"; else rm -f "$f.part"; fi
    sleep 0.1
  done' scraper "$URL" "$W/auth" "$W"
SCRAPER=$BED_LAST_PID

RPID=()
for (( i = 1; i <= N; i++ )); do
  ka_bg "$i" "$W/r$i.log" receive --session "$SESSION" --secret-file "$W/secret" --name "node$i" \
    --output "$W/out$i"
  RPID[i]=$BED_LAST_PID
done

echo "== node3 (last) gets SIGKILL at 40 % of the stream"
if fault_wait_size "$W/out3" $(( BYTES * 2 / 5 )) 60 && victim=$(ka_real_pid "${RPID[3]}" 0); then
  bed_check "node3 killed while streaming" fault_kill_wait "${RPID[3]}" "$victim"
else
  bed_check "node3 reached 40 % of the stream" false
fi
bed_check "sender exits 1 (node3 failed)" ka_rc_is 1 "$SPID"
bed_check "node1 exits 0" ka_rc_is 0 "${RPID[1]}"
bed_check "node2 exits 0" ka_rc_is 0 "${RPID[2]}"
touch "$W/scrape.stop"
bed_wait "$SCRAPER"
bed_check "node1 output == source" ka_same "$W/src.bin" "$W/out1"
bed_check "node2 output == source" ka_same "$W/src.bin" "$W/out2"
bed_check "report: node1,node2 ok, node3 ko" ka_check_report "$W/report.json" "$BYTES" node1,node2 node3
bed_check "the report is valid against docs/report.schema.json" ka_check_report_schema "$W/report.json"

echo "== the scrapes against each other and against the report"
bed_check "the scrapes agree with the report" python3 - "$W/scrapes" "$W/report.json" "$TOKEN" <<'PY'
import json, os, re, sys
folder, report_path, token = sys.argv[1:4]
report = json.load(open(report_path))
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
bad = []

def parse(path):
    text = open(path, encoding="utf-8").read()
    if token and token in text:
        bad.append(f"{path}: holds the token")
    helps, types, samples = set(), set(), []
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            types.add(line.split()[2])
        elif line:
            m = line_re.match(line)
            if not m:
                bad.append(f"{path}: not a sample line: {line!r}")
                continue
            labels = {k: re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(x.group(1), x.group(1)), v)
                      for k, v in label_re.findall(m.group(2) or "")}
            if m.group(1) not in helps or m.group(1) not in types:
                bad.append(f"{path}: {m.group(1)} has no HELP or TYPE before it")
            samples.append((m.group(1), labels, float(m.group(3))))
    return samples

def one(samples, name):
    v = [s[2] for s in samples if s[0] == name]
    return v[0] if len(v) == 1 else None

def per_node(samples, name):
    return {s[1]["node"]: s for s in samples if s[0] == name}

files = sorted(f for f in os.listdir(folder) if not f.endswith(".part"))
scrapes = [(f, parse(os.path.join(folder, f))) for f in files]
phase = lambda s: next((x[1].get("phase") for x in s if x[0] == "ka_session_info"), None)
streaming = [f for f, s in scrapes if phase(s) == "streaming"]
print(f"    {len(scrapes)} scrapes, {len(streaming)} while streaming")
if len(streaming) < 2:
    bad.append(f"only {len(streaming)} scrape(s) while streaming, want 2 or more")

last_bytes, last_sent = {}, 0
for f, s in scrapes:
    for node, (_, _, v) in per_node(s, "ka_node_bytes_total").items():
        if v < last_bytes.get(node, 0):
            bad.append(f"{f}: ka_node_bytes_total of {node} went down: {last_bytes[node]:.0f} -> {v:.0f}")
        last_bytes[node] = v
    sent = one(s, "ka_session_sent_bytes_total")
    if sent is not None:
        if sent < last_sent:
            bad.append(f"{f}: ka_session_sent_bytes_total went down: {last_sent:.0f} -> {sent:.0f}")
        last_sent = sent
    states = per_node(s, "ka_node_state")
    if len(states) != len([x for x in s if x[0] == "ka_node_state"]):
        bad.append(f"{f}: a node with more than one ka_node_state series")

if not scrapes:
    bad.append("no scrape at all")
else:
    f, s = scrapes[-1]
    states = {n: x[1]["state"] for n, x in per_node(s, "ka_node_state").items()}
    print(f"    last scrape {f}: phase {phase(s)}, states {states}")
    if phase(s) != "done" or any(st not in ("done", "failed") for st in states.values()):
        bad.append(f"{f}: the last scrape came before every node had its verdict: {states}")
    nodes = {n["name"]: n for n in report["nodes"]}
    if one(s, "ka_session_nodes") != len(nodes):
        bad.append(f"ka_session_nodes {one(s, 'ka_session_nodes')}, report has {len(nodes)} nodes")
    if one(s, "ka_session_nodes_failed") != len(report["ko"]):
        bad.append(f"ka_session_nodes_failed {one(s, 'ka_session_nodes_failed')}, report ko {len(report['ko'])}")
    if one(s, "ka_session_nodes_done") != len(report["ok"]):
        bad.append(f"ka_session_nodes_done {one(s, 'ka_session_nodes_done')}, report ok {len(report['ok'])}")
    got_bytes = per_node(s, "ka_node_bytes_total")
    got_failed = per_node(s, "ka_node_failed")
    if set(got_bytes) != set(nodes):
        bad.append(f"nodes in /metrics {sorted(got_bytes)}, in the report {sorted(nodes)}")
    for name, n in nodes.items():
        if name not in got_bytes:
            continue
        _, labels, v = got_bytes[name]
        if v != n["bytes"]:
            bad.append(f"{name}: ka_node_bytes_total {v:.0f}, report bytes {n['bytes']}")
        if labels.get("address") != n["address"]:
            bad.append(f"{name}: address label {labels.get('address')!r}, report {n['address']!r}")
        want_state = "done" if n["status"] == "ok" else "failed"
        if states.get(name) != want_state:
            bad.append(f"{name}: state {states.get(name)}, report status {n['status']}")
        if got_failed.get(name, (0, 0, -1))[2] != (1 if n["status"] == "failed" else 0):
            bad.append(f"{name}: ka_node_failed {got_failed.get(name)}, report status {n['status']}")
for b in bad[:30]:
    print("    " + b)
sys.exit(1 if bad else 0)
PY

if (( BED_FAILS )); then
  bed_dump "${logs[@]}"
  echo "metrics: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "metrics: PASS"
