#!/usr/bin/env bash
# Builds a real Debian 12 golden disk image: debootstrap --variant=minbase with linux-image-amd64,
# grub-pc, grub-efi-amd64-bin, grub-efi-amd64-signed, shim-signed, initramfs-tools, systemd,
# systemd-sysv, openssh-server and fdisk (sfdisk, which `ka serve --source /` needs on the golden),
# its own GRUB installed on the image and its own initramfs (Debian's default MODULES=most), root
# and /boot by UUID. Needs root (loop devices, mounts, chroot) and the Debian archive (only the
# first time: everything is cached); --layout efi also dosfstools and mtools (no vfat mount).
#   scripts/make-debian-golden.sh [--layout mbr|gpt|efi] [--cache DIR] [--test-hook] [--print-key]
#                                 [--out OUT.img] [--force]
#     --layout     mbr (default): p1 /boot ext4 192 MiB (boot flag) | p2 extended | p5 swap 64 MiB
#                  (logical) | p6 / ext4; gpt: p1 bios_grub 1 MiB | p2 / ext4; efi: p1 bios_grub
#                  1 MiB | p2 EFI system partition, FAT32 100 MiB, /boot/efi | p3 / ext4. 1536 MiB
#                  in all. mbr and gpt boot BIOS only; efi boots BIOS (GRUB i386-pc, as gpt) and
#                  UEFI, with Secure Boot too: its ESP holds what Debian's grub-install
#                  --target=x86_64-efi --uefi-secure-boot --force-extra-removable installs, shim,
#                  the signed GRUB, mm, fb and a grub.cfg that finds / by UUID, in EFI/debian and
#                  (shim as BOOTX64.EFI) in the removable path EFI/BOOT, which firmware without an
#                  NVRAM boot entry (a fresh clone) starts. No NVRAM entry is made.
#     --cache DIR  where the downloaded packages (DIR/debs), the root filesystem tarball and the
#                  images are kept (default /var/cache/ka-test). Everything is keyed by the
#                  candidate versions of the packages (apt-cache policy on this host) and this
#                  script, so a new kernel or GRUB makes a new golden and an unchanged one is
#                  reused: a later run downloads nothing and takes seconds.
#     --test-hook  add the test hook (docs/golden-images.md): a systemd unit that, at the end of
#                  the boot, runs the script QEMU passes as fw_cfg opt/ka/run if there is one,
#                  else prints KA-REPORT lines (hostname, machine-id, SSH host key fingerprint,
#                  failed units, fstab check, root device) on the console and powers off.
#     --print-key  print the cache key and exit
#     --out FILE   also copy the image to FILE (sparse); without it the image stays in the cache
#                  and its path is printed on the last line of stdout
#     --force      rebuild the image (not the package download) even if it is cached
# Fixed ids (all start with 6b61, "ka"): MBR disk id 0x6b616462; GPT disk GUID
# 6b61deb0-0000-4000-8000-000000000000, partition GUIDs ...0001NN; filesystem UUIDs
# 6b61deb0-0000-4000-8000-0000000000NN with NN the partition number (mbr: 01 /boot, 05 swap,
# 06 /; gpt: 02 /; efi: 03 /), the ESP's FAT volume id 6b610002 (UUID=6B61-0002). GPT partition
# names bios_grub, esp, root. Hostname golden, root password ka.
set -euo pipefail
DISK_IMAGE_LIB=$(cd "$(dirname "$0")/.." && pwd)/tests/lib/disk_image.bash
# shellcheck source=../tests/lib/disk_image.bash
. "$DISK_IMAGE_LIB"

# grub-pc for BIOS; the EFI boot path's files for --layout efi: grub-efi-amd64-bin, the signed GRUB and
# shim (+ mm, fb). They co-install with grub-pc (grub-efi-amd64, the non -bin one, conflicts with it).
PACKAGES=(linux-image-amd64 grub-pc grub-efi-amd64-bin grub-efi-amd64-signed shim-signed initramfs-tools
          systemd systemd-sysv openssh-server fdisk)
