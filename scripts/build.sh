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
# ccache (scripts/setup.sh installs it) keeps compiled objects in /var/cache/ka-test/ccache, so a
# second build of the same sources, in any checkout (CI clones afresh), compiles nothing again.
# KA_CCACHE=0 turns it off.
if [[ ${KA_CCACHE:-1} != 0 ]] && command -v ccache >/dev/null; then
  export CCACHE_DIR=${CCACHE_DIR:-/var/cache/ka-test/ccache} CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1
  mkdir -p "$CCACHE_DIR" 2>/dev/null && ccache --max-size=5G >/dev/null 2>&1 &&
    extra+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "${extra[@]}" >/dev/null
ninja -C "$dir"
echo "built $dir/ka"
