#!/usr/bin/env bash
# Builds the golden disk image of a small but real Linux system (busybox), the machine that ka's
# clone demo copies onto its nodes. Needs root (loop devices, mounts, mknod, chown).
#   scripts/make-golden.sh OUT.img [--size MiB] [--label mbr|gpt] [--bulk MiB] [--force]
#                          [--kernel-deb DEB [--poweroff-after-boot]]
#     --size MiB     size of the image file (sparse), default 1024
#     --label        partition table: mbr (default) or gpt
#     --bulk MiB     data under /usr/share/bulk, default 200: host docs (compressible), host shared
#                    libraries (binary) and random bytes (incompressible), 2:2:1
#     --force        overwrite OUT if it exists (without it an existing OUT is refused)
#     --kernel-deb   make it bootable: Debian's kernel from this linux-image-*.deb in /boot, a small
#                    initramfs (busybox, virtio/SATA/NVMe disk and ext4 modules, root by UUID) and
#                    /boot/grub/grub.cfg (serial console); nodes install GRUB themselves (grub-node)
#     --poweroff-after-boot  the booted system prints its marker and powers off (tests)
# Layouts (docs/golden-images.md has every detail and the fixed UUIDs):
#   mbr: p1 /boot ext4 64 MiB (boot flag) | p2 extended | p5 swap 64 MiB | p6 / ext4 (the rest)
#   gpt: p1 bios_grub 1 MiB | p2 /boot ext4 64 MiB | p3 swap 64 MiB | p4 / ext4 (the rest)
# The tables, filesystem UUIDs and labels and every file's name, mode, owner, time and contents
# are the same on every run on a given host, except the ssh host keys (ssh-keygen takes no seed)
# and the bulk copied from the host's own /usr.
# Filesystems are populated through one offset loop device per partition; every mount and loop
# device is released on exit, also on failure, and OUT only appears once it is complete.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/lib/varied_tree.bash
. "$root/tests/lib/varied_tree.bash"
# shellcheck source=../tests/lib/disk_image.bash
. "$root/tests/lib/disk_image.bash"

# ---- fixed identities (docs/golden-images.md) ----
MBR_ID=0x6b61676f                                   # "kago"
GPT_ID=6B610000-0000-4000-8000-000000000000
UUID_BOOT=6b610000-0000-4000-8000-000000000001      # /boot ext4, label boot
UUID_SWAP=6b610000-0000-4000-8000-000000000005      # swap, label swap
UUID_ROOT=6b610000-0000-4000-8000-000000000006      # / ext4, label root
PARTUUID_PREFIX=6B610000-0000-4000-8000-0000000001  # GPT partition N: ...01 0N
GOLDEN_EPOCH=1704067200                              # 2024-01-01 00:00:00 UTC: every file's mtime
BOOT_MIB=64 SWAP_MIB=64

usage() {  # usage [STATUS]: the header above; to stderr unless STATUS is 0
  if [[ ${1:-2} == 0 ]]; then sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  else sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; fi
  exit "${1:-2}"
}
die() { echo "make-golden: $*" >&2; exit 1; }

out="" size=1024 label=mbr bulk=200 force=0 kernel_deb="" poweroff=0
while (( $# )); do
  case $1 in
    --size)  size=${2:-}; shift 2 || usage ;;
    --label) label=${2:-}; shift 2 || usage ;;
    --bulk)  bulk=${2:-}; shift 2 || usage ;;
    --force) force=1; shift ;;
    --kernel-deb) kernel_deb=${2:-}; shift 2 || usage ;;
    --poweroff-after-boot) poweroff=1; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "make-golden: unknown option $1" >&2; usage ;;
    *) [[ -z $out ]] || usage; out=$1; shift ;;
  esac
done
[[ -n $out ]] || usage
[[ $size =~ ^[0-9]+$ && $bulk =~ ^[0-9]+$ ]] || die "--size and --bulk take a number of MiB"
[[ $label == mbr || $label == gpt ]] || die "--label is mbr or gpt, not '$label'"
[[ $(id -u) -eq 0 ]] || die "must run as root (loop devices, mounts, mknod, chown)"
for t in sfdisk losetup mkfs.ext4 mkswap ssh-keygen python3 tar setfacl setfattr setcap; do
  command -v "$t" >/dev/null || die "$t not found (scripts/setup.sh installs it)"
