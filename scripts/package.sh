#!/usr/bin/env bash
# Builds the Debian package of ka (docs/packaging.md): dist/ka_VERSION_amd64.deb.
#   scripts/package.sh         installs the packaging tools if missing (apt-get, as root), copies
#                              the checkout's files (tracked and new, not ignored) to
#                              build-pkg/ka-VERSION/, runs dpkg-buildpackage -b -us -uc there,
#                              moves the results to dist/ and prints lintian's tags
# ccache (debian/rules) keeps the objects in /var/cache/ka-test/ccache: a second build is fast.
# Env: KA_LINTIAN=0 skips lintian; DEB_BUILD_OPTIONS=noautodbgsym skips ka-dbgsym (faster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tools=(debhelper dpkg-dev fakeroot lintian)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "package.sh: missing ${missing[*]} (run scripts/setup.sh or apt-get install as root)" >&2
    exit 1
  fi
  echo "package.sh: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The package's version is the project's (CMakeLists.txt project(... VERSION)); debian/changelog
# must name it.
version=$(sed -nE 's/^project\(ka .*VERSION ([0-9.]+)\).*/\1/p' CMakeLists.txt)
changelog=$(dpkg-parsechangelog -S Version)
if [[ $changelog != "$version" ]]; then
  echo "package.sh: debian/changelog has $changelog, CMakeLists.txt $version: add a changelog entry (dch -v $version)" >&2
  exit 1
fi

# The sources it is built from (tests/system/package.sh reuses a package of the same tree).
tree=$(git stash create 2>/dev/null)
tree=$(git rev-parse "${tree:-HEAD}^{tree}")

stage=$root/build-pkg
src=$stage/ka-$version
rm -rf "$stage"
mkdir -p "$src" "$root/dist"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e $f ]] && printf '%s\0' "$f"
done | cpio -0 -pdm --quiet "$src"

(cd "$src" && nice dpkg-buildpackage -b -us -uc -j2)

rm -f "$root"/dist/ka_* "$root"/dist/ka-dbgsym_*
mv "$stage"/ka_"$version"* "$root/dist/"
mv "$stage"/ka-dbgsym_"$version"* "$root/dist/" 2>/dev/null || true
deb=$root/dist/ka_${version}_amd64.deb
echo "$tree" >"$root/dist/.source-tree"
echo "package.sh: built $deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'

if [[ ${KA_LINTIAN:-1} != 0 ]]; then
  echo "package.sh: lintian (tags explained in debian/ka.lintian-overrides and docs/packaging.md)"
  lintian --info --display-info --pedantic "$root"/dist/ka_"$version"_amd64.changes || true
fi
