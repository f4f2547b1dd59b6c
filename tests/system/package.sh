#!/usr/bin/env bash
# System test: the Debian package (scripts/package.sh, docs/packaging.md) in a clean Debian 12
# chroot (debootstrap --variant=minbase bookworm + systemd, man-db and ka's dependencies):
#  1. apt-get install ./ka_VERSION_amd64.deb installs it (ka's dependencies are in the base)
#  2. ka --version runs; man ka-serve shows the page; systemctl cat ka-netboot shows the unit
#     (in the chroot, without a manager: systemd-analyze cat-config, see unit_text; package_boot.sh
#     runs systemctl cat in a booted container); systemd-analyze
#     verify finds nothing in either unit
#  3. /etc/ka/ka.conf is a conffile; /var/lib/ka is root 0711 (dnsmasq passes through it to the
#     netboot files), /var/log/ka and /etc/ka/sessions root 0750;
#     no unit is enabled
#  4. apt-get purge ka leaves nothing: the chroot's file list equals the one before the install
#     (apt's and dpkg's own state, logs and /tmp left out)
# The package is built with scripts/package.sh unless dist/ has one of this commit's sources
# (KA_DEB=FILE takes that one); the base rootfs is cached as a tarball under /var/cache/ka-test
# keyed by its package list, the .debs in /var/cache/ka-test/debs.
# Needs root, debootstrap, network to the Debian mirror the first time (skips with 77 otherwise).
# Env: KA_KEEP=1 (keep the chroot), KA_DEB, KA_DEBIAN_MIRROR.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=../lib/package_root.bash
. "$(dirname "$0")/../lib/package_root.bash"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (chroot, mounts)"; exit 77; }
for t in debootstrap dpkg-deb zstd; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
pkg_deb
deb=$PKG_DEB
version=$PKG_VERSION

bed_trap
bed_workdir
R=$BED_WORK/root
MOUNTED=()
cleanup_mounts() {
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTED[i]}" 2>/dev/null; done
  MOUNTED=()
}
trap 'rc=$?; cleanup_mounts; (exit $rc); bed_cleanup' EXIT

# the base: ka's dependencies (so that installing the package needs no mirror), systemd, man-db
mapfile -t deps < <(pkg_fields Depends)
pkg_rootfs "$R" package-rootfs systemd man-db "${deps[@]}"

for m in proc sys dev; do
  mount --rbind "/$m" "$R/$m" && mount --make-rslave "$R/$m" && MOUNTED+=("$R/$m")
done
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"; }

# What a purge must give back: the file list (with modes and owners) outside apt's and dpkg's
# own state, the logs and the temporary files.
listing() {
  (cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./var/tmp \
    -o -path ./var/cache/apt -o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./var/log \
    -o -path ./var/cache/man -o -path ./var/cache/debconf -o -path ./run \) -prune -o -printf '%p %M %u:%g\n' |
    sort)
}
listing >"$BED_WORK/before"

# ---- 1. install ----------------------------------------------------------------------------
echo "== 1. apt-get install ./$(basename "$deb")"
cp "$deb" "$R/tmp/"
bed_check "apt-get install ./$(basename "$deb")" in_root env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")"

# ---- 2. the binary, the page, the unit -----------------------------------------------------
echo "== 2. ka --version, man ka-serve, systemctl cat ka-netboot"
bed_check "ka --version prints $version" bash -c "chroot '$R' ka --version | grep -qF '$version'"
bed_check "man ka-serve shows the page" bash -c \
  "chroot '$R' env MANPAGER=cat MANWIDTH=80 man ka-serve 2>/dev/null | grep -q -- '--config'"
bed_check "man ka shows the page" bash -c "chroot '$R' env MANPAGER=cat man ka 2>/dev/null | grep -q 'ka serve'"
# systemctl cat asks the running manager (systemd 252: "Running in chroot, ignoring command 'cat'",
# and cat refuses --root=): in the chroot the same text comes from systemd-analyze cat-config, which
# reads the unit files along the same search path; on a booted system systemctl cat is used.
unit_text() {
  chroot "$R" systemctl cat "$1" 2>/dev/null || chroot "$R" systemd-analyze cat-config "systemd/system/$2"
}
bed_check "the ka-netboot unit as systemctl cat shows it (systemd-analyze cat-config in a chroot)" bash -c \
  "$(declare -f unit_text); R='$R'; unit_text ka-netboot ka-netboot.service | grep -q 'ExecStart=/usr/bin/ka netboot serve'"
bed_check "the ka-serve@lab template as systemctl cat shows it (cat-config in a chroot)" bash -c \
  "$(declare -f unit_text); R='$R'; unit_text ka-serve@lab ka-serve@.service | grep -qF 'sessions/%i.conf'"
bed_check "systemd-analyze verify: both units" bash -c \
  "out=\$(chroot '$R' systemd-analyze verify /lib/systemd/system/ka-netboot.service /lib/systemd/system/ka-serve@.service 2>&1); echo -n \"\$out\"; test -z \"\$out\""
bed_check "the bash completion is installed" test -s "$R/usr/share/bash-completion/completions/ka"

# ---- 3. config and directories -------------------------------------------------------------
echo "== 3. the conffile, the directories, the units not enabled"
bed_check "/etc/ka/ka.conf is a conffile" bash -c "chroot '$R' dpkg-query -W -f='\${Conffiles}' ka | grep -q /etc/ka/ka.conf"
bed_check "ka.conf parses (ka serve --config ... --help)" in_root ka serve --config /etc/ka/ka.conf --help
for dm in /var/lib/ka:711 /var/log/ka:750 /etc/ka/sessions:750; do
  d=${dm%:*}
  bed_check "$d root:root 0${dm#*:}" test "$(stat -c '%U:%G %a' "$R$d")" = "root:root ${dm#*:}"
done
bed_check "ka-netboot.service not enabled" test ! -e "$R/etc/systemd/system/multi-user.target.wants/ka-netboot.service"

# ---- 4. purge ------------------------------------------------------------------------------
echo "== 4. apt-get purge ka leaves nothing"
mkdir -p "$R/var/lib/ka/netboot" && echo x >"$R/etc/ka/sessions/lab.conf" && echo x >"$R/var/log/ka/session.log"
bed_check "apt-get purge -y ka" in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y ka
listing >"$BED_WORK/after"
bed_check "the file list after the purge is the one before the install" diff "$BED_WORK/before" "$BED_WORK/after"

cleanup_mounts
((BED_FAILS == 0)) || { echo "FAILED: $BED_FAILS check(s)"; exit 1; }
echo "PASS"
