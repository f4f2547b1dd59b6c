#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; cmake/fuzz.cmake) into build-fuzz/ and
# runs each for SECONDS on a copy of its seed corpus tests/fuzz/corpus/TARGET/ (the
# repository's corpus never grows), up to `nproc` targets at once. Prints a table (target,
# runs, exec/s, coverage, features, corpus size, result) and exits non-zero on any crash,
# leak, timeout, out-of-memory, UBSan report or missing seed corpus.
#   scripts/fuzz.sh                   every target, 60 s each
#   scripts/fuzz.sh 600               every target, 10 minutes each
#   scripts/fuzz.sh 60 manifest_fuzz  only these targets
# Each run lives in build-fuzz/fuzz-run/TARGET/: log, corpus/ (seeds + what it found) and
# crashes/ (the input that failed). Replay one: build-fuzz/TARGET build-fuzz/fuzz-run/TARGET/crashes/crash-...
# Environment: KA_FUZZ_JOBS (default nproc), KA_FUZZ_RSS_MB (2048), KA_FUZZ_TIMEOUT (25 s per input).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
if ! [[ $secs =~ ^[0-9]+$ ]] || ((secs < 1)); then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
build=$root/build-fuzz
corpora=$root/tests/fuzz/corpus
jobs=${KA_FUZZ_JOBS:-$(nproc)}
rss_mb=${KA_FUZZ_RSS_MB:-2048}
input_timeout=${KA_FUZZ_TIMEOUT:-25}

"$root/scripts/setup.sh"
launcher=()  # ccache as in scripts/build.sh
if [[ ${KA_CCACHE:-1} != 0 ]] && command -v ccache >/dev/null; then
  export CCACHE_DIR=${CCACHE_DIR:-/var/cache/ka-test/ccache} CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1
  mkdir -p "$CCACHE_DIR" 2>/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build" -G Ninja -DKA_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" >/dev/null
nice ninja -C "$build"

targets=("$@")
if ((${#targets[@]} == 0)); then
  for t in "$build"/*_fuzz; do
    [[ -x $t ]] && targets+=("$(basename "$t")")
  done
fi
if ((${#targets[@]} == 0)); then
  echo "fuzz.sh: no fuzz targets in $build" >&2
  exit 1
fi

runs=$build/fuzz-run
# Runs one target in its own directory; its exit status goes to DIR/rc.
run_one() {
  local t=$1 dir=$runs/$1
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/crashes"
  if ! compgen -G "$corpora/$t/*" >/dev/null; then
    echo "no seed corpus: add a few real inputs to tests/fuzz/corpus/$t/" >"$dir/log"
    echo 90 >"$dir/rc"
    return
  fi
  cp "$corpora/$t"/* "$dir/corpus/"
  local rc=0
  (cd "$dir" && nice "$build/$t" -max_total_time="$secs" -rss_limit_mb="$rss_mb" -timeout="$input_timeout" \
    -artifact_prefix=crashes/ -print_final_stats=1 corpus/ >log 2>&1) || rc=$?
  echo "$rc" >"$dir/rc"
}

echo "fuzz.sh: ${#targets[@]} targets, ${secs}s each, $jobs at once"
start=$SECONDS
running=0
for t in "${targets[@]}"; do
  if [[ ! -x $build/$t ]]; then
    mkdir -p "$runs/$t" && echo "no such target: $build/$t" >"$runs/$t/log" && echo 91 >"$runs/$t/rc"
    continue
  fi
  run_one "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

# The table.
fail=0
printf '\n%-20s %10s %8s %6s %7s %8s  %s\n' target runs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  dir=$runs/$t
  log=$dir/log
  rc=$(cat "$dir/rc" 2>/dev/null || echo 92)
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n1; }
  execs=$(stat number_of_executed_units)
  speed=$(stat average_exec_per_sec)
  last=$(grep -E '^#[0-9]+' "$log" 2>/dev/null | tail -n1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  files=$(find "$dir/corpus" -type f 2>/dev/null | wc -l)
  result=ok
  if [[ $rc != 0 ]]; then
    fail=1
    if grep -q 'ERROR: LeakSanitizer' "$log"; then result=LEAK
    elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then result=TIMEOUT
    elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then result=OOM
    elif grep -q 'runtime error:' "$log"; then result=UB
    elif grep -q 'ERROR: AddressSanitizer' "$log"; then result=ASAN
    elif grep -q 'no seed corpus\|no such target' "$log"; then result=$(head -n1 "$log")
    else result="CRASH (exit $rc)"
    fi
  fi
  printf '%-20s %10s %8s %6s %7s %8s  %s\n' "$t" "${execs:--}" "${speed:--}" "${cov:--}" "${ft:--}" "$files" "$result"
done
for t in "${targets[@]}"; do
  dir=$runs/$t
  [[ $(cat "$dir/rc" 2>/dev/null || echo 92) == 0 ]] && continue
  echo
  echo "== $t failed: log $dir/log"
  grep -E 'ERROR:|SUMMARY:|runtime error:|_fuzz: ' "$dir/log" | head -n 5 || true
  for a in "$dir"/crashes/*; do
    [[ -e $a ]] || continue
    echo "   input: $a"
    echo "   replay: $build/$t $a"
  done
done
echo
echo "fuzz.sh: $((SECONDS - start))s for ${#targets[@]} targets; $([[ $fail == 0 ]] && echo 'all ok' || echo FAILED)"
exit "$fail"
