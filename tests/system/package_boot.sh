#!/usr/bin/env bash
# System test: the Debian package (scripts/package.sh) in a Debian 12 container booted with its own
# systemd (systemd-nspawn -b; debootstrap --variant=minbase bookworm + systemd, man-db, ka's Depends
# and Recommends), where the units run for real:
#  1. apt-get install ./ka_VERSION_amd64.deb offline (everything it needs is in Depends and
#     Recommends); the system boots to "running"; `systemctl cat` shows both units from the
#     manager; neither is enabled
#  2. `ka netboot build` from the installed package: stage1 takes /usr/bin/ka (build.json names
#     it, with its sha256)
#  3. ka-netboot.service (/etc/ka/netboot.conf: DHCP range on the container's eth0) runs ka netboot
#     serve with dnsmasq in the unit's cgroup; a TFTP client on the next host fetches pxelinux.0
#     and gets the built file; `systemctl stop` stops dnsmasq too
#  4. ka-serve@lab.service (/etc/ka/sessions/lab.conf) clones a golden disk (a loop disk given to
#     the container) onto a node (`ka join` on the next host): the unit ends with success, the
#     report in /var/log/ka says the node is OK, the node's partition table is the golden's, and
#     the session's log is in the journal
# The container lives in the bed's host h0 (its eth0, 10.231.0.1); the node is h1. The package, the
# rootfs (cached as /var/cache/ka-test/package-boot-rootfs-*.tar.zst) and the kernel .deb for
# the offline netboot build come from tests/lib/package_root.bash.
# Needs root, systemd-nspawn (systemd-container), debootstrap and a Debian mirror the first time.
# Env: KA_KEEP=1 (keep the work dir), KA_DEB, KA_DEBIAN_MIRROR.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=../lib/package_root.bash
. "$(dirname "$0")/../lib/package_root.bash"
# shellcheck source=../lib/golden_disk.bash
. "$(dirname "$0")/../lib/golden_disk.bash"
# shellcheck source=../lib/clone_check.bash
. "$(dirname "$0")/../lib/clone_check.bash"

bed_require_root
bed_require_ka
for t in debootstrap dpkg-deb zstd systemd-nspawn nsenter curl losetup partx mkfs.xfs; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed (scripts/setup.sh installs it)"; exit 77; }
done
grep -qw xfs /proc/filesystems || { echo "SKIP: the kernel has no xfs"; exit 77; }

