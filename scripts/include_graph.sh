#!/usr/bin/env bash
# The folder layering of src/, computed from the sources' `#include "DIR/..."` lines, and
# checked: every arrow must be in the allowed lists below, and the production arrows must
# have no cycle. Production files and test files (*_test.cc, *_fuzz.cc, test helpers:
# src/testing/, *_for_test.h, *test_util.h, control/testing.h) are shown and checked
# separately: a test may reach further than the code it tests.
#   scripts/include_graph.sh     prints the arrows ("golden -> chain format layout util"),
#                                exits 1 on a cycle or an arrow not allowed
# Run as the unit test include_graph (ctest -L unit).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/src"

# The layering: FROM: the folders it may include. A new arrow is a design decision: add it
# here and in the folder's ka_folder_library(... DEPS ...) in CMakeLists.txt, in the same change, with its reason if it is not obvious.
allowed_prod="
util:
crypto: util
format: crypto util
layout: os util
os: util
chain: crypto util
control: chain crypto util
golden: chain format layout os util
node: chain format layout os util
netboot: crypto golden os util
cli: chain control crypto format golden layout netboot node os sim util
sim: chain util
"
# Tests may also use the shared test helpers (src/testing/) and the folders the tested
# code's inputs come from.
allowed_test="
util: testing
crypto: util
format: crypto testing util
layout: os testing util
os: testing util
chain: crypto util
control: chain crypto util
golden: chain format layout os testing util
node: chain format layout os testing util
netboot: crypto golden node os testing util  # node/temp_tree_for_test.h
cli: chain control crypto format golden layout netboot node os sim util
sim: chain util
testing: format golden layout node os util
"
# Cycles known and owned elsewhere, each "A B" (A and B include each other): tolerated in
# the cycle check only. None today: keep it that way.
tolerated_cycles="
"

is_test() {
  case $1 in
    testing/*|*_test.cc|*_fuzz.cc|*_for_test.h|*test_util.h|control/testing.h) return 0 ;;
  esac
  return 1
}

# "FROM TO FILE" for every file of FROM that includes TO, production (prod_edges) and tests
# (test_edges) apart.
prod_edges=$(mktemp) test_edges=$(mktemp)
trap 'rm -f "$prod_edges" "$test_edges"' EXIT
dirs=" $(find . -mindepth 1 -maxdepth 1 -type d -printf '%P ' ) "
while IFS= read -r f; do
  from=${f%%/*}
  out=$prod_edges
  is_test "$f" && out=$test_edges
  sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_0-9]*\)\/.*/\1/p' "$f" | sort -u |
    while read -r to; do
      if [[ $to != "$from" && $dirs == *" $to "* ]]; then echo "$from $to $f"; fi
    done >>"$out"
done < <(find . -type f \( -name '*.h' -o -name '*.cc' \) -printf '%P\n' | sort)

status=0
check() {  # check KIND EDGES ALLOWED
  local kind=$1 edges=$2 allowed=$3 from tos
  for from in $(cut -d' ' -f1 "$edges" | sort -u); do
    tos=$(awk -v f="$from" '$1 == f {print $2}' "$edges" | sort -u | tr '\n' ' ')
    echo "$kind: $from -> ${tos% }"
    local ok
    ok=" $(awk -v f="$from:" '{ sub(/#.*/, "") } $1 == f { $1 = ""; print }' <<<"$allowed") "
    for to in $tos; do
      if [[ $ok != *" $to "* ]]; then
        echo "include_graph: $kind arrow $from -> $to is not allowed (scripts/include_graph.sh):" >&2
        awk -v f="$from" -v t="$to" '$1 == f && $2 == t {print "    src/" $3}' "$edges" >&2
        status=1
      fi
    done
  done
}
check production "$prod_edges" "$allowed_prod"
check test "$test_edges" "$allowed_test"

# Cycles: tsort fails on a loop. The tolerated pairs lose one direction first.
cycle_input=$(awk 'NR == FNR { if (NF == 2) skip[$2 " " $1] = 1; next } !($0 in skip)' \
  <(echo "$tolerated_cycles") <(cut -d' ' -f1,2 "$prod_edges" | sort -u))
if ! loop=$(tsort <<<"$cycle_input" 2>&1 >/dev/null) || [[ -n $loop ]]; then
  echo "include_graph: the production folders include each other in a cycle:" >&2
  echo "$loop" | sed 's/^/    /' >&2
  status=1
fi
exit $status
