# shellcheck shell=bash
# tests/lib/varied_tree.bash - trees and identity files that a clone must reproduce (or, for the
# identity files, individualise). Used by tests/lib/golden_disk.bash, scripts/make-golden.sh and
# the system tests. Source it from bash; it does not change shell options. Needs root (mknod,
# chown, trusted.* xattrs, setcap) and: coreutils, python3, attr, acl, libcap2-bin, openssh-client.
#
#   varied_tree DIR               every kind of entry (see the list at varied_tree below) in DIR,
#                                 which must be on a real ext4/xfs/btrfs mount (xattrs, ACLs, caps);
#                                 DIR is created if needed; running it again over its tree is fine
#   varied_etc ROOT [HOST [MAC]]  the machine identity files under ROOT (a system root):
#                                 hostname, hosts, machine-id, ssh host keys, udev net rule, dhclient
#                                 lease, NetworkManager keyfile. HOST defaults to golden, MAC to
#                                 52:54:00:6b:61:01. Sets VARIED_HOSTNAME, VARIED_MAC, VARIED_IP,
#                                 VARIED_MACHINE_ID for the caller.
#   varied_accounts ROOT          /etc/passwd, group, shadow, gshadow: root, the usual system
#                                 accounts, shadow (gid 42) and the user ada (1000:1000)
#   varied_junk ROOT [MIB]        junk in ROOT/tmp (mode 1777) and ROOT/var/cache (MIB, default 8,
#                                 of it): what a clone would --exclude
#   varied_random SEED BYTES      BYTES of deterministic incompressible data on stdout
#
# Everything is deterministic (same names, modes, owners, times, contents for the same arguments)
# except the ssh host keys: ssh-keygen cannot be seeded, so every call makes new keys.
# Every function carries on after a failed step, names it on stderr and returns 1 at the end
# (set -e is no help in functions called from `if`, `||` or bed_check).

VARIED_TIME=${VARIED_TIME:-2001-02-03 04:05:06 UTC}        # mtime of every varied_tree entry
VARIED_SPARSE_SIZE=$(( 1 << 30 ))                           # logical size of sparse.img
VARIED_SPARSE_DATA=("0:1" "300:2" "1023:1")                 # MiB offset:MiB count of its data
VARIED_LARGE_MIB=${VARIED_LARGE_MIB:-64}                    # size of files/large.bin
# shellcheck disable=SC2034  # read by tests
VARIED_LONG_DIR=long/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/cccccccccccccccccccccccccccccccccccccccccccccccccc/dddddddddddddddddddddddddddddddddddddddddddddddddd

_VARIED_OK=1
# _varied_step CMD...: run CMD; on failure name it on stderr and remember the failure
_varied_step() {
  "$@" && return 0
  local rc=$?
  printf 'varied: step failed (rc %d):' "$rc" >&2
  printf ' %q' "$@" >&2
  echo >&2
  _VARIED_OK=0
  return "$rc"
}
# _varied_put FILE TEXT: write TEXT (printf %s) to FILE
_varied_put() { printf '%s' "$2" >"$1"; }
# _varied_putrand FILE SEED BYTES
_varied_putrand() { varied_random "$2" "$3" >"$1"; }
# _varied_end NAME: the function's status
_varied_end() {
  if (( _VARIED_OK )); then return 0; fi
  echo "varied: $1 failed (see above)" >&2
  return 1
}

varied_random() {
  python3 -c '
import random, sys
r = random.Random(sys.argv[1]); n = int(sys.argv[2]); out = sys.stdout.buffer
while n > 0:
    k = min(n, 4 << 20); out.write(r.randbytes(k)); n -= k
' "$1" "$2"
}

