#!/usr/bin/env bash
# profile_hop.sh - where a forwarding node's CPU goes: `perf record -g` of node2 in a chain
# sender -> node1 -> node2 -> node3 (unshaped veth links, SIZE MiB of random data, --secret-file,
# every node writing to /dev/null), then the summary docs/performance.md quotes: CPU by library
# (kernel, libcrypto, ka, libc) and the kernel paths with their children (the pipe -> ring read,
# splice to the child's socket, splice from upstream, softirq network work, poll, futex).
#
# Usage: bench/profile_hop.sh [--size MIB] [--output PERF.DATA]     (root; needs perf: linux-perf)
# Env: KA_BIN.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
. "$(cd "$(dirname "$0")" && pwd)/../tests/lib/bed.sh"
# shellcheck source=lib/options.bash
. "$(cd "$(dirname "$0")" && pwd)/lib/options.bash"
MIB=1024 OUT=""
bench_options profile_hop 2,9 --size=MIB --output=OUT -- "$@"
bed_require_root
bed_require_ka
command -v perf >/dev/null || { echo "profile_hop: needs perf (apt-get install linux-perf)" >&2; exit 77; }
bed_trap
bed_workdir
W=$BED_WORK
OUT=${OUT:-$W/perf.data}
N=3
bed_secret "$W/secret"
bed_up "$N" >/dev/null || exit 1
head -c $(( MIB << 20 )) /dev/urandom >"$W/src.bin"
KA_TIMEOUT=600
ka_bg 0 "$W/send.log" send --nodes "$N" --session prof --secret-file "$W/secret" --session-dir none "$W/src.bin"
bed_wait_tcp 0 30765 30 || bed_die "ka send did not start"
pids=()
for (( i = 1; i <= N; i++ )); do
  if (( i == 2 )); then
    bed_bg "$i" "$W/n$i.log" perf record -q -g -o "$OUT" "$KA_BIN" receive --session prof --secret-file "$W/secret" \
      --name "node$i" --output /dev/null
  else
    ka_bg "$i" "$W/n$i.log" receive --session prof --secret-file "$W/secret" --name "node$i" --output /dev/null
  fi
  pids+=("$BED_LAST_PID")
done
for p in "${pids[@]}"; do bed_wait "$p" || bed_die "a node failed (logs in $W)"; done
echo "## CPU of node2 (a forwarding hop) by library"
perf report -i "$OUT" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -8
echo
echo "## kernel paths, with their children"
perf report -i "$OUT" --children --sort symbol --stdio -g none 2>/dev/null |
  grep -E '\] (ksys_read|anon_pipe_read|splice_to_socket|tcp_splice_read|handle_softirqs|net_rx_action|__x64_sys_poll|__x64_sys_futex|__x64_sys_tee|exc_page_fault)\b' |
  awk '{ printf "%9s %9s  %s\n", $1, $2, $4 }' | head -12
