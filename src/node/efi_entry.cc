#include "node/efi_entry.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "util/log.h"
#include "util/strings.h"

namespace ka::node {
namespace {

std::string Hex(uint16_t n) { return fmt::format("{:04X}", n); }

}  // namespace

std::string ChooseEfiLoader(const std::vector<std::string>& esp_files) {
  auto vendor_file = [&](const char* name) -> std::string {
    for (const auto& f : esp_files) {
      std::string l = Lower(f);
      if (l.rfind("/efi/", 0) != 0 || l.rfind("/efi/boot/", 0) == 0) continue;
      size_t slash = l.find('/', 5);
      if (slash != std::string::npos && l.substr(slash + 1) == name) return f;
    }
    return "";
  };
  for (const char* name : {"shimx64.efi", "grubx64.efi"})
    if (auto f = vendor_file(name); !f.empty()) return f;
  for (const auto& f : esp_files)
    if (Lower(f) == "/efi/boot/bootx64.efi") return f;
  return "";
}

std::string EfiPath(const std::string& esp_path) {
  std::string p = esp_path;
  std::replace(p.begin(), p.end(), '/', '\\');
  return p;
}

std::string EfiEntryLabel(const std::string& loader) {
  std::string dir = loader.size() > 5 ? loader.substr(5) : loader;  // after "/EFI/"
  dir = dir.substr(0, dir.find('/'));
  return std::string(kEfiEntryPrefix) + ": " + dir;
}

std::vector<uint16_t> OrderWith(const std::vector<uint16_t>& order, uint16_t entry, bool last) {
  std::vector<uint16_t> out;
  if (!last) out.push_back(entry);
  for (uint16_t n : order)
    if (n != entry) out.push_back(n);
  if (last) out.push_back(entry);
  return out;
}

Status WriteEfiEntry(os::Env& env, const std::string& efibootmgr, const std::string& disk, int part,
                     const std::string& loader, bool last) {
  auto list = [&]() -> Result<EfiBootState> {
    auto r = env.Run({efibootmgr});
    if (!r.ok()) return r.status();
    return ParseEfibootmgr(r->out);
  };
  auto before = list();
  if (!before.ok()) return before.status().Wrap("reading the UEFI boot entries");
  for (const auto& e : before->entries) {
    if (e.label.rfind(kEfiEntryPrefix, 0) != 0) continue;
    LogInfo("efi: removing the stale boot entry Boot{} ({})", Hex(e.number), e.label);
    auto r = env.Run({efibootmgr, "-q", "-b", Hex(e.number), "-B"});
    if (!r.ok()) return r.status().Wrap("removing the stale UEFI boot entry Boot" + Hex(e.number));
  }
  const std::string label = EfiEntryLabel(loader);
  auto made = env.Run({efibootmgr, "-q", "--create", "--disk", disk, "--part", std::to_string(part), "--label", label,
                       "--loader", EfiPath(loader)});
  if (!made.ok()) return made.status().Wrap("creating the UEFI boot entry " + label);
  auto after = list();
  if (!after.ok()) return after.status().Wrap("reading the UEFI boot entries");
  const EfiBootEntry* mine = nullptr;
  for (const auto& e : after->entries)
    if (e.label == label) mine = &e;
  if (mine == nullptr) return Status::Io("efibootmgr created no entry labelled '" + label + "'");
  std::vector<uint16_t> order = OrderWith(after->order, mine->number, last);
  std::string csv;
  for (uint16_t n : order) csv += (csv.empty() ? "" : ",") + Hex(n);
  auto set = env.Run({efibootmgr, "-q", "--bootorder", csv});
  if (!set.ok()) return set.status().Wrap("setting BootOrder " + csv);
  LogInfo("efi: boot entry Boot{} '{}' -> {} on {} partition {}, {} in BootOrder ({})", Hex(mine->number), label,
          EfiPath(loader), disk, part, last ? "last" : "first", csv);
  return Status::Ok();
}

}  // namespace ka::node
