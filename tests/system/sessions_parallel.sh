#!/usr/bin/env bash
# System test: several sessions at once on one server, a rack per session (issue 17).
#  h0 runs three senders at the same time, each its own session, port and source (48 MiB each, all
#  different), with one secret per session; h1..h9 are three racks of three receivers, one rack per
#  session, all found by discovery broadcast on the one discovery port. Every receiver gets its own
#  session's bytes (compared with cmp), each sender's report lists exactly its rack, nobody is dropped,
#  and a receiver never authenticates to another session's sender (each rack has its own secret).
#  Then the same three sessions one after the other: informative times (a sender's link is shared).
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

MIB=48
RACKS=3
PER=3
bed_begin $(( RACKS * PER )) 300mbit
for (( s = 1; s <= RACKS; s++ )); do
  head -c $(( MIB << 20 )) /dev/urandom >"$W/src$s.bin"
  bed_secret "$W/secret$s"
done

# start TAG S: session S (sender port 30765 + 10 S) and its rack h(3S-2)..h(3S); sets SPID[S], RPID[i]
declare -a SPID RPID
start() {
  local tag=$1 s=$2 i
  ka_bg 0 "$W/$tag.send$s.log" send --nodes "$PER" --session "$tag$s.$$" --port $(( 30765 + 10 * s )) \
    --secret-file "$W/secret$s" --session-dir none --report "$W/$tag.report$s.json" "$W/src$s.bin"
  SPID[s]=$BED_LAST_PID
  for (( i = (s - 1) * PER + 1; i <= s * PER; i++ )); do
    ka_bg "$i" "$W/$tag.r$i.log" receive --session "$tag$s.$$" --secret-file "$W/secret$s" --name "node$i" \
      --output "$W/$tag.out$i"
    RPID[i]=$BED_LAST_PID
  done
}

check() {
  local tag=$1 s=$2 i names=()
  bed_check "[$tag] sender $s exits 0" ka_rc_is 0 "${SPID[s]}"
  for (( i = (s - 1) * PER + 1; i <= s * PER; i++ )); do
    names+=("node$i")
    bed_check "[$tag] node$i exits 0" ka_rc_is 0 "${RPID[i]}"
    bed_check "[$tag] node$i has session $s's bytes" ka_same "$W/src$s.bin" "$W/$tag.out$i"
  done
  bed_check "[$tag] session $s's report: exactly its rack, all ok" \
    ka_check_report "$W/$tag.report$s.json" $(( MIB << 20 )) "$(IFS=,; echo "${names[*]}")" ""
}

echo "== $RACKS sessions at once, $PER nodes each"
t0=$EPOCHREALTIME
for (( s = 1; s <= RACKS; s++ )); do start par "$s"; done
for (( s = 1; s <= RACKS; s++ )); do check par "$s"; done
par=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
bed_check "[par] no receiver was refused by another session's sender" \
  bash -c "! grep -l 'wrong secret\|not served here' '$W'/par.r*.log.err"
bed_check "[par] no node was dropped" bash -c "! grep -l 'dropped\|no heartbeat' '$W'/par.send*.log.err"
rm -f "$W"/par.out*

echo "== the same sessions one after the other"
t0=$EPOCHREALTIME
for (( s = 1; s <= RACKS; s++ )); do
  start seq "$s"
  check seq "$s"
done
seq=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "    at once: ${par} s; one after the other: ${seq} s"

if (( BED_FAILS )); then
  bed_dump "$W"/par.send*.log "$W"/seq.send*.log
  echo "sessions_parallel: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "sessions_parallel: PASS"
