#!/usr/bin/env bash
# System test 9: self-healing chain, SIGSTOP (freeze) of one receiver while the stream flows.
#  Same bed and 9 sessions as fault_kill.sh (256 MiB random file, sender h0 with --secret-file
#  and --node-timeout 3, receivers h1..h4 on 400mbit links; victim node1 / node2 / node4 at
#  start / middle / end), but the victim's ka process (its real PID) gets SIGSTOP: it sends no
#  heartbeat any more, the sender must mark it KO ("no heartbeat") after 3 s and re-link the
#  chain around it. Per run: sender exit 1, the 3 survivors exit 0 and are byte-exact (cmp),
#  report ko = [victim] with a reason about the heartbeat, ok = the 3 others. Then, once the
#  sender has finished, SIGCONT the victim: it must exit non-zero by itself within 10 s, say on
#  stderr that it was dropped (grep -i drop), and leave no output file at its PATH.
#  Prints "stall=X.Ys" per run: the longest interval without growth of the last survivor's
#  output after the SIGSTOP (sampled every 0.2 s; informative, never fails).
# Env: KA_BIN, KA_TIMEOUT (s, default 45 here), KA_TEST_MIB (default 256), KA_FAULT_RATE
#      (default 400mbit), KA_FAULT_RUNS (subset, e.g. "2:middle 4:end"), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-45}
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

bed_require_root
bed_require_ka
bed_trap
bed_workdir
W=$BED_WORK
MIB=${KA_TEST_MIB:-256}
BYTES=$(( MIB << 20 ))
N=4
RATE=${KA_FAULT_RATE:-400mbit}
NODE_TIMEOUT=3
REASON='heartbeat'
CONT_LIMIT=10     # s: a resumed victim must exit by itself within this

bed_up "$N" "$RATE" || exit 1
bed_secret "$W/secret"
head -c "$BYTES" /dev/urandom >"$W/src.bin"

SUMMARY=()

# dropped_msg LOG: the lines of LOG saying "drop", except a relay's own "dropping downstream
# link to ..." (a node that drops its neighbour has not been dropped itself)
dropped_msg() { grep -i drop "$1" | grep -vi 'dropping downstream'; }

# victim_exits_nz WRAPPER_PID: wait for the resumed victim's wrapper, want a non-zero ka status
victim_exits_nz() { ka_rc_is nz "$1"; }

