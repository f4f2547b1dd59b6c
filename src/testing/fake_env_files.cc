// FakeEnv: the in-memory tree of host files.
#include <cerrno>
#include <cstdio>

#include "testing/fake_env.h"

namespace ka::os {
namespace {

std::string Parent(const std::string& path) {
  size_t s = path.rfind('/');
  if (s == std::string::npos || s == 0) return "/";
  return path.substr(0, s);
}

}  // namespace

void FakeEnv::AddDir(const std::string& path) {
  for (std::string p = path; dirs.insert(p).second && p != "/";) p = Parent(p);
}

void FakeEnv::AddFile(const std::string& path, const std::string& content) {
  AddDir(Parent(path));
  files[path] = content;
}

Result<std::string> FakeEnv::ReadFile(const std::string& path) {
  auto it = files.find(path);
  if (it == files.end()) return Status::Io(ErrnoMessage("reading " + path, dirs.count(path) ? EISDIR : ENOENT));
  return it->second;
}

Status FakeEnv::WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  if (unwritable.count(path) != 0) return Status::Io(ErrnoMessage("creating " + path + ".tmp", EACCES));
  if (dirs.count(Parent(path)) == 0) return Status::Io(ErrnoMessage("creating " + path + ".tmp", ENOENT));
  files[path] = content;
  modes[path] = mode;
  return Status::Ok();
}

bool FakeEnv::FileExists(const std::string& path) { return files.count(path) != 0 || dirs.count(path) != 0; }

bool FakeEnv::IsDirectory(const std::string& path) { return dirs.count(path) != 0; }

Status FakeEnv::RemoveFile(const std::string& path) {
  if (unwritable.count(path) != 0) return Status::Io(ErrnoMessage("removing " + path, EACCES));
  files.erase(path);
  return Status::Ok();
}

Result<std::vector<std::string>> FakeEnv::ListDir(const std::string& path) {
  if (dirs.count(path) == 0) return Status::Io(ErrnoMessage("listing " + path, ENOENT));
  const std::string prefix = path == "/" ? "/" : path + "/";
  std::set<std::string> names;
  auto add = [&](const std::string& p) {
    if (p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0 &&
        p.find('/', prefix.size()) == std::string::npos)
      names.insert(p.substr(prefix.size()));
  };
  for (const auto& [p, content] : files) add(p);
  for (const auto& d : dirs) add(d);
  return std::vector<std::string>(names.begin(), names.end());
}

Status FakeEnv::MakeDirs(const std::string& path, unsigned) {
  if (files.count(path) != 0) return Status::Io("creating " + path + ": it exists and is not a directory");
  AddDir(path);
  return Status::Ok();
}

Result<std::string> FakeEnv::MakeTempDir(const std::string& prefix) {
  if (dirs.count(Parent(prefix)) == 0)
    return Status::Io(ErrnoMessage("creating a directory " + prefix + ".XXXXXX", ENOENT));
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, ".%06d", next_temp_++);
  const std::string dir = prefix + suffix;
  dirs.insert(dir);
  return dir;
}

Status FakeEnv::RemoveDir(const std::string& path) {
  auto names = ListDir(path);
  if (!names.ok()) return Status::Ok();
  if (!names->empty()) return Status::Io(ErrnoMessage("removing " + path, ENOTEMPTY));
  dirs.erase(path);
  return Status::Ok();
}

Result<std::string> FakeEnv::ResolvePath(const std::string& path) {
  // Follows the longest symlinked prefix, a component at a time, a few times over.
  std::string p = path;
  for (int hops = 0; hops < 8; ++hops) {
    bool moved = false;
    for (std::string q = p; q != "/" && !q.empty(); q = Parent(q)) {
      auto it = symlinks.find(q);
      if (it == symlinks.end()) continue;
      p = it->second + p.substr(q.size());
      moved = true;
      break;
    }
    if (!moved) break;
  }
  if (!FileExists(p)) return Status::Io(ErrnoMessage("resolving " + path, ENOENT));
  return p;
}

Result<std::string> FakeEnv::ReadLink(const std::string& path) {
  auto it = symlinks.find(path);
  if (it == symlinks.end())
    return Status::Io(
        ErrnoMessage("reading the link " + path, files.count(path) || dirs.count(path) ? EINVAL : ENOENT));
  return it->second;
}

}  // namespace ka::os
