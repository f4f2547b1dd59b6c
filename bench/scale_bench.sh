#!/usr/bin/env bash
# scale_bench.sh - ka on the bed at N = 8, 32, 100 nodes against the simulator's prediction (`ka sim`).
#
# One bed (tests/lib/bed.sh) of max(N) receivers: h0 = sender, h1..hN on one bridge, every link shaped
# to RATE both ways (tc tbf), h0's to RATE0 with --rate0. For each N, two ka sessions of SIZE random
# bytes with small rings (--buffer on both sides, so 100 nodes fit in memory): one without faults and
# one with FAULTS. Each session: `ka send --nodes N --report ... --buffer B` on h0 and `ka receive
# --buffer B` on h1..hN (discovery; the chain is ordered by IPv4 address, so h<i> is position i). Every
# receiver writes to /dev/null except the last surviving one, which writes to a file on tmpfs: its size,
# sampled every --interval s (0.02), gives the stall (the longest time it did not grow after its first
# byte) and, for each failure before it, when it stopped growing and when it grew again.
#
# Per session it measures (bench/lib/scale_bench.py):
#   total      wall seconds from the sender's start to its exit (and each node's "done" in its log)
#   startup    sender start -> stream start (the sender's first "feeding ... from stream position 0")
#   detection  freeze -> the sender's "node X FAILED ... no heartbeat" line (and kill -> FAILED)
#   byte-exact every survivor OK in the report with every byte and the sender's digest, the sampled
#              file == the source (cmp), the killed / frozen ones KO with the right reason, no live
#              node dropped
#   CPU        user+sys (/usr/bin/time) per role in CPU-s per GiB: sender, forwarding node, last node;
#              the sender's CPU-s and peak memory (max RSS = VmHWM) in all and per node
#   re-link    failure known (kill: its time; freeze: the sender's drop) -> the victim's successor
#              reading again from its new parent (its "receiving from" log line)
# then runs `ka sim` with the same N, size, rates, buffer, faults, --host-cores $(nproc), --chains 1,
# the bed's one-way latency (ping), and the startup (--startup), freeze detection (--detect), re-link
# (--relink: the mean of the successors') and CPU per role just measured in the same session (so the
# comparison is of the data-plane model), and prints markdown tables: bed vs simulator, rows outside
# 10 % flagged.
#
# Usage: bench/scale_bench.sh [--nodes "8 32 100"] [--rate 100mbit] [--rate0 RATE] [--size 256M]
#                             [--buffer 16M] [--faults SPEC] [--no-clean] [--sim-only] [--no-sim]
#                             [--send-opts "..."] [--receive-opts "..."] [--wait-load X] [--dynamic-arp]
#                             [--output FILE] [--keep] [--repeat K] [--interval S]
#   --nodes LIST   receiver counts (default "8 32 100"; one bed of max(LIST))
#   --rate RATE    tc rate of every node's link (default 100mbit)
#   --rate0 RATE   the sender's link (BED_RATE0; default: RATE); passed to the simulator as --uplink
#   --size SIZE    stream size, K/M/G suffixes (binary; default 256M)
#   --buffer SIZE  ka's --buffer on the sender and every receiver (default 16M)
#   --faults SPEC  the faults of the fault run of every N, comma separated KIND:POS@T: KIND kill
#                  (SIGKILL) or freeze (SIGSTOP until the sender has finished, then SIGCONT), POS the
#                  node's position in the first chain, T seconds after the stream's first byte, e.g.
#                  kill:3@4,kill:50@6,freeze:20@5,freeze:70@8,kill:90@9. Default, scaled to N:
#                  N < 16: 1 kill + 1 freeze; N < 64: 2 kills + 1 freeze; else 3 kills + 2 freezes
#                  ("none": no fault run)
#   --repeat K     run each fault session K times (default 1): runs differ (scheduling on a shared
#                  machine), and each is compared with its own prediction
#   --interval S   how often the last survivor's output size is sampled (default 0.02 s; 0.01..1)
#   --no-clean     no run without faults
#   --no-sim       the bed only
#   --sim-only     the simulator only (no bed, no root): startup / detection / CPU per role from
#                  SIM_STARTUP, SIM_DETECT, SIM_CPU_SENDER, SIM_CPU_HOP, SIM_CPU_LAST (defaults 2, 1.5,
#                  1.0, 1.2, 1.0)
#   --send-opts S, --receive-opts S   extra options of every ka send / ka receive (e.g. --node-timeout 8)
#   --wait-load X  before each session, wait (at most 120 s) until the 1-min load average is < X
#                  (default 1.5; 0: do not wait); the load is printed either way
#   --dynamic-arp  hosts resolve each other by ARP (default: permanent neighbour entries, BED_STATIC_NEIGH:
#                  the kernel's ARP table is shared by every namespace of the machine, 1024 entries;
#                  other beds running beside this one can fill it, and then no receiver finds the sender)
#   --output FILE  also write the tables to FILE
#   --keep         keep the work dir (logs, reports, samples): KA_KEEP=1
# Env: KA_BIN; KA_SIM_BIN (the binary with `ka sim`, default $KA_BIN, e.g. /work/main/build/ka);
#      SIM_ARGS (more options of every `ka sim`); SIM_CHAINS (the simulator's --chains, default 1:
#      this ka builds one chain; empty: the simulator's planner decides); BENCH_TIMEOUT (seconds per
#      ka process; default from size and rate).
# Exit status: 0 when every session delivered every byte to every survivor and only the victims were
# dropped; 1 otherwise; 2 on bad usage; 77 (skip) without root or ka. The 10 % flags do not change it.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
quote_args() {   # the command line as one would type it again
  local a out=() q="'\\''"
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/$q}'"); fi
  done
  echo "${out[*]}"
}
CMDLINE=$(quote_args "$0" "$@")
BENCH=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/lib/bed.sh
. "$BENCH/../tests/lib/bed.sh"
PY=$BENCH/lib/scale_bench.py

