#!/usr/bin/env bash
# System test: nobody without the secret can change what a node writes or runs, and a node that
# holds the secret cannot make a --trust node accept altered data (docs/security.md).
#
# Bed: h0 sender, h1 node1, h2 node2, h3 the victim, h4 the attacker's host. node2 and the
# victim reach the sender through h4 (--server h4), so the sender sees both at h4's address and
# the chain is sender -> node1 -> node2 -> victim, with node2's data port (40001) reached at h4 too.
# On h4, `ka-attack mitm` (no secret) forwards port 30765 to the sender (attacking only the
# victim's control connection) and port 40001 to node2 (attacking the data link node2 -> victim).
#  A. one session per attack (24 MiB, 100 Mbit/s): altered, dropped, replayed, reordered DATA;
#     forged END; altered, dropped, replayed, reordered control frames; injected EXEC (the victim
#     runs with --allow-remote-commands, so only the seal stops it); forged BYE; forged DONE and
#     altered frames from the victim to the sender. Each time: detected, nothing runs, the victim
#     exits non-zero with its output left incomplete, the sender reports it KO with the reason,
#     node1 and node2 finish byte-exact.
#  B. an insider (`ka-attack insider`: holds the secret, learns the data key by joining, then
#     re-seals altered frames on the data link with a recomputed END): the sender signs
#     (--sign-key) and every node has --trust: the victim refuses the stream (payload SHA-256, or
#     with --digest-too the signature) and the others finish. Without signing, the sender's own
#     digest check still marks the victim KO and its output is never committed.
#  C. a --trust node refuses an unsigned sender and one signed by another key, at once.
# Env: KA_BIN, KA_ATTACK (default: beside KA_BIN), KA_TIMEOUT (s, default 90), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

KA_ATTACK=${KA_ATTACK:-$(dirname "$KA_BIN")/ka-attack}
[[ -x $KA_ATTACK ]] || { echo "SKIP: ka-attack not built ($KA_ATTACK)"; exit 77; }
KA_TIMEOUT=${KA_TIMEOUT:-90}
MIB=24
bed_begin 4 100mbit $(( MIB << 20 ))
"$KA_BIN" key new "$W/golden" >/dev/null || exit 1
"$KA_BIN" key new "$W/other" >/dev/null || exit 1
"$KA_BIN" key new "$W/op" >/dev/null || exit 1
SENDER=$(bed_ip 0)
EVIL=$(bed_ip 4)
rm -f /tmp/ka-attack-exec-ran

