# shellcheck shell=bash
# bench/lib/options.bash - the command line of a benchmark script.
#
# bench_options PROG HELP_LINES SPEC... -- ARG...: parse ARG... against SPEC, each one of
#   --name=VAR   an option with a value, stored in VAR
#   --name:VAR   a flag: VAR=1 when given
# -h/--help prints lines HELP_LINES (a sed range such as 2,9) of $0 and exits 0; an unknown
# argument or a missing value exits 2 with "PROG: ..." on stderr.
bench_options() {
  local prog=$1 help=$2 spec arg found
  local -a specs=()
  shift 2
  while [[ $1 != -- ]]; do specs+=("$1"); shift; done
  shift
  while (( $# )); do
    arg=$1 found=0
    [[ $arg == -h || $arg == --help ]] && { sed -n "${help}p" "$0"; exit 0; }
    for spec in "${specs[@]}"; do
      if [[ $spec == "$arg="* ]]; then
        (( $# >= 2 )) || { echo "$prog: $arg needs a value" >&2; exit 2; }
        printf -v "${spec#*=}" '%s' "$2"
        shift; found=1; break
      elif [[ $spec == "$arg:"* ]]; then
        printf -v "${spec#*:}" '%s' 1
        found=1; break
      fi
    done
    (( found )) || { echo "$prog: unknown argument '$arg'" >&2; exit 2; }
    shift
  done
}