NODES="8 32 100" RATE=100mbit RATE0='' SIZE=256M BUFFER=16M FAULTS='' CLEAN=1 SIM=1 SIM_ONLY=0
SEND_OPTS='' RECV_OPTS='' WAIT_LOAD=1.5 OUTPUT='' STATIC_NEIGH=1 REPEAT=1 INTERVAL=0.02
usage_error() { echo "scale_bench: $*" >&2; exit 2; }
while (( $# )); do
  case $1 in
    --nodes) NODES=${2:-}; shift ;;
    --rate) RATE=${2:-}; shift ;;
    --rate0) RATE0=${2:-}; shift ;;
    --size) SIZE=${2:-}; shift ;;
    --buffer) BUFFER=${2:-}; shift ;;
    --faults) FAULTS=${2:-}; shift ;;
    --no-clean) CLEAN=0 ;;
    --no-sim) SIM=0 ;;
    --dynamic-arp) STATIC_NEIGH=0 ;;
    --sim-only) SIM_ONLY=1 ;;
    --send-opts) SEND_OPTS=${2:-}; shift ;;
    --receive-opts) RECV_OPTS=${2:-}; shift ;;
    --wait-load) WAIT_LOAD=${2:-}; shift ;;
    --output) OUTPUT=${2:-}; shift ;;
    --keep) export KA_KEEP=1 ;;
    --repeat) REPEAT=${2:-}; shift ;;
    --interval) INTERVAL=${2:-}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ && !/^# shellcheck/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) usage_error "unknown argument '$1' (--help)" ;;
  esac
  shift
done

