// Debian's kernel package: find, download, extract, depmod (see kernel_package.h).
#include "netboot/kernel_package.h"

#include <filesystem>
#include <regex>
#include <sstream>

namespace ka::netboot {
namespace fs = std::filesystem;

Result<std::string> ParseKernelDependency(const std::string& text) {
  static const std::regex kDep(R"(Depends:\s*(linux-image-[0-9][^\s]*-amd64)\b)");
  std::smatch m;
  if (std::regex_search(text, m, kDep)) return m[1].str();
  return Status::Invalid("apt-cache depends linux-image-amd64 names no linux-image-VERSION-amd64 package: " + text);
}

Result<std::string> FindKernelDeb(os::Env& runner, const std::string& kernel_deb, const std::string& cache_dir) {
  if (!kernel_deb.empty()) {
    if (!fs::is_regular_file(kernel_deb)) return Status::Invalid("--kernel-deb " + kernel_deb + " is not a file");
    return fs::absolute(kernel_deb).string();
  }
  auto apt_cache = runner.Find("apt-cache", "apt");
  if (!apt_cache.ok()) return apt_cache.status();
  auto deps = runner.Run({*apt_cache, "depends", "linux-image-amd64"});
  if (!deps.ok())
    return deps.status().Wrap("finding Debian's current kernel package (run apt-get update?; or give --kernel-deb FILE)");
  auto package = ParseKernelDependency(deps->out);
  if (!package.ok()) return package.status();

  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return Status::Io("cannot create the cache directory " + cache_dir + ": " + ec.message() + "; give --cache DIR");
  auto cached = [&]() -> std::string {
    std::string best;
    for (fs::directory_iterator it(cache_dir, ec), end; it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.rfind(*package + "_", 0) == 0 && it->path().extension() == ".deb" && name > best) best = name;
    }
    return best.empty() ? "" : cache_dir + "/" + best;
  };
  std::string deb = cached();
  if (!deb.empty()) return deb;
  auto apt_get = runner.Find("apt-get", "apt");
  if (!apt_get.ok()) return apt_get.status();
  // apt-get download writes into the current directory: run it there through sh.
  auto out = runner.Run({"/bin/sh", "-c", "cd \"$1\" && exec \"$2\" download \"$3\"", "sh", cache_dir, *apt_get,
                         *package});
  if (!out.ok())
    return out.status().Wrap("apt-get download " + *package + " failed; give --kernel-deb FILE for an offline build");
  deb = cached();
  if (deb.empty())
    return Status::Io("apt-get download " + *package + " left no " + *package + "_*.deb in " + cache_dir +
                      "; give --kernel-deb FILE for an offline build");
  return deb;
}

Result<KernelPackage> ExtractKernel(os::Env& runner, const std::string& deb, const std::string& dir) {
  KernelPackage k;
  k.deb = deb;
  k.root = dir;
  auto dpkg_deb = runner.Find("dpkg-deb", "dpkg");
  if (!dpkg_deb.ok()) return dpkg_deb.status();
  auto fields = runner.Run({*dpkg_deb, "-f", deb, "Package", "Version"});
  if (!fields.ok()) return fields.status().Wrap(deb + " is not a readable Debian package");
  std::istringstream in(fields->out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Package: ", 0) == 0) k.package = line.substr(9);
    if (line.rfind("Version: ", 0) == 0) k.package_version = line.substr(9);
  }
  if (k.package.rfind("linux-image-", 0) != 0)
    return Status::Invalid(deb + " is package '" + k.package + "', not a linux-image-* kernel package");
  auto x = runner.Run({*dpkg_deb, "-x", deb, dir});
  if (!x.ok()) return x.status().Wrap("extracting the kernel package " + deb);
  std::error_code ec;
  for (fs::directory_iterator it(dir + "/lib/modules", ec), end; it != end; it.increment(ec)) {
    if (!k.version.empty())
      return Status::Invalid(deb + " holds modules of more than one kernel (" + k.version + ", " +
                             it->path().filename().string() + ")");
    k.version = it->path().filename().string();
  }
  if (k.version.empty()) return Status::Invalid(deb + " has no lib/modules/VERSION: not a kernel image package");
  if (!fs::is_regular_file(k.vmlinuz())) return Status::Invalid(deb + " has no boot/vmlinuz-" + k.version);
  auto depmod = runner.Find("depmod", "kmod");
  if (!depmod.ok()) return depmod.status();
  auto d = runner.Run({*depmod, "-b", dir, k.version});
  if (!d.ok()) return d.status().Wrap("depmod on the extracted kernel " + k.version);
  return k;
}

}  // namespace ka::netboot
