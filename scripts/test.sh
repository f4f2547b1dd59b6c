#!/usr/bin/env bash
# One command for every test: installs the Debian packages, builds, then runs
# the unit tests and the system tests (network namespaces; needs root) with CTest.
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only a label (unit | system), passed to ctest
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure --timeout 900 "$@"
