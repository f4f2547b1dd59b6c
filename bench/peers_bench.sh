#!/usr/bin/env bash
# peers_bench.sh - ka against its peers, side by side, in one run on one bed.
#
# One bed (tests/lib/bed.sh): h0 = sender, h1..hN = receivers on one bridge, every link shaped to
# RATE both ways with tc tbf (or --unshaped). The same SIZE MiB of random data for every method, every
# receiver writes to /dev/null. Methods (--methods, in this order):
#   onecopy   one single-link copy: socat h0 -> socat h1 (the reference for "vs one copy"; run once)
#   floor     minimal splice/tee relay chain h1 -> ... -> hN (../shared/bench/splice_relay.c, built
#             here with a byte counter), fed by socat from h0
#   kadeploy  ka-deploy 0.94, ka-d-server / ka-d-client (built here from
#             ../shared/bench/ka-deploy-0.94-src.tar.gz; skipped with a note when it is absent)
#   udpcast   udp-sender / udp-receiver (Debian's udpcast), multicast on the bridge
#   ka        ka send / ka receive, once per variant (--variants)
# For each method and N: wall seconds from the start of its first process until its last receiver
# exited, the ratio to the one-copy time, CPU seconds (user+sys, /usr/bin/time of every process) per
# GiB for all processes and per role (sender, forwarding hop, last node), and a check that every
# receiver got every byte (a method that did not deliver shows as FAILED, never as fast). Prints
# markdown tables, the command line, the bed, and a PASS/FAIL verdict per judged criterion.
#
# Usage: bench/peers_bench.sh [--quick] [--size MIB] [--rate RATE] [--nodes "8"] [--unshaped]
#                             [--methods "onecopy floor kadeploy udpcast ka"] [--variants "..."]
#                             [--output FILE] [--keep]
#   --quick        256 MiB instead of 1024
#   --size MIB     stream size in MiB (default 1024)
#   --rate RATE    tc rate of every link, both ways (default 1gbit)
#   --nodes LIST   receiver counts to run, one bed of max(LIST) (default "8"; --unshaped: "1 4 8")
#   --unshaped     no tbf: CPU efficiency, per-node throughput against the floor's
#                  (default methods: onecopy floor ka)
#   --methods LIST methods to run (default: all five shaped, "onecopy floor ka" unshaped)
#   --variants L   ka variants (default $KA_VARIANTS or "default nosecret signed"), see below
#   --output FILE  also write the tables to FILE
#   --keep         keep the work dir (logs, /usr/bin/time files, ka reports): KA_KEEP=1
# ka variants: NAME = "SECRET|SEND ARGS|RECEIVE ARGS", SECRET being secret (--secret-file on both
# sides) or nosecret; @W@ is the work dir (it holds golden/ka.key and golden/ka.pub from `ka key new`).
# Built in: default, nosecret, signed (--sign-key / --trust), sha256 (--digest sha256), chacha
# (--cipher chacha20-poly1305), nosplice (receive --no-splice).
# Add one without editing: KA_VARIANT_big='secret|--buffer 512MiB|'. An optional fourth field runs
# another ka binary, e.g. the protocol-1 default of an older build: KA_VARIANT_v1='secret|||/path/ka'.
# Env: KA_BIN, KA_VARIANTS, PEERS_DIR (default ../shared/bench beside the repository),
#      BENCH_TIMEOUT (seconds per process; default from size and rate),
#      UDP_SENDER_ARGS / UDP_RECEIVER_ARGS (extra udpcast options, e.g. "--max-bitrate 900m"),
#      SOCAT_ARGS (options of every socat, default "-b 1048576": with its default 8 KiB buffer socat
#      costs about 3x the CPU, and on unshaped links the feeder, not the relays, paced the floor).
# Exit status: 0 when every method that ran delivered every byte, 1 otherwise, 2 on bad usage,
# 77 (skip) without root or ka. The verdicts do not change it.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/lib/bed.sh
. "$BENCH/../tests/lib/bed.sh"
# shellcheck source=lib/runs.bash
. "$BENCH/lib/runs.bash"
CMDLINE=$(quote_args "$0" "$@")