# session TAG ATTACK_ARGS_30765 ATTACK_ARGS_40001 SEND_ARGS NODE_ARGS [VICTIM_ARGS]
# (each *_ARGS a string, word-split). Starts the attackers on h4, the sender, then the nodes.
session() {
  local tag=$1 a1=$2 a2=$3 sargs=$4 nargs=$5 vargs=${6:-} S=sec$1$$ i
  local -a apids=()
  if [[ $a2 == insider* ]]; then
    bed_bg 0 "$W/$tag.send.log" timeout "$KA_TIMEOUT" "$KA_BIN" send --nodes 3 --session "$S" \
      --secret-file "$W/secret" --session-dir none --report "$W/$tag.json" $sargs "$W/src.bin"
    SPID=$BED_LAST_PID
    bed_wait_tcp 0 30765 20
    # shellcheck disable=SC2086
    bed_bg 4 "$W/$tag.insider.log" "$KA_ATTACK" insider --listen 40001 --to "$(bed_ip 2):40001" \
      --secret-file "$W/secret" --session "$S" --key-from "$SENDER:30765" ${a2#insider}
    apids+=("$BED_LAST_PID")
    for (( i = 0; i < 100; i++ )); do grep -q ready "$W/$tag.insider.log" 2>/dev/null && break; sleep 0.1; done
    sleep 0.5  # the sender notices the insider left and frees its slot
  else
    # shellcheck disable=SC2086
    bed_bg 4 "$W/$tag.mitm2.log" "$KA_ATTACK" mitm --listen 40001 --to "$(bed_ip 2):40001" --role data $a2
    apids+=("$BED_LAST_PID")
  fi
  # shellcheck disable=SC2086
  bed_bg 4 "$W/$tag.mitm1.log" "$KA_ATTACK" mitm --listen 30765 --to "$SENDER:30765" --name victim $a1
  apids+=("$BED_LAST_PID")
  bed_wait_tcp 4 30765 20
  bed_wait_tcp 4 40001 20
  if [[ $a2 != insider* ]]; then
    # shellcheck disable=SC2086
    bed_bg 0 "$W/$tag.send.log" timeout "$KA_TIMEOUT" "$KA_BIN" send --nodes 3 --session "$S" \
      --secret-file "$W/secret" --session-dir none --report "$W/$tag.json" $sargs "$W/src.bin"
    SPID=$BED_LAST_PID
    bed_wait_tcp 0 30765 20
  fi
  # shellcheck disable=SC2086
  bed_bg 1 "$W/$tag.n1.log" timeout "$KA_TIMEOUT" "$KA_BIN" receive --session "$S" --server "$SENDER" \
    --secret-file "$W/secret" --name node1 --output "$W/$tag.out1" $nargs
  P1=$BED_LAST_PID
  # shellcheck disable=SC2086
  bed_bg 2 "$W/$tag.n2.log" timeout "$KA_TIMEOUT" "$KA_BIN" receive --session "$S" --server "$EVIL" \
    --secret-file "$W/secret" --name node2 --data-port 40001 --output "$W/$tag.out2" $nargs
  P2=$BED_LAST_PID
  sleep 0.3  # node2 joins first: equal addresses are ordered by data port anyway
  # shellcheck disable=SC2086
  bed_bg 3 "$W/$tag.v.log" timeout "$KA_TIMEOUT" "$KA_BIN" receive --session "$S" --server "$EVIL" \
    --secret-file "$W/secret" --name victim --data-port 40002 --output "$W/$tag.outv" $nargs $vargs
  PV=$BED_LAST_PID
  ka_rc_is nz "$SPID" >/dev/null; SRC=$KA_LAST_RC
  ka_rc_is 0 "$P1" >/dev/null; R1=$KA_LAST_RC
  ka_rc_is 0 "$P2" >/dev/null; R2=$KA_LAST_RC
  ka_rc_is nz "$PV" >/dev/null; RV=$KA_LAST_RC
  for i in "${apids[@]}"; do kill "$i" 2>/dev/null; wait "$i" 2>/dev/null; done
}

victim_reason() { python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
print(next((k['reason'] for k in r['ko'] if k['name'] == 'victim'), ''))" "$1" 2>/dev/null; }

# check TAG REASON_REGEX: the outcome every attack must have
check() {
  local tag=$1 re=$2 f0=$BED_FAILS reason
  reason=$(victim_reason "$W/$tag.json")
  echo "    victim KO because: ${reason:-?}"
  bed_check "[$tag] sender exits 1 (a node failed)" test "$SRC" = 1
  bed_check "[$tag] node1 and node2 exit 0" test "$R1$R2" = 00
  bed_check "[$tag] the victim exits non-zero" test "$RV" != 0 -a "$RV" != 124
  bed_check "[$tag] node1, node2 byte-exact" bash -c "cmp -s '$W/src.bin' '$W/$tag.out1' && cmp -s '$W/src.bin' '$W/$tag.out2'"
  bed_check "[$tag] the victim's output is left incomplete (not at its path)" test ! -e "$W/$tag.outv"
  bed_check "[$tag] report: node1, node2 ok; the victim KO" \
    ka_check_report "$W/$tag.json" $(( MIB << 20 )) node1,node2 victim
  bed_check "[$tag] the reason names the attack (/$re/)" bash -c "grep -Eqi -- '$re' <<<'${reason//\'/}'"
  bed_check "[$tag] no command ran" test ! -e /tmp/ka-attack-exec-ran
  if (( BED_FAILS > f0 )); then
    bed_dump "$W/$tag.send.log" "$W/$tag.v.log" "$W/$tag.mitm1.log" "$W/$tag.mitm2.log" "$W/$tag.insider.log"
  fi
  rm -f "$W/$tag".out* "$W/$tag".out*.ka-incomplete
}

echo "== A. a man in the middle without the secret"
attack() {  # TAG LINK ATTACK REASON_REGEX
  local tag=$1 link=$2 kind=$3 re=$4
  echo "-- $tag: $kind on the $link link"
  if [[ $link == data ]]; then
    session "$tag" "--attack none" "--attack $kind" "" "" "--allow-remote-commands $W/op/ka.pub"
  else
    session "$tag" "--attack $kind" "--attack none" "" "" "--allow-remote-commands $W/op/ka.pub"
  fi
  check "$tag" "$re"
}
attack flipdata data flip-data "failed authentication"
attack dropdata data drop-data "out of order"
attack replaydata data replay-data "out of order"
attack reorderdata data reorder-data "out of order"
attack forgeend data forge-end "END frame failed authentication"
attack flipctl control flip-control "control channel from the sender failed.*failed authentication"
attack dropctl control drop-control "replayed, reordered or dropped"
attack replayctl control replay-control "replayed, reordered or dropped"
attack reorderctl control reorder-control "replayed, reordered or dropped"
attack injectexec control inject-exec "EXEC control frame .* failed authentication"
attack forgebye control forge-bye "BYE control frame .* failed authentication"
attack flipup control flip-up "control channel failed.*failed authentication"
attack forgedone control forge-done "DONE control frame .* failed authentication"

echo "== B. an insider that holds the secret, on the data link node2 -> victim"
TRUST="--trust $W/golden/ka.pub"
echo "-- insider: rewrites a frame and re-seals everything; the nodes trust the golden's key"
session insider1 "--attack none" "insider --nth 3" "--sign-key $W/golden/ka.key" "$TRUST"
check insider1 "SHA-256 mismatch"
echo "-- insider: also recomputes the payload digest"
session insider2 "--attack none" "insider --nth 3 --digest-too" "--sign-key $W/golden/ka.key" "$TRUST"
check insider2 "signature does not verify"
echo "-- insider without signing: the sender's digest check still catches it, nothing is committed"
session insider3 "--attack none" "insider --nth 3 --digest-too" "" ""
check insider3 "digest mismatch"
bed_check "[insider3] the victim logged that the sender did not count it OK" \
  grep -q "did not count this node OK" "$W/insider3.v.log.err"

echo "== C. a --trust node and a sender that does not sign with the trusted key"
for variant in unsigned otherkey; do
  S=trust$variant$$
  sargs=()
  [[ $variant == otherkey ]] && sargs=(--sign-key "$W/other/ka.key")
  ka_bg 0 "$W/$variant.send.log" send --nodes 1 --session "$S" --secret-file "$W/secret" --session-dir none \
    --join-timeout 15 "${sargs[@]}" "$W/src.bin"
  sp=$BED_LAST_PID
  bed_wait_tcp 0 30765 20
  ka_bg 1 "$W/$variant.n.log" receive --session "$S" --server "$SENDER" --secret-file "$W/secret" --name t \
    --trust "$W/golden/ka.pub" --output "$W/$variant.out"
  np=$BED_LAST_PID
  bed_check "[$variant] the --trust node refuses and exits non-zero" ka_rc_is nz "$np"
  bed_check "[$variant] it says why" grep -Eq "does not sign its stream|signs with ka:[0-9a-f]+, not with the trusted key" \
    "$W/$variant.n.log.err"
  bed_check "[$variant] no output" test ! -e "$W/$variant.out"
  kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null
done

(( BED_FAILS == 0 )) || { echo "security: FAIL ($BED_FAILS checks failed)"; exit 1; }
echo "security: PASS"
