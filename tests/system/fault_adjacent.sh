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
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"
fault_begin 4 "${KA_FAULT_RATE:-400mbit}" "${KA_TEST_MIB:-256}"

FAULT_SIGNAL=KILL
fault_run 1 "2 3" middle
fault_end fault_adjacent
