// Orchestration of `ka netboot build` and its build.json (see netboot_build.h).
#include "netboot/netboot_build.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "netboot/build_info.h"
#include "netboot/dpkg_index.h"
#include "netboot/kernel_package.h"
#include "netboot/module_set.h"
#include "netboot/pe_signature.h"
#include "netboot/stage1_builder.h"
#include "netboot/stage2_builder.h"
#include "util/fd.h"
#include "util/log.h"

namespace ka::netboot {
namespace fs = std::filesystem;
namespace {

struct HostFile {
  const char* path;
  const char* package;
  const char* dest;  // relative to DIR
};
const HostFile kLoaders[] = {
    {"/usr/lib/PXELINUX/pxelinux.0", "pxelinux", "tftp/pxelinux.0"},
    {"/usr/lib/syslinux/modules/bios/ldlinux.c32", "syslinux-common", "tftp/ldlinux.c32"},
    {"/usr/lib/ipxe/ipxe.efi", "ipxe", "tftp/ipxe.efi"},
    {"/usr/lib/ipxe/snponly.efi", "ipxe", "tftp/snponly.efi"},
};
// --secure-boot: the firmware verifies shim with Microsoft's UEFI CA, shim verifies
// GRUB (and GRUB, through shim, the kernel) with Debian's key. shim loads grubx64.efi
// from its own TFTP directory.
const HostFile kSecureBootLoaders[] = {
    {"/usr/lib/shim/shimx64.efi.signed", "shim-signed", "tftp/shimx64.efi"},
    {"/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed", "grub-efi-amd64-signed", "tftp/grubx64.efi"},
};

std::vector<HostFile> Loaders(const BuildOptions& o) {
  std::vector<HostFile> v(std::begin(kLoaders), std::end(kLoaders));
  if (o.secure_boot) v.insert(v.end(), std::begin(kSecureBootLoaders), std::end(kSecureBootLoaders));
  return v;
}

Result<std::string> Sha256File(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Io(ErrnoMessage("cannot read " + path, errno));
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Io(ErrnoMessage("reading " + path, errno));
    if (n == 0) break;
    crypto_hash_sha256_update(&st, buf.data(), static_cast<unsigned long long>(n));
  }
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, h);
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return std::string(hex);
}

Result<std::string> SelfExecutable() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return Status::Io("cannot resolve /proc/self/exe: " + ec.message() + "; give --ka PATH");
  return p.string();
}

Status CheckOutput(const BuildOptions& o) {
  if (o.output.empty()) return Status::Invalid("no output directory: give -o DIR");
  std::error_code ec;
  if (fs::exists(o.output, ec)) {
    if (!fs::is_directory(o.output)) return Status::Invalid(o.output + " exists and is not a directory");
    if (!fs::is_empty(o.output) && !o.force)
      return Status::Invalid(o.output + " is not empty; give --force to replace it");
  }
  fs::path parent = fs::absolute(o.output).parent_path();
  if (!fs::is_directory(parent)) return Status::Invalid("the parent of " + o.output + " (" + parent.string() +
                                                        ") is not a directory; create it first");
  if (::access(parent.c_str(), W_OK) != 0) return Status::Invalid(ErrnoMessage("cannot write into " + parent.string(), errno));
  return Status::Ok();
}

Status CheckHost(os::Env& runner, const BuildOptions& o, const std::string& ka) {
  for (const auto& f : kLoaders)
    if (!fs::is_regular_file(f.path))
      return Status::Invalid(std::string(f.path) + " is missing; install the Debian package " + f.package);
  for (const auto& f : kSecureBootLoaders)
    if (o.secure_boot && !fs::is_regular_file(f.path))
      return Status::Invalid(std::string("--secure-boot needs ") + f.path + ", which is missing; install the Debian " +
                             "packages shim-signed and grub-efi-amd64-signed");
  if (!fs::is_regular_file("/bin/busybox")) return Status::Invalid("/bin/busybox is missing; install busybox-static");
  if (!fs::is_regular_file("/etc/mke2fs.conf")) return Status::Invalid("/etc/mke2fs.conf is missing; install e2fsprogs");
  if (!fs::is_regular_file(ka) || ::access(ka.c_str(), X_OK) != 0)
    return Status::Invalid("the ka binary " + ka + " is not an executable file; give --ka PATH");
  for (auto [tool, pkg] : {std::pair{"ldd", "libc-bin"}, {"depmod", "kmod"}, {"dpkg-deb", "dpkg"},
                           {"dpkg-query", "dpkg"}, {"strip", "binutils"}})
    if (auto p = runner.Find(tool, pkg); !p.ok()) return p.status();
  if (o.kernel_deb.empty()) {
    if (auto p = runner.Find("apt-get", "apt"); !p.ok()) return p.status();
  } else if (!fs::is_regular_file(o.kernel_deb)) {
    return Status::Invalid("--kernel-deb " + o.kernel_deb + " is not a file");
  }
  return CheckStage2Tools(runner);
}