SUITE=bookworm
MIRROR=${KA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SIZE_MIB=1536 BOOT_MIB=192 SWAP_MIB=64 ESP_MIB=100
MBR_ID=0x6b616462
GPT_ID=6b61deb0-0000-4000-8000-000000000000
UUID_PREFIX=6b61deb0-0000-4000-8000-0000000000      # + 2 digits: the partition number
PARTUUID_PREFIX=6b61deb0-0000-4000-8000-0000000001  # + 2 digits (GPT)
ESP_VOLID=6b610002                                  # the ESP's FAT volume id: UUID=6B61-0002

usage() { sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "make-debian-golden: $*" >&2; exit 1; }

layout=mbr cache=/var/cache/ka-test hook=0 print_key=0 out="" force=0
while (( $# )); do
  case $1 in
    --layout) layout=${2:-}; shift 2 || usage ;;
    --cache) cache=${2:-}; shift 2 || usage ;;
    --test-hook) hook=1; shift ;;
    --print-key) print_key=1; shift ;;
    --out) out=${2:-}; shift 2 || usage ;;
    --force) force=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "make-debian-golden: unknown argument $1" >&2; usage ;;
  esac
done
[[ $layout == mbr || $layout == gpt || $layout == efi ]] || die "--layout is mbr, gpt or efi, not '$layout'"
[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, loop devices, mounts, chroot)"
tools=(debootstrap sfdisk losetup partx mkfs.ext4 mkswap chroot zstd apt-cache sha256sum flock)
[[ $layout == efi ]] && tools+=(mkfs.vfat mmd mcopy mdir)   # dosfstools, mtools: no vfat mount needed
for t in "${tools[@]}"; do
  command -v "$t" >/dev/null || die "$t not found (scripts/setup.sh installs it)"
done

# ---- the cache keys: the root filesystem's from the package versions and its recipe (bump
# ROOTFS_RECIPE when build_rootfs changes), the image's from that, this whole script and the
# partition tables' tests/lib/disk_image.bash ----
ROOTFS_RECIPE=1
key_text() {
  echo "suite $SUITE recipe $ROOTFS_RECIPE"
  dpkg-query -W -f='debootstrap ${Version}\n' debootstrap 2>/dev/null || true
  local p v
  for p in "${PACKAGES[@]}"; do
    v=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
    echo "$p ${v:-unknown}"
  done
}
KEY=$(key_text | sha256sum | cut -c1-12)
IMAGE_KEY=$( { echo "$KEY"; sha256sum <"$0"; sha256sum <"$DISK_IMAGE_LIB"; } | sha256sum | cut -c1-12)
if (( print_key )); then echo "$IMAGE_KEY"; exit 0; fi
mkdir -p "$cache/debs"
ROOTFS=$cache/debian-rootfs-$KEY.tar.zst
IMAGE=$cache/debian-golden-$layout$( (( hook )) && echo -hook)-$IMAGE_KEY.img

start_us=${EPOCHREALTIME/[.,]/}
elapsed() { local us=$(( ${EPOCHREALTIME/[.,]/} - start_us )); printf '%d.%01d' $(( us / 1000000 )) $(( us / 100000 % 10 )); }
log() { printf '[%6ss] %s\n' "$(elapsed)" "$*" >&2; }