# ---------------------------------------------------------------- options
SIZE_MIB='' RATE=1gbit NODES='' METHODS='' OUTPUT='' UNSHAPED=0
VARIANTS=${KA_VARIANTS:-default nosecret signed}
PEERS_DIR=${PEERS_DIR:-$KA_ROOT/../shared/bench}
usage_error() { echo "peers_bench: $*" >&2; exit 2; }
while (( $# )); do
  case $1 in
    --quick) SIZE_MIB=256 ;;
    --size) SIZE_MIB=${2:-}; shift ;;
    --rate) RATE=${2:-}; shift ;;
    --nodes) NODES=${2:-}; shift ;;
    --unshaped) UNSHAPED=1 ;;
    --methods) METHODS=${2:-}; shift ;;
    --variants) VARIANTS=${2:-}; shift ;;
    --output) OUTPUT=${2:-}; shift ;;
    --keep) export KA_KEEP=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ && !/^# shellcheck/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) usage_error "unknown argument '$1' (--help)" ;;
  esac
  shift
done
SIZE_MIB=${SIZE_MIB:-1024}
if (( UNSHAPED )); then
  NODES=${NODES:-1 4 8} METHODS=${METHODS:-onecopy floor ka} RATE=none
else
  NODES=${NODES:-8} METHODS=${METHODS:-onecopy floor kadeploy udpcast ka}
fi
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || usage_error "bad --size '$SIZE_MIB'"
[[ $RATE =~ ^[0-9a-zA-Z.]+$ ]] || usage_error "bad --rate '$RATE'"
MAXN=0
for n in $NODES; do
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || (( n > 250 )); then usage_error "bad --nodes '$NODES'"; fi
  (( n > MAXN )) && MAXN=$n
done
(( MAXN )) || usage_error "empty --nodes"
for m in $METHODS; do
  [[ $m =~ ^(onecopy|floor|kadeploy|udpcast|ka)$ ]] || usage_error "unknown method '$m'"
done
if [[ " $METHODS " == *" ka "* ]]; then
  for v in $VARIANTS; do
    [[ $v =~ ^[A-Za-z0-9_]+$ && -n $(ka_variant_def "$v") ]] || usage_error "unknown ka variant '$v'"
    [[ $(ka_variant_def "$v") =~ ^(secret|nosecret)\| ]] || usage_error "variant $v: want 'secret|SEND ARGS|RECEIVE ARGS'"
  done
  # A run's files are named after its variant: a repeated name would add up two runs' CPU.
  dups=$(tr ' ' '\n' <<<"$VARIANTS" | grep -v '^$' | sort | uniq -d | xargs)
  [[ -z $dups ]] || usage_error "variant(s) named twice: $dups (run the bench again instead)"
fi

BYTES=$(( SIZE_MIB << 20 ))
TIMEF='%U %S %e'
read -ra SOCAT <<<"socat ${SOCAT_ARGS--b 1048576}"
PORT=7100                   # onecopy and floor; ka and ka-deploy use their own defaults (both 30765)
GRACE=10                    # seconds the others get after one process of a run failed
GRACE_DONE=30               # seconds the sender gets to exit after the last receiver did
SESSION=pb$$
# every process gets 15 single-link transfer times + 2 minutes before `timeout` ends it
TIMEOUT=${BENCH_TIMEOUT:-$(( SIZE_MIB * 8389 * 15 / ($(rate_mbit "$RATE") * 1000) + 120 ))}

bed_require_root
bed_require_ka
for tool in /usr/bin/time python3 socat gcc make ss pgrep; do
  command -v "$tool" >/dev/null || { echo "peers_bench: $tool not installed (scripts/setup.sh)" >&2; exit 1; }
done
bed_trap
bed_workdir
W=$BED_WORK
SRC=$W/src.bin
mkdir -p "$W/runs" "$W/peers"
: >"$W/results.tsv"
: >"$W/cpu.tsv"

# ---------------------------------------------------------------- the peers, built in the work dir
RELAY='' RELAY_NOTE='' KAD_SERVER='' KAD_CLIENT='' KAD_NOTE=''
build_relay() {
  local src=$PEERS_DIR/splice_relay.c
  if [[ ! -f $src ]]; then RELAY_NOTE="no $src"; return; fi
  if gcc -O2 -include "$BENCH/lib/relay_count.h" -o "$W/peers/splice_relay" "$src" >"$W/peers/relay.log" 2>&1; then
    RELAY=$W/peers/splice_relay
  else
    RELAY_NOTE="gcc failed on $src"; bed_dump "$W/peers/relay.log"
  fi
}
build_kadeploy() {
  local tgz=$PEERS_DIR/ka-deploy-0.94-src.tar.gz d=$W/peers/ka-deploy-0.94/src
  if [[ ! -f $tgz ]]; then KAD_NOTE="no $tgz"; return; fi
  # the build line of ../shared/bench/README.md
  if tar -C "$W/peers" -xzf "$tgz" \
     && sed -i 's/-O -Wall -m32/-O2 -w -fcommon/; s/-Wall -Werror//' "$d/Makefile" \
     && make -C "$d" ka-d-server ka-d-client >"$W/peers/ka-deploy.log" 2>&1; then
    KAD_SERVER=$d/ka-d-server KAD_CLIENT=$d/ka-d-client
  else
    KAD_NOTE="build of $tgz failed"; bed_dump "$W/peers/ka-deploy.log"
  fi
}
has_method() { [[ " $METHODS " == *" $1 "* ]]; }
has_method floor && build_relay
has_method kadeploy && build_kadeploy
if has_method udpcast && ! command -v udp-sender >/dev/null; then UDP_NOTE="udpcast not installed (scripts/setup.sh)"; else UDP_NOTE=; fi

