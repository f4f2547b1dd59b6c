#!/usr/bin/env bash
# System test: the whole KA method. `ka serve` clones a golden loop disk (MBR: p1 ext4 /, p2
# extended, p5 logical swap, p6 xfs /srv; every kind of file, tests/lib/golden_disk.bash) onto
# 3 nodes (`ka join`) in network namespaces, each with a 1 GiB loop disk; a 4th node with a disk
# too small for the golden's table joins too and must be refused before anything is written.
# Checks:
#  - exit codes (server 1: one node KO), the report (ok node1..3, ko small: "does not fit"),
#    bytes on the wire below the golden's used bytes (the 1 GiB sparse file and free space do
#    not travel), the report valid against docs/report.schema.json;
#  - partition tables identical to the golden's (sfdisk --dump), filesystems with the golden's
#    types, UUIDs and labels (swap included);
#  - every file of / and /srv equal in content and metadata (ka tree-manifest: modes, owners,
#    times, xattrs, ACLs, capabilities, hardlinks, symlinks, devices, fifos, sparse maps),
#    except the individualised files;
#  - excluded /tmp and /var/cache present and empty with their mode; individualised files
#    changed as specified (hostname node-0N, empty machine-id, no ssh host keys, no udev MAC
#    rule, no NetworkManager MAC binding, no DHCP lease);
#  - the small disk byte-identical to before; no mount or loop device of ka left behind.
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

KA_TIMEOUT=${KA_TIMEOUT:-300}
lt_begin mkfs.xfs mkfs.ext4 mkswap getfattr setfacl setcap ssh-keygen
grep -qw xfs /proc/filesystems || { echo "SKIP: the kernel has no xfs"; exit 77; }
clone_cleanup() { local rc=$?; cc_umount_all; (exit "$rc"); lt_cleanup; }
lt_trap clone_cleanup

echo "== golden: MBR disk image with ext4 /, logical swap, xfs /srv"
golden_mbr_disk "$W/golden.img" 1024 || bed_die "cannot build the golden disk"
cc_table "$W/golden.img" | sed 's/^/    /'

echo "== node disks: 3 x 1 GiB, and one of 600 MiB holding data of its own"
for i in 1 2 3; do
  truncate -s 1G "$W/node$i.img"
  lt_attach "$W/node$i.img" "D$i"
done
truncate -s 600M "$W/small.img"
printf 'label: dos\n,200M,L\n' | sfdisk -q "$W/small.img" >/dev/null
head -c $(( 4 << 20 )) /dev/urandom | dd of="$W/small.img" bs=1M seek=1 conv=notrunc status=none
lt_attach "$W/small.img" DS
small_sum=$(sha256sum <"$DS")

bed_secret "$W/secret"
bed_up 4 || exit 1
S=clone$$
ka_bg 0 "$W/serve.log" serve --nodes 4 --source "$W/golden.img" --session "$S" --secret-file "$W/secret" \
  -x /tmp -x /var/cache --hostname-template 'node-{index:02}' --report "$W/report.json" --progress-interval 1
spid=$BED_LAST_PID
bed_wait_tcp 0 30765 60 || { bed_dump "$W/serve.log"; bed_die "the server did not start"; }
for i in 1 2 3; do
  d=D$i
  ka_bg "$i" "$W/join$i.log" join --disk "${!d}" --server "$(bed_ip 0)" --session "$S" --secret-file "$W/secret" --name "node$i"
  eval "jpid$i=$BED_LAST_PID"
done
ka_bg 4 "$W/join4.log" join --disk "$DS" --server "$(bed_ip 0)" --session "$S" --secret-file "$W/secret" --name small
jpid4=$BED_LAST_PID
logs=("$W/serve.log" "$W/join1.log" "$W/join2.log" "$W/join3.log" "$W/join4.log")

bed_check "server exits 1 (one node refused)" ka_rc_is 1 "$spid"
for i in 1 2 3; do
  p=jpid$i
  bed_check "node$i exits 0" ka_rc_is 0 "${!p}"
done
bed_check "small node exits non-zero" ka_rc_is nz "$jpid4"
bed_check "small node says the layout does not fit" grep -qi "does not fit" "$W/join4.log.err"
bed_check "small disk untouched (byte-identical)" test "$(sha256sum <"$DS")" = "$small_sum"
stream_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$W/report.json" 2>/dev/null || echo 0)
bed_check "report: node1..3 ok, small ko (does not fit)" \
  ka_check_report "$W/report.json" "$stream_bytes" node1,node2,node3 small "does not fit"
bed_check "report: bytes on the wire below the golden's used bytes" python3 - "$W/report.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["clone"]
print(f"    golden used {c['used_bytes']} B, wire per link {c['wire_bytes_per_link']} B, ratio {c['wire_to_used_ratio']:.3f}")
sys.exit(0 if 0 < c["wire_bytes_per_link"] < c["used_bytes"] else 1)
PY
bed_check "server prints the wire/used comparison" grep -q "each link carried" "$W/serve.log"
if ka_have_jsonschema; then
  bed_check "report: valid against docs/report.schema.json" ka_check_report_schema "$W/report.json"
