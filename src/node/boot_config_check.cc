#include "node/boot_config_check.h"

#include <cctype>
#include <set>
#include <sstream>

#include "util/strings.h"

namespace ka::node {
namespace {

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string Unquote(std::string w) {
  std::string out;
  for (char c : w)
    if (c != '\'' && c != '"') out += c;
  return out;
}

// The stable name a root= value stands for: "UUID=x" for both UUID=x and /dev/disk/by-uuid/x.
std::string Canonical(const std::string& v) {
  static const std::pair<const char*, const char*> dirs[] = {{"/dev/disk/by-uuid/", "UUID="},
                                                             {"/dev/disk/by-partuuid/", "PARTUUID="},
                                                             {"/dev/disk/by-label/", "LABEL="},
                                                             {"/dev/disk/by-partlabel/", "PARTLABEL="}};
  for (const auto& [dir, key] : dirs)
    if (StartsWith(v, dir)) return key + v.substr(std::string(dir).size());
  if (StartsWith(v, "UUID=") || StartsWith(v, "PARTUUID=")) {
    size_t eq = v.find('=');
    return v.substr(0, eq + 1) + Lower(v.substr(eq + 1));
  }
  return v;
}

// "/dev/NAME" in `line`, NAME not followed by a letter or digit.
bool NamesDevice(const std::string& line, const std::string& name) {
  const std::string needle = "/dev/" + name;
  for (size_t p = line.find(needle); p != std::string::npos; p = line.find(needle, p + 1)) {
    size_t end = p + needle.size();
    if (end >= line.size() || !std::isalnum(static_cast<unsigned char>(line[end]))) return true;
  }
  return false;
}

}  // namespace

const char* RootKindName(RootKind kind) {
  switch (kind) {
    case RootKind::kUuid: return "UUID";
    case RootKind::kPartUuid: return "PARTUUID";
    case RootKind::kLabel: return "LABEL";
    case RootKind::kPartLabel: return "PARTLABEL";
    case RootKind::kDevicePath: return "device path";
    case RootKind::kOther: return "other";
  }
  return "?";
}

RootKind ClassifyRoot(const std::string& value) {
  std::string c = Canonical(value);
  if (StartsWith(c, "UUID=")) return RootKind::kUuid;
  if (StartsWith(c, "PARTUUID=")) return RootKind::kPartUuid;
  if (StartsWith(c, "LABEL=")) return RootKind::kLabel;
  if (StartsWith(c, "PARTLABEL=")) return RootKind::kPartLabel;
  if (StartsWith(c, "/dev/mapper/")) return RootKind::kOther;
  if (StartsWith(c, "/dev/")) return RootKind::kDevicePath;
  return RootKind::kOther;
}

std::vector<KernelLine> KernelLines(const std::string& cfg) {
  std::vector<KernelLine> out;
  std::istringstream in(cfg);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;
    if (first != "linux" && first != "linux16" && first != "linuxefi" && first != "kernel") continue;
    KernelLine k;
    k.line = n;
    k.text = Trim(line);
    for (std::string w; words >> w;) {
      w = Unquote(w);
      if (StartsWith(w, "root=")) k.root = w.substr(5);
    }
    out.push_back(k);
  }
  return out;
}

Status CheckBootConfig(const std::string& golden_cfg, const std::string& clone_cfg, const std::string& cfg_path,
                       const std::vector<std::string>& host_devices) {
  const std::string where = "the clone's " + cfg_path;
  std::vector<KernelLine> golden = KernelLines(golden_cfg);
  std::set<std::string> golden_roots;
  std::set<RootKind> golden_kinds;
  const KernelLine* golden_device = nullptr;
  for (const auto& g : golden) {
    if (g.root.empty()) continue;
    RootKind k = ClassifyRoot(g.root);
    if (k == RootKind::kDevicePath) {
      if (!golden_device) golden_device = &g;
      continue;
    }
    golden_kinds.insert(k);
    golden_roots.insert(Canonical(g.root));
  }
  std::vector<KernelLine> clone = KernelLines(clone_cfg);
  if (clone.empty())
    return Status::Invalid(where + " has no kernel line (linux ...): the boot loader would find no system to boot; "
                           "was /boot mounted, and does the golden have a kernel in /boot?");
  for (const auto& c : clone) {
    const std::string quoted = " (line " + std::to_string(c.line) + ": '" + c.text + "')";
    if (c.root.empty())
      return Status::Invalid(where + " has a kernel line without root=" + quoted +
                             ": the kernel would not know its root filesystem");
    RootKind kind = ClassifyRoot(c.root);
    if (kind == RootKind::kDevicePath) {
      std::string why = golden_device
                            ? "; the golden's own grub.cfg does the same (line " + std::to_string(golden_device->line) +
                                  ": root=" + golden_device->root +
                                  "), so its clones cannot boot on another disk: make the golden name its root by "
                                  "UUID (no GRUB_DISABLE_LINUX_UUID=true in its /etc/default/grub, then update-grub "
                                  "on the golden) and clone again"
                            : golden_kinds.empty()
                                  ? ""
                                  : std::string("; the golden's named it by ") + RootKindName(*golden_kinds.begin()) +
                                        " (" + *golden_roots.begin() + ")";
      return Status::Invalid(where + " names the root filesystem by device path root=" + c.root +
                             ", a name that depends on the machine and its disk controller" + quoted + why);
    }
    if (!golden_kinds.empty() && golden_kinds.count(kind) == 0)
      return Status::Invalid(where + " names the root filesystem by " + RootKindName(kind) + " where the golden's " +
                             "used " + RootKindName(*golden_kinds.begin()) + quoted);
    if (!golden_roots.empty() && golden_roots.count(Canonical(c.root)) == 0 &&
        (kind == RootKind::kUuid || kind == RootKind::kPartUuid || kind == RootKind::kLabel ||
         kind == RootKind::kPartLabel))
      return Status::Invalid(where + " names root=" + c.root + ", not the golden's root filesystem (" +
                             *golden_roots.begin() + ")" + quoted);
  }
  // Device names of this machine, anywhere but in comments.
  {
    std::istringstream in(clone_cfg);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      std::string t = Trim(line);
      if (t.empty() || t[0] == '#') continue;
      for (const auto& d : host_devices)
        if (!d.empty() && NamesDevice(t, d))
          return Status::Invalid(where + " line " + std::to_string(n) + " names /dev/" + d +
                                 ", a device of the machine that made the clone, which the clone will not have when "
                                 "it boots: '" + t + "'");
    }
  }
  return Status::Ok();
}

}  // namespace ka::node