Result<InitramfsCompression> ChooseCompression(const KernelPackage& k) {
  std::ifstream in(k.config());
  if (!in) return Status::Invalid("the kernel package has no " + k.config() + ": cannot tell which initramfs compression it reads");
  std::set<std::string> yes;
  std::string line;
  while (std::getline(in, line))
    if (line.size() > 2 && line.compare(line.size() - 2, 2, "=y") == 0) yes.insert(line.substr(0, line.size() - 2));
  if (yes.count("CONFIG_RD_ZSTD")) return InitramfsCompression::kZstd;
  if (yes.count("CONFIG_RD_GZIP")) return InitramfsCompression::kGzip;
  return Status::Invalid("kernel " + k.version + " reads neither zstd nor gzip initramfs (CONFIG_RD_ZSTD, CONFIG_RD_GZIP)");
}

Status CopyFile(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  if (!ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::permissions(to, fs::perms(0644), ec);
  if (ec) return Status::Io("cannot copy " + from + " to " + to + ": " + ec.message());
  return Status::Ok();
}

double Mib(uint64_t b) { return static_cast<double>(b) / (1 << 20); }

// Sources of one image: [{path, host, package}], and the packages seen.
nlohmann::json SourceList(const std::map<std::string, std::string>& sources, const DpkgIndex& dpkg,
                          const std::map<std::string, std::string>& fixed, std::set<std::string>& packages) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [image, host] : sources) {
    std::string pkg;
    for (const auto& [prefix, p] : fixed)
      if (host.rfind(prefix, 0) == 0) pkg = p;
    if (pkg.empty()) pkg = dpkg.Owner(host);
    if (!pkg.empty() && pkg.rfind("linux-image-", 0) != 0 && pkg != "ka") packages.insert(pkg);
    list.push_back({{"path", image}, {"host", host}, {"package", pkg.empty() ? nlohmann::json(nullptr) : nlohmann::json(pkg)}});
  }
  return list;
}

}  // namespace

Result<int64_t> SourceDateEpoch() {
  const char* s = std::getenv("SOURCE_DATE_EPOCH");
  if (s == nullptr || *s == '\0') return int64_t{0};
  char* end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  if (*end != '\0' || v < 0) return Status::Invalid(std::string("SOURCE_DATE_EPOCH=") + s + " is not a non-negative integer");
  return static_cast<int64_t>(v);
}

namespace {

// Everything after the checks, into `tmp`, renamed to `out` at the end.
Result<BuildSummary> BuildInto(os::Env& runner, const BuildOptions& options, const std::string& ka,
                               const std::string& out, const std::string& tmp) {
  auto start = std::chrono::steady_clock::now();
  const std::string work = tmp + "/.work";
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) return Status::Io("cannot create " + work + ": " + ec.message());

  auto deb = FindKernelDeb(runner, options.kernel_deb, options.cache_dir);
  if (!deb.ok()) return deb.status();
  LogInfo("kernel package {}", *deb);
  auto kernel = ExtractKernel(runner, *deb, work + "/kernel");
  if (!kernel.ok()) return kernel.status();
  auto compression = ChooseCompression(*kernel);
  if (!compression.ok()) return compression.status();

  if (options.secure_boot) {
    // GRUB (shim_lock) refuses an unsigned kernel on a Secure Boot machine: say so now.
    KA_RETURN_IF_ERROR(RequireSignedPe(runner, kernel->vmlinuz(), "--secure-boot: the stage1 kernel"));
  }
  for (const auto& f : Loaders(options)) KA_RETURN_IF_ERROR(CopyFile(f.path, tmp + "/" + f.dest));
  KA_RETURN_IF_ERROR(CopyFile(kernel->vmlinuz(), tmp + "/tftp/ka/vmlinuz"));

  Stage1Options s1;
  s1.ka_binary = ka;
  s1.modules = DefaultStage1Modules();
  s1.modules.insert(s1.modules.end(), options.extra_modules.begin(), options.extra_modules.end());
  s1.staging_dir = work + "/stage1";
  s1.initramfs.compression = *compression;
  s1.initramfs.level = *compression == InitramfsCompression::kZstd ? 19 : 9;
  s1.initramfs.mtime = options.mtime;
  auto stage1 = BuildStage1(runner, *kernel, s1, tmp + "/tftp/ka/stage1.img");
  if (!stage1.ok()) return stage1.status().Wrap("building stage1");
  LogInfo("stage1: {} entries, {} modules, {:.1f} MiB -> {:.1f} MiB", stage1->stats.entries, stage1->modules.names.size(),
          Mib(stage1->stats.data_bytes), Mib(stage1->stats.archive_bytes));

  Stage2Options s2;
  s2.staging_dir = work + "/stage2";
  s2.mtime = options.mtime;
  auto stage2 = BuildStage2(runner, s2, tmp + "/stage2.ka");
  if (!stage2.ok()) return stage2.status().Wrap("building stage2");
  LogInfo("stage2: {} entries, {:.1f} MiB -> {:.1f} MiB", stage2->stats.entries, Mib(stage2->stats.file_bytes),
          Mib(stage2->stats.archive_bytes));

