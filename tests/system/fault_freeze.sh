#!/usr/bin/env bash
# System test 9: self-healing chain, SIGSTOP (freeze) of one receiver while the stream flows.
#  Same bed and 9 sessions as fault_kill.sh (256 MiB random file, sender h0 with --secret-file
#  and --node-timeout 3, receivers h1..h4 on 400mbit links; victim node1 / node2 / node4 at
#  start / middle / end), but the victim's ka process (its real PID) gets SIGSTOP: it sends no
#  heartbeat any more. The sender runs with --control-rate 4 (each node beats to it once a
#  second, so its own verdict would take 4 s): the victim's upstream neighbour (the sender for
#  node1) must see it first, on their data link, within 3 s, and the sender mark it KO ("no
#  heartbeat on its data link") and re-link the chain around it. Per run: sender exit 1, the
#  3 survivors exit 0 and are byte-exact (cmp), report ko = [victim] with that reason, ok =
#  the 3 others. Then, once the
#  sender has finished, SIGCONT the victim: it must exit non-zero by itself within 10 s, say on
#  stderr that it was dropped (grep -i drop), and leave no output file at its PATH.
#  Prints "stall=X.Ys" per run: the longest interval without growth of the last survivor's
#  output after the SIGSTOP (sampled every 0.2 s; informative, never fails).
# Env: KA_BIN, KA_TIMEOUT (s, default 45 here), KA_TEST_MIB (default 256), KA_FAULT_RATE
#      (default 400mbit), KA_FAULT_RUNS (subset, e.g. "2:middle 4:end"), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-45}
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"
CONT_LIMIT=10     # s: a resumed victim must exit by itself within this
fault_begin 4 "${KA_FAULT_RATE:-400mbit}" "${KA_TEST_MIB:-256}"

# shellcheck disable=SC2317  # dropped_msg and wake_victim run through fault_run (FAULT_AFTER_FN)
# dropped_msg LOG: the lines of LOG saying "drop", except a relay's own "dropping downstream
# link to ..." (a node that drops its neighbour has not been dropped itself)
dropped_msg() { grep -i drop "$1" | grep -vi 'dropping downstream'; }

# shellcheck disable=SC2317
# wake_victim TAG VICTIM: the sender has finished: SIGCONT the frozen victim, which must exit
# non-zero by itself within CONT_LIMIT and say on stderr that it was dropped
wake_victim() {
  local tag=$1 v=$2 vpid=${FAULT_VPID[$2]:-} tc gone
  if [[ -n $vpid ]] && fault_alive "$vpid"; then
    kill -CONT "$vpid"
    tc=$EPOCHREALTIME
    if fault_wait_gone "$vpid" "$CONT_LIMIT"; then gone=0; else gone=1; fi
    echo "    SIGCONT node$v: $(awk -v a="$tc" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" \
      "$( ((gone)) && echo "later still running" || echo "later it had exited")"
    bed_check "resumed node$v exits by itself within ${CONT_LIMIT}s" test "$gone" = 0
    (( gone )) && kill -KILL "$vpid" 2>/dev/null
    bed_check "resumed node$v exits non-zero" ka_rc_is nz "${FAULT_RPID[v]}"
    bed_check "resumed node$v says on stderr it was dropped (grep -i drop)" bed_quiet dropped_msg "$W/$tag.r$v.log.err"
    dropped_msg "$W/$tag.r$v.log.err" | tail -n 3 | sed 's/^/    victim: /'
  else
    bed_check "frozen node$v still there when the sender finished" false
    wait "${FAULT_RPID[v]}" 2>/dev/null
  fi
}

FAULT_SIGNAL=STOP
FAULT_SEND_OPTS=(--node-timeout 3 --control-rate 4)
FAULT_REASON='no heartbeat on its data link'

FAULT_AFTER_FN=wake_victim
fault_matrix
fault_end fault_freeze
