#!/usr/bin/env bash
# Run every system test in this directory (or the ones named as arguments), each under a
# time limit, and print one closing line "system: N passed, N failed, N skipped".
# Exit 0 when nothing failed. Env: KA_BIN, KA_TIMEOUT, KA_KEEP are passed through;
# KA_TEST_LIMIT (s, default 300) bounds each script.
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
limit=${KA_TEST_LIMIT:-300}

if (( $# )); then
  tests=("$@")
else
  tests=()
  for t in bed_selftest broadcast auth sessions exec_failure; do tests+=("$t"); done
fi

pass=0 fail=0 skip=0 failed=()
for t in "${tests[@]}"; do
  t=${t%.sh}
  echo "######## $t"
  start=$(date +%s)
  rc=0
  timeout -k 10 "$limit" bash "$dir/$t.sh" || rc=$?
  took=$(( $(date +%s) - start ))
  case $rc in
    0)  pass=$(( pass + 1 )); echo "######## $t: PASS (${took}s)" ;;
    77) skip=$(( skip + 1 )); echo "######## $t: SKIP (${took}s)" ;;
    124|137) fail=$(( fail + 1 )); failed+=("$t"); echo "######## $t: FAIL (timed out after ${limit}s)" ;;
    *)  fail=$(( fail + 1 )); failed+=("$t"); echo "######## $t: FAIL (exit $rc, ${took}s)" ;;
  esac
done
(( fail )) && echo "failed: ${failed[*]}"
echo "system: $pass passed, $fail failed, $skip skipped"
(( fail == 0 ))