# ---------------------------------------------------------------- the methods (onecopy, ka: lib/runs.bash)
run_floor() {   # the chain starts from its tail (each relay retries its downstream connect every 50 ms)
  local n=$1 i
  run_begin "floor-n$n" floor "" "$n" "minimal splice/tee relay chain (the floor)"
  [[ -n $RELAY ]] || { run_skip "$RELAY_NOTE"; return; }
  for (( i = n; i >= 1; i-- )); do
    if (( i == n )); then proc_start "$i" "node$i" "$RELAY" "$PORT"
    else proc_start "$i" "node$i" "$RELAY" "$PORT" "$(bed_ip $(( i + 1 )))" "$PORT"; fi
  done
  if wait_listen 1 node1 "tcp:$PORT"; then
    proc_start 0 sender "${SOCAT[@]}" -u "OPEN:$SRC" "TCP:$(bed_ip 1):$PORT"
  else
    PROBLEMS+=("the relay on h1 did not listen")
    for (( i = 1; i <= n; i++ )); do end_proc "${PID[node$i]}"; done
  fi
  wait_all
  for (( i = 1; i <= n; i++ )); do
    check_bytes "node$i" "$(sed -n 's/^relay_count: bytes \([0-9]*\)$/\1/p' "$R/node$i.log.err" | tail -n 1)"
  done
  run_end
}

