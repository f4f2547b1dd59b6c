# shellcheck shell=bash
# tests/lib/fault.bash - fault injection for ka's system tests: a chain of receivers fed by one
# sender, a fault (a process killed or frozen at a chosen point of the stream), the checks that
# follow, and the summary. Used by tests/system/fault_*.sh and replay_window.sh.
#
# Source it (it sources bed.sh) and open the test with `fault_begin N RATE MIB`: the functions
# below use N (receivers), BYTES (stream size), W, $W/secret and $W/src.bin.
#
# Files of a chain started with `fault_chain TAG ...`, all in $W:
#   TAG.send.log[.err]  the sender's stdout / stderr     TAG.r<i>.log[.err]  node<i>'s
#   TAG.out<i>          node<i>'s --output PATH           TAG.report.json     the sender's --report
#   TAG.samples         fault_sampler_start's samples

# shellcheck source-path=SCRIPTDIR source=bed.sh
declare -F bed_begin >/dev/null || . "$(dirname "${BASH_SOURCE[0]}")/bed.sh"

# fault_alive PID: true while PID exists and is not a zombie
fault_alive() {
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z ]]
}

# fault_us: wall clock in microseconds (deadlines of the wait loops below)
fault_us() { echo "${EPOCHREALTIME/[.,]/}"; }

# fault_wait_gone PID SECONDS: wait until PID has exited (or is a zombie); 1 on timeout
fault_wait_gone() {
  local pid=$1 end=$(( $(fault_us) + $2 * 1000000 ))
  while (( $(fault_us) < end )); do
    fault_alive "$pid" || return 0
    sleep 0.05
  done
  fault_alive "$pid" && return 1
  return 0
}

# fault_size PATH: bytes written so far by a receiver with --output PATH (PATH.ka-incomplete
# while it runs, PATH once complete; 0 when neither exists)
fault_size() {
  stat -c %s "$1.ka-incomplete" 2>/dev/null || stat -c %s "$1" 2>/dev/null || echo 0
}

# fault_wait_size PATH BYTES [SECONDS]: wait until fault_size PATH >= BYTES; 1 on timeout
fault_wait_size() {
  local path=$1 want=$2 end=$(( $(fault_us) + ${3:-60} * 1000000 ))
  while (( $(fault_us) < end )); do
    (( $(fault_size "$path") >= want )) && return 0
    sleep 0.05
  done
  return 1
}

# fault_wait_log FILE REGEX [SECONDS]: wait until FILE has a line matching REGEX (grep -E)
fault_wait_log() {
  local f=$1 re=$2 end=$(( $(fault_us) + ${3:-30} * 1000000 ))
  while (( $(fault_us) < end )); do
    grep -Eq -- "$re" "$f" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# fault_wait_point WHEN SENDER_ERR_LOG FIRST_PATH LAST_PATH BYTES: block until the fault point
# of a run (FIRST_PATH / LAST_PATH: --output of the first / last node of the chain):
#   start:  the sender logged "chain: sender -> ..." or "chain (epoch 1): sender -> ..." (the
#           chain is formed), plus 0.3 s, and the first node has written >= 4 MiB
#   middle: the last node holds >= 50 % of BYTES
#   end:    the last node holds >= 90 % of BYTES
fault_wait_point() {
  local when=$1 slog=$2 first=$3 last=$4 bytes=$5
  case $when in
    start)  fault_wait_log "$slog" 'chain( \(epoch [0-9]+\))?: sender' 40 || return 1
            sleep 0.3
            fault_wait_size "$first" $(( 4 << 20 )) 20 ;;
    middle) fault_wait_size "$last" $(( bytes / 2 )) 60 ;;
    end)    fault_wait_size "$last" $(( bytes * 9 / 10 )) 60 ;;
    *)      return 1 ;;
  esac
}

# fault_sampler_start PATH BYTES OUT: sample fault_size PATH every 0.2 s into OUT
# ("epoch_seconds size" lines) until it reaches BYTES (at most 300 s). PID in FAULT_SAMPLER_PID.
fault_sampler_start() {
  python3 - "$1" "$2" "$3" <<'PYEOF' &
import os, sys, time
path, total, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
end = time.time() + 300
with open(out, "w", buffering=1) as f:
    while time.time() < end:
        size = 0
        for p in (path + ".ka-incomplete", path):   # this order survives the final rename
            try:
                size = os.stat(p).st_size
                break
            except OSError:
                pass
        f.write("%.3f %d\n" % (time.time(), size))
        if size >= total:
            break
        time.sleep(0.2)
PYEOF
  FAULT_SAMPLER_PID=$!
  BED_PIDS+=("$FAULT_SAMPLER_PID")
}