else
  echo "  skip - report schema (python3-jsonschema not installed: scripts/setup.sh)"
fi

echo "== golden manifests"
cc_mount "$W/golden.img" 1 ext4 "$W/g1" || bed_die "cannot mount the golden's p1"
cc_mount "$W/golden.img" 6 xfs "$W/g6" || bed_die "cannot mount the golden's p6"
cc_manifest "$W/g1" "$W/g1.man" tmp var/cache || bed_die "ka tree-manifest failed: $(cat "$W/g1.man.err")"
cc_manifest "$W/g6" "$W/g6.man" || bed_die "ka tree-manifest failed"
cc_filter_individual "$W/g1.man" "$W/g1.cmp"
echo "    / has $(wc -l <"$W/g1.man") entries, /srv $(wc -l <"$W/g6.man")"

fs_ids() { # DISK N: TYPE UUID LABEL of partition N
  local r; r=$(cc_part_range "$1" "$2"); [[ -n $r ]] || return 0; set -- "$1" $r
  blkid -p -o export -O "$2" -S "$3" "$1" | grep -E '^(TYPE|UUID|LABEL)=' | sort | tr '\n' ' '
}
for i in 1 2 3; do
  d=D$i; D=${!d}; m=$W/n$i
  echo "== node$i ($D)"
  cc_table "$D" >"$W/t$i"
  bed_check "node$i: partition table == golden's" lt_same_text <(cc_table "$W/golden.img") "$W/t$i"
  for n in 1 5 6; do
    bed_check "node$i: p$n type/UUID/label == golden's" test "$(fs_ids "$D" $n)" = "$(fs_ids "$W/golden.img" $n)"
  done
  cc_mount "$D" 1 ext4 "$m.1" || { bed_check "node$i: p1 mounts" false; continue; }
  cc_mount "$D" 6 xfs "$m.6" || { bed_check "node$i: p6 mounts" false; continue; }
  cc_manifest "$m.1" "$m.1.man" tmp var/cache
  cc_manifest "$m.6" "$m.6.man"
  cc_filter_individual "$m.1.man" "$m.1.cmp"
  bed_check "node$i: / equal to the golden (but individualised files)" cc_same_manifest "$W/g1.cmp" "$m.1.cmp"
  bed_check "node$i: /srv equal to the golden" cc_same_manifest "$W/g6.man" "$m.6.man"
  bed_check "node$i: /tmp empty, mode 1777" test -z "$(ls -A "$m.1/tmp")" -a "$(stat -c %a "$m.1/tmp")" = 1777
  bed_check "node$i: /var/cache empty, mode as golden" \
    test -z "$(ls -A "$m.1/var/cache")" -a "$(stat -c %a:%u:%g "$m.1/var/cache")" = "$(stat -c %a:%u:%g "$W/g1/var/cache")"
  bed_check "node$i: golden's /tmp and /var/cache were not empty" test -n "$(ls -A "$W/g1/tmp")" -a -n "$(ls -A "$W/g1/var/cache")"
  bed_check "node$i: hostname node-0$i" test "$(cat "$m.1/etc/hostname")" = "node-0$i"
  bed_check "node$i: /etc/hosts names node-0$i on 127.0.1.1" grep -qE "^127\.0\.1\.1[[:space:]]+node-0$i" "$m.1/etc/hosts"
  bed_check "node$i: machine-id empty" test -f "$m.1/etc/machine-id" -a ! -s "$m.1/etc/machine-id"
  bed_check "node$i: no ssh host keys" test -z "$(ls "$m.1"/etc/ssh/ssh_host_* 2>/dev/null)"
  bed_check "node$i: golden had ssh host keys" test -n "$(ls "$W/g1"/etc/ssh/ssh_host_* 2>/dev/null)"
  bed_check "node$i: no udev persistent net rule" test ! -e "$m.1/etc/udev/rules.d/70-persistent-net.rules"
  bed_check "node$i: NetworkManager keyfile without mac-address" \
    bash -c "! grep -q '^mac-address=' '$m.1/etc/NetworkManager/system-connections/wired.nmconnection'"
  bed_check "node$i: no DHCP lease" test -z "$(ls -A "$m.1/var/lib/dhcp")"
done
cc_umount_all

echo "== nothing left behind"
bed_check "no ka mounts left" bash -c "! grep -q ' /run/ka/' /proc/self/mountinfo"
bed_check "only the test's own loop devices left" bash -c "[[ \$(losetup -l -n -O BACK-FILE | grep -c '$W/') -eq 4 ]]"

if (( BED_FAILS )); then
  bed_dump "${logs[@]}"
  echo "clone: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "clone: PASS"