done
BUSYBOX=/bin/busybox
if [[ ! -x $BUSYBOX ]] || ldd "$BUSYBOX" 2>&1 | grep -q '=>'; then
  die "$BUSYBOX is not a static busybox (apt-get install busybox-static)"
fi
root_mib=$(( size - 1 - BOOT_MIB - SWAP_MIB - 2 ))  # leading MiB, EBR gaps / GPT backup
(( root_mib >= bulk + 128 )) \
  || die "--size $size leaves $root_mib MiB for /: too small for --bulk $bulk (needs bulk + 128)"
if [[ -n $kernel_deb ]]; then
  [[ -f $kernel_deb ]] || die "--kernel-deb $kernel_deb: no such file (ka netboot build caches it in /var/cache/ka/netboot)"
  for t in dpkg-deb depmod modprobe cpio gzip; do
    command -v "$t" >/dev/null || die "$t not found (scripts/setup.sh installs it)"
  done
fi
if [[ -e $out && $force != 1 ]]; then
  die "$out exists; refusing to overwrite it (use --force)"
fi
[[ -d $(dirname "$out") ]] || die "directory $(dirname "$out") does not exist"

start_us=${EPOCHREALTIME/[.,]/}
partial="$out.partial.$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/ka-golden.XXXXXX")

