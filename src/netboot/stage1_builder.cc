// Assembles and writes the stage1 initramfs (see stage1_builder.h).
#include "netboot/stage1_builder.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "netboot/stage1_init.h"
#include "netboot/staging_tree.h"
#include "util/log.h"

namespace ka::netboot {
namespace fs = std::filesystem;
namespace {

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Io("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Status InstallBusybox(os::Env& runner, StagingTree& tree, const std::string& busybox) {
  KA_RETURN_IF_ERROR(tree.InstallFileAs(busybox, "/bin/busybox", 0755));
  auto list = runner.Run({busybox, "--list-full"});
  if (!list.ok()) return list.status().Wrap("listing the busybox applets");
  std::istringstream in(list->out);
  std::string line;
  while (std::getline(in, line)) {
    size_t slash = line.rfind('/');
    if (slash == std::string::npos) continue;  // "linuxrc" at the root: not wanted
    std::string name = line.substr(slash + 1);
    if (name.empty() || name == "busybox") continue;
    bool sbin = line.find("sbin/") != std::string::npos;
    KA_RETURN_IF_ERROR(tree.MakeSymlink((sbin ? "/sbin/" : "/bin/") + name, "/bin/busybox"));
  }
  return Status::Ok();
}

Result<ModuleSelection> InstallModules(os::Env& runner, StagingTree& tree, const KernelPackage& kernel,
                                       const std::vector<std::string>& requested) {
  auto dep_text = ReadText(kernel.modules_dir() + "/modules.dep");
  if (!dep_text.ok()) return dep_text.status();
  auto builtin_text = ReadText(kernel.modules_dir() + "/modules.builtin");
  if (!builtin_text.ok()) return builtin_text.status();
  auto dep = ModulesDep::Parse(*dep_text);
  if (!dep.ok()) return dep.status();
  auto sel = SelectModules(*dep, requested, ParseModulesBuiltin(*builtin_text));
  if (!sel.ok()) return sel.status();
  const std::string dir = "/usr/lib/modules/" + kernel.version;
  for (const auto& p : sel->paths) KA_RETURN_IF_ERROR(tree.InstallFileAs(kernel.modules_dir() + "/" + p, dir + "/" + p, 0644));
  for (const char* f : {"modules.order", "modules.builtin", "modules.builtin.modinfo"})
    if (fs::exists(kernel.modules_dir() + "/" + f))
      KA_RETURN_IF_ERROR(tree.InstallFileAs(kernel.modules_dir() + "/" + f, dir + "/" + f, 0644));
  auto depmod = runner.Find("depmod", "kmod");
  if (!depmod.ok()) return depmod.status();
  auto d = runner.Run({*depmod, "-b", tree.root(), kernel.version});
  if (!d.ok()) return d.status().Wrap("depmod for the stage1 modules");
  // Only depmod needs this one (modules.builtin.alias.bin); it is big.
  fs::remove(tree.root() + dir + "/modules.builtin.modinfo");
  for (const auto& m : sel->missing)
    LogWarn("module {} is neither a module nor built into kernel {}: left out", m, kernel.version);
  return sel;
}

}  // namespace

Result<Stage1Result> BuildStage1(os::Env& runner, const KernelPackage& kernel, const Stage1Options& options,
                                 const std::string& output) {
  Stage1Result result;
  StagingTree tree(options.staging_dir);
  for (const char* d : {"/proc", "/sys", "/dev", "/run", "/var", "/mnt", "/etc", "/usr/lib64"})
    KA_RETURN_IF_ERROR(tree.MakeDirectory(d, 0755));
  KA_RETURN_IF_ERROR(tree.MakeDirectory("/tmp", 01777));
  KA_RETURN_IF_ERROR(tree.MakeDirectory("/root", 0700));
  KA_RETURN_IF_ERROR(tree.MakeDirectory("/etc/ka", 0700));
  KA_RETURN_IF_ERROR(tree.MakeSymlink("/lib", "usr/lib"));
  KA_RETURN_IF_ERROR(tree.MakeSymlink("/lib64", "usr/lib64"));
  KA_RETURN_IF_ERROR(InstallBusybox(runner, tree, options.busybox));
  KA_RETURN_IF_ERROR(tree.InstallFileAs(options.ka_binary, "/usr/bin/ka", 0755));
  // A RelWithDebInfo ka is ~115 MiB, ~15 MiB of it code: every node loads it by TFTP.
  auto strip = runner.Find("strip", "binutils");
  if (!strip.ok()) return strip.status();
  if (auto s = runner.Run({*strip, "--strip-all", tree.root() + "/usr/bin/ka"}); !s.ok())
    return s.status().Wrap("stripping the ka binary for stage1");
  KA_RETURN_IF_ERROR(tree.InstallLibraries(runner));
  auto sel = InstallModules(runner, tree, kernel, options.modules);
  if (!sel.ok()) return sel.status();
  result.modules = *sel;
  KA_RETURN_IF_ERROR(tree.InstallFileAs("/etc/mke2fs.conf", "/etc/mke2fs.conf", 0644));
  KA_RETURN_IF_ERROR(tree.WriteFile("/init", Stage1InitScript(kernel.version), 0755));
  KA_RETURN_IF_ERROR(tree.WriteFile("/etc/udhcpc.script", UdhcpcScript(), 0755));
  KA_RETURN_IF_ERROR(tree.WriteFile("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644));
  KA_RETURN_IF_ERROR(tree.WriteFile("/etc/group", "root:x:0:\n", 0644));
  result.sources = tree.sources();

  InitramfsWriter writer;
  KA_RETURN_IF_ERROR(writer.AddTree(tree.root()));
  writer.AddCharDevice("/dev/console", 0600, 5, 1);
  writer.AddCharDevice("/dev/null", 0666, 1, 3);
  auto stats = writer.Write(output, options.initramfs);
  if (!stats.ok()) return stats.status();
  result.stats = *stats;
  return result;
}

}  // namespace ka::netboot
