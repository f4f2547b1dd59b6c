#!/usr/bin/env bash
# Installs every Debian 12 package ka needs to build, test, benchmark and run its demo.
# Idempotent: packages already present are skipped by apt-get. Must run as root.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: must run as root (apt-get install, network namespaces, loop devices)" >&2
  exit 1
fi

BUILD_PKGS=(
  build-essential g++ cmake ninja-build pkg-config git ccache
  libzstd-dev libsodium-dev libssl-dev libarchive-dev
  libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # scripts/fuzz.sh: clang with libFuzzer and the sanitizer runtimes (-fsanitize=fuzzer,address,
  # undefined), and llvm-symbolizer (llvm) for readable sanitizer stack traces
  clang libclang-rt-14-dev llvm
  # scripts/lint.sh: the format and clang-tidy checks of the lines a change touches
  clang-format clang-tidy
)
RUN_PKGS=(
  iproute2 iputils-ping procps psmisc util-linux fdisk
  coreutils xxd python3 time
  e2fsprogs dosfstools xfsprogs btrfs-progs jfsutils reiserfsprogs
  acl attr libcap2-bin kmod busybox-static openssh-client zstd
  chromium   # headless browser of tests/system/dashboard.sh (the --web dashboard page)
  # tests/system/metrics.sh: scrapes the dashboard's /metrics and checks the report against
  # docs/report.schema.json
  curl python3-jsonschema
  # network boot (ka netboot) and its QEMU end-to-end test: dnsmasq-base is the binary
  # without the system service; grub-*-bin hold the grub images stage2 carries to nodes
  dnsmasq-base pxelinux syslinux-common ipxe grub2-common grub-pc-bin grub-efi-amd64-bin cpio
  qemu-system-x86
  # UEFI and Secure Boot network boot (ka netboot build --secure-boot, tests/system/uefi_netboot.sh):
  # OVMF firmware, Debian's signed shim and network GRUB; efibootmgr and mtools go into stage2
  ovmf shim-signed grub-efi-amd64-signed efibootmgr mtools
  # the real Debian golden of the boot tests (scripts/make-debian-golden.sh, tests/system/debian_*.sh)
  debootstrap
  # tests/system/package_boot.sh boots a Debian 12 root with its systemd (systemd-nspawn -b)
  systemd-container
  # scripts/package.sh: the Debian package (dpkg-buildpackage, debhelper, lintian)
  debhelper dpkg-dev fakeroot lintian
  # bench/peers_bench.sh: the peers ka is measured against (one copy with socat, udpcast) and the
  # floor relay and ka-deploy built from ../shared/bench (gcc, make: build-essential)
  socat udpcast
  # bench/swarm_bench.sh: the BitTorrent swarm (bench/swarm_peer.cc -> ka-swarm-peer, issue 17)
  libtorrent-rasterbar-dev
  linux-perf   # bench/profile_hop.sh: where a forwarding node's CPU goes
  shellcheck   # bench/*.sh are kept clean: shellcheck -x bench/*.sh
  # tests/system/manual.sh: the generated man pages through groff and man, the bash completion
  # with and without the bash-completion package
  groff-base man-db bash-completion
)

missing=()
for p in "${BUILD_PKGS[@]}" "${RUN_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all packages present"
fi
