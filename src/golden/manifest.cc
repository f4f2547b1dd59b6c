#include "golden/manifest.h"

namespace ka::golden {

const char* MethodName(Method m) {
  switch (m) {
    case Method::kTree: return "tree";
    case Method::kRaw: return "raw";
    case Method::kSwap: return "swap";
    case Method::kNone: return "none";
  }
  return "none";
}

Result<Method> ParseMethod(const std::string& s) {
  for (Method m : {Method::kTree, Method::kRaw, Method::kSwap, Method::kNone})
    if (s == MethodName(m)) return m;
  return Status::Protocol("unknown partition method '" + s + "' in the clone manifest");
}

nlohmann::json Manifest::ToJson() const {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : partitions)
    parts.push_back({{"number", p.number}, {"fs", p.fs}, {"uuid", p.uuid}, {"label", p.label}, {"mount", p.mount},
                     {"method", MethodName(p.method)}, {"size", p.size}, {"used", p.used}, {"exclude", p.exclude}});
  return {{"version", version},
          {"desc", desc},
          {"golden_disk", golden_disk},
          {"partitions", parts},
          {"bootloader", bootloader},
          {"initramfs_options", initramfs_options},
          {"mbr", mbr_hex},
          {"hostname_template", hostname_template},
          {"golden_hostname", golden_hostname},
          {"source", source}};
}

Result<Manifest> Manifest::FromJson(const nlohmann::json& j) {
  try {
    Manifest m;
    m.version = j.at("version").get<int>();
    if (m.version != 1)
      return Status::Protocol("clone manifest version " + std::to_string(m.version) +
                              " is not supported by this ka (version 1); use the same ka on the golden and the nodes");
    m.desc = j.at("desc").get<std::string>();
    m.golden_disk = j.at("golden_disk").get<uint64_t>();
    for (const auto& p : j.at("partitions")) {
      ManifestPartition mp;
      mp.number = p.at("number").get<int>();
      mp.fs = p.at("fs").get<std::string>();
      mp.uuid = p.at("uuid").get<std::string>();
      mp.label = p.at("label").get<std::string>();
      mp.mount = p.at("mount").get<std::string>();
      auto method = ParseMethod(p.at("method").get<std::string>());
      if (!method.ok()) return method.status();
      mp.method = method.value();
      mp.size = p.at("size").get<uint64_t>();
      mp.used = p.at("used").get<uint64_t>();
      mp.exclude = p.at("exclude").get<std::vector<std::string>>();
      for (const auto& e : mp.exclude)
        if (e.empty() || e[0] == '/' || e.find("..") != std::string::npos)
          return Status::Protocol("clone manifest: bad excluded directory '" + e + "'");
      m.partitions.push_back(mp);
    }
    m.bootloader = j.at("bootloader").get<std::string>();
    if (m.bootloader != "grub" && m.bootloader != "lilo" && m.bootloader != "none" && m.bootloader != "grub-node")
      return Status::Protocol("clone manifest: unknown bootloader '" + m.bootloader + "'");
    m.initramfs_options = j.value("initramfs_options", "");
    m.mbr_hex = j.value("mbr", "");
    if (!m.mbr_hex.empty() && m.mbr_hex.size() != 446 * 2)
      return Status::Protocol("clone manifest: the boot code must be 446 bytes");
    m.hostname_template = j.value("hostname_template", "");
    m.golden_hostname = j.value("golden_hostname", "");
    m.source = j.value("source", "");
    return m;
  } catch (const nlohmann::json::exception& e) {
    return Status::Protocol(std::string("malformed clone manifest: ") + e.what());
  }
}

uint64_t Manifest::used_bytes() const {
  uint64_t u = 0;
  for (const auto& p : partitions) u += p.used;
  return u;
}

const ManifestPartition* Manifest::Find(int number) const {
  for (const auto& p : partitions)
    if (p.number == number) return &p;
  return nullptr;
}

const ManifestPartition* Manifest::Root() const {
  for (const auto& p : partitions)
    if (p.mount == "/") return &p;
  return nullptr;
}

}  // namespace ka::golden