# size_bytes SIZE: 256M -> 268435456 (K, M, G binary; optional iB / B)
size_bytes() {
  local s=${1^^}
  s=${s%B}; s=${s%I}
  [[ $s =~ ^([0-9]+)([KMG]?)$ ]] || return 1
  case ${BASH_REMATCH[2]} in
    K) echo $(( BASH_REMATCH[1] << 10 )) ;; M) echo $(( BASH_REMATCH[1] << 20 )) ;;
    G) echo $(( BASH_REMATCH[1] << 30 )) ;; *) echo "${BASH_REMATCH[1]}" ;;
  esac
}
# rate_bps RATE: a tc rate in bit/s
rate_bps() {
  local r=${1,,}
  [[ $r =~ ^([0-9]+)(k|m|g)?bit$ ]] || return 1
  case ${BASH_REMATCH[2]} in
    k) echo $(( BASH_REMATCH[1] * 1000 )) ;; m) echo $(( BASH_REMATCH[1] * 1000000 )) ;;
    g) echo $(( BASH_REMATCH[1] * 1000000000 )) ;; *) echo "${BASH_REMATCH[1]}" ;;
  esac
}
BYTES=$(size_bytes "$SIZE") || usage_error "bad --size '$SIZE'"
(( BYTES >= 1 << 20 )) || usage_error "--size below 1M"
size_bytes "$BUFFER" >/dev/null || usage_error "bad --buffer '$BUFFER'"
RATE_BPS=$(rate_bps "$RATE") || usage_error "bad --rate '$RATE' (want e.g. 100mbit)"
[[ -z $RATE0 ]] || rate_bps "$RATE0" >/dev/null || usage_error "bad --rate0 '$RATE0'"
[[ $WAIT_LOAD =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage_error "bad --wait-load '$WAIT_LOAD'"
[[ $REPEAT =~ ^[1-9]$ ]] || usage_error "bad --repeat '$REPEAT' (1..9)"
[[ $INTERVAL =~ ^(0\.0[1-9][0-9]*|0\.[1-9][0-9]*|1(\.0+)?)$ ]] || usage_error "bad --interval '$INTERVAL' (0.01..1 s)"
MAXN=0
for n in $NODES; do
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || (( n < 2 || n > 250 )); then usage_error "bad --nodes '$NODES' (2..250)"; fi
  (( n > MAXN )) && MAXN=$n
  if [[ -n $FAULTS ]]; then python3 "$PY" check-spec "$FAULTS" "$n" || exit 2; fi
done
(( MAXN )) || usage_error "empty --nodes"
read -ra SEND_ARGS <<<"$SEND_OPTS"
read -ra RECV_ARGS <<<"$RECV_OPTS"
SIZE_SIM="$(( BYTES >> 20 ))M"
(( BYTES % (1 << 20) == 0 )) || SIZE_SIM=$BYTES
KA_SIM_BIN=${KA_SIM_BIN:-$KA_BIN}
SIM_CHAINS=${SIM_CHAINS-1}   # this ka builds one chain: so does the simulator ("" = its planner)

sim_works() { "$KA_SIM_BIN" sim --help 2>/dev/null | grep -q -- --startup; }
if (( SIM_ONLY )); then
  sim_works || { echo "scale_bench: '$KA_SIM_BIN sim --help' fails (set KA_SIM_BIN)" >&2; exit 1; }
  echo "scale_bench --sim-only: $CMDLINE"
  python3 "$PY" simonly --nodes "$NODES" --size "$SIZE_SIM" --rate "$RATE" --rate0 "$RATE0" --buffer "$BUFFER" \
    --faults "$FAULTS" --sim-bin "$KA_SIM_BIN" --cores "$(nproc)" --sim-args "${SIM_ARGS:-}" --sim-chains "$SIM_CHAINS" \
    --startup "${SIM_STARTUP:-2}" --detect "${SIM_DETECT:-1.5}" --cpu-sender "${SIM_CPU_SENDER:-1.0}" \
    --cpu-hop "${SIM_CPU_HOP:-1.2}" --cpu-last "${SIM_CPU_LAST:-1.0}"
  exit
fi
if (( SIM )) && ! sim_works; then
  echo "scale_bench: '$KA_SIM_BIN sim --help' fails: set KA_SIM_BIN to a ka with the simulator, or --no-sim" >&2
  exit 1
fi

bed_require_root
bed_require_ka
for tool in /usr/bin/time python3 cmp; do
  command -v "$tool" >/dev/null || { echo "scale_bench: $tool not installed" >&2; exit 1; }
done
bed_trap
trap 'exit 141' PIPE   # a closed pipe on stdout (| head) still cleans up
# the work dir (source, the last node's output) on tmpfs when it has room: disk writes would pace the
# last node; bed_cleanup removes it
shm_free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
if [[ -z ${TMPDIR:-} && -n $shm_free ]] && (( shm_free > (BYTES >> 10) * 3 )); then TMPDIR=/dev/shm bed_workdir; else bed_workdir; fi
W=$BED_WORK
SRC=$W/src.bin
if (( SIM )); then   # a copy: the simulator's checkout may rebuild its binary while this runs
  cp "$KA_SIM_BIN" "$W/ka-sim" && KA_SIM_BIN=$W/ka-sim
fi
mkdir -p "$W/runs"
# every ka process gets 6 single-link transfer times + 2 minutes before `timeout` ends it
TIMEOUT=${BENCH_TIMEOUT:-$(( BYTES * 8 * 6 / RATE_BPS + 120 ))}
SESSION=sb$$

load1() { cut -d' ' -f1 /proc/loadavg; }
# wait_load: wait (120 s at most) until the 1-min load average is below WAIT_LOAD; prints it
wait_load() {
  local t
  for (( t = 0; t < 120; t++ )); do
    awk -v l="$(load1)" -v w="$WAIT_LOAD" 'BEGIN { exit !(w == 0 || l < w) }' && break
    (( t % 15 == 0 )) && bed_log "load average $(load1) >= $WAIT_LOAD: waiting"
    sleep 1
  done
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
}

# run_one N SPEC [K]: one session of N receivers with the faults of SPEC ("none": no fault); K > 1:
# its K-th repetition
run_one() {
  local n=$1 spec=$2 k=${3:-1} tag i out r spid mpid t0 t_end src_rc last=0 rc name cmpmsg
  local -a rpid=() victims=()
  tag=n$(printf '%03d' "$n")-$([[ $spec == none ]] && echo clean || echo faults)
  (( k > 1 )) && tag+=.r$k
  local R=$W/runs/$tag
  mkdir -p "$R"
  read -ra victims <<<"$(tr ',' '\n' <<<"${spec/none/}" | sed -n 's/^[a-z]*:\([0-9]*\)@.*/\1/p' | xargs)"
  for (( i = n; i >= 1; i-- )); do
    [[ " ${victims[*]} " == *" $i "* ]] || { last=$i; break; }
  done
  wait_load
  bed_log "$tag: N = $n, faults: $spec, load $LOAD_BEFORE"
  local arp0 ovf0
  arp0=$(arp_entries); ovf0=$(arp_overflows)
  t0=$EPOCHREALTIME
  bed_bg 0 "$R/sender.log" /usr/bin/time -f '%U %S %M %e' -o "$R/sender.time" timeout -k 5 "$TIMEOUT" \
    "$KA_BIN" send --nodes "$n" --session "$SESSION$tag" --secret-file "$W/secret" --session-dir none \
    --report "$R/report.json" --buffer "$BUFFER" "${SEND_ARGS[@]}" "$SRC"
  spid=$BED_LAST_PID
  : >"$R/wrappers"
  for (( i = 1; i <= n; i++ )); do
    out=/dev/null
    (( i == last )) && out=$W/last.out
    bed_bg "$i" "$R/node$i.log" /usr/bin/time -f '%U %S %M %e' -o "$R/node$i.time" timeout -k 5 "$TIMEOUT" \
      "$KA_BIN" receive --session "$SESSION$tag" --secret-file "$W/secret" --name "node$i" --buffer "$BUFFER" \
      --output "$out" "${RECV_ARGS[@]}"
    rpid[i]=$BED_LAST_PID
    echo "node$i ${rpid[i]}" >>"$R/wrappers"
  done
  python3 "$PY" monitor --log "$R/sender.log.err" --t0 "$t0" --wrappers "$R/wrappers" \
    --faults "${spec/none/}" --sample "$W/last.out" --bytes "$BYTES" --sender-pid "$spid" \
    --interval "$INTERVAL" --out "$R/monitor.json" &
  mpid=$!
  BED_PIDS+=("$mpid")
  src_rc=0
  wait "$spid" || src_rc=$?
  t_end=$EPOCHREALTIME
  wait "$mpid" 2>/dev/null
  # the survivors exit once the sender said BYE; the woken frozen ones exit by themselves
  local deadline=$(( ${EPOCHREALTIME/[.,]/} + 20000000 )) pending=1
  while (( pending && ${EPOCHREALTIME/[.,]/} < deadline )); do
    pending=0
    for (( i = 1; i <= n; i++ )); do fault_alive "${rpid[i]}" && { pending=1; break; }; done
    (( pending )) && sleep 0.1
  done
  {
    echo "n=$n"; echo "bytes=$BYTES"; echo "size=$SIZE_SIM"; echo "rate=$RATE"; echo "rate0=$RATE0"
    echo "buffer=$BUFFER"; echo "faults=${spec/none/}"; echo "t0=$t0"; echo "t_end=$t_end"
    echo "sender_rc=$src_rc"; echo "last_name=node$last"; echo "cores=$(nproc)"; echo "load=$LOAD_BEFORE"
    echo "latency_ms=$LATENCY_MS"; echo "sim_args=${SIM_ARGS:-}"; echo "sim_chains=$SIM_CHAINS"
    echo "interval=$INTERVAL"
    (( SIM )) && echo "sim_bin=$KA_SIM_BIN"
    for (( i = 1; i <= n; i++ )); do
      rc=0
      if fault_alive "${rpid[i]}"; then
        echo "rc_node$i=still-running"
        fault_reap "${rpid[i]}"
      else
        wait "${rpid[i]}" 2>/dev/null || rc=$?
        echo "rc_node$i=$rc"
      fi
    done
    echo "arp_entries=$arp0 $(arp_entries)"; echo "arp_overflows=$(( $(arp_overflows) - ovf0 ))"
    cmpmsg=$(cmp "$SRC" "$W/last.out" 2>&1); rc=$?
    echo "last_cmp=$rc"; echo "last_cmp_msg=${cmpmsg//$'\n'/ }"
  } >"$R/meta.txt"
  python3 "$PY" analyze "$R" || STATUS=1
  grep -q '"problems": \[\]' "$R/result.json" 2>/dev/null || {
    STATUS=1
    for name in sender node1 "node$last"; do bed_dump "$R/$name.log"; done
  }
  rm -f "$W/last.out" "$W/last.out.ka-incomplete"
  sleep 1   # let the last connections close before the next session
}

# arp_entries: the machine's ARP table size (every namespace's entries); arp_overflows: the kernel's
# "neighbor table overflow" messages so far (rate-limited: a lower bound)
arp_entries() { printf '%d' "0x$(awk 'NR == 2 { print $1 }' /proc/net/stat/arp_cache 2>/dev/null || echo 0)"; }
arp_overflows() { dmesg 2>/dev/null | grep -c 'neighbor table overflow'; }

# fault_alive PID: true while PID exists and is not a zombie (as tests/lib/fault.bash)
fault_alive() {
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z ]]
}
# fault_reap WRAPPER_PID: SIGKILL the ka process under a wrapper still running, then reap it
fault_reap() {
  local p
  p=$(ka_real_pid "$1" 0) && kill -KILL "$p" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

STATUS=0
t_up=$EPOCHREALTIME
# permanent ARP entries: the kernel's ARP table (gc_thresh3) is shared with every other bed on the
# machine; when they fill it, discovery answers go unresolved (see _bed_static_neigh in bed.sh)
BED_STATIC_NEIGH=$STATIC_NEIGH BED_RATE0=$RATE0 bed_up "$MAXN" "$RATE" || exit 1
bed_log "bed of $MAXN nodes up in $(awk -v a="$t_up" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
bed_secret "$W/secret"
bed_log "generating $SIZE of random data"
head -c "$BYTES" /dev/urandom >"$SRC"
# the bed's one-way latency: half the mean RTT of 5 pings h1 -> h2, unloaded
LATENCY_MS=$(bed_exec 1 ping -c 5 -i 0.2 -q "$(bed_ip 2)" 2>/dev/null |
  awk -F/ '/^rtt|^round-trip/ { printf "%.3f", $5 / 2 }')
bed_log "one-way latency ${LATENCY_MS:-n/a} ms; $(nproc) cores; $(free -g | awk '/^Mem/ { print $2 }') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"

for n in $NODES; do
  (( CLEAN )) && run_one "$n" none
  spec=${FAULTS:-$(python3 "$PY" faults "$n")}
  if [[ $spec != none ]]; then
    for (( k = 1; k <= REPEAT; k++ )); do run_one "$n" "$spec" "$k"; done
  fi
done

{
  echo "## scale_bench: bed vs simulator"
  echo
  echo "Command: \`$CMDLINE\`  "
  echo "ka $(git -C "$KA_ROOT" describe --always --dirty 2>/dev/null || echo unknown) ($KA_BIN), simulator $( ((SIM)) && echo "$KA_SIM_BIN" || echo "not run");" \
    "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r);" \
    "$(date -u '+%Y-%m-%d %H:%M') UTC  "
  echo "Bed: $SIZE random bytes, links $RATE both ways${RATE0:+ (sender $RATE0)}, --buffer $BUFFER on every side," \
    "one-way latency ${LATENCY_MS:-n/a} ms${SEND_OPTS:+, send $SEND_OPTS}${RECV_OPTS:+, receive $RECV_OPTS}."
  echo
  python3 "$PY" table "$W" || STATUS=1
} >"$W/table.md"
cat "$W/table.md"
[[ -z $OUTPUT ]] || cp "$W/table.md" "$OUTPUT"
(( STATUS == 0 )) || echo "scale_bench: some sessions had problems (see above)"
exit "$STATUS"
