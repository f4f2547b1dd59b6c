#!/usr/bin/env bash
# System test 6: a hostile host on the network during a running, authenticated session.
#  - sender h0 with a secret, --nodes 2, 128 MiB random; receivers h1, h2 with the same secret
#    and --buffer 256MiB. The sender's source is --exec: the first 64 MiB, then it waits for a
#    gate file (at most 30 s), then the last 64 MiB, so the session stays open, with the chain
#    sender -> node1 -> node2 formed, while h3 attacks;
#  - h3 (not in the session), once node2 is connected to node1's data port:
#      (a) on the data port of node1 (and of node2): 64 KiB of random bytes, "KA01" + random
#          bytes, a HELLO-looking frame header with a bad checksum, a header with an oversized
#          length, an empty connection;
#      (b) on the sender's TCP port 30765: random bytes, "KA01" + random bytes, the HELLO-looking
#          frame, an empty connection;
#      (c) on the sender's UDP port 30764: junk datagrams (random, "KA01" + random);
#      (d) `ka receive` WITHOUT a secret: exits non-zero, says why, writes no output;
#  - then the gate opens: sender exit 0, both receivers exit 0, outputs byte-exact, report
#    2 ok / ko empty, and the logs of node1, node2 and the sender mention the refusals.
#  - before all that (session not started yet), a receiver on h3 without a secret is refused
#    with a message about the secret / authentication (the sender asks for it).
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

PORT=30765
DPORT=30764
HALF=$(( 64 << 20 ))
BYTES=$(( 2 * HALF ))
EVIL=3          # h3: on the network, not in the session
bed_begin 3 "" "$BYTES"
S=hostile$$
SIP=$(bed_ip 0)
logs=("$W/send.log" "$W/r1.log" "$W/r2.log" "$W/nosecret0.log" "$W/nosecret1.log")

# data_port I: the TCP port `ka receive` listens on in host I (its only listening socket)
data_port() {
  bed_exec "$1" ss -Hltnp 2>/dev/null | awk '/"ka",pid=/ { n = split($4, a, ":"); print a[n]; exit }'
}

# wait_child_connected I PORT [SECONDS]: wait until a connection to TCP PORT in host I is established
wait_child_connected() {
  local i=$1 port=$2 secs=${3:-20} t
  for (( t = 0; t < secs * 10; t++ )); do
    bed_exec "$i" ss -Htn state established "sport = :$port" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# evil_tcp IP PORT WHAT: from h3, send one kind of garbage to IP:PORT and close
evil_tcp() {
  local ip=$1 port=$2 what=$3 gen
  case $what in
    random) gen='head -c 65536 /dev/urandom' ;;
    magic)  gen='printf KA01; head -c 4092 /dev/urandom' ;;
    # a 40-byte header that passes the cheap checks (magic, HELLO, zero flags/reserved,
    # length 64), a random checksum, then 64 random payload bytes
    hello)  gen="printf 'KA01\\x01\\x00\\x00\\x00\\x40\\x00\\x00\\x00\\x00\\x00\\x00\\x00'; head -c 16 /dev/zero; head -c 72 /dev/urandom" ;;
    # a HELLO header claiming a 4 GiB payload, then a little data
    huge)   gen="printf 'KA01\\x01\\x00\\x00\\x00\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00'; head -c 24 /dev/urandom; head -c 1024 /dev/zero" ;;
    empty)  gen='true' ;;
  esac
  bed_exec "$EVIL" timeout 5 bash -c "{ $gen; } > /dev/tcp/$ip/$port" 2>/dev/null
}

# evil_udp IP PORT: from h3, junk datagrams
evil_udp() {
  local k
  for (( k = 0; k < 5; k++ )); do
    bed_exec "$EVIL" timeout 5 bash -c "head -c $(( 64 + k * 300 )) /dev/urandom > /dev/udp/$1/$2" 2>/dev/null
    bed_exec "$EVIL" timeout 5 bash -c "{ printf KA01; head -c 200 /dev/urandom; } > /dev/udp/$1/$2" 2>/dev/null
  done
  bed_exec "$EVIL" timeout 5 bash -c "head -c 1400 /dev/zero > /dev/udp/$1/$2" 2>/dev/null
}

# error_lines LOG: the receiver's error output without the start-up warning about the missing secret
error_lines() { grep -hv 'NO --secret-file' "$1.err" "$1" 2>/dev/null; }
says_secret() {
  local e; e=$(error_lines "$1")
  echo "    $(tail -n 1 <<<"$e")"
  grep -Eqi 'secret|authenticat' <<<"$e"
}
says_refused() {
  local e; e=$(error_lines "$1")
  echo "    $(tail -n 1 <<<"$e")"
  grep -Eqi 'refus|secret|authenticat|started|full' <<<"$e"
}

