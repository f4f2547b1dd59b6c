#!/usr/bin/env bash
# swarm_bench.sh - a BitTorrent swarm against ka's chain, measured on the same bed (issue 17).
#
# For each N of --nodes, one bed (tests/lib/bed.sh: h0 = sender, h1..hN = receivers on one bridge, every
# link shaped to RATE both ways with tc tbf), the same SIZE of random data, and each method from a fresh
# start, one after the other:
#   onecopy  one single-link copy, socat h0 -> socat h1 (as peers_bench.sh: the "vs one copy" reference)
#   ka       ka send --nodes N --secret-file on h0, ka receive --output /dev/null on h1..hN
#   swarm    ka-swarm-peer (bench/swarm_peer.cc, libtorrent-rasterbar): the seed on h0, a leecher on
#            each of h1..hN, started at once; each leecher is given the seed and every other leecher
#            (past 31 leechers: the seed and 30 others drawn at random; peer exchange finds the rest).
#            Leechers store into tmpfs (/dev/shm: the swarm serves what it got, so it cannot write to
#            /dev/null), check every piece's SHA-1 and keep seeding until every leecher is done.
# Per method and N: wall s (from the start of its first process until its last receiver finished: ka
# and socat receivers exit, a leecher prints "done"), vs one copy (the one-copy time on the same bed /
# wall s), per-node MiB/s (SIZE / wall s) and that over the link's rate (the efficiency the simulator
# takes), the first receiver's finish and the spread (last - first), CPU-s per GiB of the stream
# (user+sys of the sender, of the average receiver, of all processes), bed CPU (all CPU-s / (wall s x
# cores): every node shares this machine's cores, near 1 the machine is the bottleneck), and delivery:
# every byte to every receiver (socat: bytes written to /dev/null; ka: its report; swarm: every piece
# hash-checked, bytes counted) or FAILED, never a time.
#
# Usage: bench/swarm_bench.sh [--nodes "8 32"] [--rate 100mbit] [--size 256M] [--methods "onecopy ka swarm"]
#                             [--output FILE] [--keep]
#   --size SIZE   MiB, or with a unit: 128M, 1G (default 256M)
#   --output FILE also write the table to FILE
#   --keep        keep the work dir (logs, /usr/bin/time files): KA_KEEP=1
# Env: KA_BIN, SWARM_PEER (default build/ka-swarm-peer), SWARM_PIECE (bytes, default 4 MiB),
#      SWARM_PEERS (peers given to each leecher besides the seed, default 30), BENCH_TIMEOUT,
#      SWARM_SEED_ARGS / SWARM_LEECH_ARGS (more ka-swarm-peer options, e.g. "--set request_queue_time=1"
#      or "--super-seed"; the settings in force are bench/swarm_peer.cc's lan_settings()).
# Exit status: 0 when every run delivered every byte, 1 otherwise, 2 on bad usage, 77 (skip) without
# root or ka.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/lib/bed.sh
. "$BENCH/../tests/lib/bed.sh"
# shellcheck source=lib/runs.bash
. "$BENCH/lib/runs.bash"
# shellcheck source=lib/options.bash
. "$BENCH/lib/options.bash"
CMDLINE=$(quote_args "$0" "$@")

NODES='8 32' RATE=100mbit SIZE=256M METHODS='onecopy ka swarm' OUTPUT='' KEEP=0
bench_options swarm_bench 2,33 --nodes=NODES --rate=RATE --size=SIZE --methods=METHODS --output=OUTPUT \
  --keep:KEEP -- "$@"
