#!/usr/bin/env bash
# System test: seeing and steering a running session (`ka status`, `ka exec`, the session directory).
#  A. a broadcast to 3 nodes over 40 Mbit/s links, with a secret, remote commands NOT allowed:
#     while it streams, `ka status` (from node h1's namespace, over the bed) shows every node with a
#     consistent state, --json agrees with the chain, `ka status node2` prints node2's log;
#     `ka exec` is refused and nothing runs, and the refusal is logged on the server and in the
#     node's log; a wrong secret is refused. Afterwards the session directory holds server.log,
#     logs/node1..3.log (each node's own lines, up to "stream complete") and report.json, private
#     (directories 0700, files 0600).
#  B. the same with --allow-exec, nodes 1 and 2 started with --allow-remote-commands OPERATOR.pub:
#     `ka exec --operator-key OPERATOR.key node2 -- ...` runs there (output and exit status come
#     back), logged on both sides; with a wrong secret or none it is refused at the handshake, logged,
#     and nothing runs; a command signed by another operator key is refused by the node; node3,
#     started without an operator key, refuses every command.
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

BYTES=$(( 40 << 20 ))
bed_begin 3 40mbit "$BYTES"
bed_secret "$W/wrong"
"$KA_BIN" key new "$W/op" >/dev/null || exit 1
"$KA_BIN" key new "$W/intruder" >/dev/null || exit 1
SRV=$(bed_ip 0)

# ka_in I ARGS...: run ka in host I (foreground), stdout to $W/out, stderr to $W/err
ka_in() { local i=$1; shift; bed_exec "$i" timeout 30 "$KA_BIN" "$@" >"$W/out" 2>"$W/err"; }

run_session() { # NAME EXTRA_SEND_ARGS... ; starts the sender, then the nodes; sets SPID, NPIDS
  local s=$1 i; shift
  NPIDS=()
  ka_bg 0 "$W/$s.send.log" send --nodes 3 --session "$s" --secret-file "$W/secret" --session-dir "$W/$s.dir" \
    --progress-interval 0.5 "$@" "$W/src.bin"
  SPID=$BED_LAST_PID
  bed_wait_tcp 0 30765 20 || echo "    the sender of $s did not start"
  for i in 1 2 3; do
    local extra=()
    [[ $s == B* && $i != 3 ]] && extra=(--allow-remote-commands "$W/op/ka.pub")
    ka_bg "$i" "$W/$s.r$i.log" receive --server "$SRV" --session "$s" --secret-file "$W/secret" --name "node$i" \
      --output "$W/$s.out$i" "${extra[@]}"
    NPIDS+=("$BED_LAST_PID")
  done
}
wait_streaming() { # NAME: until node3 has written something
  local s=$1 t
  for (( t = 0; t < 200; t++ )); do
    [[ -s $W/$s.out3.ka-incomplete ]] && return 0
    sleep 0.1
  done
  return 1
}

echo "== A. remote commands not allowed"
A=A$$
run_session "$A"
bed_check "session A streams" wait_streaming "$A"
bed_check "ka status: exits 0" ka_in 1 status --server "$SRV" --session "$A" --secret-file "$W/secret"
sed 's/^/    /' "$W/out"
bed_check "ka status: a row for each node" bash -c "grep -q node1 '$W/out' && grep -q node2 '$W/out' && grep -q node3 '$W/out'"
bed_check "ka status --json: 3 nodes, states consistent with the chain" bash -c "
  timeout 30 ip netns exec $(bed_ns 1) '$KA_BIN' status --server $SRV --session $A --secret-file '$W/secret' --json |
  python3 -c '
