#!/usr/bin/env bash
# Configures and builds ka with CMake + Ninja.
#   scripts/build.sh          into build/ (binary: build/ka)
#   scripts/build.sh asan     into build-asan/: ka, the library and the unit tests with
#                             AddressSanitizer + UndefinedBehaviorSanitizer (-DKA_SANITIZE)
# (The libFuzzer targets are built by scripts/fuzz.sh into build-fuzz/.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  "") dir=$root/build; extra=() ;;
  # -O1 and line tables only (still whole stack traces): ~1.15x the CPU time of the normal build.
  asan) dir=$root/build-asan; extra=(-DKA_SANITIZE=address,undefined -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1") ;;
  *) echo "usage: scripts/build.sh [asan]" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "${extra[@]}" >/dev/null
ninja -C "$dir"
echo "built $dir/ka"