pkg_deb
bed_trap
bed_workdir
W=$BED_WORK
R=$W/root
M=kapkg$$
NSPAWN=
LOOPS=()
boot_cleanup() {
  local rc=$? t
  if [[ -n $NSPAWN ]] && kill -0 "$NSPAWN" 2>/dev/null; then
    [[ -n ${CPID:-} ]] && nsenter -t "$CPID" -a systemctl poweroff >/dev/null 2>&1
    for ((t = 0; t < 300; t++)); do
      kill -0 "$NSPAWN" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$NSPAWN" 2>/dev/null; then
      [[ -n ${CPID:-} ]] && kill -KILL "$CPID" 2>/dev/null # the container's init: its PID namespace ends
      kill -KILL "$NSPAWN" 2>/dev/null
    fi
    wait "$NSPAWN" 2>/dev/null
  fi
  rm -rf "/run/systemd/nspawn/propagate/$M"
  for ((t = ${#LOOPS[@]} - 1; t >= 0; t--)); do
    partx -d "${LOOPS[t]}" 2>/dev/null
    losetup -d "${LOOPS[t]}" 2>/dev/null
  done
  (exit "$rc")
  bed_cleanup
}
trap boot_cleanup EXIT

# ---- the rootfs, the package -----------------------------------------------------------------
mapfile -t deps < <(pkg_fields Depends Recommends)
pkg_rootfs "$R" package-boot-rootfs systemd man-db "${deps[@]}"
kernel=$(pkg_kernel_deb) || { echo "SKIP: no linux-image .deb in $PKG_CACHE/debs and apt-get download failed"; exit 77; }
cp "$PKG_DEB" "$kernel" "$R/root/"
echo "== 1. apt-get install ./$(basename "$PKG_DEB") (offline), boot, systemctl cat"
install() {
  systemd-nspawn -q -D "$R" -M "$M" --register=no --keep-unit --private-network \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y "/root/$(basename "$PKG_DEB")" >"$W/install.log" 2>&1
}
f=$BED_FAILS
bed_check "apt-get install ./$(basename "$PKG_DEB") with no network (Depends and Recommends in the base)" install
((BED_FAILS == f)) || tail -n 20 "$W/install.log"

# the golden (a loop disk with its partitions) and the node's disk
golden_mbr_disk "$W/golden.img" 600 >"$W/golden.log" 2>&1 || { cat "$W/golden.log"; bed_die "cannot build the golden disk"; }
GL=$(losetup -f --show "$W/golden.img") || bed_die "losetup golden.img"
LOOPS+=("$GL")
partx -a "$GL" 2>/dev/null
truncate -s 1G "$W/node.img"
NL=$(losetup -f --show "$W/node.img") || bed_die "losetup node.img"
LOOPS+=("$NL")

bed_up 1 || exit 1
# the golden's disk and partitions, and the loop devices ka serve takes for the golden's
# filesystems (read-only, at their offsets): a container's /dev has none of its own
binds=()
for d in /dev/loop-control /dev/loop[0-9]*; do binds+=("--bind=$d"); done
# CAP_NET_ADMIN: dnsmasq needs it, and nspawn keeps it only for a network of the container's own
# (--private-network); this one is the bed's h0, the container's alone as well.
systemd-nspawn -q -D "$R" -M "$M" --register=no --keep-unit -b --network-namespace-path="/run/netns/$(bed_ns 0)" \
  --capability=CAP_NET_ADMIN "${binds[@]}" --console=pipe >"$W/boot.log" 2>&1 </dev/null &
NSPAWN=$!
CPID=
for ((t = 0; t < 200; t++)); do
  CPID=$(pgrep -P "$NSPAWN" -x systemd | head -n 1) # nspawn's first child is a helper that exits
  [[ -z $CPID ]] || break
  sleep 0.1
done
[[ -n $CPID ]] || { cat "$W/boot.log"; bed_die "systemd-nspawn started no container"; }
in_c() { nsenter -t "$CPID" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"; }
for ((t = 0; t < 300; t++)); do # the manager's socket, before systemctl can wait on it
  in_c test -S /run/systemd/private && break
  sleep 0.1
done
state=$(timeout 180 nsenter -t "$CPID" -a systemctl is-system-running --wait 2>/dev/null)
f=$BED_FAILS
bed_check "the container booted with systemd: $state" test "$state" = running
((BED_FAILS == f)) || in_c systemctl --failed --no-pager
unit_has() { in_c systemctl cat "$1" | grep -qF "$2"; }
bed_check "systemctl cat ka-netboot shows the unit" unit_has ka-netboot 'ExecStart=/usr/bin/ka netboot serve'
bed_check "systemctl cat ka-serve@lab shows the template" \
  unit_has ka-serve@lab 'ExecStart=/usr/bin/ka serve --config /etc/ka/sessions/%i.conf'
bed_check "ka-netboot is not enabled" test "$(in_c systemctl is-enabled ka-netboot 2>/dev/null)" = disabled
version_is() { in_c ka --version | grep -qF "$1"; }
bed_check "ka --version: $PKG_VERSION" version_is "$PKG_VERSION"

# ---- 2. ka netboot build from the package ---------------------------------------------------
echo "== 2. ka netboot build -o /var/lib/ka/netboot (the installed ka)"
netboot_build() {
  in_c ka netboot build -o /var/lib/ka/netboot --kernel-deb "/root/$(basename "$kernel")" >"$W/netboot-build.log" 2>&1
}
f=$BED_FAILS
bed_check "ka netboot build --kernel-deb $(basename "$kernel")" netboot_build
((BED_FAILS == f)) || tail -n 20 "$W/netboot-build.log"
bed_check "build.json: stage1's ka is /usr/bin/ka, with its sha256" /usr/bin/python3 - "$R" <<'PY'
import hashlib, json, sys
root = sys.argv[1]
ka = json.load(open(root + "/var/lib/ka/netboot/build.json"))["ka"]
sha = hashlib.sha256(open(root + "/usr/bin/ka", "rb").read()).hexdigest()
print(f"    build.json ka: {ka}")
sys.exit(0 if ka.get("host") == "/usr/bin/ka" and ka.get("sha256") == sha else 1)
PY

# ---- 3. ka-netboot.service -------------------------------------------------------------------
echo "== 3. systemctl start ka-netboot: dnsmasq under it, TFTP from the next host"
cat >"$R/etc/ka/netboot.conf" <<EOF
KA_NETBOOT_DIR=/var/lib/ka/netboot
KA_NETBOOT_ARGS=-i eth0 --dhcp-range 10.231.0.100,10.231.0.150 --server $(bed_ip 0)
EOF
in_c systemctl start ka-netboot
sleep 1
bed_check "ka-netboot.service is active" in_c systemctl is-active -q ka-netboot
bed_check "dnsmasq listens on TFTP (udp 69) in the container" bed_wait_udp 0 69 20
main=$(in_c systemctl show -p MainPID --value ka-netboot)
kids=$(in_c cat "/proc/$main/task/$main/children" 2>/dev/null)
dnsmasq=
for p in $kids; do [[ $(in_c cat "/proc/$p/comm" 2>/dev/null) == dnsmasq ]] && dnsmasq=$p; done
in_unit_cgroup() { [[ -n $1 ]] && in_c cat "/proc/$1/cgroup" | grep -q "$2"; }
bed_check "dnsmasq is ka's child ($dnsmasq) in the unit's cgroup" in_unit_cgroup "$dnsmasq" ka-netboot.service
tftp_fetch() { bed_exec 1 curl -s --max-time 20 -o "$W/$1" "tftp://$(bed_ip 0)/$1" && cmp -s "$W/$1" "$R/var/lib/ka/netboot/tftp/$1"; }
bed_check "h1 fetches pxelinux.0 over TFTP: the built file" tftp_fetch pxelinux.0
in_c systemctl stop ka-netboot
gone() { [[ -n $1 ]] && ! in_c test -e "/proc/$1"; }
bed_check "systemctl stop ka-netboot stops dnsmasq too" gone "$dnsmasq"
in_c journalctl -u ka-netboot --no-pager >"$W/netboot.journal" 2>&1

# ---- 4. ka-serve@lab.service ----------------------------------------------------------------
echo "== 4. systemctl start ka-serve@lab: the golden onto a node"
in_c ka secret new /etc/ka/secret >/dev/null
cp "$R/etc/ka/secret" "$W/secret"
S=pkg$$
cat >"$R/etc/ka/sessions/lab.conf" <<EOF
# a session of the package test: the golden is the loop disk given to the container
nodes = 1
source = $GL
session = $S
secret-file = /etc/ka/secret
session-dir = /var/log/ka/lab
report = /var/log/ka/lab.json
EOF
in_c systemctl start ka-serve@lab
bed_check "ka-serve@lab listens (tcp 30765)" bed_wait_tcp 0 30765 60
KA_TIMEOUT=300 ka_bg 1 "$W/join.log" join --disk "$NL" --server "$(bed_ip 0)" --session "$S" \
  --secret-file "$W/secret" --name node1
f=$BED_FAILS
bed_check "ka join on h1 succeeds" bed_wait "$BED_LAST_PID"
((BED_FAILS == f)) || tail -n 20 "$W/join.log" "$W/join.log.err"
for ((t = 0; t < 600; t++)); do
  [[ $(in_c systemctl is-active ka-serve@lab) == active ]] || break
  sleep 0.1
done
in_c journalctl -u ka-serve@lab --no-pager >"$W/serve.journal" 2>&1
f=$BED_FAILS
ended_well() { in_c systemctl show -p Result -p ExecMainStatus "$1" | sort | paste -sd' ' | grep -qx 'ExecMainStatus=0 Result=success'; }
bed_check "ka-serve@lab ended: Result=success, status 0" ended_well ka-serve@lab
((BED_FAILS == f)) || tail -n 20 "$W/serve.journal"
bed_check "the report in /var/log/ka: node1 OK" /usr/bin/python3 - "$R/var/log/ka/lab.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"    report: ok {r.get('ok')}, ko {r.get('ko')}")
sys.exit(0 if r.get("ok") == ["node1"] and not r.get("ko") else 1)
PY
bed_check "the node's partition table is the golden's" diff <(cc_table "$GL") <(cc_table "$NL")
bed_check "the session's log is in the journal" grep -q "node1" "$W/serve.journal"

((BED_FAILS == 0)) || { echo "FAILED: $BED_FAILS check(s)"; exit 1; }
echo "PASS"
