#!/usr/bin/env bash
# System test 0: the test bed itself (no ka needed).
# Checks: hosts reach each other, subnet and limited broadcast reach the other hosts (ICMP and
# UDP), shaping is installed on both sides of every link (h0's at BED_RATE0's rate), nothing is created in the root netns,
# and bed_down leaves no namespace, link or process behind.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

bed_require_root
bed_trap
bed_workdir
N=3
root_links_before=$(ip -o link show | wc -l)

echo "== bed_selftest: bed of 1+$N hosts shaped to 200mbit, the sender h0 to 1gbit (BED_RATE0)"
BED_RATE0=1gbit bed_up "$N" 200mbit || exit 1

for (( i = 1; i <= N; i++ )); do
  bed_check "h0 -> h$i ($(bed_ip "$i")) ping" bed_quiet bed_exec 0 ping -c1 -W2 -q "$(bed_ip "$i")"
done
bed_check "h$N -> h1 ping" bed_quiet bed_exec "$N" ping -c1 -W2 -q "$(bed_ip 1)"

bcast_replies() {   # host dest: number of distinct hosts answering a broadcast ping
  bed_exec "$1" ping -b -c2 -i0.3 -W1 "$2" 2>/dev/null |
    awk '/bytes from/ { sub(":", "", $4); print $4 }' | sort -u | wc -l
}
r=$(bcast_replies 1 10.231.255.255)
bed_check "broadcast ping 10.231.255.255 from h1 answered by $r hosts (want $N)" test "$r" -ge "$N"

# UDP broadcast: listener in h2, sender in h1 to both subnet and limited broadcast.
udp_port=40990
udp_bcast() {   # dest -> 0 if h2 got the datagram
  local dest=$1 out=$BED_WORK/udp.$1 port=$(( ++udp_port ))
  bed_bg 2 "$out" timeout 5 python3 -c '
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("",int(sys.argv[1]))); s.settimeout(4)
d,a=s.recvfrom(100); print(d.decode(),a[0])' "$port"
  local pid=$BED_LAST_PID
  sleep 0.5
  bed_exec 1 python3 -c '
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)
s.sendto(b"hello",(sys.argv[1],int(sys.argv[2])))' "$dest" "$port" || return 1
  bed_wait "$pid" || return 1
  grep -q "hello $(bed_ip 1)" "$out"
}
bed_check "UDP broadcast to 10.231.255.255 from h1 received in h2" udp_bcast 10.231.255.255
bed_check "UDP broadcast to 255.255.255.255 from h1 fails without a default route" eval '! udp_bcast 255.255.255.255 2>/dev/null'
bed_default_route 1
bed_check "UDP broadcast to 255.255.255.255 from h1 (after bed_default_route 1) received in h2" udp_bcast 255.255.255.255

bed_check "tbf on h1 eth0" bash -c "ip netns exec $(bed_ns 1) tc qdisc show dev eth0 | grep -q tbf"
bed_check "tbf on switch port p1" bash -c "ip netns exec $BED_SW tc qdisc show dev p1 | grep -q tbf"
bed_check "BED_RATE0=1gbit: h0 eth0 at 1Gbit" bash -c "ip netns exec $(bed_ns 0) tc qdisc show dev eth0 | grep -q 'rate 1Gbit'"
bed_check "BED_RATE0=1gbit: switch port p0 at 1Gbit, p1 at 200Mbit" bash -c \
  "ip netns exec $BED_SW tc qdisc show dev p0 | grep -q 'rate 1Gbit' && ip netns exec $BED_SW tc qdisc show dev p1 | grep -q 'rate 200Mbit'"
bed_check "root netns has no new links" test "$(ip -o link show | wc -l)" -eq "$root_links_before"
bed_check "no 10.231. address in the root netns" bash -c "! ip -o addr show | grep -q '10\.231\.'"

# a background process left running must be killed by bed_down
bed_bg 1 "$BED_WORK/sleeper" sleep 300
sleeper=$BED_LAST_PID
disown "$sleeper"
bed_exec 2 sleep 300 &   # not recorded: must be found through `ip netns pids`
stray=$!
disown "$stray"   # no "Terminated" job notice

alive() { [[ -e /proc/$1 ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
bed_down
bed_check "no ${BED_PREFIX} namespace left" bash -c "! ip netns list | grep -q '^${BED_PREFIX}'"
bed_check "recorded process $sleeper killed" eval "! alive $sleeper"
bed_check "unrecorded process $stray killed" eval "! alive $stray"
bed_check "root netns links unchanged after down" test "$(ip -o link show | wc -l)" -eq "$root_links_before"

if (( BED_FAILS )); then echo "bed_selftest: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "bed_selftest: PASS"
