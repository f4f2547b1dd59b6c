#include "netboot/build_info.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ka::netboot {

namespace {
constexpr size_t kMaxBuildJson = size_t{4} << 20;
}  // namespace

const char* UefiLoaderName(UefiLoader l) { return l == UefiLoader::kShim ? "shim" : "ipxe"; }

Result<UefiLoader> ParseBuildUefiLoader(std::string_view text) {
  if (text.size() > kMaxBuildJson) return Status::Invalid("build.json is larger than 4 MiB");
  const nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("build.json is not a JSON object");
  auto it = j.find("uefi_boot");
  if (it == j.end()) return UefiLoader::kIpxe;
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s == "ipxe") return UefiLoader::kIpxe;
    if (s == "shim") return UefiLoader::kShim;
  }
  return Status::Invalid(
      fmt::format("build.json: \"uefi_boot\" is {}, not \"ipxe\" or \"shim\"", it->dump().substr(0, 64)));
}

Result<UefiLoader> ReadBuildUefiLoader(const std::string& tftp_root) {
  const std::string path = (std::filesystem::path(tftp_root).parent_path() / "build.json").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return UefiLoader::kIpxe;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxBuildJson) return Status::Invalid(fmt::format("{}: unreadable or larger than 4 MiB", path));
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return Status::Io(fmt::format("cannot read {}", path));
  auto l = ParseBuildUefiLoader(text);
  if (!l.ok()) return l.status().Wrap(path);
  return l;
}

}  // namespace ka::netboot
