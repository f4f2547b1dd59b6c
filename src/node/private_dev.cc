#include "node/private_dev.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/log.h"

namespace ka::node {
namespace {

Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return Status::Io(ErrnoMessage("creating " + path, errno));
  if (::chmod(path.c_str(), mode) != 0) return Status::Io(ErrnoMessage("chmod " + path, errno));
  return Status::Ok();
}

Status MakeLink(const std::string& target, const std::string& path) {
  ::unlink(path.c_str());
  if (::symlink(target.c_str(), path.c_str()) != 0)
    return Status::Io(ErrnoMessage("creating the link " + path + " -> " + target, errno));
  return Status::Ok();
}

}  // namespace

const std::vector<CharDevice>& StandardCharDevices() {
  static const std::vector<CharDevice> devs = {{"null", 1, 3},   {"zero", 1, 5}, {"full", 1, 7},
                                               {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
                                               {"console", 5, 1}};
  return devs;
}

Status PopulatePrivateDev(const std::string& dev, const std::vector<BlockNode>& nodes, os::Env& mounter) {
  for (const auto& c : StandardCharDevices()) {
    mode_t perm = std::string(c.name) == "console" ? 0600 : 0666;
    KA_RETURN_IF_ERROR(mounter.MakeNode(dev + "/" + c.name, S_IFCHR | perm, c.major, c.minor));
  }
  KA_RETURN_IF_ERROR(MakeDir(dev + "/pts", 0755));
  KA_RETURN_IF_ERROR(MakeDir(dev + "/shm", 01777));
  KA_RETURN_IF_ERROR(MakeLink("pts/ptmx", dev + "/ptmx"));
  KA_RETURN_IF_ERROR(MakeLink("/proc/self/fd", dev + "/fd"));
  KA_RETURN_IF_ERROR(MakeLink("/proc/self/fd/0", dev + "/stdin"));
  KA_RETURN_IF_ERROR(MakeLink("/proc/self/fd/1", dev + "/stdout"));
  KA_RETURN_IF_ERROR(MakeLink("/proc/self/fd/2", dev + "/stderr"));
  for (const auto& n : nodes) {
    if (n.name.empty() || n.name.find('/') != std::string::npos || n.name[0] == '.')
      return Status::Invalid("block device name '" + n.name + "' cannot be made in the private /dev");
    KA_RETURN_IF_ERROR(mounter.MakeNode(dev + "/" + n.name, S_IFBLK | 0660, n.major, n.minor));
  }
  auto links = WriteDevLinks(dev, UdevLinks(nodes));
  if (!links.ok()) return links.status();
  std::string names;
  for (const auto& n : nodes) names += (names.empty() ? "" : " ") + n.name;
  LogInfo("private /dev {}: {} block device(s) ({}), {} link(s)", dev, nodes.size(), names.empty() ? "none" : names,
          *links);
  return Status::Ok();
}

}  // namespace ka::node