# fault_sampler_stop: stop the sampler (by its PID) if it still runs
fault_sampler_stop() {
  [[ -n ${FAULT_SAMPLER_PID:-} ]] || return 0
  kill "$FAULT_SAMPLER_PID" 2>/dev/null
  wait "$FAULT_SAMPLER_PID" 2>/dev/null
  FAULT_SAMPLER_PID=
  return 0
}

# fault_stall SAMPLES T_FAULT BYTES: print the longest interval (s) without growth of the sampled
# file after T_FAULT (epoch seconds), e.g. "2.4s"; "X.Ys+ (never completed)" if it stopped short.
fault_stall() {
  python3 - "$@" <<'PYEOF'
import sys
path, tf, total = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
samples = []
for line in open(path):
    p = line.split()
    if len(p) == 2:
        samples.append((float(p[0]), int(p[1])))
if not samples:
    print("n/a (no samples)"); sys.exit(0)
prev = 0
for t, s in samples:
    if t <= tf:
        prev = s
last, worst, done = tf, 0.0, prev >= total
for t, s in samples:
    if t <= tf or done:
        continue
    if s > prev:
        worst = max(worst, t - last)
        last, prev = t, s
    done = s >= total
if not done:
    worst = max(worst, samples[-1][0] - last)
    print("%.1fs+ (never completed: %d of %d bytes)" % (worst, prev, total))
else:
    print("%.1fs" % worst)
PYEOF
}

# fault_reap WRAPPER_PID...: end what is left of a run: SIGKILL the ka process (its real PID)
# of every wrapper still running, then reap the wrappers (quietly: no "Killed" job notices).
fault_reap() {
  local w p
  {
    for w in "$@"; do
      [[ -n $w ]] || continue
      if fault_alive "$w"; then
        p=$(ka_real_pid "$w" 0) && kill -KILL "$p"
      fi
    done
    for w in "$@"; do [[ -n $w ]] && wait "$w"; done
  } 2>/dev/null
  return 0
}

