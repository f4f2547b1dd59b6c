#!/usr/bin/env bash
# System test: the seed's options of `ka serve`, a golden that is a block device with a partition
# mounted read-only by the operator, and a node killed in the middle of its clone.
#  A. bad options fail before anything starts (exit 2, the golden untouched): --bootloader lilo on
#     a golden without lilo, -x of a missing directory, --layout changing a filesystem type,
#     -D of a missing partition.
#  B. golden = a loop device over the golden image, its p1 mounted read-only at a directory of the
#     test; options from --config (exclude, hostname template), -p LAYOUT (the last partition
#     grows with fill), -D 6 (the xfs copied block for block), -M BOOTCODE, -d 1 (stagger).
#     node1, node2 (1.5 GiB disks) clone; node3 is killed (SIGTERM) while it extracts.
#  Checks: the layout as the desc says (p6 larger than the golden's), p1 files equal, p6's first
#  bytes equal to the golden's p6 (raw), the boot code's first 440 bytes written and the disk
#  signature kept, hostnames from the template, node2 released 1 s after node1, node3's disk left
#  without table or boot code (marked not cloned) and the report KO for it, the golden image
#  byte-identical and its operator mount still in place.
# Env: KA_BIN, KA_TIMEOUT (s, default 300), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=layout_lib.bash
. "$(dirname "$0")/layout_lib.bash"
# shellcheck source=../lib/golden_disk.bash
. "$(dirname "$0")/../lib/golden_disk.bash"
# shellcheck source=../lib/clone_check.bash
. "$(dirname "$0")/../lib/clone_check.bash"
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"

KA_TIMEOUT=${KA_TIMEOUT:-300}
lt_begin mkfs.xfs mkfs.ext4 mkswap getfattr setfacl setcap ssh-keygen tc
grep -qw xfs /proc/filesystems || { echo "SKIP: the kernel has no xfs"; exit 77; }
GM=$W/operator-mount
opts_cleanup() {
  local rc=$?
  cc_umount_all
  mountpoint -q "$GM" && umount "$GM"
  (exit "$rc"); lt_cleanup
}
lt_trap opts_cleanup

RUN_KA_BEFORE=$(ls /run/ka 2>/dev/null | sort | tr '\n' ' ')
golden_mbr_disk "$W/golden.img" 1024 || bed_die "cannot build the golden disk"
golden_sum=$(sha256sum <"$W/golden.img")

echo "== A. bad options: refused before anything starts"
refused() { # WHAT REGEX ARGS...: ka serve ARGS exits 2 and says REGEX
  local what=$1 re=$2; shift 2
  timeout 60 "$KA_BIN" serve --nodes 1 --source "$W/golden.img" --port 31999 --discovery-port 31998 "$@" \
    >"$W/bad.out" 2>"$W/bad.err"
  local rc=$?
  grep -qiE -- "$re" "$W/bad.err" && (( rc == 2 )) && return 0
  echo "    $what: exit $rc; stderr: $(tail -2 "$W/bad.err")"
  return 1
}
printf 'linux 495 boot\nextended fill\nlogical swap 32\nlogical linux fill fs=btrfs\n' >"$W/badfs.desc"
bed_check "--bootloader lilo without lilo in the golden" refused lilo "no /sbin/lilo" --bootloader lilo
bed_check "-x of a missing directory" refused exclude "no such directory" -x /no/such/dir
bed_check "--layout changing a filesystem type" refused layout "keeps filesystem types" --layout "$W/badfs.desc"
bed_check "-D of a missing partition" refused raw "no such partition" -D 9
bed_check "golden image untouched by the refusals" test "$(sha256sum <"$W/golden.img")" = "$golden_sum"
bed_check "nothing of ka mounted after the refusals" bash -c "! grep -q ' /run/ka/' /proc/self/mountinfo"

echo "== B. golden as a block device, p1 mounted read-only by the operator"
lt_attach "$W/golden.img" G
partx -a "$G" || bed_die "partx -a $G failed"
mkdir -p "$GM"
mount -o ro,noload "${G}p1" "$GM" || bed_die "cannot mount ${G}p1"
for i in 1 2; do truncate -s 1536M "$W/node$i.img"; lt_attach "$W/node$i.img" "D$i"; done
truncate -s 1G "$W/node3.img"; lt_attach "$W/node3.img" D3
head -c 446 /dev/urandom >"$W/bootcode.bin"
printf 'linux 495 boot\nextended fill\nlogical swap 32\nlogical linux fill\n' >"$W/grow.desc"
cat >"$W/replication.conf" <<'CONF'
# ka serve defaults (the seed's replication.conf)
exclude = ["/tmp", "/var/cache"]
hostname-template = n{index}-{ip}
bootloader = none
CONF
bed_secret "$W/secret"
bed_up 3 || exit 1
bed_shape_dev "$BED_SW" p3 100mbit || bed_die "cannot shape the link to node3"
S=opts$$
ka_bg 0 "$W/serve.log" serve --config "$W/replication.conf" --nodes 3 --source "$G" --session "$S" \
  --secret-file "$W/secret" -p "$W/grow.desc" -D 6 -M "$W/bootcode.bin" -d 1 --report "$W/report.json" \
  --progress-interval 1
