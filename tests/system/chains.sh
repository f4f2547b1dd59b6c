#!/usr/bin/env bash
# System test: several chains fed at once by one sender (--chains, --max-chain), issue 17.
#  6 receivers on 200 Mbit/s links, 96 MiB from a file.
#  run 1: --chains 2: node1..node3 and node4..node6 are two chains (the report's "chain" says which,
#         the sender's log lists both), each node of the second chain is fed through the sender,
#         not through node3; every node byte-exact.
#  run 2: --max-chain 2 (three chains of 2); node3, the head of the second chain, is killed at 30 %
#         and node5, the head of the third, frozen at 50 %: node4 and node6 resume from the sender's
#         ring; the 4 survivors exit 0 byte-exact, node3 and node5 are KO.
#  run 3: no --chains: --uplink 400mbit --link 200mbit make the planner (chain/topology.h) feed two
#         chains of 3; the sender logs why. node1 and node2 say their links are slower (ka receive
#         --link 100mbit): they are placed last, at the tail of the second chain (sender -> node6 ->
#         node1 -> node2), after the four faster nodes.
# Env: KA_BIN, KA_TIMEOUT (s, default 90), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-90}
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"
fault_begin 6 200mbit 96

chain_of() {  # chain_of REPORT NAME: the report's chain number for node NAME
  python3 -c 'import json,sys; print(next(n["chain"] for n in json.load(open(sys.argv[1]))["nodes"] if n["name"]==sys.argv[2]))' "$1" "$2"
}

echo "== run 1: --chains 2"
f0=$BED_FAILS
fault_chain two "$W/src.bin" --session-dir none --chains 2
bed_check "[two] sender exits 0" ka_rc_is 0 "$FAULT_SPID"
for (( i = 1; i <= N; i++ )); do
  bed_check "[two] node$i exits 0" ka_rc_is 0 "${FAULT_RPID[i]}"
  bed_check "[two] node$i byte-exact" ka_same "$W/src.bin" "$W/two.out$i"
  want=$(( i <= 3 ? 1 : 2 ))
  bed_check "[two] node$i is in chain $want" test "$(chain_of "$W/two.report.json" "node$i")" = "$want"
done
bed_check "[two] report: all ok" ka_check_report "$W/two.report.json" "$BYTES" "$(fault_names_except)" ""
bed_check "[two] the sender lists two chains" \
  grep -q 'chain (epoch 1): sender -> node1 -> node2 -> node3 | sender -> node4 -> node5 -> node6' "$W/two.send.log.err"
bed_check "[two] node4 is fed by the sender" grep -q 'receiving from sender' "$W/two.r4.log.err"
bed_check "[two] node3 feeds nobody" grep -q 'downstream none' "$W/two.r3.log.err"
fault_note "$f0" "two chains of 3"
rm -f "$W"/two.out*

echo "== run 2: --max-chain 2, kill node3 (head of chain 2), freeze node5 (head of chain 3)"
f0=$BED_FAILS
fault_chain max "$W/src.bin" --session-dir none --max-chain 2 --node-timeout 3
fault_wait_size "$W/max.out6" $(( BYTES * 3 / 10 )) 60 && k=$(ka_real_pid "${FAULT_RPID[3]}" 0) && {
  kill -KILL "$k"
  echo "    SIGKILL node3 at 30 %"
}
fault_wait_size "$W/max.out6" $(( BYTES * 5 / 10 )) 60 && f=$(ka_real_pid "${FAULT_RPID[5]}" 0) && {
  kill -STOP "$f"
  echo "    SIGSTOP node5 at 50 %"
}
bed_check "[max] sender exits 1 (two nodes failed)" ka_rc_is 1 "$FAULT_SPID"
[[ -n ${f:-} ]] && kill -CONT "$f" 2>/dev/null
for i in 3 5; do wait "${FAULT_RPID[i]}" 2>/dev/null; done
for i in 1 2 4 6; do
  bed_check "[max] node$i exits 0" ka_rc_is 0 "${FAULT_RPID[i]}"
  bed_check "[max] node$i byte-exact" ka_same "$W/src.bin" "$W/max.out$i"
done
bed_check "[max] report: node3 and node5 KO, the rest ok" ka_check_report "$W/max.report.json" "$BYTES" \
  "$(fault_names_except 3 5)" "node3,node5"
bed_check "[max] three chains at the start" \
  grep -q 'chain (epoch 1): sender -> node1 -> node2 | sender -> node3 -> node4 | sender -> node5 -> node6' \
  "$W/max.send.log.err"
bed_check "[max] node4 and node6 went on from the sender" \
  bash -c "grep -q 'receiving from sender' '$W/max.r4.log.err' && grep -c 'receiving from sender' '$W/max.r6.log.err' | grep -q '^[1-9]'"
fault_note "$f0" "three chains, head of chain 2 killed, head of chain 3 frozen"
rm -f "$W"/max.out*

echo "== run 3: automatic: --uplink 400mbit --link 200mbit (the planner feeds two chains at full rate)"
f0=$BED_FAILS
slow_sink() { (( $2 <= 2 )) && FAULT_SINK+=(--link 100mbit); return 0; }
FAULT_SINK_FN=slow_sink
fault_chain auto "$W/src.bin" --session-dir none --uplink 400mbit --link 200mbit
unset FAULT_SINK_FN
bed_check "[auto] sender exits 0" ka_rc_is 0 "$FAULT_SPID"
for (( i = 1; i <= N; i++ )); do bed_check "[auto] node$i exits 0" ka_rc_is 0 "${FAULT_RPID[i]}"; done
bed_check "[auto] report: all ok" ka_check_report "$W/auto.report.json" "$BYTES" "$(fault_names_except)" ""
bed_check "[auto] the sender planned 2 chains of 3 and says why" grep -q '2 chain(s) of 3, 3: .' "$W/auto.send.log.err"
bed_check "[auto] node6 is in chain 2" test "$(chain_of "$W/auto.report.json" node6)" = 2
bed_check "[auto] the slower node1 and node2 are placed last" \
  grep -q 'chain (epoch 1): sender -> node3 -> node4 -> node5 | sender -> node6 -> node1 -> node2' "$W/auto.send.log.err"
bed_check "[auto] the sender says why" grep -q 'placed by link speed: the 2 node(s) at 100 Mbit/s go last' \
  "$W/auto.send.log.err"
fault_note "$f0" "automatic topology from the declared links"

fault_end chains