work="" LOOP="" MOUNTS=()
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for (( i = ${#MOUNTS[@]} - 1; i >= 0; i-- )); do
    mountpoint -q "${MOUNTS[i]}" || continue
    umount "${MOUNTS[i]}" 2>/dev/null || { sleep 0.5; umount "${MOUNTS[i]}"; } || umount -l "${MOUNTS[i]}"
  done
  if [[ -n $LOOP ]]; then partx -d "$LOOP" 2>/dev/null; losetup -d "$LOOP" 2>/dev/null; fi
  [[ -n $work && -d $work ]] && rm -rf --one-file-system "$work"
  (( rc == 0 )) || echo "make-debian-golden: FAILED (exit $rc)" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mnt() {  # mnt ARGS... DIR: mount, remembered for the cleanup
  mount "$@" || die "mount $* failed"
  MOUNTS+=("${@: -1}")
}

exec 9>"$cache/.lock"
flock 9   # one builder at a time per cache: a second test waits and then finds the result
work=$(mktemp -d "$cache/work.XXXXXX")

# ---- 1. the root filesystem (debootstrap), once per key ----
build_rootfs() {
  local R=$work/rootfs
  log "debootstrap $SUITE minbase + ${PACKAGES[*]} (packages cached in $cache/debs)"
  debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" --cache-dir="$cache/debs" \
    "$SUITE" "$R" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  log "debootstrap done; trimming and configuring"
  # no documentation, manual pages or translations (nor later, for packages the clones install)
  cat >"$R/etc/dpkg/dpkg.cfg.d/01-ka-nodoc" <<'EOF'
# ka golden: no documentation, manual pages or translations
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
EOF
  find "$R/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
  rm -rf "$R"/usr/share/man/* "$R"/usr/share/info/* 2>/dev/null || true
  find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  rm -f "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin
  rm -rf "$R"/var/lib/apt/lists/*
  echo golden >"$R/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tgolden\n\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
  echo 'root:ka' | chroot "$R" /usr/sbin/chpasswd
  # GRUB and the kernel on the serial console, no menu delay
  sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/' \
    -e 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT=""/' \
    -e 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"/' "$R/etc/default/grub"
  cat >>"$R/etc/default/grub" <<'EOF'
# ka golden: GRUB on the serial console too
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
EOF
  log "packing the root filesystem"
  tar -C "$R" --numeric-owner --xattrs --xattrs-include='*' --acls -cf - . | zstd -q -T0 -3 -o "$work/rootfs.tar.zst" \
    || die "packing the root filesystem failed"
  mv "$work/rootfs.tar.zst" "$ROOTFS"
  rm -rf --one-file-system "$R"
}
# Entries of other keys may belong to another checkout sharing the cache (a branch with another
# package list or script): they go only once unused for 2 days (a hit touches its entry).
prune() { find "$cache" -maxdepth 1 -name "$1" ! -path "$2" -mtime +2 -delete 2>/dev/null || true; }
if [[ -f $ROOTFS ]]; then
  log "root filesystem cached: $ROOTFS"
  touch "$ROOTFS"
else
  build_rootfs
fi
prune 'debian-rootfs-*.tar.zst' "$ROOTFS"
prune "debian-golden-$layout-*.img" "$IMAGE"; prune "debian-golden-$layout-hook-*.img" "$IMAGE"

# ---- 2. the disk image, once per key and layout ----
build_image() {
  local img=$work/golden.img
  truncate -s "${SIZE_MIB}M" "$img"
  if [[ $layout == mbr ]]; then
    di_mbr_table "$img" "$MBR_ID" "$BOOT_MIB" "$SWAP_MIB"
  elif [[ $layout == gpt ]]; then
    di_gpt_table "$img" "$GPT_ID" "$PARTUUID_PREFIX" 0 0   # no /boot, no swap
  else
    di_gpt_table "$img" "$GPT_ID" "$PARTUUID_PREFIX" 0 0 "$ESP_MIB"   # the ESP, no /boot, no swap
  fi
  N_ESP=${DI_N_ESP:-} N_BOOT=$DI_N_BOOT N_SWAP=$DI_N_SWAP N_ROOT=$DI_N_ROOT
  LOOP=$(losetup -f --show "$img") || die "losetup $img failed"
  partx -a "$LOOP" || true
  local n
  for n in $N_ESP $N_BOOT $N_SWAP $N_ROOT; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -b ${LOOP}p$n ]] && break; sleep 0.2; done
    [[ -b ${LOOP}p$n ]] || die "${LOOP}p$n did not appear (partx -a $LOOP)"
  done
  # shellcheck disable=SC2054  # the commas belong to -E's argument
  local mkfs=(mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1)
  "${mkfs[@]}" -U "$UUID_PREFIX$(printf %02d "$N_ROOT")" -L root "${LOOP}p$N_ROOT"
  [[ -n $N_BOOT ]] && "${mkfs[@]}" -U "$UUID_PREFIX$(printf %02d "$N_BOOT")" -L boot "${LOOP}p$N_BOOT"
  [[ -n $N_SWAP ]] && mkswap -q -U "$UUID_PREFIX$(printf %02d "$N_SWAP")" -L swap "${LOOP}p$N_SWAP" >/dev/null
  [[ -n $N_ESP ]] && { mkfs.vfat -F 32 -i "$ESP_VOLID" -n ESP "${LOOP}p$N_ESP" >/dev/null || die "mkfs.vfat failed"; }
  local R=$work/mnt
  mkdir -p "$R"
  mnt -o noinit_itable "${LOOP}p$N_ROOT" "$R"
  if [[ -n $N_BOOT ]]; then mkdir -p "$R/boot"; mnt -o noinit_itable "${LOOP}p$N_BOOT" "$R/boot"; fi
  log "extracting the root filesystem onto ${LOOP} ($layout)"
  zstd -q -dc "$ROOTFS" | tar -C "$R" --numeric-owner --xattrs --xattrs-include='*' --acls -xpf - \
    || die "extracting $ROOTFS failed"
  {
    echo "# /etc/fstab of the ka Debian golden ($layout): every filesystem by UUID"
    echo "UUID=$UUID_PREFIX$(printf %02d "$N_ROOT")  /      ext4  errors=remount-ro  0  1"
    [[ -n $N_BOOT ]] && echo "UUID=$UUID_PREFIX$(printf %02d "$N_BOOT")  /boot  ext4  defaults           0  2"
    [[ -n $N_SWAP ]] && echo "UUID=$UUID_PREFIX$(printf %02d "$N_SWAP")  none   swap  sw                 0  0"
    [[ -n $N_ESP ]] && echo "UUID=$(esp_uuid)  /boot/efi  vfat  umask=0077  0  1"
  } >"$R/etc/fstab"
  [[ -n $N_ESP ]] && mkdir -p "$R/boot/efi"
  if (( hook )); then install_hook "$R"; fi
  # The chroot for GRUB: a private /dev with the image's disk, partitions and their
  # /dev/disk/by-uuid links (without them grub-mkconfig writes root=/dev/loopNpM), /proc, /sys.
  mnt -t tmpfs -o mode=0755,nosuid tmpfs "$R/dev"
  mknod -m 0666 "$R/dev/null" c 1 3; mknod -m 0666 "$R/dev/zero" c 1 5
  mknod -m 0666 "$R/dev/random" c 1 8; mknod -m 0666 "$R/dev/urandom" c 1 9
  mkdir -p "$R/dev/disk/by-uuid" "$R/dev/disk/by-partuuid" "$R/dev/pts"
  local dev name uuid
  for dev in "$LOOP" "$LOOP"p*; do
    name=${dev#/dev/}
    mknod -m 0660 "$R/dev/$name" b "$((16#$(stat -c %t "$dev")))" "$((16#$(stat -c %T "$dev")))"
    uuid=$(blkid -p -s UUID -o value "$dev" 2>/dev/null || true)
    [[ -n $uuid ]] && ln -s "../../$name" "$R/dev/disk/by-uuid/$uuid"
  done
  mnt --bind /proc "$R/proc"
  mnt --bind /sys "$R/sys"
  mnt -t tmpfs -o mode=0755 tmpfs "$R/run"
  # its initramfs again, now that it has its fstab (fsck of /, resume from the swap)
  log "update-initramfs -u in the image (its own fstab now)"
  chroot "$R" /usr/sbin/update-initramfs -u >"$work/initramfs.log" 2>&1 \
    || { cat "$work/initramfs.log" >&2; die "update-initramfs failed"; }
  log "grub-install --target=i386-pc $LOOP and update-grub in the image"
  chroot "$R" /usr/sbin/grub-install --target=i386-pc "$LOOP" >"$work/grub.log" 2>&1 \
    || { cat "$work/grub.log" >&2; die "grub-install failed"; }
  chroot "$R" /usr/sbin/update-grub >>"$work/grub.log" 2>&1 || { cat "$work/grub.log" >&2; die "update-grub failed"; }
  grep -q "root=UUID=$UUID_PREFIX$(printf %02d "$N_ROOT")" "$R/boot/grub/grub.cfg" \
    || die "the image's grub.cfg does not name its root by UUID: $(grep -m1 'linux' "$R/boot/grub/grub.cfg")"
  if [[ -n $N_ESP ]]; then   # mtools on the image file at the ESP's offset (on the loop device: geometry warnings)
    local start
    start=$(di_partitions "$img" | awk -v n="$N_ESP" '$1 == n { print $2 }')
    fill_esp "$R" "$img@@$(( start * 512 ))" "$UUID_PREFIX$(printf %02d "$N_ROOT")"
  fi
  local i
  for (( i = ${#MOUNTS[@]} - 1; i >= 0; i-- )); do umount "${MOUNTS[i]}" || die "umount ${MOUNTS[i]} failed"; done
  MOUNTS=()
  partx -d "$LOOP" 2>/dev/null || true
  losetup -d "$LOOP"
  LOOP=""
  mv "$img" "$IMAGE"
}

esp_uuid() { local v=${ESP_VOLID^^}; echo "${v:0:4}-${v:4:4}"; }

# fill_esp ROOT ESP ROOTUUID: the EFI system partition (ESP: IMG@@OFFSET, for mtools: no vfat mount)
# as Debian's `grub-install --target=x86_64-efi --uefi-secure-boot --force-extra-removable` leaves
# it, without the NVRAM entry, from the image's own packages. EFI/debian: shim, the signed GRUB,
# MokManager, fallback, BOOTX64.CSV (fallback's boot entry) and the grub.cfg stub that finds / by
# UUID and hands over to its /boot/grub/grub.cfg (update-grub's, the BIOS one). EFI/BOOT: the
# removable path a firmware without a boot entry starts, shim as BOOTX64.EFI, GRUB, mm and fb.
# Debian's signed GRUB has its modules built in and the prefix /EFI/debian baked in: its embedded
# config sources $prefix/grub.cfg, so the GRUB in EFI/BOOT reads EFI/debian/grub.cfg too (only
# without EFI/debian would it try $cmdpath/grub.cfg).
fill_esp() {
  local R=$1 esp=$2 root_uuid=$3 f
  local shim=$R/usr/lib/shim/shimx64.efi.signed mm=$R/usr/lib/shim/mmx64.efi.signed
  local fb=$R/usr/lib/shim/fbx64.efi.signed csv=$R/usr/lib/shim/BOOTX64.CSV
  local grub=$R/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
  for f in "$shim" "$mm" "$fb" "$csv" "$grub"; do [[ -f $f ]] || die "${f#"$R"} missing in the image"; done
  log "the ESP: shim, signed GRUB, mm, fb in EFI/debian and EFI/BOOT (mtools)"
  cat >"$work/esp-grub.cfg" <<EOF
search.fs_uuid $root_uuid root
set prefix=(\$root)'/boot/grub'
configfile \$prefix/grub.cfg
EOF
  mmd -i "$esp" ::/EFI ::/EFI/debian ::/EFI/BOOT || die "mmd on $esp failed"
  local copies=("$shim" debian/shimx64.efi "$grub" debian/grubx64.efi "$mm" debian/mmx64.efi
                "$fb" debian/fbx64.efi "$csv" debian/BOOTX64.CSV "$work/esp-grub.cfg" debian/grub.cfg
                "$shim" BOOT/BOOTX64.EFI "$grub" BOOT/grubx64.efi "$mm" BOOT/mmx64.efi "$fb" BOOT/fbx64.efi)
  for (( f = 0; f < ${#copies[@]}; f += 2 )); do
    mcopy -i "$esp" "${copies[f]}" "::/EFI/${copies[f+1]}" || die "mcopy ${copies[f]} to $esp failed"
  done
  mdir -/ -b -i "$esp" ::/EFI >&2 || die "mdir $esp failed"
}

# The test hook: a unit at the end of the boot (docs/golden-images.md).
install_hook() {
  local R=$1
  cat >"$R/usr/local/sbin/ka-test-hook" <<'EOF'
#!/bin/sh
# ka test hook (scripts/make-debian-golden.sh --test-hook), run once multi-user.target is
# reached. With a script from QEMU's fw_cfg (-fw_cfg name=opt/ka/run,file=F) it runs that
# script (a test drives the machine); otherwise it reports this system on the console and
# powers it off: the lines a boot test reads.
modprobe -q qemu_fw_cfg 2>/dev/null
run=/sys/firmware/qemu_fw_cfg/by_name/opt/ka/run/raw
if [ -r "$run" ]; then
  echo "KA-HOOK running fw_cfg opt/ka/run"
  sh "$run"
  exit $?
fi
report() { echo "KA-REPORT $*"; }
report "hostname=$(hostname)"
report "machine-id=$(cat /etc/machine-id)"
for k in /etc/ssh/ssh_host_ed25519_key.pub; do
  [ -f "$k" ] && report "ssh-ed25519=$(ssh-keygen -lf "$k" | cut -d' ' -f2)"
done
report "multi-user=$(systemctl is-active multi-user.target)"
failed=$(systemctl --failed --plain --no-legend --no-pager | cut -d' ' -f1 | tr '\n' ' ')
report "failed-units=${failed:-none}"
if out=$(findmnt --verify 2>&1); then report "fstab=ok"; else report "fstab=failed $(echo "$out" | tr '\n' ' ')"; fi
report "root=$(findmnt -no SOURCE /) boot=$(findmnt -no SOURCE /boot 2>/dev/null || echo -) swap=$(tail -n +2 /proc/swaps | cut -d' ' -f1 | tr '\n' ' ')"
report "cmdline=$(cat /proc/cmdline)"
# the firmware (bios or uefi), Secure Boot (the SecureBoot variable's last byte: 1 enforced, 0
# off, - no UEFI), the kernel's own word on it and where /boot/efi comes from (- none)
sb=$(od -An -tu1 -j4 -N1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | tr -d ' ')
if [ -d /sys/firmware/efi ]; then report "firmware=uefi"; else report "firmware=bios"; fi
report "secureboot=${sb:--}"
report "secureboot-kernel=$(dmesg 2>/dev/null | grep -m1 -ioE 'secure boot (enabled|disabled|could not be determined)' || echo -)"
report "esp=$(findmnt -no SOURCE /boot/efi 2>/dev/null || echo -)"
echo "KA-REPORT-END"
systemctl poweroff
EOF
  chmod 0755 "$R/usr/local/sbin/ka-test-hook"
  cat >"$R/etc/systemd/system/ka-test-hook.service" <<'EOF'
# ka test hook (scripts/make-debian-golden.sh --test-hook): see /usr/local/sbin/ka-test-hook
[Unit]
Description=ka test hook: report this system on the console, then power off
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/ka-test-hook
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
EOF
  ln -sf /etc/systemd/system/ka-test-hook.service "$R/etc/systemd/system/multi-user.target.wants/ka-test-hook.service"
}

if [[ -f $IMAGE && $force != 1 ]]; then
  log "image cached: $IMAGE"
  touch "$IMAGE"
else
  build_image
  log "image built: $IMAGE"
fi
flock -u 9
if [[ -n $out ]]; then
  cp --sparse=always "$IMAGE" "$out" || die "copying to $out failed"
  log "copied to $out"
fi
echo "$IMAGE"