echo "== sender h0: secret, --nodes 2, --exec: 64 MiB, wait for the gate, 64 MiB"
gate="i=0; while [ ! -e '$W/go' ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done"
ka_bg 0 "$W/send.log" send --nodes 2 --session "$S" --secret-file "$W/secret" --report "$W/report.json" \
  --exec "head -c $HALF '$W/src.bin'; $gate; tail -c +$(( HALF + 1 )) '$W/src.bin'"
spid=$BED_LAST_PID
bed_check "sender listens on TCP $PORT" bed_wait_tcp 0 "$PORT" 20

echo "== before the start: h$EVIL joins without a secret"
ka_bg "$EVIL" "$W/nosecret0.log" receive --session "$S" --name evil0 --wait 5 --output "$W/evil0.bin"
p=$BED_LAST_PID
bed_check "no-secret receiver exits non-zero" ka_rc_is nz "$p"
bed_check "no-secret receiver: error mentions the secret / authentication" says_secret "$W/nosecret0.log"
bed_check "no-secret receiver: no output file" test ! -e "$W/evil0.bin" -a ! -e "$W/evil0.bin.ka-incomplete"
bed_check "sender still waiting" kill -0 "$spid"

echo "== receivers h1, h2 (secret, --buffer 256MiB)"
for i in 1 2; do
  ka_bg "$i" "$W/r$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" \
    --buffer 256MiB --output "$W/out$i.bin"
  rpid[i]=$BED_LAST_PID
done

DP1='' DP2=''
for (( t = 0; t < 200 && ( ${#DP1} == 0 || ${#DP2} == 0 ); t++ )); do
  DP1=$(data_port 1); DP2=$(data_port 2); sleep 0.1
done
bed_check "data ports found (node1 :${DP1:-?}, node2 :${DP2:-?})" test -n "$DP1" -a -n "$DP2"
bed_check "chain formed: node2 connected to node1's data port" wait_child_connected 1 "${DP1:-0}" 20
sleep 0.5   # let the first half flow

echo "== h$EVIL attacks while the session runs"
for what in random magic hello huge empty; do
  evil_tcp "$(bed_ip 1)" "${DP1:-0}" "$what"
  evil_tcp "$(bed_ip 2)" "${DP2:-0}" "$what"
done
for what in random magic hello empty; do evil_tcp "$SIP" "$PORT" "$what"; done
evil_udp "$SIP" "$DPORT"
ka_bg "$EVIL" "$W/nosecret1.log" receive --session "$S" --name evil1 --wait 5 --output "$W/evil1.bin"
p=$BED_LAST_PID
bed_check "no-secret receiver during the session exits non-zero" ka_rc_is nz "$p"
bed_check "no-secret receiver during the session: says it was refused" says_refused "$W/nosecret1.log"
bed_check "no-secret receiver during the session: no output file" \
  test ! -e "$W/evil1.bin" -a ! -e "$W/evil1.bin.ka-incomplete"
sleep 0.5
bed_check "sender and receivers survive the attacks" kill -0 "$spid" "${rpid[1]}" "${rpid[2]}"

echo "== gate open: the last 64 MiB"
touch "$W/go"
bed_check "sender exits 0" ka_rc_is 0 "$spid"
bed_check "node1 exits 0" ka_rc_is 0 "${rpid[1]}"
bed_check "node2 exits 0" ka_rc_is 0 "${rpid[2]}"
bed_check "node1 output == source (128 MiB, cmp)" ka_same "$W/src.bin" "$W/out1.bin"
bed_check "node2 output == source (128 MiB, cmp)" ka_same "$W/src.bin" "$W/out2.bin"
bed_check "report: ok = node1,node2, ko empty" ka_check_report "$W/report.json" "$BYTES" node1,node2 ""
bed_check "node1 logged refused data connections" grep -qi 'refused' "$W/r1.log.err"
bed_check "node2 logged refused data connections" grep -qi 'refused' "$W/r2.log.err"
bed_check "sender logged refused connections" grep -qi 'refused' "$W/send.log.err"
for f in "$W/r1.log.err" "$W/r2.log.err" "$W/send.log.err"; do
  echo "    $(basename "$f" .log.err): $(grep -ci 'refused' "$f") refusal line(s), e.g.:"
  grep -i 'refused' "$f" | head -n 3 | sed 's/^/      /'
done

if (( BED_FAILS )); then
  bed_dump "${logs[@]}"
  echo "hostile: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "hostile: PASS"
