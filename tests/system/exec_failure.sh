#!/usr/bin/env bash
# System test 4: a failing --exec sink in the chain does not hurt the other nodes.
#  run 1: 4 receivers, h2 (2nd in the chain: nodes are chained by IP address) runs
#         --exec 'head -c 1000 > /dev/null; exit 3' on 64 MiB; h1, h3, h4 use --output.
#         sender exit 1, report ko = [node2] with a reason about the command / exit status,
#         node1, node3, node4 ok and byte-exact, node2 exits non-zero.
#  run 2: 3 receivers, h1 (head of the chain) runs --exec 'exit 3' (reads nothing), 16 MiB.
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

REASON='exit|status|code|command|exec'
bed_begin 4

# run_chain RUN BYTES NRECV FAILING_HOST EXEC_CMD
run_chain() {
  local run=$1 bytes=$2 n=$3 bad=$4 cmd=$5 i spid ok=() pids=() logs
  local f0=$BED_FAILS
  head -c "$bytes" /dev/urandom >"$W/src$run.bin"
  echo "== run $run: $(( bytes >> 20 )) MiB, $n receivers, node$bad runs --exec '$cmd'"
  ka_bg 0 "$W/send$run.log" send --nodes "$n" --session "fail$run.$$" --secret-file "$W/secret" \
    --report "$W/report$run.json" "$W/src$run.bin"
  spid=$BED_LAST_PID
  logs=("$W/send$run.log")
  for (( i = 1; i <= n; i++ )); do
    if (( i == bad )); then sink=(--exec "$cmd"); else sink=(--output "$W/out$run.$i.bin"); ok+=("node$i"); fi
    ka_bg "$i" "$W/r$run.$i.log" receive --session "fail$run.$$" --secret-file "$W/secret" \
      --name "node$i" "${sink[@]}"
    pids[i]=$BED_LAST_PID
    logs+=("$W/r$run.$i.log")
  done
  bed_check "sender exits 1" ka_rc_is 1 "$spid"
  for (( i = 1; i <= n; i++ )); do
    if (( i == bad )); then
      bed_check "failing receiver node$i exits non-zero" ka_rc_is nz "${pids[i]}"
      bed_check "failing receiver node$i says something on stderr" test -s "$W/r$run.$i.log.err"
    else
      bed_check "receiver node$i exits 0" ka_rc_is 0 "${pids[i]}"
      bed_check "node$i output == source" ka_same "$W/src$run.bin" "$W/out$run.$i.bin"
    fi
  done
  bed_check "report: ok = ${ok[*]}, ko = node$bad with reason matching /$REASON/i" \
    ka_check_report "$W/report$run.json" "$bytes" "$(IFS=,; echo "${ok[*]}")" "node$bad" "$REASON"
  python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
for k in r.get("ko",[]): print("    ko entry:", json.dumps(k))
' "$W/report$run.json" 2>/dev/null
  (( BED_FAILS > f0 )) && bed_dump "${logs[@]}"
  rm -f "$W"/out"$run".*.bin
}

run_chain 1 $(( 64 << 20 )) 4 2 'head -c 1000 > /dev/null; exit 3'
run_chain 2 $(( 16 << 20 )) 3 1 'exit 3'

if (( BED_FAILS )); then echo "exec_failure: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "exec_failure: PASS"
