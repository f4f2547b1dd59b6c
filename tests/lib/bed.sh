# shellcheck shell=bash
# tests/lib/bed.sh - tiny network test bed for ka's system tests and benchmarks.
#
# Source it from a bash script (it does not change shell options):
#     . "$(dirname "$0")/../lib/bed.sh"
#     bed_require_root          # exit 77 (skip) unless root with working `ip netns`
#     bed_trap                  # clean up namespaces, processes and the work dir on EXIT
#     bed_workdir               # sets BED_WORK (mktemp -d); kept at the end if KA_KEEP=1
#     bed_up 4 [1gbit]          # switch + hosts h0 (sender) .. h4
# or, for a test that runs ka, all of these plus a secret and a source file in one call:
#     bed_begin 4 [1gbit [BYTES]]
#
# Topology (everything lives in namespaces created here; nothing in the root netns):
#   ${BED_PREFIX}sw   "switch" netns with bridge br0; port p<i> is the peer of host i's eth0
#   ${BED_PREFIX}h<i> host netns, veth eth0 with 10.231.X.Y/16 (X.Y = i+1) and broadcast
#                     10.231.255.255, lo up, IPv6 off, answers broadcast pings
# Optional RATE (tc syntax: 100mbit, 1gbit, ...) shapes with tbf both the host's egress (its TX)
# and the switch port's egress (its RX): a full-duplex link of RATE per host.
#
# BED_PREFIX defaults to "ka<pid>-" so several runs can coexist.
# Processes started with bed_bg are recorded and killed by PID at bed_down; so is every process
# still inside a bed namespace (ip netns pids). Nothing is ever killed by name.

BED_PREFIX=${BED_PREFIX:-ka$$-}
BED_SW=${BED_PREFIX}sw
BED_N=-1                 # highest host index of the bed that is up (-1: none)
BED_NSS=()               # namespaces created by this run (also when bed_up failed half-way)
BED_PIDS=()              # processes started by bed_bg
BED_LAST_PID=
BED_MAIN_PID=$$
BED_WORK=
BED_TBF_BURST=${BED_TBF_BURST:-98304}      # >= 96 KiB: above veth's 64 KiB GSO super-packets
BED_TBF_LIMIT=${BED_TBF_LIMIT:-1514000}    # txqueuelen 1000 x 1514 B, like a real NIC queue

KA_ROOT=${KA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KA_BIN=${KA_BIN:-$KA_ROOT/build/ka}

bed_log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
bed_die()  { printf 'bed: %s\n' "$*" >&2; exit 1; }

# Skip (exit 77) unless we are root and network namespaces work here.
bed_require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: needs root (network namespaces)"; exit 77
  fi
  command -v ip >/dev/null 2>&1 || { echo "SKIP: iproute2 (ip) not installed"; exit 77; }
  local probe=${BED_PREFIX}probe
  if ! ip netns add "$probe" 2>/dev/null; then
    echo "SKIP: 'ip netns add' does not work here"; exit 77
  fi
  ip netns exec "$probe" true 2>/dev/null; local rc=$?
  ip netns del "$probe" 2>/dev/null
  (( rc == 0 )) || { echo "SKIP: 'ip netns exec' does not work here"; exit 77; }
}

# Skip (exit 77) unless $KA_BIN is an executable file.
bed_require_ka() {
  [[ -x $KA_BIN ]] || { echo "SKIP: ka binary not found at $KA_BIN (build it or set KA_BIN)"; exit 77; }
}

bed_ns() { echo "${BED_PREFIX}h$1"; }
bed_ip() { local n=$(( $1 + 1 )); echo "10.231.$(( n / 256 )).$(( n % 256 ))"; }
bed_exec() { local i=$1; shift; ip netns exec "$(bed_ns "$i")" "$@"; }

bed_workdir() {
  BED_WORK=$(mktemp -d "${TMPDIR:-/tmp}/ka-test.XXXXXX") || bed_die "mktemp failed"
  export BED_WORK
}

