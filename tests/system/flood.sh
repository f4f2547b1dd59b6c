#!/usr/bin/env bash
# System test: strangers flooding the sender and a node before any authentication.
#  1. a quiet session (h0 -> h1..h3, 64 MiB over 50 Mbit/s links, secret): the sender's peak
#     memory, for comparison;
#  2. the same while h4 floods the sender's port (400 idle connections kept open, 64 headers that
#     declare 16 MiB payloads and 64 connections of random bytes, every 0.2 s, for 20 s) and node1's
#     data port (100 idle connections): the real nodes still join and finish byte-exact, the sender's
#     peak memory stays within 64 MiB of the quiet run's, and its log stays readable (refusals are
#     logged at a bounded rate, with a count of those left out).
# Env: KA_BIN, KA_ATTACK, KA_TIMEOUT (s, default 120), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

KA_ATTACK=${KA_ATTACK:-$(dirname "$KA_BIN")/ka-attack}
[[ -x $KA_ATTACK ]] || { echo "SKIP: ka-attack not built ($KA_ATTACK)"; exit 77; }
MIB=64
bed_begin 4 50mbit $(( MIB << 20 ))
SENDER=$(bed_ip 0)

# peak_rss WRAPPER_PID OUT: follows the ka process under WRAPPER_PID, writes its peak RSS (KiB) to OUT
peak_rss() {
  local pid peak=0 v
  pid=$(ka_real_pid "$1" 10) || { echo 0 >"$2"; return; }
  while [[ -e /proc/$pid ]]; do
    v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
    [[ -n $v ]] && (( v > peak )) && peak=$v
    sleep 0.1
  done
  echo "$peak" >"$2"
}

run() {  # TAG FLOOD(0|1)
  local tag=$1 flood=$2 S=flood$1$$ i spid rc=0
  local -a pids=() fpids=()
  ka_bg 0 "$W/$tag.send.log" send --nodes 3 --session "$S" --secret-file "$W/secret" --session-dir "$W/$tag.dir" \
    --report "$W/$tag.json" "$W/src.bin"
  spid=$BED_LAST_PID
  peak_rss "$spid" "$W/$tag.rss" &
  local rpid=$!
  bed_wait_tcp 0 30765 20
  if (( flood )); then
    bed_bg 4 "$W/$tag.flood1.log" "$KA_ATTACK" flood --to "$SENDER:30765" --idle 400 --oversized 64 --garbage 64 \
      --seconds 25
    fpids+=("$BED_LAST_PID")
    sleep 3  # the flood is at full strength before the real nodes come
  fi
  for i in 1 2 3; do
    local dp=()
    (( i == 1 )) && dp=(--data-port 40001)
    ka_bg "$i" "$W/$tag.n$i.log" receive --server "$SENDER" --session "$S" --secret-file "$W/secret" --name "node$i" \
      "${dp[@]}" --output "$W/$tag.out$i"
    pids+=("$BED_LAST_PID")
  done
  if (( flood )); then
    bed_wait_tcp 1 40001 20
    bed_bg 4 "$W/$tag.flood2.log" "$KA_ATTACK" flood --to "$(bed_ip 1):40001" --idle 100 --oversized 16 \
      --garbage 16 --seconds 15
    fpids+=("$BED_LAST_PID")
  fi
  bed_check "[$tag] sender exits 0" ka_rc_is 0 "$spid"
  for i in 1 2 3; do
    bed_check "[$tag] node$i exits 0" ka_rc_is 0 "${pids[i-1]}"
    bed_check "[$tag] node$i output byte-exact" ka_same "$W/src.bin" "$W/$tag.out$i"
    rm -f "$W/$tag.out$i"
  done
  bed_check "[$tag] report: 3 ok nodes" ka_check_report "$W/$tag.json" $(( MIB << 20 )) node1,node2,node3 ""
  wait "$rpid"
  for i in "${fpids[@]}"; do wait "$i" 2>/dev/null; done  # each prints its count when its time is up
  echo "    sender peak RSS: $(( $(cat "$W/$tag.rss") / 1024 )) MiB"
}

echo "== 1. a quiet session"
run quiet 0
echo "== 2. the same session under a flood"
run flood 1
cat "$W/flood.flood1.log" "$W/flood.flood2.log" 2>/dev/null | sed 's/^/    /'
quiet=$(cat "$W/quiet.rss") flooded=$(cat "$W/flood.rss")
bed_check "sender memory under the flood stays within 64 MiB of the quiet run ($(( flooded / 1024 )) vs $(( quiet / 1024 )) MiB)" \
  test "$flooded" -le $(( quiet + 65536 ))
lines=$(grep -c "refused connection" "$W/flood.dir/server.log")
echo "    refusal lines in server.log: $lines"
bed_check "server log stays readable: at most 150 refusal lines for thousands of connections" test "$lines" -le 150
bed_check "server log says how many refusals it left out" grep -q "more refusals like it were not logged\|more like it" \
  "$W/flood.dir/server.log"
bed_check "node1 was flooded too and logged it at a bounded rate" \
  bash -c "n=\$(grep -c 'refused' '$W/flood.n1.log.err'); echo \"    node1 refusal lines: \$n\"; (( n >= 1 && n <= 150 ))"

(( BED_FAILS == 0 )) || { bed_dump "$W/flood.send.log" "$W/flood.n1.log"; echo "flood: FAIL ($BED_FAILS)"; exit 1; }
echo "flood: PASS"
