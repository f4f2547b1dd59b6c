#!/usr/bin/env bash
# Checks the C++ lines a change touches: their format (.clang-format, through git clang-format)
# and clang-tidy's findings on them (.clang-tidy, through clang-tidy-diff). Lines nobody touched
# are not judged, so old code is formatted as it is edited.
#   scripts/lint.sh            the last commit (HEAD~1..HEAD): what CI checks
#   scripts/lint.sh main       everything a branch adds since main (run it before merging)
#   scripts/lint.sh --fix BASE reformats the touched lines in the working tree instead
# Needs compile_commands.json from build/ (scripts/build.sh makes it). Exit 1 on any finding.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
fix=0
[[ ${1:-} == --fix ]] && { fix=1; shift; }
base=${1:-HEAD~1}
if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
  echo "lint: no commit '$base' to compare with (a first commit?): nothing to check"
  exit 0
fi
files=$(git diff --name-only --diff-filter=d "$base" -- '*.cc' '*.h')
if [[ -z $files ]]; then
  echo "lint: no C++ file changed since $base"
  exit 0
fi
if (( fix )); then
  git clang-format --quiet --extensions cc,h "$base" -- $files
  exit 0
fi
rc=0
out=$(git clang-format --diff --extensions cc,h "$base" -- $files 2>&1)
if [[ -n $out && $out != *"no modified files to format"* && $out != *"did not modify any files"* ]]; then
  echo "lint: format differs from .clang-format on lines changed since $base (fix: scripts/lint.sh --fix $base):"
  echo "$out"
  rc=1
fi
db=$root/build/compile_commands.json
if [[ ! -f $db ]]; then
  echo "lint: $db missing: run scripts/build.sh first" >&2
  exit 1
fi
tidy=$(command -v clang-tidy-diff-14.py || command -v clang-tidy-diff)
# Headers are checked through the sources that include them (HeaderFilterRegex); a changed
# header alone is still reported on the lines it changed.
tout=$(git diff -U0 "$base" -- $files | python3 "$tidy" -p1 -path "$root/build" -quiet -j 2 2>&1)
if grep -qE '(warning|error): ' <<<"$tout"; then
  echo "lint: clang-tidy findings on lines changed since $base:"
  grep -E -A3 '(warning|error): ' <<<"$tout"
  rc=1
fi
(( rc == 0 )) && echo "lint: $(wc -w <<<"$files") changed C++ files since $base: format and clang-tidy clean"
exit "$rc"