# ka-deploy: the server tells clients its address from gethostbyname(hostname), so it runs in its own
# mount namespace with an /etc/hosts naming h0's address; its clients find it by broadcast to
# 255.255.255.255 (the bed gives every host a default route). The server never reaps its command's
# process, so that command is timed on its own (sender-cmd).
run_kadeploy() {
  local n=$1 i
  run_begin "kadeploy-n$n" kadeploy "" "$n" "ka-deploy 0.94, the seed's own tool"
  [[ -n $KAD_SERVER ]] || { run_skip "$KAD_NOTE"; return; }
  printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$(bed_ip 0)" "$(hostname)" >"$R/hosts"
  # shellcheck disable=SC2016  # expanded by that shell
  proc_start 0 sender unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh "$R/hosts" \
    "$KAD_SERVER" -s "$SESSION$n" -n "$n" -e "/usr/bin/time -f '$TIMEF' -o $R/sender-cmd.time cat $SRC"
  if ! wait_listen 0 sender tcp:30765 tcp:30764 udp:4957; then
    PROBLEMS+=("ka-d-server did not start"); end_proc "${PID[sender]}"; wait_all; run_end; return
  fi
  for (( i = 1; i <= n; i++ )); do
    # shellcheck disable=SC2016  # expanded by the client's shell
    proc_start "$i" "node$i" "$KAD_CLIENT" -s "$SESSION$n" -e 'cat >/dev/null; grep "^wchar" /proc/$$/io >&2'
  done
  wait_all
  kadeploy_order "$n"
  for (( i = 1; i <= n; i++ )); do check_bytes "node$i" "$(wchar_of "$R/node$i.log.err")"; done
  run_end
}
# kadeploy_order N: ORDER from the server's "PARENT reports CHILD has been accepted" lines (it sorts
# the clients itself)
kadeploy_order() {
  local n=$1 a b ip i
  local -A child=() name=()
  for (( i = 1; i <= n; i++ )); do name[$(bed_ip "$i")]=node$i; done
  while read -r a _ b _; do child[$a]=$b; done \
    < <(grep -oE '[0-9.]+ reports [0-9.]+ has been accepted' "$R/sender.log.err" 2>/dev/null)
  local order=()
  ip=$(bed_ip 0)
  while [[ -n ${child[$ip]:-} && -n ${name[${child[$ip]}]:-} ]] && (( ${#order[@]} < n )); do
    ip=${child[$ip]}
    order+=("${name[$ip]}")
  done
  if (( ${#order[@]} == n )); then ORDER=("${order[@]}"); else RUN_NOTE="chain order not found in the server's log"; fi
}

run_udpcast() {
  local n=$1 i
  run_begin "udpcast-n$n" udpcast "" "$n" "udpcast (multicast)"
  [[ -z $UDP_NOTE ]] || { run_skip "$UDP_NOTE"; return; }
  TOPO=star
  local sargs=() rargs=()
  read -ra sargs <<<"${UDP_SENDER_ARGS:-}"
  read -ra rargs <<<"${UDP_RECEIVER_ARGS:-}"
  proc_start 0 sender udp-sender --file "$SRC" --min-receivers "$n" --interface eth0 --nokbd "${sargs[@]}"
  if ! wait_listen 0 sender udp:9001; then
    PROBLEMS+=("udp-sender did not start"); end_proc "${PID[sender]}"; wait_all; run_end; return
  fi
  for (( i = 1; i <= n; i++ )); do
    proc_start "$i" "node$i" udp-receiver --file /dev/null --interface eth0 --nokbd "${rargs[@]}"
  done
  wait_all
  for (( i = 1; i <= n; i++ )); do
    grep -q 'Transfer complete' "$R/node$i.log.err" 2>/dev/null || PROBLEMS+=("node$i: no 'Transfer complete'")
    check_bytes "node$i" "$(udp_bytes "$R/node$i.log.err")"
  done
  run_end
}

# udp_bytes FILE: the count of udp-receiver's last progress line: "bytes= 123 456 789  (...)", or
# in KiB past 1e9 bytes: "bytes=  1 048 576K (...)" (then exact to the KiB only)
udp_bytes() {
  local line num
  line=$(tr '\r' '\n' 2>/dev/null <"$1" | grep -E '^bytes=' | tail -n 1)
  [[ $line =~ ^bytes=\ *([0-9][0-9\ ]*[0-9]|[0-9])([KMG]?) ]] || return 0
  num=${BASH_REMATCH[1]// /}
  case ${BASH_REMATCH[2]} in K) num=$(( num << 10 )) ;; M) num=$(( num << 20 )) ;; G) num=$(( num << 30 )) ;; esac
  echo "$num"
}

# ---------------------------------------------------------------- the run
STATUS=0
export BED_DEFAULT_ROUTE=1   # ka-deploy's discovery goes to 255.255.255.255; the same bed for every method
bed_up "$MAXN" "$RATE" || exit 1
bed_secret "$W/secret"
"$KA_BIN" key new "$W/golden" >/dev/null 2>&1 || true  # for the signed variant
bed_log "generating $SIZE_MIB MiB of random data"
head -c "$BYTES" /dev/urandom >"$SRC"
cat "$SRC" >/dev/null

{
  printf 'command\t%s\n' "$CMDLINE"
  printf 'env\t%s\n' "$(env | grep -E '^(KA_VARIANT|KA_BIN=|PEERS_DIR=|BENCH_TIMEOUT=|BED_TBF|UDP_(SENDER|RECEIVER)_ARGS=|SOCAT_ARGS=)' | sort | xargs)"
  printf 'mode\t%s\n' "$( (( UNSHAPED )) && echo unshaped || echo shaped)"
  printf 'rate\t%s\n' "$RATE"
  printf 'socat\t%s\n' "${SOCAT[*]}"
  printf 'bytes\t%s\n' "$BYTES"
  printf 'nodes\t%s\n' "$(xargs <<<"$NODES")"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'cores\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  printf 'cc\t%s\n' "$(bed_exec 0 sysctl -n net.ipv4.tcp_congestion_control)"
  printf 'load\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'ka_version\t%s\n' "$(git -C "$KA_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
  printf 'date\t%s\n' "$(date '+%Y-%m-%d %H:%M')"
} >"$W/params.tsv"

has_method onecopy && run_onecopy ""   # ID "onecopy"
for n in $NODES; do
  for m in $METHODS; do
    case $m in
      floor) run_floor "$n" ;;
      kadeploy) run_kadeploy "$n" ;;
      udpcast) run_udpcast "$n" ;;
      ka) for v in $VARIANTS; do run_ka "$v" "$n"; done ;;
    esac
  done
done

python3 "$BENCH/lib/peers_report.py" "$W" >"$W/table.md" || STATUS=1
cat "$W/table.md"
[[ -z $OUTPUT ]] || cp "$W/table.md" "$OUTPUT"
(( STATUS == 0 )) || echo "peers_bench: some runs FAILED (see above)"
exit "$STATUS"
