// DpkgIndex: which installed Debian package owns a host file (what `dpkg -S`
// answers, read straight from /var/lib/dpkg/info/*.list so that one missing path
// does not fail a batch), and package versions through dpkg-query. Paths are
// matched with and without the /usr prefix (merged /usr: dpkg may know
// /sbin/mke2fs while the file is found as /usr/sbin/mke2fs).
#pragma once

#include <map>
#include <set>
#include <string>

#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

class DpkgIndex {
 public:
  // Reads every *.list in `info_dir` (default /var/lib/dpkg/info).
  static Result<DpkgIndex> Load(const std::string& info_dir = "/var/lib/dpkg/info");
  // Adds one package's file list (tests).
  void Add(const std::string& package, const std::string& list_text);
  // The owning package ("e2fsprogs", arch qualifier dropped), or "" if none.
  std::string Owner(const std::string& path) const;

 private:
  std::map<std::string, std::string> owner_;
};

// Versions of installed packages: `dpkg-query -W -f '${Package} ${Version}\n' PKG...`.
Result<std::map<std::string, std::string>> PackageVersions(os::Env& runner, const std::set<std::string>& packages);

}  // namespace ka::netboot
