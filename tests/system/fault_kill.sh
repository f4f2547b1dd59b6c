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
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"
fault_begin 4 "${KA_FAULT_RATE:-400mbit}" "${KA_TEST_MIB:-256}"

FAULT_SIGNAL=KILL
fault_matrix
fault_end fault_kill