# bed_shape_dev NETNS DEV RATE: replace DEV's root qdisc by a tbf of RATE.
bed_shape_dev() {
  tc -netns "$1" qdisc replace dev "$2" root handle 1: tbf rate "$3" \
    burst "$BED_TBF_BURST" limit "$BED_TBF_LIMIT"
}

# bed_up N [RATE]: switch + hosts h0..hN.
# BED_RATE0=RATE (optional) shapes the sender host h0's link (both ways) to RATE instead, e.g. a
# 1gbit server uplink beside 100mbit nodes (with no RATE, only h0 is shaped). Unset: no change.
# The `ip` and `tc` commands go in batches (ip -batch, ip -netns): 100 hosts come up in ~1.5 s.
bed_up() {
  local n=$1 rate=${2:-} rate0=${BED_RATE0:-} i ns r
  if ! [[ $n =~ ^[0-9]+$ ]] || (( n < 1 || n > 250 )); then
    bed_die "usage: bed_up N [RATE] (1 <= N <= 250)"
  fi
  (( BED_N < 0 )) || bed_die "a bed is already up"
  local hosts=()
  for (( i = 0; i <= n; i++ )); do hosts+=("$(bed_ns "$i")"); done
  for ns in "$BED_SW" "${hosts[@]}"; do
    [[ ! -e /run/netns/$ns ]] || bed_die "netns $ns already exists (another run? set BED_PREFIX)"
  done
  BED_N=$n
  # recorded before they exist: bed_down deletes those that do, also when this fails half-way
  BED_NSS+=("$BED_SW" "${hosts[@]}")
  printf 'netns add %s\n' "$BED_SW" "${hosts[@]}" | ip -batch - || bed_die "cannot create the namespaces"
  ip netns exec "$BED_SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -netns "$BED_SW" -batch - <<EOF || bed_die "cannot set up the switch $BED_SW"
link set lo up
link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
link set br0 up
EOF
  # both ends of every veth are created directly inside their namespaces: no link ever shows in
  # the root netns
  for (( i = 0; i <= n; i++ )); do
    echo "link add eth0 netns ${hosts[i]} type veth peer name p$i netns $BED_SW"
  done | ip -batch - || bed_die "cannot create the veths"
  for (( i = 0; i <= n; i++ )); do
    printf 'link set p%d master br0\nlink set p%d up\n' "$i" "$i"
  done | ip -netns "$BED_SW" -batch - || bed_die "cannot attach the ports to br0 in $BED_SW"
  for (( i = 0; i <= n; i++ )); do
    ns=${hosts[i]}
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
      net.ipv4.icmp_echo_ignore_broadcasts=0
    printf 'link set lo up\naddr add %s/16 brd + dev eth0\nlink set eth0 up\n' "$(bed_ip "$i")" |
      ip -netns "$ns" -batch - || bed_die "cannot configure eth0 in $ns"
    [[ ${BED_DEFAULT_ROUTE:-0} == 1 ]] && bed_default_route "$i"
    r=$rate
    (( i == 0 )) && [[ -n $rate0 ]] && r=$rate0
    if [[ -n $r && $r != none ]]; then
      bed_shape_dev "$ns" eth0 "$r" || bed_die "tc tbf $r failed on $ns eth0"
    fi
  done
  for (( i = 0; i <= n; i++ )); do
    r=$rate
    (( i == 0 )) && [[ -n $rate0 ]] && r=$rate0
    [[ -z $r || $r == none ]] ||
      echo "qdisc replace dev p$i root handle 1: tbf rate $r burst $BED_TBF_BURST limit $BED_TBF_LIMIT"
  done | tc -netns "$BED_SW" -batch - || bed_die "tc tbf failed on the ports of $BED_SW"
  [[ ${BED_STATIC_NEIGH:-0} == 1 ]] && _bed_static_neigh "$n"
  # wait until every port forwards (forward_delay 0, but links come up asynchronously)
  local tries
  for (( tries = 0; tries < 50; tries++ )); do
    ip netns exec "$BED_SW" bridge link show | grep -qv 'state forwarding' || break
    sleep 0.1
  done
  bed_log "bed up: $BED_SW + $(bed_ns 0)..$(bed_ns "$n") on 10.231.0.0/16, rate=${rate:-unshaped}${rate0:+, h0 $rate0}"
}

