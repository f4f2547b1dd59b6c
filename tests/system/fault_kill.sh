#!/usr/bin/env bash
# System test 8: self-healing chain, SIGKILL of one receiver while the stream flows.
#  256 MiB random file, sender h0 (--secret-file), 4 receivers h1..h4 (chain sender -> node1 ->
#  node2 -> node3 -> node4, ordered by IP) on 400mbit links (~6 s of streaming), one bed shared
#  by 9 sessions: victim node1 (first), node2 (middle), node4 (last) x fault point
#    start  (sender logged "chain:" + 0.3 s),
#    middle (node4 holds 50 % of the stream),
#    end    (node4 holds 90 %).
#  The victim's ka process (its real PID, not the wrappers) gets SIGKILL. Per run:
#  sender exit 1, the 3 survivors exit 0 and are byte-exact (cmp), report ko = [victim] with a
#  non-empty reason, ok = the 3 others, no output file at the victim's PATH (at most
#  PATH.ka-incomplete). Also prints "stall=X.Ys": the longest interval without growth of the
#  last survivor's output after the fault (sampled every 0.2 s; informative, never fails).
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

bed_up "$N" "$RATE" || exit 1
bed_secret "$W/secret"
head -c "$BYTES" /dev/urandom >"$W/src.bin"

SUMMARY=()

# run_kill RUN VICTIM WHEN
run_kill() {
  local run=$1 v=$2 when=$3 i S=fkill$1.$$ spid vpid last tf stall ok=() logs=() rpid=()
  local f0=$BED_FAILS
  echo "== run $run: SIGKILL node$v (h$v) at $when, $MIB MiB over $RATE"
  ka_bg 0 "$W/send$run.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
    --report "$W/report$run.json" "$W/src.bin"
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
    SUMMARY+=("run $run: SIGKILL node$v at $when: FAIL (fault point not reached) stall=n/a")
    rm -f "$W"/out"$run".*
    return
  fi
  if vpid=$(ka_real_pid "${rpid[v]}" 0) && tf=$EPOCHREALTIME && fault_kill_wait "${rpid[v]}" "$vpid"; then
    echo "    SIGKILL node$v (ka pid $vpid) at $when; bytes written then:" \
      "$(for (( i = 1; i <= N; i++ )); do printf 'node%d=%dMiB ' "$i" $(( $(fault_size "$W/out$run.$i.bin") >> 20 )); done)"
    bed_check "victim node$v was still streaming when killed" test ! -e "$W/out$run.$v.bin"
  else
    tf=$EPOCHREALTIME
    bed_check "found and killed the ka process of node$v" false
  fi

  bed_check "sender exits 1 (a node failed)" ka_rc_is 1 "$spid"
  for (( i = 1; i <= N; i++ )); do
    (( i == v )) && continue
    bed_check "survivor node$i exits 0" ka_rc_is 0 "${rpid[i]}"
  done
  wait "${rpid[v]}" 2>/dev/null
  fault_sampler_stop
  for (( i = 1; i <= N; i++ )); do
    (( i == v )) && continue
    bed_check "survivor node$i output == source (cmp)" ka_same "$W/src.bin" "$W/out$run.$i.bin"
  done
  bed_check "no output file at the killed node$v's PATH" test ! -e "$W/out$run.$v.bin"
  bed_check "report: ok = ${ok[*]}, ko = node$v with a reason" \
    ka_check_report "$W/report$run.json" "$BYTES" "$(IFS=,; echo "${ok[*]}")" "node$v" '.'
  python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
for k in r.get("ko",[]): print("    ko entry:", json.dumps(k))
' "$W/report$run.json" 2>/dev/null
  stall=$(fault_stall "$W/samples$run" "$tf" "$BYTES")
  echo "    stall=$stall (node$last output, after the fault)"
  fault_reap "$spid" "${rpid[@]}"
  if (( BED_FAILS > f0 )); then
    bed_dump "${logs[@]}"
    SUMMARY+=("run $run: SIGKILL node$v at $when: FAIL ($(( BED_FAILS - f0 )) checks) stall=$stall")
  else
    SUMMARY+=("run $run: SIGKILL node$v at $when: PASS stall=$stall")
  fi
  rm -f "$W"/out"$run".*
}

run=0
for when in start middle end; do
  for v in 1 2 4; do
    run=$(( run + 1 ))
    if [[ -n ${KA_FAULT_RUNS:-} && " $KA_FAULT_RUNS " != *" $v:$when "* ]]; then continue; fi
    run_kill "$run" "$v" "$when"
  done
done

echo "== summary"
printf '  %s\n' "${SUMMARY[@]}"
if (( BED_FAILS )); then echo "fault_kill: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "fault_kill: PASS"
