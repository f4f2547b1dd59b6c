#include "netboot/stage1_system.h"

#include <linux/magic.h>
#include <sys/reboot.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "netboot/disk_pick.h"
#include "util/process.h"

namespace ka::netboot {

int RealStage1System::Run(const std::vector<std::string>& argv) {
  if (mid_line_) {
    std::fputc('\n', stdout);
    mid_line_ = false;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  auto spawned = Spawn(argv);  // on the console: stdin, stdout and stderr are ours
  if (!spawned.ok()) {
    std::fprintf(stderr, "ka stage1: %s\n", spawned.status().message().c_str());
    return -1;
  }
  pid_t pid = *spawned;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void RealStage1System::Sleep(int seconds) { std::this_thread::sleep_for(std::chrono::seconds(seconds)); }

void RealStage1System::Say(const std::string& text, bool same_line) {
  if (same_line) {
    std::fprintf(stdout, "\r%s", text.c_str());
    mid_line_ = true;
  } else {
    std::fprintf(stdout, "%s%s\n", mid_line_ ? "\n" : "", text.c_str());
    mid_line_ = false;
  }
  std::fflush(stdout);
}

bool RealStage1System::Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void RealStage1System::Remove(const std::string& path) { ::unlink(path.c_str()); }

Status RealStage1System::Act(const std::string& action) {
  ::sync();
  int how = action == "reboot" ? RB_AUTOBOOT : RB_POWER_OFF;
  if (::reboot(how) != 0) return Status::Io(std::string("reboot(2): ") + std::strerror(errno));
  return Status::Ok();
}

Result<std::string> RealStage1System::PickDisk() { return netboot::PickDisk("/sys/block"); }

bool RootIsInitramfs() {
  struct statfs s {};
  if (::statfs("/", &s) != 0) return false;
  return s.f_type == RAMFS_MAGIC || s.f_type == TMPFS_MAGIC;
}

}  // namespace ka::netboot
