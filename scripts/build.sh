#!/usr/bin/env bash
# Configures and builds ka with CMake + Ninja into build/ (binary: build/ka).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
ninja -C "$root/build"
echo "built $root/build/ka"
