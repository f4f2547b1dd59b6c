#!/usr/bin/env bash
# System test 1: broadcast to a chain of 4 receivers.
#  run 1: 256 MiB random file, sender h0 with a secret, receivers h1..h4 --output:
#         every output cmp-equal to the source, report 4 ok / ko empty, every exit status 0.
#  run 2: sender reads stdin (`ka send ... -`), receivers h1,h2 --exec 'cat > FILE',
#         h3,h4 --output (32 MiB).
#  run 3: sender --exec 'cat FILE', receivers h1..h3 --output, h4 writes to stdout (positional `-`).
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_TEST_MIB (run 1 size, default 256), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

MIB=${KA_TEST_MIB:-256}
N=4
bed_begin "$N" "" $(( MIB << 20 ))
head -c $(( 32 << 20 )) /dev/urandom >"$W/small.bin"

all_logs() { local i; echo "$W/send$1.log"; for (( i = 1; i <= N; i++ )); do echo "$W/r$1.$i.log"; done; }
rpid=()
# receivers RUN SINK...: ka receive on h1..hN (session S, names node1..nodeN, logs $W/rRUN.I.log);
# node I's output goes where the Ith SINK says: file (--output $W/outRUN.I.bin), exec (--exec
# 'cat > $W/outRUN.I.bin') or stdout (-: into its log); their PIDs in rpid[I]
receivers() {
  local run=$1 i sink
  shift
  for (( i = 1; i <= N; i++ )); do
    case ${@:i:1} in
      file) sink=(--output "$W/out$run.$i.bin") ;;
      exec) sink=(--exec "cat > '$W/out$run.$i.bin'") ;;
      stdout) sink=(-) ;;
    esac
    ka_bg "$i" "$W/r$run.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" "${sink[@]}"
    rpid[i]=$BED_LAST_PID
  done
}
# receivers_exit_0: bed_check that every receiver (rpid) exits 0
receivers_exit_0() {
  local i
  for (( i = 1; i <= N; i++ )); do bed_check "receiver node$i exits 0" ka_rc_is 0 "${rpid[i]}"; done
}

# ---------------------------------------------------------------- run 1
echo "== run 1: $MIB MiB file -> $N receivers (--output), with secret"
S=bcast$$
t0=$(date +%s.%N)
ka_bg 0 "$W/send1.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
  --report "$W/report1.json" "$W/src.bin"
spid=$BED_LAST_PID
receivers 1 file file file file
bed_check "sender exits 0" ka_rc_is 0 "$spid"
echo "    wall time $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
receivers_exit_0
for (( i = 1; i <= N; i++ )); do
  bed_check "node$i output == source ($MIB MiB, cmp)" ka_same "$W/src.bin" "$W/out1.$i.bin"
  rm -f "$W/out1.$i.bin"
done
bed_check "report: 4 ok nodes, ko empty, bytes/digests consistent" \
  ka_check_report "$W/report1.json" $(( MIB << 20 )) node1,node2,node3,node4 ""
bed_check "sender printed a summary on stdout" test -s "$W/send1.log"
(( BED_FAILS )) && { mapfile -t logs < <(all_logs 1); bed_dump "${logs[@]}"; }

# ---------------------------------------------------------------- run 2
echo "== run 2: 32 MiB from stdin (send -), receivers h1,h2 --exec 'cat > FILE', h3,h4 --output"
f0=$BED_FAILS
S=stdin$$
BED_STDIN=$W/small.bin ka_bg 0 "$W/send2.log" send --nodes "$N" --session "$S" \
  --secret-file "$W/secret" --report "$W/report2.json" -
spid=$BED_LAST_PID
receivers 2 exec exec file file
bed_check "sender (stdin source) exits 0" ka_rc_is 0 "$spid"
receivers_exit_0
for (( i = 1; i <= N; i++ )); do
  bed_check "node$i output == source (32 MiB, $( ((i <= 2)) && echo exec || echo file ) sink)" \
    ka_same "$W/small.bin" "$W/out2.$i.bin"
done
bed_check "report: 4 ok nodes, ko empty" \
  ka_check_report "$W/report2.json" $(( 32 << 20 )) node1,node2,node3,node4 ""
(( BED_FAILS > f0 )) && { mapfile -t logs < <(all_logs 2); bed_dump "${logs[@]}"; }

# ---------------------------------------------------------------- run 3
echo "== run 3: 32 MiB from send --exec 'cat FILE', h1..h3 --output FILE, h4 - (stdout)"
f0=$BED_FAILS
S=exec$$
ka_bg 0 "$W/send3.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
  --report "$W/report3.json" --exec "cat '$W/small.bin'"
spid=$BED_LAST_PID
receivers 3 file file file stdout
bed_check "sender (--exec source) exits 0" ka_rc_is 0 "$spid"
receivers_exit_0
for (( i = 1; i < N; i++ )); do
  bed_check "node$i output == source" ka_same "$W/small.bin" "$W/out3.$i.bin"
done
bed_check "node$N stdout (-) == source" ka_same "$W/small.bin" "$W/r3.$N.log"
bed_check "report: 4 ok nodes, ko empty" \
  ka_check_report "$W/report3.json" $(( 32 << 20 )) node1,node2,node3,node4 ""
(( BED_FAILS > f0 )) && { mapfile -t logs < <(all_logs 3); bed_dump "${logs[@]:0:N}"; }

if (( BED_FAILS )); then echo "broadcast: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "broadcast: PASS"
