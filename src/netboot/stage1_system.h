// The real Stage1System: children on the console, reboot(2), /sys/block.
#pragma once

#include "netboot/stage1_agent.h"

namespace ka::netboot {

class RealStage1System : public Stage1System {
 public:
  int Run(const std::vector<std::string>& argv) override;
  void Sleep(int seconds) override;
  void Say(const std::string& text, bool same_line) override;
  bool Exists(const std::string& path) override;
  void Remove(const std::string& path) override;
  Status Act(const std::string& action) override;
  Result<std::string> PickDisk() override;

 private:
  bool mid_line_ = false;
};

// True when / is the initramfs (rootfs: ramfs or tmpfs), where stage1 runs.
bool RootIsInitramfs();

}  // namespace ka::netboot