spid=$BED_LAST_PID
bed_wait_tcp 0 30765 60 || { bed_dump "$W/serve.log"; bed_die "the server did not start"; }
for i in 1 2 3; do
  d=D$i
  ka_bg "$i" "$W/join$i.log" join --disk "${!d}" --server "$(bed_ip 0)" --session "$S" --secret-file "$W/secret" \
    --name "node$i"
  eval "jpid$i=$BED_LAST_PID"
done
logs=("$W/serve.log" "$W/join1.log" "$W/join2.log" "$W/join3.log")
# shellcheck disable=SC2154  # set by eval above
if fault_wait_log "$W/join3.log.err" "extracting partition 1" 90; then
  sleep 1
  k=$(ka_real_pid "$jpid3") && kill -TERM "$k"
else
  bed_check "node3 started extracting" false
fi

bed_check "server exits 1 (node3 KO)" ka_rc_is 1 "$spid"
# shellcheck disable=SC2154
bed_check "node1 exits 0" ka_rc_is 0 "$jpid1"
# shellcheck disable=SC2154
bed_check "node2 exits 0" ka_rc_is 0 "$jpid2"
bed_check "node3 exits 143 (SIGTERM, after cleaning up)" ka_rc_is 143 "$jpid3"
stream_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$W/report.json" 2>/dev/null || echo 0)
bed_check "report: node1, node2 ok, node3 ko" ka_check_report "$W/report.json" "$stream_bytes" node1,node2 node3
bed_check "node3 logged that its disk is marked not cloned" grep -q "marked as not cloned" "$W/join3.log.err"
bed_check "node3's disk has no partition table" bash -c "! sfdisk -d '$D3' >/dev/null 2>&1"
bed_check "node3's first MiB is zero" cmp -s -n 1048576 "$D3" /dev/zero
bed_check "server used the operator's mount (bind)" grep -q "read-only bind mount" "$W/serve.log.err"
bed_check "server streamed p6 block for block" grep -q "partition 6 .*block for block" "$W/serve.log.err"
bed_check "node2 released 1 s after node1 (--stagger 1)" grep -q "released in 1.0 s" "$W/join2.log.err"

cc_manifest "$GM" "$W/g1.man" tmp var/cache   # the golden's p1, as the operator mounted it
cc_filter_individual "$W/g1.man" "$W/g1.cmp"
read -r g6_off g6_size < <(cc_part_range "$W/golden.img" 6)
sig=$(dd if="$W/golden.img" bs=1 skip=440 count=6 status=none | od -An -tx1)
for i in 1 2; do
  d=D$i; D=${!d}; m=$W/n$i
  echo "== node$i ($D)"
  lt_table "$D" >"$W/t$i"
  read -r n6_start n6_size < <(awk '$1 == 6 { print $2, $3 }' "$W/t$i")
  bed_check "node$i: p6 grew (fill): $(( n6_size * 512 )) > $g6_size bytes" test $(( n6_size * 512 )) -gt "$g6_size"
  bed_check "node$i: p1 starts and ends as the golden's" \
    test "$(awk '$1 == 1 { print $2, $3 }' "$W/t$i")" = "$(lt_table "$W/golden.img" | awk '$1 == 1 { print $2, $3 }')"
  bed_check "node$i: p6 holds the golden's p6 block for block" \
    cmp -s -n "$g6_size" <(dd if="$D" bs=1M iflag=skip_bytes skip=$(( n6_start * 512 )) count=$(( g6_size >> 20 )) status=none) \
    <(dd if="$W/golden.img" bs=1M iflag=skip_bytes skip="$g6_off" count=$(( g6_size >> 20 )) status=none)
  bed_check "node$i: boot code = the first 440 bytes of -M" cmp -s -n 440 "$D" "$W/bootcode.bin"
  bed_check "node$i: disk signature kept" test "$(dd if="$D" bs=1 skip=440 count=6 status=none | od -An -tx1)" = "$sig"
  cc_mount "$D" 1 ext4 "$m.1" || { bed_check "node$i: p1 mounts" false; continue; }
  cc_manifest "$m.1" "$m.1.man" tmp var/cache
  cc_filter_individual "$m.1.man" "$m.1.cmp"
  bed_check "node$i: / equal to the golden (but individualised files)" cc_same_manifest "$W/g1.cmp" "$m.1.cmp"
  bed_check "node$i: /tmp and /var/cache empty (from --config)" \
    test -z "$(ls -A "$m.1/tmp")" -a -z "$(ls -A "$m.1/var/cache")"
  bed_check "node$i: hostname n$i-10-231-0-$(( i + 1 )) (template from --config)" \
    test "$(cat "$m.1/etc/hostname")" = "n$i-10-231-0-$(( i + 1 ))"
done
cc_umount_all
bed_check "the operator's read-only mount of the golden is still there" mountpoint -q "$GM"
umount "$GM"
partx -d "$G" >/dev/null 2>&1
bed_check "golden image byte-identical after the session" test "$(sha256sum <"$W/golden.img")" = "$golden_sum"
bed_check "no ka mounts left" bash -c "! grep -q ' /run/ka/' /proc/self/mountinfo"
bed_check "no ka mount point directories left (node3 was killed)" \
  test "$(ls /run/ka 2>/dev/null | sort | tr '\n' ' ')" = "$RUN_KA_BEFORE"

if (( BED_FAILS )); then
  bed_dump "${logs[@]}"
  echo "clone_options: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "clone_options: PASS"