usage_error() { echo "swarm_bench: $*" >&2; exit 2; }
(( KEEP )) && export KA_KEEP=1
[[ $SIZE =~ ^([1-9][0-9]{0,6})([mMgG]?)$ ]] || usage_error "bad --size '$SIZE' (MiB, or 128M, 1G)"
SIZE_MIB=${BASH_REMATCH[1]}
[[ ${BASH_REMATCH[2]} != [gG] ]] || SIZE_MIB=$(( SIZE_MIB * 1024 ))
[[ $RATE =~ ^[0-9a-zA-Z.]+$ ]] || usage_error "bad --rate '$RATE'"
for n in $NODES; do
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || (( n > 250 )); then usage_error "bad --nodes '$NODES'"; fi
done
[[ -n ${NODES// /} ]] || usage_error "empty --nodes"
for m in $METHODS; do [[ $m =~ ^(onecopy|ka|swarm)$ ]] || usage_error "unknown method '$m'"; done
has_method() { [[ " $METHODS " == *" $1 "* ]]; }

BYTES=$(( SIZE_MIB << 20 ))
TIMEF='%U %S %e'
read -ra SOCAT <<<"socat ${SOCAT_ARGS--b 1048576}"
PORT=7100                   # onecopy; ka uses its default (30765)
SWARM_PORT=6881
GRACE=10                    # seconds the others get after one process of a run failed
GRACE_DONE=30               # seconds the sender gets to exit after the last receiver did
SESSION=sb$$
SWARM_PEER=${SWARM_PEER:-$KA_ROOT/build/ka-swarm-peer}
SWARM_PIECE=${SWARM_PIECE:-4194304}
SWARM_PEERS=${SWARM_PEERS:-30}
# every process gets 15 single-link transfer times + 2 minutes before `timeout` ends it
TIMEOUT=${BENCH_TIMEOUT:-$(( SIZE_MIB * 8389 * 15 / ($(rate_mbit "$RATE") * 1000) + 120 ))}

bed_require_root
bed_require_ka
for tool in /usr/bin/time python3 socat ss pgrep shuf; do
  command -v "$tool" >/dev/null || { echo "swarm_bench: $tool not installed (scripts/setup.sh)" >&2; exit 1; }
done
SWARM_NOTE=''
if has_method swarm && [[ ! -x $SWARM_PEER ]]; then
  SWARM_NOTE="no $SWARM_PEER (libtorrent-rasterbar-dev, scripts/setup.sh; then build)"
fi
bed_workdir
W=$BED_WORK
SRC=$W/src.bin
SHM=/dev/shm/ka-swarm-$$    # the leechers' storage (tmpfs), emptied after each run
# shellcheck disable=SC2317  # run by the EXIT trap
swarm_cleanup() {           # on EXIT: bed_cleanup (processes by PID, namespaces, work dir) and SHM
  local rc=$?
  [[ $BASHPID == "$BED_MAIN_PID" ]] && rm -rf -- "$SHM"
  (exit "$rc")
  bed_cleanup
}
trap swarm_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$W/runs"
: >"$W/results.tsv"
: >"$W/cpu.tsv"
: >"$W/done.tsv"

# ---------------------------------------------------------------- the swarm
# swarm_wait N: until every leecher printed its "done" JSON line (DONE_AT: its own clock, in
# microseconds), one of them died, or TIMEOUT; then every process of the run is told to stop. Reads the
# logs with `read` (no fork per leecher: the bench must not load the 2 cores it measures).
swarm_wait() {
  local n=$1 i left line end=$(( T0 + TIMEOUT * 1000000 ))
  while :; do
    left=0
    for (( i = 1; i <= n; i++ )); do
      [[ -z ${DONE_AT[node$i]:-} ]] || continue
      line=
      if [[ -e $R/node$i.log ]]; then   # created by the leecher's shell: maybe not yet
        while IFS= read -r line; do [[ $line == '{"event":"done"'* ]] && break; line=; done <"$R/node$i.log"
      fi
      if [[ $line =~ \"unix\":([0-9]+)\.([0-9]{6}) ]]; then
        DONE_AT[node$i]=$(( 10#${BASH_REMATCH[1]}${BASH_REMATCH[2]} ))
      else
        left=$(( left + 1 ))
        proc_alive "${PID[node$i]}" || { PROBLEMS+=("node$i stopped before it was done"); left=-1; break; }
      fi
    done
    (( left > 0 )) || break
    proc_alive "${PID[sender]}" || { PROBLEMS+=("the seed stopped"); break; }
    (( ${EPOCHREALTIME/[.,]/} < end )) || { PROBLEMS+=("not every leecher done after ${TIMEOUT}s"); break; }
    sleep 0.2
  done
  for i in "${!PID[@]}"; do end_proc "${PID[$i]}"; done
}

# proc_alive PID: is this child of ours running (not a zombie that `wait` has yet to reap)? No fork.
proc_alive() {
  local _pid _comm state
  read -r _pid _comm state _ 2>/dev/null <"/proc/$1/stat" || return 1
  [[ $state != Z ]]
}

# json_field FILE EVENT FIELD: FIELD (a number or true/false) of the EVENT JSON line of FILE
json_field() {
  local line
  line=$(grep -m1 "^{\"event\":\"$2\"" "$1" 2>/dev/null)
  [[ $line =~ \"$3\":([0-9.]+|true|false) ]] && echo "${BASH_REMATCH[1]}"
}

run_swarm() {
  local n=$1 i j k pick=() others=() peers=() last=0 up seed_up failures=0 redundant=0 avail
  local sargs=() largs=()
  read -ra sargs <<<"${SWARM_SEED_ARGS:-}"
  read -ra largs <<<"${SWARM_LEECH_ARGS:-}"
  run_begin "swarm-n$n" swarm "" "$n" "swarm: ka-swarm-peer (libtorrent-rasterbar $LT_VERSION)"
  [[ -z $SWARM_NOTE ]] || { run_skip "$SWARM_NOTE"; return; }
  avail=$(df -k --output=avail /dev/shm | tail -n 1)
  if (( avail * 1024 < BYTES * n + (BYTES * n) / 10 )); then
    run_skip "/dev/shm has $(( avail >> 10 )) MiB free, the leechers need $(( (BYTES * n) >> 20 ))"; return
  fi
  TOPO=star
  # Everything that forks is done before the clock starts: each leecher's command line (addresses, the
  # peers drawn at random, its storage), so that the start loop costs what ka's does (one fork a node).
  # At N = 100 on a loaded machine, $(bed_ip) for 31 peers a node delayed the last leecher by 50 s.
  local -a ip=() cmd=()
  for (( i = 0; i <= n; i++ )); do ip[i]=$(bed_ip "$i"); done
  for (( i = 1; i <= n; i++ )); do
    others=()
    for (( j = 1; j <= n; j++ )); do (( j == i )) || others+=("$j"); done
    if (( ${#others[@]} > SWARM_PEERS )); then mapfile -t pick < <(shuf -n "$SWARM_PEERS" -e "${others[@]}")
    else pick=("${others[@]}"); fi
    peers=("--peer ${ip[0]}:$SWARM_PORT")
    for k in "${pick[@]}"; do peers+=("--peer ${ip[k]}:$SWARM_PORT"); done
    mkdir -p "$SHM/node$i"
    cmd[i]="--save $SHM/node$i --listen ${ip[i]}:$SWARM_PORT ${peers[*]}"
  done
  proc_start 0 sender "$SWARM_PEER" seed "$W/swarm.torrent" "$SRC" --listen "${ip[0]}:$SWARM_PORT" "${sargs[@]}"
  if ! wait_listen 0 sender "tcp:$SWARM_PORT"; then
    PROBLEMS+=("the seed did not listen"); end_proc "${PID[sender]}"; wait_all; run_end; return
  fi
  for (( i = 1; i <= n; i++ )); do
    read -ra peers <<<"${cmd[i]}"   # no space in these words: paths of the work dir, addresses
    proc_start "$i" "node$i" "$SWARM_PEER" leech "$W/swarm.torrent" "${peers[@]}" "${largs[@]}"
  done
  swarm_wait "$n"
  wait_all
  for (( i = 1; i <= n; i++ )); do
    if [[ -z ${DONE_AT[node$i]:-} ]]; then PROBLEMS+=("node$i never done"); continue; fi
    (( ${DONE_AT[node$i]} > last )) && last=${DONE_AT[node$i]}
    # delivery: the bytes of the pieces whose SHA-1 passed, and every piece of the torrent
    check_bytes "node$i" "$(json_field "$R/node$i.log" "done" bytes)"
    [[ $(json_field "$R/node$i.log" "done" pieces) == "$(json_field "$R/node$i.log" "done" num_pieces)" ]] \
      || PROBLEMS+=("node$i: not every piece")
    failures=$(( failures + $(json_field "$R/node$i.log" "done" hash_failures || echo 0) ))
    redundant=$(( redundant + $(json_field "$R/node$i.log" "done" redundant || echo 0) ))
  done
  (( ${#PROBLEMS[@]} )) || T_END=$last   # the last leecher's "done", not when it was told to stop
  seed_up=$(json_field "$R/sender.log" exit payload_upload)
  up=$(awk -v s="${seed_up:-0}" -v b="$BYTES" 'BEGIN { printf "%.2f", s / b }')
  RUN_NOTE="the seed sent $up copies; $failures piece(s) failed their hash; $(( redundant >> 20 )) MiB redundant"
  rm -rf -- "${SHM:?}"/node*
  run_end
}

# ---------------------------------------------------------------- the runs
LT_VERSION=$(pkg-config --modversion libtorrent-rasterbar 2>/dev/null || echo '?')
bed_log "generating $SIZE_MIB MiB of random data"
head -c "$BYTES" /dev/urandom >"$SRC"
cat "$SRC" >/dev/null
if has_method swarm && [[ -z $SWARM_NOTE ]]; then
  "$SWARM_PEER" make-torrent "$SRC" "$W/swarm.torrent" --piece "$SWARM_PIECE" >"$W/make-torrent.log" 2>&1 \
    || SWARM_NOTE="make-torrent failed: $(tail -n 1 "$W/make-torrent.log")"
fi
{
  printf 'command\t%s\n' "$CMDLINE"
  printf 'env\t%s\n' "$(env | grep -E '^(KA_BIN=|SWARM_(PEER|PIECE|PEERS|SEED_ARGS|LEECH_ARGS)=|BENCH_TIMEOUT=|BED_TBF|SOCAT_ARGS=)' | sort | xargs)"
  printf 'rate\t%s\n' "$RATE"
  printf 'rate_mbit\t%s\n' "$(rate_mbit "$RATE")"
  printf 'bytes\t%s\n' "$BYTES"
  printf 'nodes\t%s\n' "$(xargs <<<"$NODES")"
  printf 'piece\t%s\n' "$SWARM_PIECE"
  printf 'swarm_peers\t%s\n' "$SWARM_PEERS"
  printf 'libtorrent\t%s\n' "$LT_VERSION"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'cores\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  printf 'load\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'uptime\t%s\n' "$(uptime)"
  printf 'ka_version\t%s\n' "$(git -C "$KA_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
} >"$W/params.tsv"
bed_log "load: $(uptime)"

STATUS=0
for n in $NODES; do
  bed_up "$n" "$RATE" || exit 1
  bed_secret "$W/secret"
  printf 'cc\t%s\n' "$(bed_exec 0 sysctl -n net.ipv4.tcp_congestion_control)" >>"$W/params.tsv"
  for m in $METHODS; do
    case $m in
      onecopy) run_onecopy "n$n" ;;
      ka) run_ka default "$n" ;;
      swarm) run_swarm "$n" ;;
    esac
  done
  bed_down
done
printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$W/params.tsv"

python3 "$BENCH/lib/swarm_report.py" "$W" >"$W/table.md" || STATUS=1
cat "$W/table.md"
[[ -z $OUTPUT ]] || cp "$W/table.md" "$OUTPUT"
(( STATUS == 0 )) || echo "swarm_bench: some runs FAILED (see above)"
exit "$STATUS"
