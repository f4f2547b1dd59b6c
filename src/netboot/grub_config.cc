#include "netboot/grub_config.h"

#include <fmt/format.h>

#include <sstream>

#include "util/strings.h"

namespace ka::netboot {

namespace {

constexpr size_t kMaxMacFile = 4096;
constexpr const char* kSetDefault = "set default=";

std::string Initrds(const BootParams& p) {
  std::string s = "/ka/stage1.img";
  if (p.secret) s += " /ka/secret.img";
  return s;
}

// The words of KernelArgs, each made a safe GRUB word.
std::string GrubArgs(const std::string& args) {
  std::istringstream in(args);
  std::string word, out;
  while (in >> word) out += (out.empty() ? "" : " ") + GrubWord(word);
  return out;
}

}  // namespace

std::string GrubMacFile(const std::string& mac) {
  std::string s = mac;
  for (char& ch : s) {
    if (ch == ':') ch = '-';
  }
  return "grub/ka/mac-" + s + ".cfg";
}

std::string GrubWord(const std::string& word) {
  bool plain = !word.empty();
  for (char ch : word) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    std::string_view("._,:=/+-@%").find(ch) != std::string_view::npos;
    plain = plain && ok;
  }
  if (plain) return word;
  std::string s = "'";
  for (char ch : word) s += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return s + "'";
}

std::string RenderGrubConfig(const BootParams& p) {
  std::string s;
  s += "# ka network boot menu for UEFI nodes with Secure Boot (shim, then Debian's signed GRUB).\n";
  s += "# Written by `ka netboot serve`; switch one machine with\n";
  s += "# `ka netboot serve --set-boot MAC=local|kamethod|rescue` (grub/ka/mac-<mac>.cfg).\n";
  s += "# Paths are in the TFTP root: /ka/vmlinuz is ka/vmlinuz.\n";
  s += "regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 "
       "'^(..):(..):(..):(..):(..):(..)$' \"$net_default_mac\"\n";
  s += "set ka_mac=\"$m1-$m2-$m3-$m4-$m5-$m6\"\n";
  s += fmt::format("set default={}\n", BootChoiceName(p.default_choice));
  s += "# (test -e cannot see files over TFTP; -s opens them)\n";
  s += "if [ -s \"$prefix/ka/mac-$ka_mac.cfg\" ]; then source \"$prefix/ka/mac-$ka_mac.cfg\"; fi\n";
  s += "# when stage1 cannot be loaded (a refused signature): entry 0, local (GRUB 2.06 takes a number here)\n";
  s += "set fallback=0\n";
  s += fmt::format("set timeout={}\n", (p.timeout_ds + 9) / 10);
  // `exit` alone would not do: it returns EFI_SUCCESS, on which EDK2 firmware (OVMF and most
  // vendors') opens its boot manager menu instead of trying the next boot option. Chainloading
  // the disk's shim fails under Secure Boot (GRUB 2.06 in lockdown: "unknown error", seen on
  // OVMF). So this GRUB reads the local system's own grub.cfg and boots its kernel, which
  // shim_lock verifies like stage1's; a disk without one is chainloaded (no Secure Boot), and
  // only then does GRUB exit to the firmware.
  s += "\nmenuentry 'local' --id local {\n";
  s += "  for ka_cfg in /boot/grub/grub.cfg /grub/grub.cfg; do\n";
  s += "    if search --no-floppy --file --set=ka_root $ka_cfg; then\n";
  s += "      echo \"ka: booting the local system: ($ka_root)$ka_cfg\"\n";
  s += "      set root=$ka_root\n";
  s += "      regexp --set=1:ka_dir '^(.*)/grub.cfg$' $ka_cfg\n";
  s += "      set prefix=($ka_root)$ka_dir\n";
  s += "      configfile $ka_cfg\n";
  s += "    fi\n";
  s += "  done\n";
  s += "  if search --no-floppy --file --set=ka_esp /EFI/BOOT/BOOTX64.EFI; then\n";
  s += "    echo \"ka: booting the local disk ($ka_esp)/EFI/BOOT/BOOTX64.EFI\"\n";
  s += "    chainloader ($ka_esp)/EFI/BOOT/BOOTX64.EFI\n";
  s += "    boot\n";
  s += "  fi\n";
  s += "  echo 'ka: no local disk holds a GRUB configuration or /EFI/BOOT/BOOTX64.EFI: leaving GRUB to the firmware'\n";
  s += "  exit\n}\n";
  for (BootChoice c : {BootChoice::kKamethod, BootChoice::kRescue}) {
    const char* name = BootChoiceName(c);
    s += fmt::format("\nmenuentry '{}' --id {} {{\n", name, name);
    s += fmt::format("  echo 'ka: loading stage1 ({})'\n", name);
    s += fmt::format("  linux /ka/vmlinuz {} BOOTIF=01-$ka_mac\n", GrubArgs(KernelArgs(p, c)));
    s += fmt::format("  initrd {}\n", Initrds(p));
    s += "}\n";
  }
  return s;
}

std::string RenderGrubMacConfig(BootChoice c) {
  return fmt::format(
      "# ka: this machine's network boot choice, sourced by grub/grub.cfg (ka netboot serve --set-boot)\n{}{}\n",
      kSetDefault, BootChoiceName(c));
}

Result<BootChoice> GrubMacChoice(const std::string& text) {
  if (text.size() > kMaxMacFile)
    return Status::Invalid("the GRUB per-MAC file is larger than 4 KiB (not written by ka?)");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(kSetDefault, 0) == 0)
      return ParseBootChoice(Trim(line.substr(std::string_view(kSetDefault).size())));
  }
  return Status::Invalid("the GRUB per-MAC file has no `set default=` line (not written by ka netboot serve?)");
}

}  // namespace ka::netboot
