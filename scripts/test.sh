#!/usr/bin/env bash
# One command for every test: installs the Debian packages, then
#   1. builds ka (build/) and runs the unit and system tests (network namespaces; needs root)
#   2. builds the library and unit tests with ASan + UBSan (build-asan/) and runs the unit tests
#   3. builds the libFuzzer targets and runs each for 60 s on its seed corpus (scripts/fuzz.sh)
#   4. lint: the format and clang-tidy findings of the C++ lines the last commit touched
#      (scripts/lint.sh; KA_LINT_BASE=main checks all a branch adds)
# Every part runs even when an earlier one failed; the exit status is non-zero if any failed,
# and a summary says which, with the minutes each took.
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only a label (unit | system) in part 1 (passed to ctest)
#   KA_TEST_PARTS="main asan"  only these parts (main, asan, fuzz, lint; default: all four)
#   KA_FUZZ_SECONDS=600        seconds per fuzz target (default 60)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
parts=${KA_TEST_PARTS:-main asan fuzz lint}
"$root/scripts/setup.sh" || exit 1

summary=()
failed=0
# Runs one part (a name, then its command), timing it.
part() {
  local name=$1 start=$SECONDS rc=0
  shift
  [[ " $parts " == *" $name "* ]] || return 0
  echo "=== test.sh: $name"
  "$@" || rc=$?
  local took=$((SECONDS - start))
  summary+=("$(printf '%-5s %-6s %3dm%02ds' "$name" "$([[ $rc == 0 ]] && echo ok || echo FAILED)" $((took / 60)) $((took % 60)))")
  ((rc == 0)) || failed=1
}

main_tests() {
  "$root/scripts/build.sh" && (cd "$root/build" && ctest --output-on-failure --timeout 900 "$@")
}
# The unit tests under ASan + UBSan: any report aborts the test that made it.
asan_tests() {
  "$root/scripts/build.sh" asan &&
    (cd "$root/build-asan" &&
      ASAN_OPTIONS=detect_leaks=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure --timeout 900 -L unit)
}

part main main_tests "$@"
part asan asan_tests
part fuzz "$root/scripts/fuzz.sh" "${KA_FUZZ_SECONDS:-60}"
# needs build/compile_commands.json: scripts/build.sh makes it (again, if part main did not run)
part lint bash -c "\"$root/scripts/build.sh\" >/dev/null && \"$root/scripts/lint.sh\" ${KA_LINT_BASE:-HEAD~1}"

echo "=== test.sh summary (part, result, time)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
