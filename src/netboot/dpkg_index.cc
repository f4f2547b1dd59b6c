// Owners and versions of Debian packages (see dpkg_index.h).
#include "netboot/dpkg_index.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace ka::netboot {

Result<DpkgIndex> DpkgIndex::Load(const std::string& info_dir) {
  DpkgIndex index;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(info_dir, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    const auto& p = it->path();
    if (p.extension() != ".list") continue;
    std::ifstream in(p);
    std::stringstream text;
    text << in.rdbuf();
    index.Add(p.stem().string(), text.str());
  }
  if (ec) return Status::Io("cannot read the dpkg database " + info_dir + ": " + ec.message());
  return index;
}

void DpkgIndex::Add(const std::string& package, const std::string& list_text) {
  std::string name = package.substr(0, package.find(':'));
  std::istringstream in(list_text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) owner_.emplace(line, name);
}

std::string DpkgIndex::Owner(const std::string& path) const {
  std::vector<std::string> candidates = {path};
  if (path.rfind("/usr/", 0) == 0)
    candidates.push_back(path.substr(4));
  else
    candidates.push_back("/usr" + path);
  for (const auto& c : candidates) {
    auto it = owner_.find(c);
    if (it != owner_.end()) return it->second;
  }
  std::error_code ec;
  auto canonical = std::filesystem::canonical(path, ec).string();
  if (!ec && canonical != path) {
    auto it = owner_.find(canonical);
    if (it != owner_.end()) return it->second;
  }
  return "";
}

Result<std::map<std::string, std::string>> PackageVersions(os::Env& runner, const std::set<std::string>& packages) {
  std::map<std::string, std::string> versions;
  if (packages.empty()) return versions;
  auto query = runner.Find("dpkg-query", "dpkg");
  if (!query.ok()) return query.status();
  std::vector<std::string> argv = {*query, "-W", "-f", "${Package} ${Version}\\n"};
  argv.insert(argv.end(), packages.begin(), packages.end());
  auto out = runner.Run(argv);
  if (!out.ok()) return out.status().Wrap("asking dpkg for package versions");
  std::istringstream in(out->out);
  std::string name, version;
  while (in >> name >> version) versions[name.substr(0, name.find(':'))] = version;
  return versions;
}

}  // namespace ka::netboot