cleanup() {
  local rc=$? busy=0
  trap - EXIT INT TERM
  di_release || busy=1
  if (( busy )); then
    echo "make-golden: could not unmount everything; left $work in place" >&2
  else
    rm -rf "$work"
  fi
  if (( rc != 0 )); then
    rm -f "$partial"
    echo "make-golden: FAILED (exit $rc); $out not written" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

elapsed() { local us=$(( ${EPOCHREALTIME/[.,]/} - start_us )); printf '%d.%01d' $(( us / 1000000 )) $(( us / 100000 % 10 )); }
log() { printf '[%5ss] %s\n' "$(elapsed)" "$*"; }

# attach NAME N: LOOP_NAME = an offset loop device over partition N of the image
attach() {
  di_attach "LOOP_$1" "$partial" "${PSTART[$2]}" "${PSIZE[$2]}" || die "losetup for $1 failed"
}

# mnt DEV DIR. noinit_itable: no background zeroing of the lazily initialised inode tables (the
# image stays sparse; the clone's kernel finishes the job on its first mount)
mnt() { di_mount "$1" "$2" noinit_itable || die "mount $1 on $2 failed"; }

# ---- 1. the partition table ----
log "image $out: $size MiB, $label, bulk $bulk MiB"
rm -f "$partial"
truncate -s "${size}M" "$partial"
if [[ $label == mbr ]]; then
  di_mbr_table "$partial" "$MBR_ID" "$BOOT_MIB" "$SWAP_MIB"
else
  di_gpt_table "$partial" "$GPT_ID" "$PARTUUID_PREFIX" "$BOOT_MIB" "$SWAP_MIB"
fi
N_BOOT=$DI_N_BOOT N_SWAP=$DI_N_SWAP N_ROOT=$DI_N_ROOT
# partition N -> "start size" in sectors
declare -A PSTART PSIZE
while read -r n s z _; do PSTART[$n]=$s PSIZE[$n]=$z; done < <(di_partitions "$partial")
for n in $N_BOOT $N_SWAP $N_ROOT; do
  [[ -n ${PSTART[$n]:-} ]] || die "sfdisk did not create partition $n"
done

# ---- 2. filesystems ----
attach BOOT "$N_BOOT"
attach SWAP "$N_SWAP"
attach ROOT "$N_ROOT"
mke2fs_opts=(-q -F -t ext4 -E "lazy_itable_init=1,lazy_journal_init=1")
mkfs.ext4 "${mke2fs_opts[@]}" -U "$UUID_BOOT" -L boot "$LOOP_BOOT"
mkswap -U "$UUID_SWAP" -L swap "$LOOP_SWAP" >/dev/null
mkfs.ext4 "${mke2fs_opts[@]}" -U "$UUID_ROOT" -L root "$LOOP_ROOT"
log "filesystems made: boot $LOOP_BOOT, swap $LOOP_SWAP, root $LOOP_ROOT"
R=$work/root B=$work/boot
mnt "$LOOP_ROOT" "$R"
mnt "$LOOP_BOOT" "$B"

# ---- 3. the root filesystem ----
put() { mkdir -p "$(dirname "$1")"; cat >"$1"; }   # put FILE <<EOF

mkdir -p "$R"/{bin,sbin,boot,dev,etc/init.d,etc/network,home,lib,mnt,proc,root,run,srv,sys} \
  "$R"/usr/{bin,sbin,lib,share} "$R"/var/{lib,log,spool,mail,backups}
chmod 0700 "$R/root"
chmod 0555 "$R/proc" "$R/sys"
# busybox and its applets, as relative symlinks (sbin/init -> ../bin/busybox)
install -m 0755 "$BUSYBOX" "$R/bin/busybox"
while read -r applet; do
  [[ $applet == */* && $applet != bin/busybox ]] || continue
  dir=${applet%/*}
  if [[ $dir == bin ]]; then target=busybox
  else
    target=bin/busybox
    IFS=/ read -ra parts <<<"$dir"
    for _ in "${parts[@]}"; do target=../$target; done
  fi
  mkdir -p "$R/$dir"
  ln -sfn "$target" "$R/$applet"
done < <("$BUSYBOX" --list-full)
[[ -L $R/sbin/init ]] || ln -sfn ../bin/busybox "$R/sbin/init"
# the few device nodes a kernel without devtmpfs automount needs for init's console
mknod -m 0600 "$R/dev/console" c 5 1
mknod -m 0666 "$R/dev/null" c 1 3

varied_accounts "$R"
varied_etc "$R" golden 52:54:00:6b:61:01
varied_junk "$R" 8

put "$R/etc/fstab" <<EOF
# /etc/fstab: static file system information (ka golden image).
# Everything by UUID: a clone whose filesystems keep these UUIDs boots unchanged.
# <file system>                             <mount point>  <type>  <options>          <dump> <pass>
UUID=$UUID_ROOT   /              ext4    errors=remount-ro  0      1
UUID=$UUID_BOOT   /boot          ext4    defaults           0      2
UUID=$UUID_SWAP   none           swap    sw                 0      0
proc                                        /proc          proc    defaults           0      0
EOF
put "$R/etc/inittab" <<'EOF'
# /etc/inittab: busybox init (ka golden image)
::sysinit:/etc/init.d/rcS
::askfirst:-/bin/sh
tty2::askfirst:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/sbin/swapoff -a
::shutdown:/bin/umount -a -r
::restart:/sbin/init
EOF
put "$R/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# /etc/init.d/rcS: the whole boot of the ka golden system (busybox init runs it once, its
# output goes to the console). KA_RCS_CHROOT=1 (tests running it in a chroot) leaves out what
# would reach outside: remounting /, mount -a, swapon -a and the network.
PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev 2>/dev/null
hostname -F /etc/hostname
if [ -z "$KA_RCS_CHROOT" ]; then
  mount -o remount,rw /
  mount -a            # /boot, by UUID (/etc/fstab)
  swapon -a           # swap, by UUID
  ifconfig lo 127.0.0.1 up
fi
echo "KA-CLONE-BOOTED hostname=$(hostname)"
if grep -qw ka.poweroff /proc/cmdline 2>/dev/null; then
  echo "ka.poweroff on the kernel command line: powering off"
  sync
  poweroff -f
fi
EOF
chmod 0755 "$R/etc/init.d/rcS"
put "$R/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet dhcp
EOF
put "$R/etc/resolv.conf" <<'EOF'
domain ka.lan
nameserver 10.231.255.254
EOF
put "$R/etc/os-release" <<'EOF'
PRETTY_NAME="ka golden (busybox)"
NAME="ka golden"
ID=ka-golden
VERSION_ID=1
EOF
put "$R/etc/issue" <<'EOF'
ka golden (busybox) \n \l

EOF
put "$R/etc/profile" <<'EOF'
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
PS1='\u@\h:\w\$ '
EOF
put "$R/etc/shells" <<'EOF'
/bin/sh
/bin/ash
EOF
put "$R/var/log/messages" <<EOF
Jan  1 00:00:00 golden syslog.info syslogd started: BusyBox v1.35.0
Jan  1 00:00:01 golden daemon.info udhcpc: lease of $VARIED_IP obtained from 10.231.255.254
EOF
# root's and ada's homes
put "$R/root/.profile" <<'EOF'
. /etc/profile
EOF
put "$R/root/.ash_history" <<'EOF'
cat /etc/fstab
ka describe /dev/sda
EOF
chmod 0600 "$R/root/.ash_history"
mkdir -p "$R/home/ada/Documents" "$R/home/ada/.ssh"
put "$R/home/ada/.profile" <<'EOF'
. /etc/profile
export EDITOR=vi
EOF
put "$R/home/ada/Documents/notes.md" <<'EOF'
# Notes on the Analytical Engine

The engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves.
EOF
varied_random ada-data $(( 256 << 10 )) >"$R/home/ada/Documents/measurements.dat"
ssh-keygen -q -t ed25519 -N '' -C ada@golden -f "$work/ada_key"
cp "$work/ada_key.pub" "$R/home/ada/.ssh/authorized_keys"
chmod 0700 "$R/home/ada" "$R/home/ada/.ssh"
chmod 0600 "$R/home/ada/.ssh/authorized_keys"
chown -R 1000:1000 "$R/home/ada"

# bulk: host docs (compressible), host shared libraries (binary), random (incompressible)
# pick SRC BUDGET_BYTES LIST: regular files under SRC (top level only if SRC ends in /*.so*),
# sorted by path, until BUDGET; writes NUL-separated relative paths, prints the bytes taken
pick() {
  python3 - "$@" <<'PY'
import os, sys
src, budget, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
top_so = src.endswith("/*.so*")
if top_so:
    src = src[:-len("/*.so*")]
    names = sorted(n for n in os.listdir(src) if ".so" in n)
    cands = [n for n in names if os.path.isfile(os.path.join(src, n))
             and not os.path.islink(os.path.join(src, n))]
else:
    cands = []
    for d, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                cands.append(os.path.relpath(p, src))
taken, sel = 0, []
for rel in cands:
    sz = os.path.getsize(os.path.join(src, rel))
    if taken + sz > budget:
        continue
    sel.append(rel); taken += sz
with open(out, "wb") as f:
    for rel in sel:
        f.write(rel.encode() + b"\0")
print(taken)
PY
}
bulk_bytes=$(( bulk << 20 ))
if (( bulk > 0 )); then
  mkdir -p "$R/usr/share/bulk/doc" "$R/usr/share/bulk/lib" "$R/usr/share/bulk/random"
  got_doc=$(pick /usr/share/doc $(( bulk_bytes * 2 / 5 )) "$work/doc.list")
  tar -C /usr/share/doc --null -T "$work/doc.list" -cf - | tar -C "$R/usr/share/bulk/doc" -xf -
  got_lib=$(pick '/usr/lib/x86_64-linux-gnu/*.so*' $(( bulk_bytes * 4 / 5 - got_doc )) "$work/lib.list")
  tar -C /usr/lib/x86_64-linux-gnu --null -T "$work/lib.list" -cf - | tar -C "$R/usr/share/bulk/lib" -xf -
  rest=$(( bulk_bytes - got_doc - got_lib )) i=0
  while (( rest > 0 )); do
    n=$(( rest < (16 << 20) ? rest : (16 << 20) ))
    varied_random "ka-bulk-$i" "$n" >"$R/usr/share/bulk/random/random-$(printf %02d "$i").bin"
    rest=$(( rest - n )) i=$(( i + 1 ))
  done
  log "bulk: docs $(( got_doc >> 20 )) MiB, libraries $(( got_lib >> 20 )) MiB, random $(( (bulk_bytes - got_doc - got_lib) >> 20 )) MiB"
fi

# ---- 4. /boot ----
mkdir -p "$B/grub"
if [[ -z $kernel_deb ]]; then  # not bootable: placeholders of a kernel's size
  varied_random ka-vmlinuz $(( 4 << 20 )) >"$B/vmlinuz-ka"
  varied_random ka-initrd $(( 4 << 20 )) >"$B/initrd.img-ka"
else
  K=$work/kernel I=$work/initramfs
  dpkg-deb -x "$kernel_deb" "$K" || die "dpkg-deb -x $kernel_deb failed"
  KV=$(ls "$K/lib/modules" | head -n 1)
  [[ -n $KV && -f $K/boot/vmlinuz-$KV ]] || die "$kernel_deb holds no kernel (boot/vmlinuz-*)"
  depmod -b "$K" "$KV"
  install -m 0644 "$K/boot/vmlinuz-$KV" "$B/vmlinuz-$KV"
  # the initramfs: busybox, the modules that reach a disk's ext4 root, and an init that mounts
  # the root named on the kernel command line (root=UUID=...) and switches to it
  mkdir -p "$I"/{bin,dev,proc,sys,newroot,lib/modules}
  install -m 0755 "$BUSYBOX" "$I/bin/busybox"
  for a in sh mount umount sleep cat insmod switch_root findfs echo mkdir grep sed; do ln -s busybox "$I/bin/$a"; done
  : >"$I/modules.order"
  while read -r ko; do
    grep -qxF "/lib/modules/${ko##*/}" "$I/modules.order" && continue
    cp "$ko" "$I/lib/modules/" && echo "/lib/modules/${ko##*/}" >>"$I/modules.order"
  done < <(for m in virtio_pci virtio_blk virtio_scsi sd_mod ahci nvme crc32c_generic ext4; do
             modprobe -d "$K" -S "$KV" --show-depends "$m" 2>/dev/null
           done | awk '$1 == "insmod" { print $2 }')
  [[ -s $I/modules.order ]] || die "no modules found in $kernel_deb (modprobe --show-depends)"
  cat >"$I/init" <<'EOF'
#!/bin/sh
# initramfs of the ka golden: load the disk and ext4 modules, mount root=UUID=..., switch to it
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "$m" 2>/dev/null; done </modules.order
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
dev=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  dev=$(findfs "$root" 2>/dev/null) && break
  sleep 0.5
done
[ -n "$dev" ] || { echo "golden initramfs: root $root not found"; exec sh; }
mount -o ro -t ext4 "$dev" /newroot || { echo "golden initramfs: cannot mount $dev"; exec sh; }
umount /sys /proc
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /sbin/init
EOF
  chmod 0755 "$I/init"
  find "$I" -exec touch -c -h -d "@$GOLDEN_EPOCH" {} +
  (cd "$I" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible | gzip -n -9) \
    >"$B/initrd.img-$KV" || die "writing the golden's initramfs failed"
  extra=""
  if (( poweroff )); then extra=" ka.poweroff"; fi
  cat >"$B/grub/grub.cfg" <<EOF
# GRUB of the ka golden (/boot is its own partition: paths are relative to it)
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
set default=0
insmod part_msdos
insmod part_gpt
insmod ext2
search --no-floppy --fs-uuid --set=root $UUID_BOOT
menuentry 'ka golden (Debian kernel $KV)' {
  linux /vmlinuz-$KV root=UUID=$UUID_ROOT ro console=tty0 console=ttyS0,115200n8 panic=-1$extra
  initrd /initrd.img-$KV
}
EOF
  log "bootable: kernel $KV, initramfs $(( $(stat -c %s "$B/initrd.img-$KV") >> 10 )) KiB ($(wc -l <"$I/modules.order") modules), grub.cfg"
fi

# every entry's atime and mtime: GOLDEN_EPOCH (reproducible listings), directories last
for t in "$R" "$B"; do
  find "$t" -xdev ! -type d -exec touch -c -h -d "@$GOLDEN_EPOCH" {} +
  find "$t" -xdev -depth -type d -exec touch -c -h -d "@$GOLDEN_EPOCH" {} +
done
sync

# ---- 5. report, release, publish ----
used_boot=$(df -B1 --output=used "$B" | tail -n 1 | tr -d ' ')
used_root=$(df -B1 --output=used "$R" | tail -n 1 | tr -d ' ')
files_boot=$(du -sxb "$B" | cut -f1)
files_root=$(du -sxb "$R" | cut -f1)
di_release || die "could not unmount everything"
mv -f "$partial" "$out"

echo "== layout (sfdisk -d $out)"
sfdisk -d "$out"
echo "== filesystems"
printf '%-6s %-5s %-6s %-38s %14s %14s\n' part type label uuid fs-used-bytes file-bytes
printf '%-6s %-5s %-6s %-38s %14s %14s\n' "p$N_BOOT" ext4 boot "$UUID_BOOT" "$used_boot" "$files_boot"
printf '%-6s %-5s %-6s %-38s %14s %14s\n' "p$N_SWAP" swap swap "$UUID_SWAP" 0 0
printf '%-6s %-5s %-6s %-38s %14s %14s\n' "p$N_ROOT" ext4 root "$UUID_ROOT" "$used_root" "$files_root"
echo "== image: $(stat -c %s "$out") bytes, $(( $(stat -c %b "$out") * 512 )) bytes allocated (sparse)"
log "done: $out"