  // build.json
  auto dpkg = DpkgIndex::Load();
  if (!dpkg.ok()) return dpkg.status();
  std::set<std::string> packages;
  std::map<std::string, std::string> fixed = {{ka, "ka"}, {kernel->root + "/", kernel->package}};
  nlohmann::json j;
  j["format"] = 1;
  j["source_date_epoch"] = options.mtime;
  // What UEFI machines are given (ka netboot serve reads it back: build_info.h).
  j["uefi_boot"] = UefiLoaderName(options.secure_boot ? UefiLoader::kShim : UefiLoader::kIpxe);
  j["kernel"] = {{"version", kernel->version},
                 {"package", kernel->package},
                 {"package_version", kernel->package_version},
                 {"deb", fs::path(*deb).filename().string()}};
  auto deb_sha = Sha256File(*deb);
  if (!deb_sha.ok()) return deb_sha.status();
  j["kernel"]["deb_sha256"] = *deb_sha;
  auto ka_sha = Sha256File(ka);
  if (!ka_sha.ok()) return ka_sha.status();
  j["ka"] = {{"host", ka}, {"sha256", *ka_sha}};
  nlohmann::json loaders = nlohmann::json::array();
  for (const auto& f : Loaders(options)) {
    loaders.push_back({{"path", f.dest}, {"host", f.path}, {"package", f.package}});
    packages.insert(f.package);
  }
  j["tftp_sources"] = loaders;
  j["stage1"] = {{"compression", *compression == InitramfsCompression::kZstd ? "zstd-19" : "gzip-9"},
                 {"modules", stage1->modules.names},
                 {"modules_builtin", stage1->modules.builtin},
                 {"modules_missing", stage1->modules.missing},
                 {"files", SourceList(stage1->sources, *dpkg, fixed, packages)}};
  j["stage2"] = {{"format", "ka tree archive (pax, zstd)"},
                 {"skipped_tools", stage2->skipped},
                 {"files", SourceList(stage2->sources, *dpkg, fixed, packages)}};
  auto versions = PackageVersions(runner, packages);
  if (!versions.ok()) return versions.status();
  j["packages"] = *versions;
  j["packages"][kernel->package] = kernel->package_version;
  nlohmann::json artefacts = nlohmann::json::object();
  std::vector<std::string> artefact_paths = {"tftp/ka/vmlinuz", "tftp/ka/stage1.img", "stage2.ka"};
  for (const auto& f : Loaders(options)) artefact_paths.emplace_back(f.dest);
  for (const std::string& a : artefact_paths) {
    auto sha = Sha256File(tmp + "/" + a);
    if (!sha.ok()) return sha.status();
    artefacts[a] = {{"sha256", *sha}, {"size", fs::file_size(tmp + "/" + a)}};
  }
  j["artefacts"] = artefacts;
  {
    std::ofstream f(tmp + "/build.json");
    f << j.dump(2) << "\n";
    if (!f) return Status::Io("cannot write " + tmp + "/build.json");
  }

  fs::remove_all(work, ec);
  if (ec) return Status::Io("cannot remove " + work + ": " + ec.message());
  if (fs::exists(out)) {
    fs::remove_all(out, ec);
    if (ec) return Status::Io("cannot replace " + out + ": " + ec.message());
  }
  fs::rename(tmp, out, ec);
  if (ec) return Status::Io("cannot rename " + tmp + " to " + out + ": " + ec.message());

  BuildSummary summary;
  summary.kernel_version = kernel->version;
  summary.stage1_bytes = stage1->stats.archive_bytes;
  summary.stage2_bytes = stage2->stats.archive_bytes;
  summary.modules = stage1->modules.names.size();
  LogInfo("{} built in {:.0f} s (kernel {}, stage1 {:.1f} MiB, stage2 {:.1f} MiB)", out,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), kernel->version,
          Mib(summary.stage1_bytes), Mib(summary.stage2_bytes));
  return summary;
}

}  // namespace

Result<BuildSummary> BuildNetboot(os::Env& runner, const BuildOptions& options) {
  std::string ka = options.ka_binary;
  if (ka.empty()) {
    auto self = SelfExecutable();
    if (!self.ok()) return self.status();
    ka = *self;
  }
  ka = fs::absolute(ka).lexically_normal().string();
  KA_RETURN_IF_ERROR(CheckOutput(options));
  KA_RETURN_IF_ERROR(CheckHost(runner, options, ka));
  const std::string out = fs::absolute(options.output).lexically_normal().string();
  const std::string tmp = out + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  auto r = BuildInto(runner, options, ka, out, tmp);
  if (!r.ok()) fs::remove_all(tmp, ec);  // a failed build leaves nothing behind
  return r;
}

}  // namespace ka::netboot
