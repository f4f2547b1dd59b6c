#!/usr/bin/env bash
# System test: `ka manual` (hidden) writes the man pages and the bash completion from the same
# option definitions as --help (src/cli/manual.cc).
#  1. one page per visible command (ka.1, ka-serve.1, ka-netboot-build.1, ...), none for hidden
#     ones; the same bytes twice (no clock); the build's copy (build/man) is the same
#  2. every --option that `ka ... --help` prints is on that command's page (no drift)
#  3. groff -man -ww reports no warning on any page; man -l renders ka-serve.1
#  4. the completion, sourced in bash without and with the bash-completion package: subcommands
#     at each level, options, file names after an option that takes a value
#  5. errors: no output named, a directory that cannot be made
# Needs groff (skips with 77 without it); no root, no network.
# Env: KA_BIN, KA_KEEP=1 (keep the work dir).
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

bed_require_ka
command -v groff >/dev/null || { echo "SKIP: groff not installed (apt-get install groff-base)"; exit 77; }
bed_trap
bed_workdir
W=$BED_WORK

# ---- 1. the pages ----------------------------------------------------------------------------
echo "== 1. ka manual writes one page per visible command"
bed_check "ka manual exits 0" "$KA_BIN" manual --man-dir "$W/man" --bash-completion "$W/ka"
for p in ka ka-send ka-receive ka-serve ka-join ka-netboot ka-netboot-build ka-netboot-serve ka-key \
  ka-key-new ka-key-show ka-secret-new ka-sim; do
  bed_check "$p.1 written" test -s "$W/man/$p.1"
done
bed_check "no page for the hidden commands" test ! -e "$W/man/ka-manual.1" -a ! -e "$W/man/ka-dashboard-demo.1"
bed_check "ka --help does not list manual" bash -c "! '$KA_BIN' --help | grep -qw manual"
"$KA_BIN" manual --man-dir "$W/man2" --bash-completion "$W/ka2"
bed_check "the same bytes twice" diff -r "$W/man" "$W/man2"
bed_check "the same completion twice" cmp "$W/ka" "$W/ka2"
build_man=$(dirname "$KA_BIN")/man
if [[ -d $build_man ]]; then
  bed_check "the build's pages ($build_man; stale? ninja ka_manual) are the same" diff -r "$W/man" "$build_man"
fi

# ---- 2. no drift from --help -----------------------------------------------------------------
echo "== 2. every option --help shows is on the command's page"
missing=0
for page in "$W"/man/*.1; do
  name=$(basename "$page" .1)
  # the command the page is about, from its SYNOPSIS (\fBka netboot build\fR ...)
  cmd=$(sed -n '/^\.SH SYNOPSIS/{n;p;q}' "$page" | sed -E 's/\\-/-/g; s/^\\fB([^\\]*)\\fR.*/\1/')
  read -r -a args <<<"${cmd#ka}"
  [[ ${cmd// /-} == "$name" ]] || { echo "  $name: SYNOPSIS names '$cmd'"; missing=$((missing + 1)); }
  help=$("$KA_BIN" "${args[@]}" --help 2>&1)
  while read -r opt; do
    esc=${opt//-/\\-}
    if ! grep -qF -- "\\fB$esc\\fR" "$page" && ! grep -qF -- "$esc" "$page"; then
      echo "  $name: $opt is in 'ka ${args[*]} --help' but not on the page"
      missing=$((missing + 1))
    fi
  done < <(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)
done
bed_check "every --help option is on its page" test "$missing" -eq 0

# ---- 3. groff and man ------------------------------------------------------------------------
echo "== 3. groff -ww: no warnings"
warn=0
for page in "$W"/man/*.1; do
  out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [[ -n $out ]] && { echo "  $(basename "$page"): $out"; warn=$((warn + 1)); }
done
bed_check "no groff warning on $(find "$W/man" -name '*.1' | wc -l) pages" test "$warn" -eq 0
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$W/man/ka-serve.1" >"$W/serve.txt" 2>&1
  sed -n 1,8p "$W/serve.txt" | sed 's/^/    /'
  bed_check "man -l renders ka-serve.1: NAME" grep -q "ka-serve - Clone" "$W/serve.txt"
  bed_check "man -l renders ka-serve.1: an option" grep -qE -- "--source" "$W/serve.txt"
fi

# ---- 4. completion ---------------------------------------------------------------------------
echo "== 4. bash completion"
mkdir -p "$W/files" && touch "$W/files/golden.img"
cat >"$W/complete.bash" <<'EOF'
# complete WORD... : the COMPREPLY for the last word, space-separated
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _ka
  echo "${COMPREPLY[*]}"
}
EOF
check_completion() {  # check_completion LABEL PRELUDE
  local label=$1 prelude=$2 out
  run() { bash -c "$prelude; . '$W/ka'; . '$W/complete.bash'; cd '$W/files'; complete_words $*" 2>&1; }
  out=$(run ka ser); bed_check "$label: ka ser -> serve ($out)" test "$out" = serve
  out=$(run ka serve --so); bed_check "$label: ka serve --so -> --source ($out)" test "$out" = --source
  out=$(run ka netboot b); bed_check "$label: ka netboot b -> build ($out)" test "$out" = build
  out=$(run ka netboot build --outp); bed_check "$label: ka netboot build --outp -> --output ($out)" test "$out" = --output
  out=$(run ka key "''"); bed_check "$label: ka key -> new show ($out)" test "$out" = "new show"
  out=$(run ka serve -n 3 --source gol); bed_check "$label: a value is a file name ($out)" test "$out" = golden.img
  out=$(run ka -v serve --dry); bed_check "$label: after a flag ($out)" test "$out" = --dry-run
  out=$(run ka man); bed_check "$label: no hidden command ($out)" test -z "$out"
}
check_completion "plain bash" "true"
bc=/usr/share/bash-completion/bash_completion
if [[ -r $bc ]]; then
  check_completion "bash-completion" ". $bc"
else
  echo "  (bash-completion not installed: only plain bash checked)"
fi

# ---- 5. errors -------------------------------------------------------------------------------
echo "== 5. errors"
"$KA_BIN" manual >"$W/e1" 2>&1
rc=$?
bed_check "ka manual without an output exits non-zero ($rc)" test "$rc" -ne 0
touch "$W/afile"
"$KA_BIN" manual --man-dir "$W/afile/man" >"$W/e2" 2>&1
rc=$?
sed 's/^/    /' "$W/e2"
bed_check "a directory that cannot be made exits 1 ($rc)" test "$rc" -eq 1
bed_check "and says what it could not write" grep -q "ka manual: creating $W/afile/man: Not a directory" "$W/e2"

if ((BED_FAILS)); then
  echo "manual: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "manual: PASS"
