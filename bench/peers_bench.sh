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

# ---------------------------------------------------------------- options
declare -A KA_VARIANT=(
  [default]='secret||'
  [nosecret]='nosecret||'
  [sha256]='secret|--digest sha256|'
  [chacha]='secret|--cipher chacha20-poly1305|'
  [signed]='secret|--sign-key @W@/golden/ka.key|--trust @W@/golden/ka.pub'
  [nosplice]='secret||--no-splice'
)
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

# ka_variant_def NAME: "SECRET|SEND ARGS|RECEIVE ARGS" of a variant (KA_VARIANT_NAME overrides)
ka_variant_def() {
  local env="KA_VARIANT_$1"
  if [[ -n ${!env:-} ]]; then echo "${!env}"; else echo "${KA_VARIANT[$1]:-}"; fi
}
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

# rate_mbit RATE: a tc rate in Mbit/s (integer >= 1; "none" or unknown: 1000)
rate_mbit() {
  local r=${1,,} num unit v
  [[ $r =~ ^([0-9]+)(\.[0-9]*)?([a-z]*)$ ]] || { echo 1000; return; }
  num=${BASH_REMATCH[1]} unit=${BASH_REMATCH[3]}
  case $unit in
    bit) v=$(( num / 1000000 )) ;;  kbit) v=$(( num / 1000 )) ;;  mbit) v=$num ;;
    gbit) v=$(( num * 1000 )) ;;    tbit) v=$(( num * 1000000 )) ;;
    bps) v=$(( num * 8 / 1000000 )) ;; kbps) v=$(( num * 8 / 1000 )) ;; mbps) v=$(( num * 8 ))  ;;
    gbps) v=$(( num * 8000 )) ;;    *) v=1000 ;;
  esac
  echo $(( v > 0 ? v : 1 ))
}
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

# Clock: microseconds, read without a fork as ${EPOCHREALTIME/[.,]/} (a command substitution inside the
# wait loop below upsets bash 5.2's `wait -n`: "wait_for: No record of process").
us_to_s() { printf '%d.%06d' $(( $1 / 1000000 )) $(( $1 % 1000000 )); }

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

# ---------------------------------------------------------------- one run: start, wait, verify, record
# Per run: R (its directory), T0/T_END (microseconds), PID[NAME], RC[NAME], ORDER (receivers from the
# first to the last of the chain), TOPO (chain or star), PROBLEMS (why it failed).
declare -A PID=() RC=()
R='' T0='' T_END='' TOPO=chain RUN_ID='' RUN_METHOD='' RUN_VARIANT='' RUN_N='' RUN_LABEL='' RUN_NOTE=''
ORDER=() PROBLEMS=()

run_begin() {   # run_begin ID METHOD VARIANT N LABEL
  RUN_ID=$1 RUN_METHOD=$2 RUN_VARIANT=$3 RUN_N=$4 RUN_LABEL=$5
  R=$W/runs/$RUN_ID
  mkdir -p "$R"
  T0='' T_END='' TOPO=chain ORDER=() PROBLEMS=()
  PID=() RC=() ENDED=() SHORT=()
  local i
  for (( i = 1; i <= RUN_N; i++ )); do ORDER+=("node$i"); done
  bed_log "$RUN_ID: $RUN_LABEL, N = $RUN_N"
}

run_skip() {   # run_skip WHY
  printf '%s\t%s\t%s\t%s\tskipped\t-\t%s\t%s\n' "$RUN_ID" "$RUN_METHOD" "$RUN_VARIANT" "$RUN_N" "$RUN_LABEL" "$1" \
    >>"$W/results.tsv"
  bed_log "$RUN_ID: skipped: $1"
}

# proc_start HOST NAME CMD...: start CMD in host HOST under /usr/bin/time (CPU: $R/NAME.time) and
# timeout; output in $R/NAME.log and .log.err. The first start of a run is its time zero.
proc_start() {
  local host=$1 name=$2; shift 2
  [[ -n $T0 ]] || T0=${EPOCHREALTIME/[.,]/}
  bed_bg "$host" "$R/$name.log" /usr/bin/time -f "$TIMEF" -o "$R/$name.time" timeout -k 5 "$TIMEOUT" "$@"
  PID[$name]=$BED_LAST_PID
}

# wait_listen HOST NAME PROTO:PORT...: wait (20 s at most) until process NAME of host HOST listens on
# every PROTO:PORT (tcp or udp). Same start-up rule for every method: the side that listens first (all
# the relays of the floor, tail first; the sender of the others), then, once it listens, the side that
# connects (the feeding socat; all the receivers at once). 1 if NAME died.
wait_listen() {
  local host=$1 name=$2 end out ok p; shift 2
  end=$(( ${EPOCHREALTIME/[.,]/} + 20000000 ))
  while (( ${EPOCHREALTIME/[.,]/} < end )); do
    out=$(bed_exec "$host" ss -Hlntu 2>/dev/null)
    ok=1
    for p in "$@"; do
      grep -qE "^${p%%:*} .*:${p#*:}[[:space:]]" <<<"$out" || { ok=0; break; }
    done
    if (( ok )); then bed_log "$RUN_ID: $name ready after $(us_to_s $(( ${EPOCHREALTIME/[.,]/} - T0 ))) s"; return 0; fi
    kill -0 "${PID[$name]}" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}