# fault_kill_wait WRAPPER_PID KA_PID...: SIGKILL the ka processes KA_PID... (real PIDs) and reap
# the wrapper(s) WRAPPER_PID (comma separated), quietly. Returns kill's status.
fault_kill_wait() {
  local wrappers=$1 rc=0 w; shift
  {
    kill -KILL "$@" || rc=$?
    for w in ${wrappers//,/ }; do wait "$w"; done
  } 2>/dev/null
  return "$rc"
}

# fault_begin N RATE MIB: bed_begin with N receivers on RATE links ("" or none: unshaped) and a
# source of MIB MiB; sets N, RATE, MIB and BYTES
fault_begin() {
  N=$1 RATE=$2 MIB=$3
  BYTES=$(( MIB << 20 ))
  bed_begin "$N" "$RATE" "$BYTES"
}

# ---- the chain and its scenario ----

FAULT_SPID=             # wrapper PID of the sender started by fault_chain
FAULT_RPID=()           # FAULT_RPID[i]: wrapper PID of node<i>
FAULT_LOGS=()           # the chain's logs (for bed_dump)
FAULT_SUMMARY=()        # one line per run, printed by fault_end
FAULT_SINK=()           # set by FAULT_SINK_FN (below)

# fault_chain TAG SOURCE [SEND_OPTION...]: start `ka send` in h0 (session TAG.$$, secret
# $W/secret, --report $W/TAG.report.json, SOURCE: a file, or - for $W/src.bin on stdin) and
# `ka receive` as node1..nodeN in h1..hN with --output $W/TAG.out<i>. A test that wants another
# sink for some node sets FAULT_SINK_FN to a function called as FN TAG I, which may replace the
# array FAULT_SINK (preset to: --output $W/TAG.out<i>). Sets FAULT_SPID, FAULT_RPID, FAULT_LOGS.
fault_chain() {
  local tag=$1 src=$2 i stdin=${BED_STDIN:-}; shift 2
  [[ $src == - ]] && stdin=$W/src.bin
  BED_STDIN=$stdin ka_bg 0 "$W/$tag.send.log" send --nodes "$N" --session "$tag.$$" \
    --secret-file "$W/secret" "$@" --report "$W/$tag.report.json" "$src"
  FAULT_SPID=$BED_LAST_PID
  FAULT_RPID=()
  FAULT_LOGS=("$W/$tag.send.log")
  for (( i = 1; i <= N; i++ )); do
    FAULT_SINK=(--output "$W/$tag.out$i")
    [[ -z ${FAULT_SINK_FN:-} ]] || "$FAULT_SINK_FN" "$tag" "$i"
    ka_bg "$i" "$W/$tag.r$i.log" receive --session "$tag.$$" --secret-file "$W/secret" \
      --name "node$i" "${FAULT_SINK[@]}"
    FAULT_RPID[i]=$BED_LAST_PID
    FAULT_LOGS+=("$W/$tag.r$i.log")
  done
}

# fault_written TAG: "node1=XMiB node2=YMiB ...": what each node of the chain has written so far
fault_written() {
  local i
  for (( i = 1; i <= N; i++ )); do printf 'node%d=%dMiB ' "$i" $(( $(fault_size "$W/$1.out$i") >> 20 )); done
}

# fault_names_except I...: the names node1..nodeN without node<I>..., comma separated
fault_names_except() {
  local i names=() skip=" $* "
  for (( i = 1; i <= N; i++ )); do [[ $skip == *" $i "* ]] || names+=("node$i"); done
  (IFS=,; echo "${names[*]}")
}

# fault_print_ko REPORT: print the ko entries of a report (diagnosis only)
fault_print_ko() {
  python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
for k in r.get("ko",[]): print("    ko entry:", json.dumps(k))
' "$1" 2>/dev/null
}

# fault_note F0 LINE: add "LINE: PASS" or "LINE: FAIL (k checks)" to the summary, k = the checks
# failed since BED_FAILS was F0; on a failure, dump the chain's logs
fault_note() {
  local f0=$1 line=$2
  if (( BED_FAILS > f0 )); then
    bed_dump "${FAULT_LOGS[@]}"
    FAULT_SUMMARY+=("$line: FAIL ($(( BED_FAILS - f0 )) checks)${3:+ $3}")
  else
    FAULT_SUMMARY+=("$line: PASS${3:+ $3}")
  fi
}

# fault_end NAME: print the summary and exit: 1 if any check failed, else 0
fault_end() {
  if (( ${#FAULT_SUMMARY[@]} )); then
    echo "== summary"
    printf '  %s\n' "${FAULT_SUMMARY[@]}"
  fi
  if (( BED_FAILS )); then echo "$1: FAIL ($BED_FAILS checks failed)"; exit 1; fi
  echo "$1: PASS"
  exit 0
}

# ---- one signal to some receivers at a fault point: fault_kill, fault_freeze, fault_adjacent ----

FAULT_SIGNAL=KILL       # KILL or STOP: what the victims get
FAULT_REASON=.          # the report's ko reasons must match this (grep -E, case-insensitive)
FAULT_SEND_OPTS=()      # extra options of `ka send`
FAULT_VPID=()           # FAULT_VPID[v]: real ka PID of victim v (set by fault_run)
# FAULT_AFTER_FN: optional function called as FN TAG VICTIM... once the sender and the survivors
# have exited (and the sampler stopped); it must reap the victims' wrappers. Default: wait them.

# fault_run RUN "VICTIM..." WHEN: a chain of N, the ka processes of the victims (real PIDs) get
# SIG$FAULT_SIGNAL in one kill(1) at WHEN (see fault_wait_point). Checks: the victims were still
# streaming, the sender exits 1, the survivors exit 0 and are byte-exact (cmp), no output file at
# a victim's PATH, report ok = the survivors, ko = the victims with reasons matching FAULT_REASON.
# Prints "stall=X.Ys" (informative): the longest interval without growth of the last survivor's
# output after the fault. Adds a line to the summary.
# shellcheck disable=SC2153  # BYTES, N and W are the test's
fault_run() {
  local run=$1 when=$3 tag=run$1 i v p tf stall=n/a last=0 f0=$BED_FAILS
  local -a victims=() pids=() wrappers=() survivors=()
  read -r -a victims <<<"$2"
  local verb=SIG$FAULT_SIGNAL what="node${victims[*]}"
  what=${what// / node}
  local done=killed; [[ $FAULT_SIGNAL == STOP ]] && done=frozen
  for (( i = 1; i <= N; i++ )); do [[ " ${victims[*]} " == *" $i "* ]] || { survivors+=("$i"); last=$i; }; done
  echo "== run $run: $verb $what at $when, ${FAULT_SEND_OPTS[*]:+${FAULT_SEND_OPTS[*]}, }$(( BYTES >> 20 )) MiB over ${RATE:-unshaped}"
  fault_chain "$tag" "$W/src.bin" "${FAULT_SEND_OPTS[@]}"
  fault_sampler_start "$W/$tag.out$last" "$BYTES" "$W/$tag.samples"

  if ! fault_wait_point "$when" "$W/$tag.send.log.err" "$W/$tag.out1" "$W/$tag.out$N" "$BYTES"; then
    bed_check "fault point '$when' reached (stream started and progressed)" false
    fault_sampler_stop
    fault_reap "$FAULT_SPID" "${FAULT_RPID[@]}"
    fault_note "$f0" "run $run: $verb $what at $when" "stall=n/a"
    rm -f "$W/$tag".out*
    return
  fi
  FAULT_VPID=()
  for v in "${victims[@]}"; do
    p=$(ka_real_pid "${FAULT_RPID[v]}" 0) && { pids+=("$p"); FAULT_VPID[v]=$p; }
    wrappers+=("${FAULT_RPID[v]}")
  done
  tf=$EPOCHREALTIME
  if (( ${#pids[@]} == ${#victims[@]} )) && {
       if [[ $FAULT_SIGNAL == KILL ]]; then fault_kill_wait "$(IFS=,; echo "${wrappers[*]}")" "${pids[@]}"
       else kill -s "$FAULT_SIGNAL" "${pids[@]}"; fi; }; then
    echo "    $verb $what (ka pid ${pids[*]}) at $when; bytes written then: $(fault_written "$tag")"
    for v in "${victims[@]}"; do
      bed_check "victim node$v was still streaming when $done" test ! -e "$W/$tag.out$v"
    done
  else
    # shellcheck disable=SC2034  # read by FAULT_AFTER_FN
    FAULT_VPID=()
    bed_check "found and $done the ka process of $what" false
  fi

  bed_check "sender exits 1 (a node failed)" ka_rc_is 1 "$FAULT_SPID"
  for i in "${survivors[@]}"; do
    bed_check "survivor node$i exits 0" ka_rc_is 0 "${FAULT_RPID[i]}"
  done
  fault_sampler_stop
  stall=$(fault_stall "$W/$tag.samples" "$tf" "$BYTES")
  if [[ -n ${FAULT_AFTER_FN:-} ]]; then
    "$FAULT_AFTER_FN" "$tag" "${victims[@]}"
  else
    for v in "${victims[@]}"; do wait "${FAULT_RPID[v]}" 2>/dev/null; done
  fi
  for i in "${survivors[@]}"; do
    bed_check "survivor node$i output == source (cmp)" ka_same "$W/src.bin" "$W/$tag.out$i"
  done
  for v in "${victims[@]}"; do
    bed_check "no output file at the $done node$v's PATH" test ! -e "$W/$tag.out$v"
  done
  bed_check "report: ok = $(fault_names_except "${victims[@]}"), ko = $what with reasons matching /$FAULT_REASON/i" \
    ka_check_report "$W/$tag.report.json" "$BYTES" "$(fault_names_except "${victims[@]}")" \
    "$(fault_names_except "${survivors[@]}")" "$FAULT_REASON"
  fault_print_ko "$W/$tag.report.json"
  echo "    stall=$stall (node$last output, after the fault)"
  fault_reap "$FAULT_SPID" "${FAULT_RPID[@]}"
  fault_note "$f0" "run $run: $verb $what at $when" "stall=$stall"
  rm -f "$W/$tag".out*
}

# fault_matrix: fault_run with one victim, node1 (first), node2 (middle) and nodeN (last), at
# start, middle and end: 9 runs. KA_FAULT_RUNS selects some (e.g. "2:middle 4:end").
fault_matrix() {
  local run=0 when v
  for when in start middle end; do
    for v in 1 2 "$N"; do
      run=$(( run + 1 ))
      if [[ -n ${KA_FAULT_RUNS:-} && " $KA_FAULT_RUNS " != *" $v:$when "* ]]; then continue; fi
      fault_run "$run" "$v" "$when"
    done
  done
}
