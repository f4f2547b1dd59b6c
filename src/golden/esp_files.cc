#include "golden/esp_files.h"

#include <cctype>
#include <sstream>

#include "format/manifest.h"

namespace ka::golden {
namespace {

bool EndsWithEfi(const std::string& s) {
  if (s.size() < 4) return false;
  std::string tail = s.substr(s.size() - 4);
  for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail == ".efi";
}

bool Acceptable(const std::string& p) {
  if (p.size() > 255 || p.rfind("/EFI/", 0) != 0 || !EndsWithEfi(p)) return false;
  for (char c : p)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') return false;
  return p.find("//") == std::string::npos && p.find("/../") == std::string::npos;
}

}  // namespace

std::vector<std::string> ParseMdirListing(const std::string& text) {
  std::vector<std::string> files;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line) && files.size() < format::kMaxEspFiles;) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("::/", 0) != 0 || line.back() == '/') continue;
    std::string p = line.substr(2);
    // mdir names the volume's root "EFI" however it is cased on disk; the manifest wants "/EFI/".
    if (p.size() > 5 && (p[1] == 'e' || p[1] == 'E') && (p[2] == 'f' || p[2] == 'F') && (p[3] == 'i' || p[3] == 'I') &&
        p[4] == '/')
      p.replace(1, 3, "EFI");
    if (Acceptable(p)) files.push_back(p);
  }
  return files;
}

std::vector<std::string> EspFilesInDir(os::Env& env, const std::string& dir) {
  std::vector<std::string> files;
  for (const char* efi : {"EFI", "efi"}) {
    auto top = env.ListDir(dir + "/" + efi);
    if (!top.ok()) continue;
    for (const auto& vendor : *top) {
      auto names = env.ListDir(dir + "/" + efi + "/" + vendor);
      if (!names.ok()) continue;
      for (const auto& n : *names) {
        std::string p = "/EFI/" + vendor + "/" + n;
        if (Acceptable(p) && files.size() < format::kMaxEspFiles) files.push_back(p);
      }
    }
    break;
  }
  return files;
}

Result<std::vector<std::string>> EspFilesOnDevice(os::Env& env, const std::string& device) {
  auto mdir = env.Find("mdir", "mtools");
  if (!mdir.ok()) return mdir.status();
  auto r = env.Run({*mdir, "-/", "-b", "-i", device, "::/EFI"});
  if (!r.ok()) return std::vector<std::string>{};  // no /EFI directory (or not FAT): nothing that boots
  return ParseMdirListing(r->out);
}

}  // namespace ka::golden