# varied_tree DIR: fills DIR with
#   dirs/    modes 0700, 0755, 2775 (1000:1000), 1777; the 2775 one has an access and a default ACL
#   files/   plain text, empty, large.bin (VARIED_LARGE_MIB MiB random), sparse.img (1 GiB logical,
#            data at 0, 300 and 1023 MiB), owners 0:0, 1000:1000, 1234:4321 (no passwd entry),
#            setuid root (4755), setgid 1000 (2755), a file capability (cap_net_raw+ep),
#            xattrs user.ka=1 and trusted.ka=golden, an access ACL (u:1000:rw, g:4321:r)
#   links/   hardlinks: links/one, links/two and other/three are one inode (3 links)
#   symlinks/ relative, absolute, dangling, to a directory
#   special/ char device 1,3 (c, like /dev/null), block device 7,200 (b), fifo
#   names/   a space, é, 日本語, an emoji, a newline, a leading dash
#   long/    a path of more than 200 bytes ($VARIED_LONG_DIR/file.txt)
# and finally sets atime and mtime of every entry, directories last, to VARIED_TIME.
varied_tree() {
  local d=$1 i off cnt
  _VARIED_OK=1
  [[ -n $d ]] || { echo "usage: varied_tree DIR" >&2; return 2; }
  _varied_step mkdir -p "$d" || return 1
  _varied_step mkdir -p "$d"/dirs/{private,public,shared,sticky} "$d"/files "$d"/links "$d"/other \
    "$d"/symlinks "$d"/special "$d"/names "$d/$VARIED_LONG_DIR"
  _varied_step chmod 0700 "$d/dirs/private"
  _varied_step chmod 0755 "$d/dirs/public"
  _varied_step chown 1000:1000 "$d/dirs/shared"
  _varied_step chmod 2775 "$d/dirs/shared"
  _varied_step chmod 1777 "$d/dirs/sticky"
  _varied_step _varied_put "$d/dirs/private/secret.txt" $'only root reads this\n'
  _varied_step chmod 0600 "$d/dirs/private/secret.txt"
  _varied_step _varied_put "$d/dirs/public/readme.txt" $'everyone reads this\n'
  _varied_step _varied_put "$d/dirs/shared/project.txt" $'group work\n'
  _varied_step chown 1000:1000 "$d/dirs/shared/project.txt"
  _varied_step _varied_put "$d/dirs/sticky/left-by-1234" $'sticky bit keeps this\n'
  _varied_step chown 1234:4321 "$d/dirs/sticky/left-by-1234"
  # ACLs on the setgid dir: access (user 1000 rwx, group 4321 rx) and default (inherited)
  _varied_step setfacl -m u:1000:rwx,g:4321:rx "$d/dirs/shared"
  _varied_step setfacl -d -m u:1000:rwx,g:4321:rx,o::- "$d/dirs/shared"
  _varied_step _varied_put "$d/dirs/shared/inherits-acl.txt" $'created after the default ACL\n'

  # files: contents, sizes, owners, modes
  _varied_step _varied_put "$d/files/plain.txt" $'The KA method clones machines.\n'
  _varied_step _varied_put "$d/files/empty" ''
  _varied_step _varied_putrand "$d/files/large.bin" "ka-large" $(( VARIED_LARGE_MIB << 20 ))
  _varied_step truncate -s "$VARIED_SPARSE_SIZE" "$d/files/sparse.img"
  for i in "${VARIED_SPARSE_DATA[@]}"; do
    off=${i%%:*} cnt=${i##*:}
    _varied_step _varied_putrand "$d/files/sparse.chunk" "ka-sparse-$off" $(( cnt << 20 ))
    _varied_step dd if="$d/files/sparse.chunk" of="$d/files/sparse.img" bs=1M seek="$off" \
      conv=notrunc status=none
  done
  rm -f "$d/files/sparse.chunk"
  _varied_step _varied_put "$d/files/owner-root" $'root\n'
  _varied_step chown 0:0 "$d/files/owner-root"
  _varied_step _varied_put "$d/files/owner-ada" $'ada\n'
  _varied_step chown 1000:1000 "$d/files/owner-ada"
  _varied_step _varied_put "$d/files/owner-unknown" $'ids without a passwd entry\n'
  _varied_step chown 1234:4321 "$d/files/owner-unknown"
  # chown clears setuid/setgid and capabilities: owners first, then modes, then caps
  _varied_step _varied_put "$d/files/setuid-root" $'#!/bin/sh\necho setuid\n'
  _varied_step chown 0:0 "$d/files/setuid-root"
  _varied_step chmod 4755 "$d/files/setuid-root"
  _varied_step _varied_put "$d/files/setgid-ada" $'#!/bin/sh\necho setgid\n'
  _varied_step chown 0:1000 "$d/files/setgid-ada"
  _varied_step chmod 2755 "$d/files/setgid-ada"
  _varied_step _varied_put "$d/files/ping-cap" $'#!/bin/sh\necho cap_net_raw\n'
  _varied_step chmod 0755 "$d/files/ping-cap"
  _varied_step setcap cap_net_raw+ep "$d/files/ping-cap"
  _varied_step _varied_put "$d/files/xattrs" $'has user.ka and trusted.ka\n'
  _varied_step setfattr -n user.ka -v 1 "$d/files/xattrs"
  _varied_step setfattr -n trusted.ka -v golden "$d/files/xattrs"
  _varied_step _varied_put "$d/files/acl" $'has an access ACL\n'
  _varied_step chmod 0640 "$d/files/acl"
  _varied_step setfacl -m u:1000:rw,g:4321:r "$d/files/acl"
  _varied_step chmod 0444 "$d/files/plain.txt"

  # hardlinks: three names, one in another directory
  _varied_step _varied_put "$d/links/one" $'one inode, three names\n'
  rm -f "$d/links/two" "$d/other/three"
  _varied_step ln "$d/links/one" "$d/links/two"
  _varied_step ln "$d/links/one" "$d/other/three"

  # symlinks
  _varied_step ln -sfn ../files/plain.txt "$d/symlinks/relative"
  _varied_step ln -sfn /etc/hostname "$d/symlinks/absolute"
  _varied_step ln -sfn ../no/such/target "$d/symlinks/dangling"
  _varied_step ln -sfn ../dirs/public "$d/symlinks/to-dir"

  # special files (rm first: varied_tree may run again over its own tree)
  rm -f "$d/special/char-1-3" "$d/special/block-7-200" "$d/special/fifo"
  _varied_step mknod -m 0666 "$d/special/char-1-3" c 1 3
  _varied_step mknod -m 0660 "$d/special/block-7-200" b 7 200
  _varied_step mkfifo -m 0644 "$d/special/fifo"

  # names
  _varied_step _varied_put "$d/names/with space" $'space\n'
  _varied_step _varied_put "$d/names/café-é" $'e acute\n'
  _varied_step _varied_put "$d/names/日本語" $'nihongo\n'
  _varied_step _varied_put "$d/names/rocket-🚀" $'emoji\n'
  _varied_step _varied_put "$d/names/new"$'\n'"line" $'a newline in the name\n'
  _varied_step _varied_put "$d/names/-leading-dash" $'leading dash\n'
  _varied_step _varied_put "$d/$VARIED_LONG_DIR/file.txt" $'deep\n'

  # times last: every non-directory, then directories children first (the entries written above
  # changed their parents' mtimes). -h: the links themselves, never opening a device or fifo.
  _varied_step find "$d" ! -type d -exec touch -c -h -d "$VARIED_TIME" {} +
  _varied_step find "$d" -depth -type d -exec touch -c -h -d "$VARIED_TIME" {} +
  _varied_end varied_tree
}

# varied_accounts ROOT: passwd, group, shadow (0640 root:shadow, gid 42), gshadow
varied_accounts() {
  local r=$1
  _VARIED_OK=1
  [[ -n $r ]] || { echo "usage: varied_accounts ROOT" >&2; return 2; }
  _varied_step mkdir -p "$r/etc"
  _varied_step _varied_put "$r/etc/passwd" 'root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
ada:x:1000:1000:Ada Lovelace,,,:/home/ada:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
'
  _varied_step _varied_put "$r/etc/group" 'root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:ada
tty:x:5:
disk:x:6:
shadow:x:42:
users:x:100:ada
ada:x:1000:
nogroup:x:65534:
'
  # root: password "ka" (SHA-512 crypt, fixed salt); ada: locked
  # shellcheck disable=SC2016  # a literal crypt hash
  _varied_step _varied_put "$r/etc/shadow" 'root:$6$kagolden$7ZoIafDB0TTKPhBA7cMTAjka/jGxK6LVZ39cOmZhk1hp9lxpDAXsQlN8WAD8Cg6xGQC5FAxhOvrXlcwGRo/TX/:19723:0:99999:7:::
daemon:*:19723:0:99999:7:::
bin:*:19723:0:99999:7:::
sys:*:19723:0:99999:7:::
sshd:*:19723:0:99999:7:::
ada:!:19723:0:99999:7:::
nobody:*:19723:0:99999:7:::
'
  _varied_step _varied_put "$r/etc/gshadow" 'root:*::
adm:*::ada
shadow:*::
users:*::ada
ada:!::
'
  _varied_step chmod 0644 "$r/etc/passwd" "$r/etc/group"
  _varied_step chown 0:42 "$r/etc/shadow" "$r/etc/gshadow"
  _varied_step chmod 0640 "$r/etc/shadow" "$r/etc/gshadow"
  _varied_end varied_accounts
}

# varied_etc ROOT [HOST [MAC]]: the files that make a machine this machine
varied_etc() {
  local r=$1 host=${2:-golden} mac=${3:-52:54:00:6b:61:01} t
  _VARIED_OK=1
  [[ -n $r ]] || { echo "usage: varied_etc ROOT [HOST [MAC]]" >&2; return 2; }
  # shellcheck disable=SC2034  # for the caller
  VARIED_HOSTNAME=$host
  VARIED_MAC=${mac,,}
  # the last two bytes of the MAC make the host part of the address: 10.231.X.Y
  VARIED_IP=10.231.$(( 16#${VARIED_MAC:12:2} )).$(( 16#${VARIED_MAC:15:2} ))
  VARIED_MACHINE_ID=$(printf 'ka-machine-id:%s' "$host" | md5sum | cut -c1-32)
  _varied_step mkdir -p "$r/etc/ssh" "$r/etc/udev/rules.d" "$r/var/lib/dhcp" "$r/var/lib/dbus" \
    "$r/etc/NetworkManager/system-connections"
  _varied_step _varied_put "$r/etc/hostname" "$host"$'\n'
  _varied_step _varied_put "$r/etc/hosts" "127.0.0.1	localhost
127.0.1.1	$host
$VARIED_IP	$host.ka.lan $host

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
"
  _varied_step _varied_put "$r/etc/machine-id" "$VARIED_MACHINE_ID"$'\n'
  _varied_step chmod 0444 "$r/etc/machine-id"
  _varied_step ln -sfn /etc/machine-id "$r/var/lib/dbus/machine-id"
  for t in rsa ecdsa ed25519; do
    rm -f "$r/etc/ssh/ssh_host_${t}_key" "$r/etc/ssh/ssh_host_${t}_key.pub"
    _varied_step ssh-keygen -q -t "$t" -N '' -C "root@$host" -f "$r/etc/ssh/ssh_host_${t}_key"
    _varied_step chmod 0600 "$r/etc/ssh/ssh_host_${t}_key"
    _varied_step chmod 0644 "$r/etc/ssh/ssh_host_${t}_key.pub"
  done
  _varied_step _varied_put "$r/etc/udev/rules.d/70-persistent-net.rules" "# This file was automatically generated by the /lib/udev/write_net_rules
# program, run by the persistent-net-generator.rules rules file.
#
# You can modify it, as long as you keep each rule on a single line.

# PCI device 0x1af4:0x1000 (virtio-pci)
SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", ATTR{address}==\"$VARIED_MAC\", ATTR{dev_id}==\"0x0\", ATTR{type}==\"1\", KERNEL==\"eth*\", NAME=\"eth0\"
"
  _varied_step _varied_put "$r/var/lib/dhcp/dhclient.eth0.leases" "lease {
  interface \"eth0\";
  fixed-address $VARIED_IP;
  option subnet-mask 255.255.0.0;
  option routers 10.231.255.254;
  option dhcp-lease-time 86400;
  option dhcp-message-type 5;
  option domain-name-servers 10.231.255.254;
  option dhcp-server-identifier 10.231.255.254;
  option host-name \"$host\";
  option domain-name \"ka.lan\";
  renew 3 2024/01/03 10:00:00;
  rebind 3 2024/01/03 19:00:00;
  expire 4 2024/01/04 00:00:00;
}
"
  _varied_step _varied_put "$r/etc/NetworkManager/system-connections/wired.nmconnection" "[connection]
id=wired
uuid=6b610000-0000-4000-8000-00000000e701
type=ethernet
autoconnect-priority=-999
interface-name=eth0
timestamp=1704067200

[ethernet]
mac-address=${VARIED_MAC^^}

[ipv4]
dhcp-hostname=$host
method=auto

[ipv6]
addr-gen-mode=stable-privacy
method=auto

[proxy]
"
  _varied_step chmod 0700 "$r/etc/NetworkManager/system-connections"
  _varied_step chmod 0600 "$r/etc/NetworkManager/system-connections/wired.nmconnection"
  _varied_end varied_etc
}

# varied_junk ROOT [MIB]: caches and temporary files (candidates for --exclude)
varied_junk() {
  local r=$1 mib=${2:-8} i
  _VARIED_OK=1
  [[ -n $r ]] || { echo "usage: varied_junk ROOT [MIB]" >&2; return 2; }
  _varied_step mkdir -p "$r/tmp/.X11-unix" "$r/var/tmp" "$r/var/cache/apt/archives/partial" \
    "$r/var/cache/man" "$r/var/cache/debconf"
  _varied_step chmod 1777 "$r/tmp" "$r/tmp/.X11-unix" "$r/var/tmp"
  _varied_step _varied_put "$r/tmp/junk-1.txt" $'scratch\n'
  _varied_step _varied_putrand "$r/tmp/junk-2.bin" ka-tmp-2 65536
  _varied_step _varied_put "$r/tmp/.lock-golden" "4242"$'\n'
  _varied_step _varied_put "$r/var/tmp/old-session" $'stale\n'
  _varied_step _varied_putrand "$r/var/cache/apt/pkgcache.bin" ka-pkgcache $(( (mib << 20) / 4 ))
  _varied_step _varied_putrand "$r/var/cache/apt/srcpkgcache.bin" ka-srcpkgcache $(( (mib << 20) / 4 ))
  for i in 1 2; do
    _varied_step _varied_putrand "$r/var/cache/apt/archives/junk${i}_1.0_amd64.deb" "ka-deb-$i" \
      $(( (mib << 20) / 4 ))
  done
  _varied_step _varied_put "$r/var/cache/apt/archives/lock" ''
  _varied_step _varied_put "$r/var/cache/man/index.db" $'man index\n'
  _varied_step _varied_put "$r/var/cache/debconf/config.dat" $'Name: ka/golden\nValue: true\n'
  _varied_end varied_junk
}