# _bed_static_neigh N (BED_STATIC_NEIGH=1 before bed_up): give every host a permanent ARP entry for
# every other host and for the broadcast addresses. The kernel's ARP table is shared by all namespaces
# (gc_thresh3, 1024 by default, counts the entries of every namespace of the machine, permanent ones
# excepted): when other beds on the same machine fill it, "neighbour: arp_cache: neighbor table
# overflow!", new neighbours stay unresolved and even a broadcast (which needs an entry for its
# address) is dropped: no receiver finds the sender. Permanent entries need no resolution and do not
# count.
_bed_static_neigh() {
  local n=$1 i j mac=() lines=()
  for (( i = 0; i <= n; i++ )); do
    mac[i]=$(ip -netns "$(bed_ns "$i")" -o link show eth0 | sed -n 's/.* link\/ether \([0-9a-f:]*\) .*/\1/p')
    [[ -n ${mac[i]} ]] || bed_die "no MAC address for eth0 in $(bed_ns "$i")"
    lines[i]="neigh replace $(bed_ip "$i") lladdr ${mac[i]} dev eth0 nud permanent"
  done
  for (( i = 0; i <= n; i++ )); do
    {
      for (( j = 0; j <= n; j++ )); do (( i == j )) || echo "${lines[j]}"; done
      echo "neigh replace 10.231.255.255 lladdr ff:ff:ff:ff:ff:ff dev eth0 nud permanent"
      echo "neigh replace 255.255.255.255 lladdr ff:ff:ff:ff:ff:ff dev eth0 nud permanent"
    } |
      ip -netns "$(bed_ns "$i")" -batch - || bed_die "cannot add the static neighbours of $(bed_ns "$i")"
  done
}

# bed_default_route I: give host I a default route out of eth0 (no gateway: the bed has no exit,
# so this only makes the limited broadcast 255.255.255.255 routable, as on a typical LAN host).
# BED_DEFAULT_ROUTE=1 before bed_up does it for every host.
bed_default_route() { bed_exec "$1" ip route replace default dev eth0; }

# bed_bg I LOGFILE CMD...: start CMD in the background inside host I.
# stdout goes to LOGFILE, stderr to LOGFILE.err, stdin from $BED_STDIN (default /dev/null).
# The PID is stored in BED_LAST_PID and recorded for cleanup. Call it directly, not inside
# $(...): the process must be a child of the test shell so `bed_wait` can read its exit status.
bed_bg() {
  local i=$1 log=$2; shift 2
  ip netns exec "$(bed_ns "$i")" "$@" >"$log" 2>"$log.err" <"${BED_STDIN:-/dev/null}" &
  BED_LAST_PID=$!
  BED_PIDS+=("$BED_LAST_PID")
}

# bed_wait PID: wait for a bed_bg process, return its exit status.
bed_wait() { local rc=0; wait "$1" || rc=$?; return "$rc"; }

