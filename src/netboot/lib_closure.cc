// Shared-library closure through ldd (see lib_closure.h).
#include "netboot/lib_closure.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "util/fd.h"

namespace ka::netboot {

Result<bool> IsDynamicElf(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Io(ErrnoMessage("cannot open " + path, errno));
  Elf64_Ehdr eh{};
  ssize_t n = ::pread(fd.get(), &eh, sizeof eh, 0);
  if (n < 0) return Status::Io(ErrnoMessage("reading " + path, errno));
  if (static_cast<size_t>(n) < sizeof eh || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return false;
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return false;  // grub's 32-bit modules: not run on the host
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    off_t off = static_cast<off_t>(eh.e_phoff) + static_cast<off_t>(i) * eh.e_phentsize;
    if (::pread(fd.get(), &ph, sizeof ph, off) != static_cast<ssize_t>(sizeof ph))
      return Status::Invalid(path + ": truncated ELF program headers");
    if (ph.p_type == PT_DYNAMIC) return true;
  }
  return false;
}

Result<std::vector<std::string>> ParseLddOutput(const std::string& binary, const std::string& text) {
  std::vector<std::string> libs;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    line = line.substr(b);
    if (line.find("not found") != std::string::npos)
      return Status::Invalid(binary + " needs a library that is not installed (ldd: " + line +
                             "); install the Debian package that provides it");
    std::string path;
    size_t arrow = line.find("=> ");
    if (arrow != std::string::npos) {
      path = line.substr(arrow + 3);
    } else {
      path = line;
    }
    path = path.substr(0, path.find(" ("));
    if (path.empty() || path[0] != '/') continue;  // linux-vdso.so.1, "statically linked"
    libs.push_back(path);
  }
  return libs;
}

Result<std::set<std::string>> LibraryClosure(os::Env& runner, const std::vector<std::string>& binaries) {
  std::set<std::string> libs;
  auto ldd = runner.Find("ldd", "libc-bin");
  if (!ldd.ok()) return ldd.status();
  for (const auto& bin : binaries) {
    auto dynamic = IsDynamicElf(bin);
    if (!dynamic.ok()) return dynamic.status();
    if (!*dynamic) continue;
    auto out = runner.Run({*ldd, bin});
    if (!out.ok()) return out.status().Wrap("listing the libraries of " + bin);
    auto parsed = ParseLddOutput(bin, out->out);
    if (!parsed.ok()) return parsed.status();
    libs.insert(parsed->begin(), parsed->end());
  }
  return libs;
}

std::string UsrPath(const std::string& host_path) {
  if (host_path.rfind("/usr/", 0) == 0) return host_path;
  return "/usr" + host_path;
}

}  // namespace ka::netboot
