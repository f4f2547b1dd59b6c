// Text of the stage1 /init and udhcpc scripts (see stage1_init.h).
#include "netboot/stage1_init.h"

namespace ka::netboot {
namespace {

constexpr char kInit[] = R"SH(#!/bin/sh
# ka stage1 /init: written by `ka netboot build` (see docs/netboot-build.md).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux
mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mkdir -p /run/ka
echo "ka stage1 (kernel @KERNEL_VERSION@)"

# Kernel modules for the devices present. Devices appear once their bus driver is
# loaded (virtio_pci, then virtio_net and virtio_blk; virtio_scsi or ahci, then a
# SCSI scan finds the disk, which needs sd_mod): load again, a second apart, until
# the devices and modules have stayed the same for two seconds (at most 12 s).
load_modules() {
  for alias in $(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u); do
    modprobe -q -b "$alias"
  done
  modprobe -q crc32c_generic
}
load_modules
last=-1
stable=0
for pass in 1 2 3 4 5 6 7 8 9 10 11 12; do
  sleep 1
  load_modules
  now=$(cat /sys/bus/*/devices/*/modalias /proc/modules 2>/dev/null | wc -l)
  if [ "$now" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
  [ "$stable" -ge 2 ] && break
  last=$now
done
# Filesystems have no device to announce them: load those the node may create
# or mount (busybox mount without -t only tries the filesystems already loaded).
for m in ext4 xfs btrfs vfat nls_cp437 nls_iso8859_1 nls_utf8 nls_ascii loop efivarfs; do
  modprobe -q "$m"
done
echo "ka stage1: modules loaded: $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"

# UEFI machines: the firmware's variables (boot entries) for efibootmgr, from stage2.
if [ -d /sys/firmware/efi ]; then
  if mount -t efivarfs efivarfs /sys/firmware/efi/efivars; then
    echo "ka stage1: UEFI, efivarfs mounted on /sys/firmware/efi/efivars"
  else
    echo "ka stage1: UEFI, but efivarfs could not be mounted on /sys/firmware/efi/efivars"
  fi
fi

# Network: the interface the machine PXE-booted from (BOOTIF=01-aa-bb-..), else
# every ethernet interface in turn until one gets a DHCP lease.
ip link set lo up
bootmac=
for word in $(cat /proc/cmdline); do
  case "$word" in
    BOOTIF=*) bootmac=$(echo "${word#BOOTIF=}" | sed 's/^[0-9a-fA-F][0-9a-fA-F]-//' | tr 'A-F-' 'a-f:') ;;
  esac
done
ifaces=
bootif=
for dir in /sys/class/net/*; do
  iface=${dir##*/}
  [ "$iface" = lo ] && continue
  [ "$(cat "$dir/type" 2>/dev/null)" = 1 ] || continue
  ip link set "$iface" up
  ifaces="$ifaces $iface"
  [ -n "$bootmac" ] && [ "$(cat "$dir/address")" = "$bootmac" ] && bootif=$iface
done
[ -n "$bootif" ] && ifaces=$bootif
lease=
for iface in $ifaces; do
  echo "ka stage1: DHCP on $iface"
  if udhcpc -i "$iface" -n -q -t 5 -T 2 -s /etc/udhcpc.script; then
    lease=$iface
    break
  fi
done
if [ -z "$lease" ]; then
  echo "ka stage1: no DHCP lease on any interface (${ifaces:-none found}: is a network driver missing?)"
fi

echo "ka stage1: starting ka netboot stage1"
/usr/bin/ka netboot stage1
status=$?
echo "ka stage1: ka netboot stage1 returned with status $status; starting a shell on the console"
while true; do
  setsid cttyhack sh
  echo "ka stage1: shell exited; starting another"
done
)SH";

constexpr char kUdhcpc[] = R"SH(#!/bin/sh
# udhcpc event script of ka stage1: written by `ka netboot build`.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    if [ -n "$router" ]; then
      for r in $router; do
        ip route replace default via "$r" dev "$interface" && break
      done
    fi
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    [ -n "$hostname" ] && hostname "$hostname"
    mkdir -p /run/ka
    {
      echo "interface=$interface"
      echo "ip=$ip"
      echo "mask=$mask"
      echo "router=$router"
      echo "dns=$dns"
      echo "serverid=$serverid"
      echo "siaddr=$siaddr"
    } > "/run/ka/dhcp-$interface.env"
    echo "ka stage1: $interface has $ip/${mask:-24}${router:+ via $router}"
    ;;
esac
exit 0
)SH";

}  // namespace

std::string Stage1InitScript(const std::string& kernel_version) {
  std::string s = kInit;
  const std::string key = "@KERNEL_VERSION@";
  for (size_t p = s.find(key); p != std::string::npos; p = s.find(key)) s.replace(p, key.size(), kernel_version);
  return s;
}

std::string UdhcpcScript() { return kUdhcpc; }

}  // namespace ka::netboot