# bed_wait_tcp I PORT [SECONDS]: wait until something listens on TCP PORT in host I.
# bed_wait_udp I PORT [SECONDS]: wait until something is bound to UDP PORT in host I.
bed_wait_tcp() { _bed_wait_bound -Hltn "$@"; }
bed_wait_udp() { _bed_wait_bound -Hlun "$@"; }
_bed_wait_bound() {
  local ss_opts=$1 i=$2 port=$3 secs=${4:-20} t
  for (( t = 0; t < secs * 10; t++ )); do
    bed_exec "$i" ss "$ss_opts" "sport = :$port" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

bed_pids_of_ns() { ip netns pids "$1" 2>/dev/null; }

# _bed_pids_of_nss NS...: the processes inside any of these namespaces, in one pass over /proc
# (what `ip netns pids` does for one: compare each process's net namespace with the named one)
_bed_pids_of_nss() {
  local ns ino=() p
  for ns in "$@"; do
    [[ -e /run/netns/$ns ]] && ino+=("$(stat -L -c 'net:[%i]' "/run/netns/$ns" 2>/dev/null)")
  done
  (( ${#ino[@]} )) || return 0
  find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%h %l\n' 2>/dev/null | awk -v want="${ino[*]}" '
    BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
    ($2 in ok) { split($1, f, "/"); print f[3] }'
}

bed_down() {
  local p ns sig left=()
  sleep 0.1   # let just-forked bed_bg children reach their exec before signalling them
  for p in "${BED_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for sig in TERM KILL; do
    for p in $(_bed_pids_of_nss "${BED_NSS[@]}"); do kill -s "$sig" "$p" 2>/dev/null || true; done
    [[ $sig == TERM ]] && sleep 0.3
  done
  for ns in "${BED_NSS[@]}"; do [[ -e /run/netns/$ns ]] && left+=("$ns"); done
  (( ${#left[@]} )) && { printf 'netns del %s\n' "${left[@]}" | ip -force -batch - 2>/dev/null || true; }
  (( ${#BED_NSS[@]} )) && bed_log "bed down: ${#BED_NSS[@]} namespaces removed"
  BED_NSS=(); BED_PIDS=(); BED_N=-1
  return 0
}

bed_cleanup() {
  local rc=$?
  # a forked child (e.g. bed_bg before its exec) that receives a signal must not clean up
  [[ $BASHPID == "$BED_MAIN_PID" ]] || exit "$rc"
  trap - EXIT INT TERM
  bed_down
  if [[ -n $BED_WORK && -d $BED_WORK ]]; then
    if [[ ${KA_KEEP:-0} == 1 ]]; then
      echo "work dir kept: $BED_WORK"
    else
      rm -rf "$BED_WORK"
    fi
  fi
  exit "$rc"
}

# Install the cleanup on EXIT (and turn INT/TERM into an exit that runs it).
bed_trap() {
  trap bed_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# ---- small helpers for the test scripts ----

BED_FAILS=0
bed_check() {   # bed_check "description" CMD...: run CMD, print PASS/FAIL, count failures
  local what=$1; shift
  if "$@"; then
    echo "  ok   - $what"
  else
    echo "  FAIL - $what"
    BED_FAILS=$(( BED_FAILS + 1 ))
  fi
}

bed_quiet() { "$@" >/dev/null 2>&1; }

# bed_dump LOG...: print the tail of logs (stdout and .err) for diagnosis
bed_dump() {
  local f
  for f in "$@"; do
    [[ -s $f ]] && { echo "----- $f (tail)"; tail -n 15 "$f"; }
    [[ -s $f.err ]] && { echo "----- $f.err (tail)"; tail -n 15 "$f.err"; }
  done
  return 0
}

# bed_hog_start / bed_hog_stop: one busy process per core beside a test (a machine under load),
# recorded for cleanup and stopped by PID
BED_HOGS=()
bed_hog_start() {
  local c
  for (( c = 0; c < $(nproc); c++ )); do
    bash -c 'while :; do :; done' &
    BED_HOGS+=("$!")
    BED_PIDS+=("$!")
  done
}
bed_hog_stop() {
  (( ${#BED_HOGS[@]} )) || return 0
  kill "${BED_HOGS[@]}" 2>/dev/null
  wait "${BED_HOGS[@]}" 2>/dev/null
  BED_HOGS=()
  return 0
}

# bed_secret FILE: write a random secret, mode 600
bed_secret() {
  (umask 077; head -c 32 /dev/urandom | base64 >"$1")
}

# bed_begin N [RATE [BYTES]]: the common opening of a test that runs ka on a bed. Skips (77)
# unless root with working namespaces and a built ka; cleans up on exit; sets W (= BED_WORK, the
# work dir); brings up h0..hN at RATE ("" or none: unshaped); writes a secret to $W/secret and,
# with BYTES, that many random bytes to $W/src.bin. Exits 1 when the bed does not come up.
bed_begin() {
  local n=$1 rate=${2:-} bytes=${3:-}
  bed_require_root
  bed_require_ka
  bed_trap
  bed_workdir
  # shellcheck disable=SC2034  # W is the tests' name for the work dir
  W=$BED_WORK
  bed_up "$n" "$rate" || exit 1
  bed_secret "$W/secret"
  [[ -z $bytes ]] || head -c "$bytes" /dev/urandom >"$W/src.bin"
}

# ---- ka helpers ----

KA_TIMEOUT=${KA_TIMEOUT:-120}   # hard limit for every ka process, so a hang fails instead of blocking

# ka_bg I LOG ARGS...: run `ka ARGS...` in host I under timeout; PID in BED_LAST_PID.
ka_bg() { local i=$1 log=$2; shift 2; bed_bg "$i" "$log" timeout "$KA_TIMEOUT" "$KA_BIN" "$@"; }

# ka_check_report REPORT BYTES OK_NAMES KO_NAMES [KO_REASON_REGEX]
#   OK_NAMES / KO_NAMES: comma separated node names ("" for none).
# Checks the report's shape and contents; prints every problem; returns 1 on any.
ka_check_report() {
  python3 - "$@" <<'PYEOF'
import json, re, sys
path, nbytes, want_ok, want_ko = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
reason_re = sys.argv[5] if len(sys.argv) > 5 else None
want_ok = set(x for x in want_ok.split(",") if x)
want_ko = set(x for x in want_ko.split(",") if x)
bad = []
try:
    r = json.load(open(path))
except Exception as e:
    print(f"    report {path}: cannot load JSON: {e}")
    sys.exit(1)
types = {"session": str, "session_id": str, "bytes": int, "seconds": (int, float),
         "throughput_mib_s": (int, float), "nodes": list, "ok": list, "ko": list}
for k, t in types.items():
    if k not in r:
        bad.append(f"missing key '{k}'")
    elif not isinstance(r[k], t) or isinstance(r[k], bool):
        bad.append(f"key '{k}' has type {type(r[k]).__name__}")
if bad:
    print("    report problems: " + "; ".join(bad)); sys.exit(1)
if r["bytes"] != nbytes:
    bad.append(f"bytes={r['bytes']} want {nbytes}")
if not r["seconds"] > 0:
    bad.append(f"seconds={r['seconds']} not > 0")
if want_ok and not r["throughput_mib_s"] > 0:
    bad.append(f"throughput_mib_s={r['throughput_mib_s']} not > 0")
ok = r["ok"]
if sorted(ok) != sorted(want_ok):
    bad.append(f"ok={sorted(ok)} want {sorted(want_ok)}")
ko_names = []
for k in r["ko"]:
    if not isinstance(k, dict) or not isinstance(k.get("name"), str) \
       or not isinstance(k.get("reason"), str) or not isinstance(k.get("offset"), int):
        bad.append(f"ko entry malformed: {k}")
        continue
    ko_names.append(k["name"])
    if reason_re and not re.search(reason_re, k["reason"], re.I):
        bad.append(f"ko reason of {k['name']} = {k['reason']!r} does not match /{reason_re}/i")
if sorted(ko_names) != sorted(want_ko):
    bad.append(f"ko names={sorted(ko_names)} want {sorted(want_ko)}")
nodes = r["nodes"]
names = [n.get("name") for n in nodes if isinstance(n, dict)]
if sorted(names) != sorted(want_ok | want_ko):
    bad.append(f"nodes names={sorted(map(str, names))} want {sorted(want_ok | want_ko)}")
positions = [n.get("position") for n in nodes if isinstance(n, dict)]
if len(set(positions)) != len(positions) or not all(isinstance(p, int) for p in positions):
    bad.append(f"node positions not distinct integers: {positions}")
digests = set()
for n in nodes:
    if not isinstance(n, dict):
        bad.append(f"node entry malformed: {n}"); continue
    for k, t in (("name", str), ("address", str), ("position", int), ("status", str),
                 ("bytes", int), ("digest", str), ("error", str)):
        if not isinstance(n.get(k), t):
            bad.append(f"node {n.get('name')}: field '{k}' missing or not {t.__name__}")
    if n.get("name") in want_ok:
        if n.get("status") != "ok":
            bad.append(f"node {n.get('name')}: status={n.get('status')!r} want 'ok'")
        if n.get("bytes") != nbytes:
            bad.append(f"node {n.get('name')}: bytes={n.get('bytes')} want {nbytes}")
        if not n.get("digest"):
            bad.append(f"node {n.get('name')}: empty digest")
        digests.add(n.get("digest"))
    elif n.get("name") in want_ko and n.get("status") != "failed":
        bad.append(f"node {n.get('name')}: status={n.get('status')!r} want 'failed'")
if len(digests) > 1:
    bad.append(f"ok nodes report different digests: {sorted(map(str, digests))}")
order = sorted((n.get("position", 0), n.get("name"), n.get("address")) for n in nodes if isinstance(n, dict))
print("    report: session=%s bytes=%s seconds=%s MiB/s=%s chain=%s" % (
    r["session"], r["bytes"], r["seconds"], r["throughput_mib_s"],
    " -> ".join(f"{nm}({ad})" for _, nm, ad in order)))
for b in bad:
    print("    report problem: " + b)
sys.exit(1 if bad else 0)
PYEOF
}

# ka_check_report_schema REPORT: REPORT is valid against docs/report.schema.json (python3-jsonschema,
# which scripts/setup.sh installs; test for it with ka_have_jsonschema); prints every violation.
# Debian's own Python, where apt puts the module (a python3 earlier in PATH, e.g. pyenv's, lacks it).
KA_SCHEMA_PY=${KA_SCHEMA_PY:-/usr/bin/python3}
ka_have_jsonschema() { "$KA_SCHEMA_PY" -c 'import jsonschema' 2>/dev/null; }
ka_check_report_schema() {
  "$KA_SCHEMA_PY" - "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/docs/report.schema.json" "$1" <<'PYEOF'
import json, sys, jsonschema
schema, report = (json.load(open(p)) for p in sys.argv[1:3])
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(report))
for e in errors:
    print("    report%s: %s" % ("".join("[%r]" % p for p in e.absolute_path), e.message))
sys.exit(1 if errors else 0)
PYEOF
}

# ka_same SRC FILE: byte equality (cmp), with a short diagnosis when different
ka_same() {
  local out
  if [[ ! -e $2 ]]; then echo "    $2: missing"; return 1; fi
  out=$(cmp "$1" "$2" 2>&1) && return 0
  echo "    $out (sizes: $(stat -c %s "$1") vs $(stat -c %s "$2"))"
  return 1
}

# ka_rc_is WANT PID: wait for PID, compare exit status ("nz" = any non-zero, but not a timeout)
ka_rc_is() {
  local want=$1 pid=$2 rc=0
  wait "$pid" || rc=$?
  # shellcheck disable=SC2034  # read by the test scripts
  KA_LAST_RC=$rc
  if (( rc == 124 )); then echo "    pid $pid timed out after ${KA_TIMEOUT}s (killed by timeout)"; return 1; fi
  if [[ $want == nz ]]; then
    (( rc != 0 )) || { echo "    pid $pid exited 0, want non-zero"; return 1; }
  else
    (( rc == want )) || { echo "    pid $pid exited $rc, want $want"; return 1; }
  fi
}

# ka_rc_is_fg WANT CMD...: run CMD in the foreground, compare its exit status
ka_rc_is_fg() {
  local want=$1 rc=0; shift
  "$@" || rc=$?
  (( rc == want )) || { echo "    $* exited $rc, want $want"; return 1; }
}

# ---- the real ka process behind a wrapper (fault injection: tests/lib/fault.bash) ----

# ka_real_pid WRAPPER_PID [SECONDS]: print the PID of the ka process itself, started by ka_bg
# (`ip netns exec` execs in place, then `timeout` forks ka): walk the first-child chain from
# WRAPPER_PID to the first process whose comm is "ka". Retries for SECONDS (default 5).
ka_real_pid() {
  local root=$1 secs=${2:-5} t p
  for (( t = 0; t <= secs * 20; t++ )); do
    p=$root
    while [[ -n $p && -e /proc/$p ]]; do
      if [[ $(cat "/proc/$p/comm" 2>/dev/null) == ka ]]; then echo "$p"; return 0; fi
      p=$(pgrep -P "$p" 2>/dev/null | head -n 1)
    done
    (( secs > 0 )) && sleep 0.05
  done
  return 1
}
