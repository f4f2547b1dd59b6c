# shellcheck shell=bash
# tests/lib/package_root.bash - what the package tests share (tests/system/package.sh, the package
# in a chroot; tests/system/package_boot.sh, the package in a container booted with systemd): the
# package itself and a clean Debian 12 root to install it in. Source it after bed.sh.
#
#   pkg_deb                      PKG_DEB, PKG_VERSION: dist/ka_VERSION_amd64.deb, built with
#                                scripts/package.sh unless dist/ has one of this tree (KA_DEB=FILE
#                                takes that one); dies when the build fails
#   pkg_fields FIELD...          the package names of these control fields of PKG_DEB (Depends,
#                                Recommends, ...), versions and alternatives dropped, virtual
#                                packages replaced by the host's provider (debootstrap cannot take
#                                a virtual package; the host built the package, so it has them)
#   pkg_rootfs DIR NAME PKG...   unpacks into DIR a debootstrap --variant=minbase bookworm with
#                                PKG... (comma or space separated), cached as
#                                $PKG_CACHE/NAME-KEY.tar.zst, KEY from the mirror and the package
#                                list; the .debs in $PKG_CACHE/debs. Exits 77 (skip) when
#                                debootstrap fails the first time (no mirror)
#   pkg_kernel_deb               prints a linux-image-*-amd64 .deb from $PKG_CACHE/debs (the
#                                newest; `apt-get download`s the current one there when there is
#                                none), for an offline `ka netboot build --kernel-deb`
# Env: KA_TEST_CACHE (default /var/cache/ka-test), KA_DEBIAN_MIRROR, KA_DEB.

PKG_CACHE=${KA_TEST_CACHE:-/var/cache/ka-test}
PKG_MIRROR=${KA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKG_DEB=
PKG_VERSION=

pkg_deb() {
  mkdir -p "$PKG_CACHE/debs" "$KA_ROOT/dist"
  PKG_VERSION=$(sed -nE 's/^project\(ka .*VERSION ([0-9.]+)\).*/\1/p' "$KA_ROOT/CMakeLists.txt")
  PKG_DEB=${KA_DEB:-$KA_ROOT/dist/ka_${PKG_VERSION}_amd64.deb}
  local stamp=$KA_ROOT/dist/.source-tree tree
  tree=$(cd "$KA_ROOT" && git stash create 2>/dev/null)
  tree=$(cd "$KA_ROOT" && git rev-parse "${tree:-HEAD}^{tree}")
  if [[ -z ${KA_DEB:-} && (! -f $PKG_DEB || $(cat "$stamp" 2>/dev/null) != "$tree") ]]; then
    bed_log "building the package (scripts/package.sh)"
    (
      exec 9>"$KA_ROOT/dist/.package.lock"
      flock 9
      [[ -f $PKG_DEB && $(cat "$stamp" 2>/dev/null) == "$tree" ]] && exit 0
      KA_LINTIAN=0 DEB_BUILD_OPTIONS=noautodbgsym bash "$KA_ROOT/scripts/package.sh" >"$KA_ROOT/dist/package.log" 2>&1 ||
        { tail -n 40 "$KA_ROOT/dist/package.log"; exit 1; }
      rm -f "$KA_ROOT/dist/package.log"
    ) || bed_die "scripts/package.sh failed"
  fi
  [[ -f $PKG_DEB ]] || bed_die "no package at $PKG_DEB"
}

pkg_fields() {
  local field d p
  for field in "$@"; do
    dpkg-deb -f "$PKG_DEB" "$field" | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/ //g' | grep -v '^$'
  done | sort -u | while read -r d; do
    p=$(dpkg-query -W -f='${Package} ${Provides}\n' 2>/dev/null | awk -v d="$d" '
      $1 == d { print $1; exit } { for (i = 2; i <= NF; i++) { x = $i; sub(/,$/, "", x); if (x == d) { print $1; exit } } }')
    echo "${p:-$d}"
  done | sort -u
}

pkg_rootfs() {
  local dir=$1 name=$2 pkgs key tarball
  shift 2
  pkgs=$(printf '%s\n' "$@" | tr ', ' '\n' | grep -v '^$' | sort -u | paste -sd, -)
  key=$(printf '%s %s' "$PKG_MIRROR" "$pkgs" | sha256sum | cut -c1-12)
  tarball=$PKG_CACHE/$name-$key.tar.zst
  mkdir -p "$PKG_CACHE/debs"
  if [[ ! -f $tarball ]]; then
    bed_log "debootstrap bookworm minbase + $pkgs (once; cached as $tarball)"
    (
      exec 9>"$PKG_CACHE/.$name.lock"
      flock 9
      [[ -f $tarball ]] && exit 0
      local b=$dir.base
      rm -rf "$b"
      debootstrap --variant=minbase --include="$pkgs" --cache-dir="$PKG_CACHE/debs" bookworm "$b" "$PKG_MIRROR" \
        >"$dir.debootstrap.log" 2>&1 || { tail -n 30 "$dir.debootstrap.log"; exit 1; }
      rm -rf "$b"/var/cache/apt/archives/*.deb
      tar -C "$b" --numeric-owner -cf - . | zstd -q -T2 -o "$tarball.tmp" && mv "$tarball.tmp" "$tarball"
      rm -rf "$b"
    ) || { echo "SKIP: debootstrap failed (no mirror?)"; exit 77; }
  fi
  mkdir -p "$dir"
  zstd -dc "$tarball" | tar -C "$dir" --numeric-owner -xf - || bed_die "cannot unpack $tarball"
}

pkg_kernel_deb() {
  local deb pkg
  deb=$(find "$PKG_CACHE/debs" -maxdepth 1 -name 'linux-image-[0-9]*-amd64_*_amd64.deb' -printf '%f\n' 2>/dev/null |
    sort -V | tail -n 1)
  if [[ -z $deb ]]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [[ -n $pkg ]] || return 1
    (cd "$PKG_CACHE/debs" && apt-get download -q "$pkg" >/dev/null 2>&1) || return 1
    deb=$(find "$PKG_CACHE/debs" -maxdepth 1 -name "${pkg}_*_amd64.deb" -printf '%f\n' | sort -V | tail -n 1)
  fi
  [[ -n $deb ]] && echo "$PKG_CACHE/debs/$deb"
}
