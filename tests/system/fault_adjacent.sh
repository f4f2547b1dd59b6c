#!/usr/bin/env bash
# System test 10: self-healing chain, two adjacent receivers killed at once.
#  256 MiB random file, sender h0 (--secret-file), receivers h1..h4 on 400mbit links (chain
#  sender -> node1 -> node2 -> node3 -> node4). When node4 holds 50 % of the stream, the ka
#  processes (real PIDs) of node2 and node3 get SIGKILL in one kill(1) call: node4 must be
#  re-linked to node1. Checks: sender exit 1, node1 and node4 exit 0 and are byte-exact (cmp),
#  report ko = [node2, node3] with reasons, ok = [node1, node4], no output file at the victims'
#  PATHs. Prints "stall=X.Ys": the longest interval without growth of node4's output after the
#  fault (sampled every 0.2 s; informative, never fails).
# Env: KA_BIN, KA_TIMEOUT (s, default 45 here), KA_TEST_MIB (default 256), KA_FAULT_RATE
#      (default 400mbit), KA_KEEP=1.
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
VICTIMS=(2 3)
SURVIVORS=(1 4)

bed_up "$N" "$RATE" || exit 1
bed_secret "$W/secret"
head -c "$BYTES" /dev/urandom >"$W/src.bin"

echo "== SIGKILL node2 and node3 (adjacent) at middle, $MIB MiB over $RATE"
S=fadj$$
ka_bg 0 "$W/send.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
  --report "$W/report.json" "$W/src.bin"
spid=$BED_LAST_PID
logs=("$W/send.log")
rpid=()
for (( i = 1; i <= N; i++ )); do
  ka_bg "$i" "$W/r$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" \
    --output "$W/out$i.bin"
  rpid[i]=$BED_LAST_PID
  logs+=("$W/r$i.log")
done
fault_sampler_start "$W/out$N.bin" "$BYTES" "$W/samples"

stall=n/a
if fault_wait_point middle "$W/send.log.err" "$W/out1.bin" "$W/out$N.bin" "$BYTES"; then
  vp=()
  for v in "${VICTIMS[@]}"; do
    p=$(ka_real_pid "${rpid[v]}" 0) && vp+=("$p")
  done
  tf=$EPOCHREALTIME
  if (( ${#vp[@]} == 2 )) && fault_kill_wait "${rpid[2]},${rpid[3]}" "${vp[@]}"; then
    echo "    SIGKILL node2, node3 (ka pids ${vp[*]}); bytes written then:" \
      "$(for (( i = 1; i <= N; i++ )); do printf 'node%d=%dMiB ' "$i" $(( $(fault_size "$W/out$i.bin") >> 20 )); done)"
  else
    tf=$EPOCHREALTIME
    bed_check "found and killed the ka processes of node2 and node3" false
  fi
  for v in "${VICTIMS[@]}"; do
    bed_check "victim node$v was still streaming when killed" test ! -e "$W/out$v.bin"
  done

  bed_check "sender exits 1 (nodes failed)" ka_rc_is 1 "$spid"
  for i in "${SURVIVORS[@]}"; do
    bed_check "survivor node$i exits 0" ka_rc_is 0 "${rpid[i]}"
  done
  for v in "${VICTIMS[@]}"; do wait "${rpid[v]}" 2>/dev/null; done
  fault_sampler_stop
  for i in "${SURVIVORS[@]}"; do
    bed_check "survivor node$i output == source (cmp)" ka_same "$W/src.bin" "$W/out$i.bin"
  done
  for v in "${VICTIMS[@]}"; do
    bed_check "no output file at the killed node$v's PATH" test ! -e "$W/out$v.bin"
  done
  bed_check "report: ok = node1 node4, ko = node2 node3 with reasons" \
    ka_check_report "$W/report.json" "$BYTES" node1,node4 node2,node3 '.'
  python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
for k in r.get("ko",[]): print("    ko entry:", json.dumps(k))
' "$W/report.json" 2>/dev/null
  stall=$(fault_stall "$W/samples" "$tf" "$BYTES")
  echo "    stall=$stall (node$N output, after the fault)"
else
  bed_check "fault point 'middle' reached (stream started and progressed)" false
  fault_sampler_stop
fi
fault_reap "$spid" "${rpid[@]}"
(( BED_FAILS )) && bed_dump "${logs[@]}"

echo "== summary"
echo "  SIGKILL node2+node3 at middle: $( ((BED_FAILS)) && echo "FAIL ($BED_FAILS checks)" || echo PASS) stall=$stall"
if (( BED_FAILS )); then echo "fault_adjacent: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "fault_adjacent: PASS"
