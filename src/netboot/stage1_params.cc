#include "netboot/stage1_params.h"

#include <fmt/format.h>

#include <cctype>
#include <sstream>

#include "crypto/key_file.h"

namespace ka::netboot {

namespace {

Result<int> SmallInt(const std::string& key, const std::string& v, int lo, int hi) {
  int n = 0;
  if (v.empty() || v.size() > 6) return Status::Invalid(fmt::format("{}={}: expected a number {}..{}", key, v, lo, hi));
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return Status::Invalid(fmt::format("{}={}: expected a number {}..{}", key, v, lo, hi));
    n = n * 10 + (c - '0');
  }
  if (n < lo || n > hi) return Status::Invalid(fmt::format("{}={}: expected a number {}..{}", key, v, lo, hi));
  return n;
}

// BOOTIF=01-aa-bb-cc-dd-ee-ff (ARP type 1 = Ethernet) -> aa:bb:cc:dd:ee:ff.
Result<std::string> BootifMac(const std::string& v) {
  std::string s = v;
  if (s.size() == 20 && s.rfind("01-", 0) == 0) s = s.substr(3);
  if (s.size() != 17) return Status::Invalid("BOOTIF=" + v + ": expected 01-aa-bb-cc-dd-ee-ff");
  for (size_t i = 0; i < s.size(); ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (i % 3 == 2) {
      if (c != '-' && c != ':') return Status::Invalid("BOOTIF=" + v + ": expected 01-aa-bb-cc-dd-ee-ff");
      c = ':';
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return Status::Invalid("BOOTIF=" + v + ": expected 01-aa-bb-cc-dd-ee-ff");
    }
    s[i] = c;
  }
  return s;
}

}  // namespace

Result<Stage1Params> ParseStage1Params(const std::string& cmdline) {
  Stage1Params p;
  std::istringstream in(cmdline);
  std::string word;
  while (in >> word) {
    auto eq = word.find('=');
    std::string key = word.substr(0, eq);
    std::string v = eq == std::string::npos ? "" : word.substr(eq + 1);
    if (key == "ka.server") {
      if (v.empty()) return Status::Invalid("ka.server= is empty: give IP[:PORT] or leave it out to discover");
      p.server = v;
    } else if (key == "ka.session") {
      if (v.empty()) return Status::Invalid("ka.session= is empty");
      p.session = v;
    } else if (key == "ka.tries") {
      auto n = SmallInt(key, v, 1, 1000);
      if (!n.ok()) return n.status();
      p.tries = n.value();
    } else if (key == "ka.delay") {
      auto n = SmallInt(key, v, 0, 3600);
      if (!n.ok()) return n.status();
      p.delay = n.value();
    } else if (key == "ka.fail") {
      if (v != "reboot" && v != "poweroff" && v != "shell")
        return Status::Invalid("ka.fail=" + v + ": choose reboot, poweroff or shell");
      p.fail = v;
    } else if (key == "ka.then") {
      if (v != "reboot" && v != "poweroff" && v != "exit")
        return Status::Invalid("ka.then=" + v + ": choose reboot, poweroff or exit");
      p.then = v;
    } else if (key == "ka.disk") {
      if (v.empty() || (v != "auto" && v.rfind("/dev/", 0) != 0))
        return Status::Invalid("ka.disk=" + v + ": give auto or a /dev/ path");
      p.disk = v;
    } else if (key == "ka.rescue") {
      p.rescue = v.empty() || v == "1" || v == "yes";
    } else if (key == "ka.trust" || key == "ka.operator") {
      auto k = crypto::ParsePublicKey(v);
      if (!k.ok()) {
        return Status::Invalid(fmt::format("{}=: {} (it takes the public key line, as `ka key show` prints it)", key,
                                           k.status().message()));
      }
      (key == "ka.trust" ? p.trust : p.operator_key) = crypto::FormatPublicKey(*k);
    } else if (key == "BOOTIF") {
      auto m = BootifMac(v);
      if (!m.ok()) return m.status();
      p.boot_mac = m.value();
    }
  }
  return p;
}

}  // namespace ka::netboot