import json, sys
s = json.load(sys.stdin)
ok = {\"joined\", \"receiving\", \"done\"}
names = [n[\"name\"] for n in s[\"nodes\"]]
assert names == [\"node1\", \"node2\", \"node3\"], names
assert s[\"chain\"] == names, s[\"chain\"]
assert s[\"phase\"] in (\"streaming\", \"done\"), s[\"phase\"]
for n in s[\"nodes\"]:
    assert n[\"state\"] in ok, n
    assert n[\"bytes\"] <= s[\"sent_bytes\"] + 1, n
    assert n[\"position\"] == names.index(n[\"name\"]) + 1, n
print(\"    phase\", s[\"phase\"], [(n[\"name\"], n[\"state\"], n[\"bytes\"]) for n in s[\"nodes\"]])
'"
bed_check "ka status node2: node2's log" \
  bash -c "timeout 30 ip netns exec $(bed_ns 1) '$KA_BIN' status --server $SRV --session $A --secret-file '$W/secret' node2 | grep -q \"joined session '$A'\""
bed_check "ka exec without --allow-exec: refused (exit 1)" ka_rc_is_fg 1 ka_in 1 exec --operator-key "$W/op/ka.key" --server "$SRV" --session "$A" \
  --secret-file "$W/secret" node1 -- touch "$W/exec-proof-A"
bed_check "ka exec refused: says remote commands are disabled" grep -q "disabled" "$W/err"
bed_check "ka status with a wrong secret: refused" ka_rc_is_fg 1 ka_in 1 status --server "$SRV" --session "$A" \
  --secret-file "$W/wrong"
bed_check "session A: sender exits 0" ka_rc_is 0 "$SPID"
for i in 1 2 3; do bed_check "session A: node$i exits 0" ka_rc_is 0 "${NPIDS[i-1]}"; done
bed_check "nothing was executed" test ! -e "$W/exec-proof-A"
bed_check "server log: the refused command" grep -q "REFUSED remote command" "$W/$A.dir/server.log"
bed_check "server log: the wrong secret refused" grep -qi "refused connection" "$W/$A.dir/server.log"
bed_check "node1's log on the server: the refusal" grep -q "refused remote command" "$W/$A.dir/logs/node1.log"
for i in 1 2 3; do
  bed_check "session dir: logs/node$i.log has the node's own lines" grep -q "stream complete" "$W/$A.dir/logs/node$i.log"
done
bed_check "session dir: report.json lists 3 ok nodes" \
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if len(r['ok']) == 3 else 1)" "$W/$A.dir/report.json"
private_dir() {  # the session directory and logs/ 0700, every file in them 0600
  local d=$1 bad
  bad=$(find "$d" \( -type d ! -perm 0700 \) -o \( -type f ! -perm 0600 \) -printf '%m %p\n')
  [[ -z $bad ]] && [[ -f $d/server.log && -f $d/report.json ]] && return 0
  echo "    not private: $bad"; return 1
}
bed_check "session dir: 0700 directories, 0600 files (server.log, logs/*.log, report.json)" private_dir "$W/$A.dir"
bed_check "sender printed progress lines (not a terminal: plain, no escapes)" \
  bash -c "grep -q 'node2' '$W/$A.send.log' && ! grep -q $'\\e' '$W/$A.send.log'"

echo "== B. remote commands allowed"
B=B$$
run_session "$B" --allow-exec
bed_check "session B streams" wait_streaming "$B"
bed_check "ka exec node2: exit 0" ka_in 1 exec --operator-key "$W/op/ka.key" --server "$SRV" --session "$B" --secret-file "$W/secret" \
  node2 -- echo hello-from-node2 '&&' touch "$W/exec-proof-B"
bed_check "ka exec node2: output comes back" grep -q "hello-from-node2" "$W/out"
bed_check "ka exec node2: the command ran" test -e "$W/exec-proof-B"
bed_check "ka exec: the command's exit status comes back (3)" ka_rc_is_fg 3 ka_in 1 exec --operator-key "$W/op/ka.key" --server "$SRV" \
  --session "$B" --secret-file "$W/secret" node2 -- exit 3
bed_check "ka exec with a wrong secret: refused (exit 1)" ka_rc_is_fg 1 ka_in 1 exec --operator-key "$W/op/ka.key" --server "$SRV" \
  --session "$B" --secret-file "$W/wrong" node2 -- touch "$W/exec-proof-wrong"
bed_check "ka exec without a secret: refused (exit 1)" ka_rc_is_fg 1 ka_in 1 exec --operator-key "$W/op/ka.key" --server "$SRV" \
  --session "$B" node2 -- touch "$W/exec-proof-nosecret"
bed_check "ka exec signed by another operator key: refused by node2" ka_rc_is_fg 1 ka_in 1 exec --operator-key "$W/intruder/ka.key" --server \
  "$SRV" --session "$B" --secret-file "$W/secret" node2 -- touch "$W/exec-proof-intruder"
bed_check "the refusal says the signature is not the operator's" grep -q "not signed by the operator key" "$W/err"
bed_check "ka exec on node3, which has no operator key: refused" ka_rc_is_fg 1 ka_in 1 exec --operator-key "$W/op/ka.key" --server "$SRV" \
  --session "$B" --secret-file "$W/secret" node3 -- touch "$W/exec-proof-B3"
bed_check "session B: sender exits 0" ka_rc_is 0 "$SPID"
for i in 1 2 3; do bed_check "session B: node$i exits 0" ka_rc_is 0 "${NPIDS[i-1]}"; done
bed_check "node3 ran nothing, nor node2 the intruder's command" test ! -e "$W/exec-proof-B3" -a ! -e "$W/exec-proof-intruder"
bed_check "nothing ran for the wrong or missing secret" test ! -e "$W/exec-proof-wrong" -a ! -e "$W/exec-proof-nosecret"
bed_check "server log: the unauthenticated attempts refused" \
  bash -c "[[ \$(grep -c 'refused connection from $(bed_ip 1)' '$W/$B.dir/server.log') -ge 2 ]]"
bed_check "server log: the command and who asked" grep -q "remote command from $(bed_ip 1) for node2" "$W/$B.dir/server.log"
bed_check "node2's own log: it ran the command" grep -q "running a remote command" "$W/$B.r2.log.err"
bed_check "node3's own log: it refused" grep -qi "refused a remote command" "$W/$B.r3.log.err"

if (( BED_FAILS )); then
  bed_dump "$W/$A.send.log" "$W/$A.r1.log" "$W/$B.send.log" "$W/$B.r2.log" "$W/$B.r3.log"
  echo "status: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "status: PASS"
