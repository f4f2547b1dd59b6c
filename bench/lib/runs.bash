# shellcheck shell=bash
# bench/lib/runs.bash - how a benchmark runs one method on the bed and records it (bench/peers_bench.sh,
# bench/swarm_bench.sh): start its processes under /usr/bin/time and timeout, wait for them, check
# delivery, and append one line to results.tsv, its CPU to cpu.tsv and when each receiver finished to
# done.tsv. Also the one-copy baseline (run_onecopy) and ka (run_ka) that both scripts run.
#
# Source it after tests/lib/bed.sh. The caller sets, before the first run: W (the work dir, with
# runs/ and $W/secret), SRC (the stream), BYTES (its size), TIMEF, TIMEOUT (seconds per process),
# GRACE, GRACE_DONE, PORT, SESSION, SOCAT (the socat command, an array), STATUS (set to 1 when a run
# failed) and, for run_ka, KA_BIN.
#
# done.tsv: ID NAME MICROSECONDS: when receiver NAME finished, from the run's time zero: DONE_AT[NAME]
# when the method set it (a swarm leecher's "done" line), else when its process exited.

quote_args() {   # the command line as one would type it again
  local a out=() q="'\\''"
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/$q}'"); fi
  done
  echo "${out[*]}"
}

# ka variants: NAME = "SECRET|SEND ARGS|RECEIVE ARGS" (peers_bench.sh --help)
declare -A KA_VARIANT=(
  [default]='secret||'
  [nosecret]='nosecret||'
  [sha256]='secret|--digest sha256|'
  [chacha]='secret|--cipher chacha20-poly1305|'
  [signed]='secret|--sign-key @W@/golden/ka.key|--trust @W@/golden/ka.pub'
  [nosplice]='secret||--no-splice'
)

# ka_variant_def NAME: "SECRET|SEND ARGS|RECEIVE ARGS" of a variant (KA_VARIANT_NAME overrides)
ka_variant_def() {
  local env="KA_VARIANT_$1"
  if [[ -n ${!env:-} ]]; then echo "${!env}"; else echo "${KA_VARIANT[$1]:-}"; fi
}

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

# Clock: microseconds, read without a fork as ${EPOCHREALTIME/[.,]/} (a command substitution inside the
# wait loop below upsets bash 5.2's `wait -n`: "wait_for: No record of process").
us_to_s() { printf '%d.%06d' $(( $1 / 1000000 )) $(( $1 % 1000000 )); }

# ---------------------------------------------------------------- one run: start, wait, verify, record
# Per run: R (its directory), T0/T_END (microseconds), PID[NAME], RC[NAME], ORDER (receivers from the
# first to the last of the chain), TOPO (chain or star), PROBLEMS (why it failed), T_EXIT[NAME] (when a
# process exited), DONE_AT[NAME] (when a receiver finished, if not when it exited: the method sets it).
declare -A PID=() RC=() T_EXIT=() DONE_AT=()
R='' T0='' T_END='' TOPO=chain RUN_ID='' RUN_METHOD='' RUN_VARIANT='' RUN_N='' RUN_LABEL='' RUN_NOTE=''
ORDER=() PROBLEMS=()

run_begin() {   # run_begin ID METHOD VARIANT N LABEL
  RUN_ID=$1 RUN_METHOD=$2 RUN_VARIANT=$3 RUN_N=$4 RUN_LABEL=$5
  R=$W/runs/$RUN_ID
  mkdir -p "$R"
  T0='' T_END='' TOPO=chain ORDER=() PROBLEMS=()
  PID=() RC=() ENDED=() SHORT=() T_EXIT=() DONE_AT=()
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
    T_EXIT[$n]=${EPOCHREALTIME/[.,]/}
    np=()
    for p in "${pending[@]}"; do [[ $p == "$done_pid" ]] || np+=("$p"); done
    pending=("${np[@]}")
    grace=
    if [[ -z $T_END ]] && ! receivers_pending "${pending[@]}"; then T_END=${EPOCHREALTIME/[.,]/}; grace=$GRACE_DONE; fi
    # shellcheck disable=SC2153  # GRACE: the caller's
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
  for name in "${ORDER[@]}"; do
    f=${DONE_AT[$name]:-${T_EXIT[$name]:-}}
    [[ -z $f || -z $T0 ]] || printf '%s\t%s\t%s\n' "$RUN_ID" "$name" $(( f - T0 )) >>"$W/done.tsv"
  done
  if (( ${#PROBLEMS[@]} )) || [[ -z $T_END || -z $T0 ]]; then
    status=FAILED
    (( ${#PROBLEMS[@]} )) || PROBLEMS+=("not measured")
    note=$(IFS=';'; echo "${PROBLEMS[*]}")
    note=${note//;/; }
    # shellcheck disable=SC2034  # STATUS: the caller's
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

run_onecopy() {   # run_onecopy [SUFFIX]: its run ID is onecopy, or onecopy-SUFFIX (one per bed)
  run_begin "onecopy${1:+-$1}" onecopy "" 1 "one copy, h0 -> h1 (socat)"
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
