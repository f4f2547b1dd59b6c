#!/usr/bin/env bash
# System test 2: authentication.
#  - sender h0 with secret A, --nodes 2;
#  - garbage on the sender's TCP port (random bytes, an empty connection) and UDP discovery port;
#  - receiver h3 with the wrong secret B, receiver h4 without a secret: both exit non-zero with
#    "authentication" (or "secret") on stderr and write no output file; the sender keeps waiting;
#  - receivers h1, h2 with secret A: the session completes (sender exit 0, report 2 ok, ko empty,
#    outputs byte-exact), the sender logged the refusals.
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

PORT=30765
DPORT=30764
BYTES=$(( 16 << 20 ))
bed_begin 4 "" "$BYTES"
bed_secret "$W/secretA"
bed_secret "$W/secretB"
S=auth$$
SIP=$(bed_ip 0)
logs=("$W/send.log" "$W/r1.log" "$W/r2.log" "$W/r3.log" "$W/r4.log")

echo "== sender h0: secret A, --nodes 2"
ka_bg 0 "$W/send.log" send --nodes 2 --session "$S" --secret-file "$W/secretA" \
  --report "$W/report.json" "$W/src.bin"
spid=$BED_LAST_PID
bed_check "sender listens on TCP $PORT" bed_wait_tcp 0 "$PORT" 20

echo "== garbage: 4 KiB random on TCP $PORT, an empty TCP connection, 512 B random on UDP $DPORT"
bed_exec 4 timeout 5 bash -c "head -c 4096 /dev/urandom > /dev/tcp/$SIP/$PORT" 2>/dev/null
bed_exec 4 timeout 5 bash -c "exec 3<>/dev/tcp/$SIP/$PORT; exec 3>&-" 2>/dev/null
bed_exec 4 timeout 5 bash -c "head -c 512 /dev/urandom > /dev/udp/$SIP/$DPORT" 2>/dev/null
sleep 0.5
bed_check "sender survives the garbage" kill -0 "$spid"

echo "== wrong secret (h3) and no secret (h4)"
ka_bg 3 "$W/r3.log" receive --session "$S" --secret-file "$W/secretB" --name node3 --wait 15 \
  --output "$W/out3.bin"
p3=$BED_LAST_PID
ka_bg 4 "$W/r4.log" receive --session "$S" --name node4 --wait 15 --output "$W/out4.bin"
p4=$BED_LAST_PID
bed_check "wrong-secret receiver exits non-zero" ka_rc_is nz "$p3"
bed_check "wrong-secret receiver: 'authentication' or 'secret' on stderr" \
  grep -Eqi 'authenticat|secret' "$W/r3.log.err"
bed_check "wrong-secret receiver: no output file" test ! -e "$W/out3.bin"
bed_check "no-secret receiver exits non-zero" ka_rc_is nz "$p4"
bed_check "no-secret receiver: 'authentication' or 'secret' on stderr" \
  grep -Eqi 'authenticat|secret' "$W/r4.log.err"
bed_check "no-secret receiver: warns about running without a secret" \
  grep -Eqi 'warn' "$W/r4.log.err" "$W/r4.log"
bed_check "no-secret receiver: no output file" test ! -e "$W/out4.bin"
bed_check "sender still waiting after the refusals" kill -0 "$spid"

echo "== good receivers h1, h2 (secret A)"
ka_bg 1 "$W/r1.log" receive --session "$S" --secret-file "$W/secretA" --name node1 --output "$W/out1.bin"
p1=$BED_LAST_PID
ka_bg 2 "$W/r2.log" receive --session "$S" --secret-file "$W/secretA" --name node2 --output "$W/out2.bin"
p2=$BED_LAST_PID
bed_check "sender exits 0" ka_rc_is 0 "$spid"
bed_check "node1 exits 0" ka_rc_is 0 "$p1"
bed_check "node2 exits 0" ka_rc_is 0 "$p2"
bed_check "node1 output == source" ka_same "$W/src.bin" "$W/out1.bin"
bed_check "node2 output == source" ka_same "$W/src.bin" "$W/out2.bin"
bed_check "report: ok = node1,node2, ko empty" ka_check_report "$W/report.json" "$BYTES" node1,node2 ""
bed_check "sender logged the refusals (auth/refus/reject/denied)" \
  grep -Eqi 'auth|refus|reject|denied' "$W/send.log" "$W/send.log.err"
bed_check "no output file appeared late for node3/node4" test ! -e "$W/out3.bin" -a ! -e "$W/out4.bin"

if (( BED_FAILS )); then
  bed_dump "${logs[@]}"
  echo "auth: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "auth: PASS"
