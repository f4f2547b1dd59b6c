// The two shell scripts of the stage1 initramfs, run by busybox sh:
//  - /init (PID 1): mounts the API filesystems, loads the kernel modules of the
//    devices present and the filesystem modules, brings up the network by DHCP (the PXE boot interface from
//    BOOTIF= first), then runs `ka netboot stage1` (not exec: the script stays
//    PID 1) and, if that returns, a rescue shell on the console;
//  - /etc/udhcpc.script: busybox udhcpc's event script (address, default route,
//    /etc/resolv.conf, and the lease's variables in /run/ka/dhcp-IFACE.env).
#pragma once

#include <string>

namespace ka::netboot {

std::string Stage1InitScript(const std::string& kernel_version);
std::string UdhcpcScript();

}  // namespace ka::netboot