# run_freeze RUN VICTIM WHEN
run_freeze() {
  local run=$1 v=$2 when=$3 i S=ffrz$1.$$ spid vpid='' last tf stall ok=() logs=() rpid=()
  local f0=$BED_FAILS tc gone
  echo "== run $run: SIGSTOP node$v (h$v) at $when, --node-timeout $NODE_TIMEOUT, $MIB MiB over $RATE"
  ka_bg 0 "$W/send$run.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
    --node-timeout "$NODE_TIMEOUT" --report "$W/report$run.json" "$W/src.bin"
  spid=$BED_LAST_PID
  logs=("$W/send$run.log")
  for (( i = 1; i <= N; i++ )); do
    ka_bg "$i" "$W/r$run.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" \
      --output "$W/out$run.$i.bin"
    rpid[i]=$BED_LAST_PID
    logs+=("$W/r$run.$i.log")
    (( i != v )) && ok+=("node$i")
  done
  last=$N; (( v == N )) && last=$(( N - 1 ))
  fault_sampler_start "$W/out$run.$last.bin" "$BYTES" "$W/samples$run"

  if ! fault_wait_point "$when" "$W/send$run.log.err" "$W/out$run.1.bin" "$W/out$run.$N.bin" "$BYTES"; then
    bed_check "fault point '$when' reached (stream started and progressed)" false
    fault_sampler_stop
    fault_reap "$spid" "${rpid[@]}"
    bed_dump "${logs[@]}"
    SUMMARY+=("run $run: SIGSTOP node$v at $when: FAIL (fault point not reached) stall=n/a")
    rm -f "$W"/out"$run".*
    return
  fi
  if vpid=$(ka_real_pid "${rpid[v]}" 0) && kill -STOP "$vpid"; then
    tf=$EPOCHREALTIME
    echo "    SIGSTOP node$v (ka pid $vpid) at $when; bytes written then:" \
      "$(for (( i = 1; i <= N; i++ )); do printf 'node%d=%dMiB ' "$i" $(( $(fault_size "$W/out$run.$i.bin") >> 20 )); done)"
    bed_check "victim node$v was still streaming when frozen" test ! -e "$W/out$run.$v.bin"
  else
    tf=$EPOCHREALTIME; vpid=
    bed_check "found and froze the ka process of node$v" false
  fi

  bed_check "sender exits 1 (a node failed)" ka_rc_is 1 "$spid"
  for (( i = 1; i <= N; i++ )); do
    (( i == v )) && continue
    bed_check "survivor node$i exits 0" ka_rc_is 0 "${rpid[i]}"
  done
  fault_sampler_stop
  stall=$(fault_stall "$W/samples$run" "$tf" "$BYTES")

  # the sender has finished: wake the victim up
  if [[ -n $vpid ]] && fault_alive "$vpid"; then
    kill -CONT "$vpid"
    tc=$EPOCHREALTIME
    if fault_wait_gone "$vpid" "$CONT_LIMIT"; then gone=0; else gone=1; fi
    echo "    SIGCONT node$v: $(awk -v a="$tc" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" \
      "$( ((gone)) && echo "later still running" || echo "later it had exited")"
    bed_check "resumed node$v exits by itself within ${CONT_LIMIT}s" test "$gone" = 0
    (( gone )) && kill -KILL "$vpid" 2>/dev/null
    bed_check "resumed node$v exits non-zero" victim_exits_nz "${rpid[v]}"
    bed_check "resumed node$v says on stderr it was dropped (grep -i drop)" bed_quiet dropped_msg "$W/r$run.$v.log.err"
    dropped_msg "$W/r$run.$v.log.err" | tail -n 3 | sed 's/^/    victim: /'
  else
    bed_check "frozen node$v still there when the sender finished" false
    wait "${rpid[v]}" 2>/dev/null
  fi

  for (( i = 1; i <= N; i++ )); do
    (( i == v )) && continue
    bed_check "survivor node$i output == source (cmp)" ka_same "$W/src.bin" "$W/out$run.$i.bin"
  done
  bed_check "no output file at the frozen node$v's PATH" test ! -e "$W/out$run.$v.bin"
  bed_check "report: ok = ${ok[*]}, ko = node$v with a reason matching /$REASON/i" \
    ka_check_report "$W/report$run.json" "$BYTES" "$(IFS=,; echo "${ok[*]}")" "node$v" "$REASON"
  python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
for k in r.get("ko",[]): print("    ko entry:", json.dumps(k))
' "$W/report$run.json" 2>/dev/null
  echo "    stall=$stall (node$last output, after the SIGSTOP)"
  fault_reap "$spid" "${rpid[@]}"
  if (( BED_FAILS > f0 )); then
    bed_dump "${logs[@]}"
    SUMMARY+=("run $run: SIGSTOP node$v at $when: FAIL ($(( BED_FAILS - f0 )) checks) stall=$stall")
  else
    SUMMARY+=("run $run: SIGSTOP node$v at $when: PASS stall=$stall")
  fi
  rm -f "$W"/out"$run".*
}

run=0
for when in start middle end; do
  for v in 1 2 4; do
    run=$(( run + 1 ))
    if [[ -n ${KA_FAULT_RUNS:-} && " $KA_FAULT_RUNS " != *" $v:$when "* ]]; then continue; fi
    run_freeze "$run" "$v" "$when"
  done
done

echo "== summary"
printf '  %s\n' "${SUMMARY[@]}"
if (( BED_FAILS )); then echo "fault_freeze: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "fault_freeze: PASS"
