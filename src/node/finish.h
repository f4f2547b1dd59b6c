// The steps that make an extracted clone this node's system and bootable:
// excluded directories, individualisation, drivers in the initramfs, boot
// code, bootloader; then everything unmounted. docs/clone.md section 4.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "format/manifest.h"
#include "node/identity.h"
#include "node/target.h"
#include "os/env.h"

namespace ka::node {

struct FinishOptions {
  std::string hostname_template;  // empty: the node's name
  std::vector<std::string> keep;  // individualisation rules or paths left alone
  // Told each step: "individualising", "drivers", "bootloader".
  std::function<void(const std::string& state, const std::string& detail)> on_state;
  // Told how long each step took: "individualise", "initramfs", "bootloader" (seconds).
  std::function<void(const std::string& phase, double seconds)> on_phase;
};

// Errors name the step ("individualising: ...", "installing grub: ...").
Status FinishClone(Target& target, const format::Manifest& manifest, const Identity& id, const FinishOptions& options,
                   os::Env& runner);

}  // namespace ka::node