# end_proc PID: end a process started by proc_start: TERM to its `timeout`, which passes it on to
# the command's whole process group.
declare -A ENDED=()
end_proc() {
  local c
  ENDED[$1]=1
  for c in $(pgrep -P "$1" 2>/dev/null); do kill -TERM "$c" 2>/dev/null; done
}

# wait_all: wait for every process of the run; T_END = when the last receiver exited. When one
# process fails, the others get GRACE seconds, then they are ended; so is a sender still running
# GRACE_DONE seconds after the last receiver exited.
wait_all() {
  local -A name_of=()
  local pending=() n p done_pid rc timer='' np grace
  for n in "${!PID[@]}"; do name_of[${PID[$n]}]=$n; pending+=("${PID[$n]}"); done
  while (( ${#pending[@]} )); do
    done_pid=
    wait -n -p done_pid "${pending[@]}" ${timer:+"$timer"}
    rc=$?
    if [[ -z $done_pid ]]; then   # nothing left that this shell can wait for
      for p in "${pending[@]}"; do RC[${name_of[$p]}]=127; done
      break
    fi
    if [[ $done_pid == "$timer" ]]; then
      for p in "${pending[@]}"; do end_proc "$p"; done
      timer=
      continue
    fi
    n=${name_of[$done_pid]}
    RC[$n]=$rc
    np=()
    for p in "${pending[@]}"; do [[ $p == "$done_pid" ]] || np+=("$p"); done
    pending=("${np[@]}")
    grace=
    if [[ -z $T_END ]] && ! receivers_pending "${pending[@]}"; then T_END=${EPOCHREALTIME/[.,]/}; grace=$GRACE_DONE; fi
    (( rc == 0 )) || grace=$GRACE
    if [[ -n $grace && -z $timer ]] && (( ${#pending[@]} )); then
      sleep "$grace" &
      timer=$!
      BED_PIDS+=("$timer")
    fi
  done
  if [[ -n $timer ]]; then kill "$timer" 2>/dev/null; wait "$timer" 2>/dev/null; fi
  for n in "${!PID[@]}"; do
    rc=${RC[$n]:-127}
    case $rc in
      0) ;;
      124) PROBLEMS+=("$n timed out after ${TIMEOUT}s") ;;
      143) if [[ -n ${ENDED[${PID[$n]}]:-} ]]; then PROBLEMS+=("$n ended by the bench"); else PROBLEMS+=("$n exited 143"); fi ;;
      *) PROBLEMS+=("$n exited $rc") ;;
    esac
  done
  return 0
}
receivers_pending() {   # receivers_pending PID...: is any of them a receiver (nodeI)?
  local p
  for p in "$@"; do [[ ${name_of[$p]} == node* ]] && return 0; done
  return 1
}

# reap_bed: nothing of a run may outlive it (e.g. a peer's unreaped child): end, by PID, every process
# still inside a bed namespace.
reap_bed() {
  local ns p left=()
  for ns in "${BED_NSS[@]}"; do
    for p in $(bed_pids_of_ns "$ns"); do left+=("$p"); done
  done
  (( ${#left[@]} )) || return 0
  echo "peers_bench: $RUN_ID left ${#left[@]} process(es) in the bed, ending them: $(ps -o pid=,comm= -p "${left[@]}" | xargs)" >&2
  kill -TERM "${left[@]}" 2>/dev/null
  sleep 0.3
  kill -KILL "${left[@]}" 2>/dev/null
  return 0
}

# check_bytes NAME GOT: every receiver must have got BYTES (short ones are grouped by count in SHORT)
declare -A SHORT=()
check_bytes() {
  [[ $2 == "$BYTES" ]] || SHORT[${2:-an unknown number of}]+=" $1"
}
short_problems() {   # SHORT -> PROBLEMS: "node1 node2 got N bytes, not BYTES"
  local got
  for got in "${!SHORT[@]}"; do PROBLEMS+=("${SHORT[$got]# } got $got bytes, not $BYTES"); done
  SHORT=()
}
# wchar_of FILE: bytes a receiver wrapped in WCHAR_WRAP wrote (to /dev/null)
wchar_of() { sed -n 's/^wchar: \([0-9][0-9]*\)$/\1/p' "$1" 2>/dev/null | tail -n 1; }
# WCHAR_WRAP CMD...: run CMD, then print the bytes it wrote: the shell's /proc io counters hold those of
# the children it reaped (here only CMD), so "wchar" is exactly what CMD wrote to /dev/null.
# shellcheck disable=SC2016  # expanded by that shell
WCHAR_WRAP=(sh -c '"$@"; rc=$?; grep "^wchar" "/proc/$$/io" >&2; exit "$rc"' sh)

# time_cpu FILE: user+sys seconds from a /usr/bin/time -f '%U %S %e' file ("-" when unusable)
time_cpu() {
  local u s e
  read -r u s e < <(tail -n 1 "$1" 2>/dev/null)
  if [[ $u =~ ^[0-9.]+$ && $s =~ ^[0-9.]+$ && -n $e ]]; then
    awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }'
  else
    echo -
  fi
}

run_end() {
  local status=ok wall=- note f name role i
  short_problems
  local -A role_of=()
  for (( i = 0; i < ${#ORDER[@]}; i++ )); do
    if [[ $TOPO == chain ]] && (( i < ${#ORDER[@]} - 1 )); then role_of[${ORDER[i]}]=hop; else role_of[${ORDER[i]}]=last; fi
  done
  for f in "$R"/*.time; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .time)
    role=${role_of[$name]:-sender}
    printf '%s\t%s\t%s\t%s\n' "$RUN_ID" "$name" "$role" "$(time_cpu "$f")" >>"$W/cpu.tsv"
  done
  if (( ${#PROBLEMS[@]} )) || [[ -z $T_END || -z $T0 ]]; then
    status=FAILED
    (( ${#PROBLEMS[@]} )) || PROBLEMS+=("not measured")
    note=$(IFS=';'; echo "${PROBLEMS[*]}")
    note=${note//;/; }
    STATUS=1
  else
    wall=$(us_to_s $(( T_END - T0 )))
    note=${RUN_NOTE:-}
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$RUN_ID" "$RUN_METHOD" "$RUN_VARIANT" "$RUN_N" "$status" "$wall" \
    "$RUN_LABEL" "$note" >>"$W/results.tsv"
  if [[ $status == ok && $TOPO == chain ]] && (( RUN_N > 1 )); then bed_log "$RUN_ID: chain h0 -> ${ORDER[*]}"; fi
  if [[ $status == ok ]]; then bed_log "$RUN_ID: $wall s, every byte delivered"
  else bed_log "$RUN_ID: FAILED: $note"; bed_dump "$R"/*.log; fi
  RUN_NOTE=
  reap_bed
  sleep 1   # let the last connections close before the next run
}

# ---------------------------------------------------------------- the methods
run_onecopy() {
  run_begin onecopy onecopy "" 1 "one copy, h0 -> h1 (socat)"
  TOPO=star
  proc_start 1 node1 "${WCHAR_WRAP[@]}" "${SOCAT[@]}" -u "TCP-LISTEN:$PORT,reuseaddr" OPEN:/dev/null
  if wait_listen 1 node1 "tcp:$PORT"; then
    proc_start 0 sender "${SOCAT[@]}" -u "OPEN:$SRC" "TCP:$(bed_ip 1):$PORT"
  else
    PROBLEMS+=("socat on h1 did not listen"); end_proc "${PID[node1]}"
  fi
  wait_all
  check_bytes node1 "$(wchar_of "$R/node1.log.err")"
  run_end
}

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

run_ka() {
  local v=$1 n=$2 i secret send recv bin names=() chain secs
  local sargs=() rargs=() secret_args=()
  IFS='|' read -r secret send recv bin <<<"$(ka_variant_def "$v")"
  bin=${bin:-$KA_BIN}
  send=${send//@W@/$W}
  recv=${recv//@W@/$W}
  read -ra sargs <<<"$send"
  read -ra rargs <<<"$recv"
  [[ $secret == secret ]] && secret_args=(--secret-file "$W/secret")
  local desc="${secret_args[0]:-no secret}${send:+, send $send}${recv:+, receive $recv}"
  [[ $bin == "$KA_BIN" ]] || desc+=", binary $bin"
  run_begin "ka-$v-n$n" ka "$v" "$n" "ka send $v ($desc)"
  proc_start 0 sender "$bin" send --nodes "$n" --session "$SESSION$v$n" "${secret_args[@]}" \
    --report "$R/report.json" --session-dir "$R/session" "${sargs[@]}" "$SRC"
  if ! wait_listen 0 sender tcp:30765 udp:30764; then
    PROBLEMS+=("ka send did not start"); end_proc "${PID[sender]}"; wait_all; run_end; return
  fi
  for (( i = 1; i <= n; i++ )); do
    proc_start "$i" "node$i" "$bin" receive --session "$SESSION$v$n" "${secret_args[@]}" --name "node$i" \
      --output /dev/null "${rargs[@]}"
    names+=("node$i")
  done
  wait_all
  if ! ka_check_report "$R/report.json" "$BYTES" "$(IFS=,; echo "${names[*]}")" "" >"$R/check.txt" 2>&1; then
    PROBLEMS+=("the sender's report: $(grep -m1 -E 'problem|cannot' "$R/check.txt" | sed 's/^ *//')")
  fi
  secs=$(sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p' "$R/check.txt")
  [[ -z $secs ]] || RUN_NOTE="ka's report: ${secs%"${secs#*.??}"} s streaming"
  chain=$(sed -n 's/.* chain=//p' "$R/check.txt")
  if [[ -n $chain ]]; then
    read -ra ORDER <<<"$(sed -E 's/\([^)]*\)//g; s/ -> / /g' <<<"$chain")"
  fi
  run_end
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

has_method onecopy && run_onecopy
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
