#!/usr/bin/env bash
# System test: two faults in one stream, quiet and beside a CPU hog.
#  Chain of 6 receivers on 200 Mbit/s links, 256 MiB from a file. When the last node holds 40 % of
#  the stream node2 is killed (SIGKILL); when it holds 60 %, node4 is frozen (SIGSTOP). Run 1 on a
#  quiet machine, run 2 beside a CPU hog (one busy process per core), after a fault-free session
#  that gives the baseline time. Each run: sender exit 1, the 4 survivors exit 0 and are byte-exact,
#  the report has exactly node2 and node4 KO (no other node dropped: a busy CPU is not a freeze).
#  Informative (never fails): the survivors' stall, i.e. the time the last node's output did not
#  grow after the first fault (0.1 s samples), and the extra time over the fault-free session.
# Env: KA_BIN, KA_TIMEOUT (s, default 90), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-90}
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"
fault_begin 6 200mbit 256

# session TAG FAULTS(0|1): one session; sets SECS (wall seconds) and, with faults, STALL
session() {
  local tag=$1 faults=$2 i spid t0 k f
  t0=$EPOCHREALTIME
  fault_chain "$tag" "$W/src.bin" --session-dir none
  spid=$FAULT_SPID
  STALL=n/a
  if (( faults )); then
    fault_sampler_start "$W/$tag.out$N" "$BYTES" "$W/$tag.samples"
    fault_wait_size "$W/$tag.out$N" $(( BYTES * 4 / 10 )) 60 && k=$(ka_real_pid "${FAULT_RPID[2]}" 0) && {
      TF=$EPOCHREALTIME
      kill -KILL "$k"
      echo "    SIGKILL node2 at 40 %"
    }
    fault_wait_size "$W/$tag.out$N" $(( BYTES * 6 / 10 )) 60 && f=$(ka_real_pid "${FAULT_RPID[4]}" 0) && {
      kill -STOP "$f"
      echo "    SIGSTOP node4 at 60 %"
    }
  fi
  bed_check "[$tag] sender exits $faults" ka_rc_is "$faults" "$spid"
  SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
  local ok=() ko=()
  for (( i = 1; i <= N; i++ )); do
    if (( faults && (i == 2 || i == 4) )); then
      ko+=("node$i")
      [[ -n ${f:-} && $i == 4 ]] && kill -CONT "$f" 2>/dev/null
      wait "${FAULT_RPID[i]}" 2>/dev/null
      continue
    fi
    ok+=("node$i")
    bed_check "[$tag] node$i exits 0" ka_rc_is 0 "${FAULT_RPID[i]}"
    bed_check "[$tag] node$i byte-exact" ka_same "$W/src.bin" "$W/$tag.out$i"
  done
  bed_check "[$tag] report: ok = ${ok[*]}; ko = ${ko[*]:-none}" ka_check_report "$W/$tag.report.json" "$BYTES" \
    "$(IFS=,; echo "${ok[*]}")" "$(IFS=,; echo "${ko[*]}")"
  if (( faults )); then
    fault_sampler_stop
    STALL=$(python3 - "$W/$tag.samples" "$TF" <<'PY'
import sys
samples = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
tf = float(sys.argv[2])
stall, prev = 0.0, None
for t, s in samples:
    if t < tf:
        prev = (t, s)
        continue
    if prev and s == prev[1] and s > 0:
        stall += t - prev[0]
    prev = (t, s)
print("%.1fs" % stall)
PY
)
  fi
  rm -f "$W/$tag".out*
}

echo "== baseline: no fault"
session clean 0
clean=$SECS
echo "    ${clean} s"
echo "== run 1: kill node2 at 40 %, freeze node4 at 60 %"
session quiet 1
echo "    ${SECS} s (+$(awk -v a="$SECS" -v b="$clean" 'BEGIN { printf "%.1f", a - b }') s over the baseline), the last node's output stalled $STALL in all"
echo "== run 2: the same beside a CPU hog ($(nproc) busy processes)"
bed_hog_start
session loaded 1
bed_hog_stop
echo "    ${SECS} s, the last node's output stalled $STALL in all"

fault_end fault_combo
