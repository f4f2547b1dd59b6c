#include "node/individualise.h"

#include <fnmatch.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "node/root_fs.h"
#include "util/log.h"
#include "util/strings.h"

namespace ka::node {
namespace {

const char kKeygenUnit[] = "/etc/systemd/system/ka-ssh-keygen.service";
const char kKeygenWants[] = "/etc/systemd/system/multi-user.target.wants/ka-ssh-keygen.service";
const char kRcBegin[] = "# BEGIN ka: SSH host keys of this clone";
const char kRcEnd[] = "# END ka";

// Text as lines, remembering whether it ended with a newline.
struct Lines {
  std::vector<std::string> v;
  bool final_newline = true;

  static Lines Of(const std::string& text) {
    Lines l;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) {
        l.v.push_back(text.substr(pos));
        l.final_newline = false;
        break;
      }
      l.v.push_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return l;
  }
  std::string Text() const {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += v[i] + (i + 1 < v.size() || final_newline ? "\n" : "");
    return s;
  }
};

// "key" of a "key=value" line (spaces around it ignored); "" for other lines.
std::string KeyOf(const std::string& line) {
  std::string t = Trim(line);
  if (t.empty() || t[0] == '#' || t[0] == ';') return "";
  size_t eq = t.find('=');
  return eq == std::string::npos ? "" : Trim(t.substr(0, eq));
}

std::string BaseName(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

bool Match(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

class Work {
 public:
  Work(const RootFs& fs, const IndividualiseOptions& opt, IndividualiseReport& rep) : fs_(fs), opt_(opt), rep_(rep) {}

  bool RuleKept(const std::string& rule) const {
    return std::find(opt_.keep.begin(), opt_.keep.end(), rule) != opt_.keep.end();
  }

  // True (and recorded) if the operator asked to keep this path of the image.
  bool PathKept(const std::string& path, const std::string& resolved = {}) {
    for (const auto& k : opt_.keep) {
      if (k.empty() || k[0] != '/') continue;
      if (::fnmatch(k.c_str(), path.c_str(), FNM_PATHNAME) == 0 ||
          (!resolved.empty() && ::fnmatch(k.c_str(), resolved.c_str(), FNM_PATHNAME) == 0)) {
        AddUnique(rep_.kept, path);
        return true;
      }
    }
    return false;
  }

  void Changed(const std::string& path, const RootFs::Entry& e) {
    AddUnique(rep_.changed, InImage(e.rel));
    if (e.symlink_followed) Note(path + " is reached through a symlink: changed " + InImage(e.rel));
  }
  void Note(const std::string& n) { AddUnique(rep_.notes, n); }

  // Writes a whole file (created with `mode` if absent). A symlink at `path` is
  // written through only to a file of the same name inside ROOT (a relocated
  // /etc/hostname, /etc/machine-id -> /var/lib/dbus/machine-id); any other symlink
  // (/etc/hostname -> /etc/passwd) is replaced by a regular file.
  Status Write(const std::string& path, const std::string& content, mode_t mode) {
    auto link = fs_.Resolve(path, /*follow_last=*/false);
    if (!link.ok()) return link.status();
    auto e = fs_.Resolve(path);
    if (!e.ok()) return e.status();
    if (PathKept(path, InImage(e->rel))) return Status::Ok();
    if (link->is_symlink()) {
      const bool same_name = BaseName(e->rel) == BaseName(link->rel);
      const bool usable = e->exists ? e->is_file() : e->parent_exists;
      if (!same_name || !usable) {
        std::string target = fs_.ReadLink(path).value_or("?");
        auto r = fs_.Remove(path);
        if (!r.ok()) return r.status();
        Note(path + " was a symlink to " + target + "; ka replaced it by a regular file");
        auto w = fs_.Write(path, content, mode);
        if (!w.ok()) return w.status();
        AddUnique(rep_.changed, InImage(link->rel));
        return Status::Ok();
      }
    }
    auto w = fs_.Write(path, content, mode);
    if (!w.ok()) return w.status();
    if (*w) Changed(path, *e);
    return Status::Ok();
  }

  Status Chmod(const std::string& path, mode_t mode) {
    auto e = fs_.Resolve(path);
    if (!e.ok()) return e.status();
    if (PathKept(path, InImage(e->rel))) return Status::Ok();
    auto c = fs_.Chmod(path, mode);
    if (!c.ok()) return c.status();
    if (*c) Changed(path, *e);
    return Status::Ok();
  }

  // Rewrites the lines of an existing regular file with `edit`; absent files are left absent.
  Status Edit(const std::string& path, const std::function<void(Lines&)>& edit) {
    auto e = fs_.Resolve(path);
    if (!e.ok()) return e.status();
    if (!e->is_file()) return Status::Ok();
    auto text = fs_.Read(path);
    if (!text.ok()) return text.status();
    Lines lines = Lines::Of(text->value_or(""));
    edit(lines);
    std::string now = lines.Text();
    if (now == text->value_or("")) return Status::Ok();
    if (PathKept(path, InImage(e->rel))) return Status::Ok();
    auto w = fs_.Write(path, now, 0644);
    if (!w.ok()) return w.status();
    if (*w) Changed(path, *e);
    return Status::Ok();
  }

  // Removes one entry (a symlink itself, not its target). Directories are left.
  Status Remove(const std::string& path) {
    auto e = fs_.Resolve(path, /*follow_last=*/false);
    if (!e.ok()) return e.status();
    if (!e->exists || e->is_dir()) return Status::Ok();
    if (PathKept(path, InImage(e->rel))) return Status::Ok();
    auto r = fs_.Remove(path);
    if (!r.ok()) return r.status();
    if (*r) AddUnique(rep_.removed, InImage(e->rel));
    return Status::Ok();
  }

  // Removes the entries of `dir` whose names match one of `patterns` (not directories).
  Status RemoveMatching(const std::string& dir, const std::vector<std::string>& patterns) {
    auto names = fs_.List(dir);
    if (!names.ok()) return names.status();
    for (const auto& n : *names) {
      if (std::none_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return Match(p, n); })) continue;
      KA_RETURN_IF_ERROR(Remove(dir + "/" + n));
    }
    return Status::Ok();
  }

  // Removes everything inside `dir` (directories too), keeping `dir`.
  Status Empty(const std::string& dir) {
    auto names = fs_.List(dir);
    if (!names.ok()) return names.status();
    for (const auto& n : *names) {
      std::string path = dir + "/" + n;
      auto e = fs_.Resolve(path, /*follow_last=*/false);
      if (!e.ok()) return e.status();
      if (PathKept(path, InImage(e->rel))) continue;
      auto r = fs_.RemoveTree(path);
      if (!r.ok()) return r.status();
      if (*r) AddUnique(rep_.removed, InImage(e->rel));
    }
    return Status::Ok();
  }

  const RootFs& fs() const { return fs_; }
  IndividualiseReport& rep() { return rep_; }

 private:
  const RootFs& fs_;
  const IndividualiseOptions& opt_;
  IndividualiseReport& rep_;
};

// --- hostname ---------------------------------------------------------------

struct Span {
  size_t begin, end;
};

// The whitespace-separated words of a hosts line before any comment.
std::vector<Span> Words(const std::string& line) {
  std::vector<Span> w;
  size_t limit = line.find('#');
  if (limit == std::string::npos) limit = line.size();
  size_t i = 0;
  while (i < limit) {
    while (i < limit && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= limit) break;
    size_t b = i;
    while (i < limit && line[i] != ' ' && line[i] != '\t') ++i;
    w.push_back({b, i});
  }
  return w;
}

std::string ShortName(const std::string& h) { return h.substr(0, h.find('.')); }

// The names a 127.0.1.1 line gets when nothing in it can be mapped: "node7" or
// "node7.example.org node7".
std::string DefaultNames(const std::string& hostname) {
  return hostname.find('.') == std::string::npos ? hostname : hostname + " " + ShortName(hostname);
}

// Maps the golden's names of one 127.0.1.1 line to the node's; false if none matched.
bool MapHostsLine(std::string& line, const std::string& golden, const std::string& hostname) {
  auto words = Words(line);
  if (words.size() < 2) {
    line = line.substr(0, words.empty() ? 0 : words[0].end) + "\t" + DefaultNames(hostname) +
           line.substr(words.empty() ? 0 : words[0].end);
    return true;
  }
  const std::string gshort = ShortName(golden);
  const std::string nshort = ShortName(hostname);
  bool any = false;
  std::string out = line.substr(0, words[1].begin);
  for (size_t i = 1; i < words.size(); ++i) {
    std::string w = line.substr(words[i].begin, words[i].end - words[i].begin);
    std::string lw = w;
    std::transform(lw.begin(), lw.end(), lw.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string mapped;
    if (!golden.empty() && lw == golden) {
      mapped = hostname;
    } else if (!gshort.empty() && lw == gshort) {
      mapped = nshort;
    } else if (!gshort.empty() && lw.rfind(gshort + ".", 0) == 0) {
      mapped = nshort + w.substr(gshort.size());  // golden.lab -> node7.lab
    }
    if (!mapped.empty()) {
      w = mapped;
      any = true;
    }
    out += w;
    size_t next = i + 1 < words.size() ? words[i + 1].begin : line.size();
    out += line.substr(words[i].end, next - words[i].end);
  }
  if (any) line = out;
  return any;
}

Status Hostname(Work& w, const std::string& hostname) {
  auto& rep = w.rep();
  // The golden's name, read where Write would write (not through a link to another file).
  auto link = w.fs().Resolve("/etc/hostname", /*follow_last=*/false);
  auto target = w.fs().Resolve("/etc/hostname");
  if (!link.ok()) return link.status();
  if (!target.ok()) return target.status();
  const bool readable = target->is_file() && (!link->is_symlink() || BaseName(target->rel) == "hostname");
  auto old = readable ? w.fs().Read("/etc/hostname") : Result<std::optional<std::string>>(std::nullopt);
  if (!old.ok()) return old.status();
  if (old->has_value()) {
    Lines l = Lines::Of(**old);
    for (const auto& line : l.v) {
      std::string t = Trim(line);
      if (!t.empty() && t[0] != '#') {
        rep.golden_hostname = t;
        break;
      }
    }
  }
  std::transform(rep.golden_hostname.begin(), rep.golden_hostname.end(), rep.golden_hostname.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  KA_RETURN_IF_ERROR(w.Write("/etc/hostname", hostname + "\n", 0644));

  const std::string golden = rep.golden_hostname;
  if (!w.fs().Exists("/etc/hosts")) {
    KA_RETURN_IF_ERROR(w.Write("/etc/hosts",
                               "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" +
                                   DefaultNames(hostname) + "\n",
                               0644));
  } else {
    bool unmapped = false;
    KA_RETURN_IF_ERROR(w.Edit("/etc/hosts", [&](Lines& l) {
      bool found = false;
      size_t after = l.v.size();  // insert after the last 127.0.0.1 line, else at the end
      for (size_t i = 0; i < l.v.size(); ++i) {
        auto words = Words(l.v[i]);
        if (words.empty()) continue;
        std::string addr = l.v[i].substr(words[0].begin, words[0].end - words[0].begin);
        if (addr == "127.0.0.1") after = i + 1;
        if (addr != "127.0.1.1") continue;
        found = true;
        if (!MapHostsLine(l.v[i], golden, hostname)) {
          // Names that are not the golden's: the line names this machine, so it gets the node's names.
          std::string comment = l.v[i].find('#') == std::string::npos ? "" : " " + l.v[i].substr(l.v[i].find('#'));
          l.v[i] = "127.0.1.1\t" + DefaultNames(hostname) + comment;
          unmapped = true;
        }
      }
      if (!found) {
        if (after == l.v.size()) l.final_newline = true;
        l.v.insert(l.v.begin() + static_cast<long>(after), "127.0.1.1\t" + DefaultNames(hostname));
      }
    }));
    if (unmapped) {
      w.Note(golden.empty() ? "/etc/hosts: the golden has no /etc/hostname; its 127.0.1.1 line now names " + hostname
                            : "/etc/hosts: the 127.0.1.1 line did not name the golden (" + golden +
                                  "); it now names " + hostname);
    }
  }
  KA_RETURN_IF_ERROR(w.Edit("/etc/sysconfig/network", [&](Lines& l) {
    for (auto& line : l.v)
      if (KeyOf(line) == "HOSTNAME") line = "HOSTNAME=" + hostname;
  }));
  return Status::Ok();
}

// --- machine-id ---------------------------------------------------------------

Status MachineId(Work& w) {
  auto e = w.fs().Resolve("/etc/machine-id");
  if (!e.ok()) return e.status();
  if (e->exists || w.rep().systemd) {
    KA_RETURN_IF_ERROR(w.Write("/etc/machine-id", "", 0444));
    KA_RETURN_IF_ERROR(w.Chmod("/etc/machine-id", 0444));
  }
  // D-Bus's copy goes (dbus-uuidgen --ensure or systemd make it again), unless it
  // is a symlink or the file /etc/machine-id itself points to.
  auto d = w.fs().Resolve("/var/lib/dbus/machine-id", /*follow_last=*/false);
  if (!d.ok()) return d.status();
  auto etc = w.fs().Resolve("/etc/machine-id");
  if (!etc.ok()) return etc.status();
  if (d->is_file() && d->rel != etc->rel) KA_RETURN_IF_ERROR(w.Remove("/var/lib/dbus/machine-id"));
  return Status::Ok();
}

// --- SSH host keys ------------------------------------------------------------------

std::string KeygenUnit(const std::string& keygen) {
  return "# Installed by ka when this node was cloned: makes the SSH host keys that the clone\n"
         "# did not inherit from the golden system, before the SSH server starts.\n"
         "[Unit]\n"
         "Description=Generate the SSH host keys of this clone (ka)\n"
         "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n"
         "Before=ssh.service sshd.service\n"
         "\n"
         "[Service]\n"
         "Type=oneshot\n"
         "ExecStart=" + keygen + " -A\n"
         "RemainAfterExit=yes\n"
         "\n"
         "[Install]\n"
         "WantedBy=multi-user.target\n";
}

std::vector<std::string> RcLocalBlock(const std::string& keygen) {
  return {kRcBegin,
          "if ! ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then",
          "  " + keygen + " -A || true",
          "  if [ -x /etc/init.d/ssh ]; then /etc/init.d/ssh restart || true;",
          "  elif [ -x /etc/init.d/sshd ]; then /etc/init.d/sshd restart || true; fi",
          "fi",
          kRcEnd};
}

Status RcLocal(Work& w, const std::string& keygen) {
  const RootFs& fs = w.fs();
  std::string path = "/etc/rc.local";
  if (!fs.Exists(path) && fs.IsFile("/etc/rc.d/rc.local")) path = "/etc/rc.d/rc.local";
  auto block = RcLocalBlock(keygen);
  if (!fs.Exists(path)) {
    std::string text = "#!/bin/sh\n";
    for (const auto& b : block) text += b + "\n";
    text += "exit 0\n";
    return w.Write(path, text, 0755);
  }
  KA_RETURN_IF_ERROR(w.Edit(path, [&](Lines& l) {
    auto begin = std::find(l.v.begin(), l.v.end(), kRcBegin);
    if (begin != l.v.end()) {
      auto end = std::find(begin, l.v.end(), kRcEnd);
      if (end != l.v.end()) ++end;
      size_t at = static_cast<size_t>(begin - l.v.begin());
      l.v.erase(begin, end);
      l.v.insert(l.v.begin() + static_cast<long>(at), block.begin(), block.end());
      return;
    }
    // Before a final "exit 0", which would skip anything after it.
    size_t at = l.v.size();
    for (size_t i = l.v.size(); i > 0; --i) {
      std::string t = Trim(l.v[i - 1]);
      if (t.empty()) continue;
      if (t == "exit 0" || t == "exit") at = i - 1;
      break;
    }
    l.final_newline = true;
    l.v.insert(l.v.begin() + static_cast<long>(at), block.begin(), block.end());
  }));
  auto e = fs.Resolve(path);
  if (!e.ok()) return e.status();
  if (e->exists && (e->st.st_mode & 0111) != 0111) {
    KA_RETURN_IF_ERROR(w.Chmod(path, (e->st.st_mode & 07777) | 0111));
    w.Note(path + " was not executable; it is now (it must run for the SSH host keys to be made)");
  }
  return Status::Ok();
}

Status SshHostKeys(Work& w) {
  const RootFs& fs = w.fs();
  auto& rep = w.rep();
  size_t removed_before = rep.removed.size();
  KA_RETURN_IF_ERROR(w.RemoveMatching("/etc/ssh", {"ssh_host_*"}));
  const bool removed = rep.removed.size() > removed_before;

  std::string keygen;
  for (const char* p : {"/usr/bin/ssh-keygen", "/bin/ssh-keygen"})
    if (keygen.empty() && fs.IsFile(p)) keygen = p;
  const bool sshd = fs.IsFile("/usr/sbin/sshd") || fs.IsFile("/sbin/sshd");
  if (!removed && !sshd) {
    rep.ssh_keygen = SshKeygenWay::kNone;
    return Status::Ok();
  }
  if (keygen.empty()) {
    rep.ssh_keygen = SshKeygenWay::kNone;
    w.Note("the image has no ssh-keygen: no new SSH host keys will be made at boot; the SSH server needs some");
    return Status::Ok();
  }
  if (rep.systemd) {
    rep.ssh_keygen = SshKeygenWay::kSystemdUnit;
    auto made = fs.MakeDirs("/etc/systemd/system/multi-user.target.wants", 0755);
    if (!made.ok()) return made.status();
    KA_RETURN_IF_ERROR(w.Write(kKeygenUnit, KeygenUnit(keygen), 0644));
    auto e = fs.Resolve(kKeygenWants, /*follow_last=*/false);
    if (!e.ok()) return e.status();
    if (!w.PathKept(kKeygenWants)) {
      auto l = fs.Symlink(kKeygenUnit, kKeygenWants);
      if (!l.ok()) return l.status();
      if (*l) AddUnique(rep.changed, InImage(e->rel));
    }
    return Status::Ok();
  }
  if (fs.IsDir("/etc/init.d") || fs.Exists("/etc/rc.local") || fs.IsFile("/etc/rc.d/rc.local")) {
    rep.ssh_keygen = SshKeygenWay::kRcLocal;
    return RcLocal(w, keygen);
  }
  rep.ssh_keygen = SshKeygenWay::kNone;
  w.Note("the image has neither systemd nor /etc/init.d nor /etc/rc.local: no new SSH host keys will be made at boot");
  return Status::Ok();
}

// --- network ----------------------------------------------------------------------

Status NetRules(Work& w) {
  KA_RETURN_IF_ERROR(w.Remove("/etc/udev/rules.d/70-persistent-net.rules"));
  // A copy of the generator is removed; a symlink (to /dev/null: the generator
  // disabled on purpose) stays.
  const std::string gen = "/etc/udev/rules.d/75-persistent-net-generator.rules";
  auto e = w.fs().Resolve(gen, /*follow_last=*/false);
  if (!e.ok()) return e.status();
  if (e->is_file()) KA_RETURN_IF_ERROR(w.Remove(gen));
  return Status::Ok();
}

Status DropKeys(Work& w, const std::string& dir, const std::string& name_pattern, const std::vector<std::string>& keys) {
  auto names = w.fs().List(dir);
  if (!names.ok()) return names.status();
  for (const auto& n : *names) {
    if (!Match(name_pattern, n)) continue;
    KA_RETURN_IF_ERROR(w.Edit(dir + "/" + n, [&](Lines& l) {
      l.v.erase(std::remove_if(l.v.begin(), l.v.end(),
                               [&](const std::string& line) {
                                 std::string k = KeyOf(line);
                                 return std::find(keys.begin(), keys.end(), k) != keys.end();
                               }),
                l.v.end());
    }));
  }
  return Status::Ok();
}

Status DhcpLeases(Work& w) {
  KA_RETURN_IF_ERROR(w.RemoveMatching("/var/lib/dhcp", {"*.leases*"}));
  KA_RETURN_IF_ERROR(w.RemoveMatching("/var/lib/dhclient", {"*"}));
  KA_RETURN_IF_ERROR(w.RemoveMatching("/var/lib/NetworkManager", {"*.lease", "dhclient-*", "dhclient6-*"}));
  KA_RETURN_IF_ERROR(w.RemoveMatching("/var/lib/dhcpcd", {"*"}));
  KA_RETURN_IF_ERROR(w.RemoveMatching("/var/lib/dhcpcd5", {"*"}));
  KA_RETURN_IF_ERROR(w.RemoveMatching("/etc/dhcpc", {"dhcpcd-*"}));
  KA_RETURN_IF_ERROR(w.Remove("/etc/dhcpcd.duid"));
  KA_RETURN_IF_ERROR(w.Remove("/etc/dhcpcd.secret"));
  return w.Empty("/var/lib/systemd/network");
}

Status RandomSeed(Work& w) {
  for (const char* p : {"/var/lib/systemd/random-seed", "/var/lib/urandom/random-seed", "/var/lib/random-seed"}) {
    KA_RETURN_IF_ERROR(w.Remove(p));
  }
  return Status::Ok();
}

}  // namespace

const char* SshKeygenWayName(SshKeygenWay way) {
  switch (way) {
    case SshKeygenWay::kSystemdUnit: return "systemd unit ka-ssh-keygen.service";
    case SshKeygenWay::kRcLocal: return "/etc/rc.local";
    case SshKeygenWay::kNone: return "none";
    case SshKeygenWay::kKept: return "kept the golden's keys";
  }
  return "?";
}

const std::vector<std::string>& IndividualiseRules() {
  static const std::vector<std::string> rules = {"hostname",  "machine-id",  "ssh-host-keys", "net-rules",
                                                 "nm-mac",    "ifcfg-mac",   "dhcp-leases",   "nm-secret-key",
                                                 "random-seed"};
  return rules;
}

Result<IndividualiseReport> Individualise(const std::string& root, const Identity& id,
                                          const IndividualiseOptions& options) {
  const auto& rules = IndividualiseRules();
  for (const auto& k : options.keep) {
    if (!k.empty() && k[0] == '/') continue;
    if (std::find(rules.begin(), rules.end(), k) == rules.end()) {
      std::string names;
      for (const auto& r : rules) names += (names.empty() ? "" : ", ") + r;
      return Status::Invalid("keep '" + k + "': not a rule name (" + names + ") nor a path in the image (/...)");
    }
  }
  auto hostname = ExpandHostname(options.hostname_template.empty() ? "{name}" : options.hostname_template, id);
  if (!hostname.ok()) return hostname.status();
  auto fs = RootFs::Open(root);
  if (!fs.ok()) return fs.status();
  if (!fs->IsDir("/etc")) {
    return Status::Invalid(root + " has no /etc directory: is the golden system extracted there?");
  }

  IndividualiseReport rep;
  rep.hostname = *hostname;
  rep.systemd = fs->IsFile("/lib/systemd/systemd") || fs->IsFile("/usr/lib/systemd/systemd");
  Work w(*fs, options, rep);
  auto run = [&](const std::string& rule, const std::function<Status()>& f) -> Status {
    if (w.RuleKept(rule)) {
      AddUnique(rep.kept, rule);
      return Status::Ok();
    }
    return f().Wrap("individualising " + root + " (" + rule + ")");
  };
  KA_RETURN_IF_ERROR(run("hostname", [&] { return Hostname(w, *hostname); }));
  KA_RETURN_IF_ERROR(run("machine-id", [&] { return MachineId(w); }));
  if (w.RuleKept("ssh-host-keys")) rep.ssh_keygen = SshKeygenWay::kKept;
  KA_RETURN_IF_ERROR(run("ssh-host-keys", [&] { return SshHostKeys(w); }));
  KA_RETURN_IF_ERROR(run("net-rules", [&] { return NetRules(w); }));
  KA_RETURN_IF_ERROR(run("nm-mac", [&] {
    return DropKeys(w, "/etc/NetworkManager/system-connections", "*", {"mac-address", "cloned-mac-address"});
  }));
  KA_RETURN_IF_ERROR(
      run("ifcfg-mac", [&] { return DropKeys(w, "/etc/sysconfig/network-scripts", "ifcfg-*", {"HWADDR", "MACADDR"}); }));
  KA_RETURN_IF_ERROR(run("dhcp-leases", [&] { return DhcpLeases(w); }));
  KA_RETURN_IF_ERROR(run("nm-secret-key", [&] { return w.Remove("/var/lib/NetworkManager/secret_key"); }));
  KA_RETURN_IF_ERROR(run("random-seed", [&] { return RandomSeed(w); }));

  LogInfo("individualised {} as {}: {} changed, {} removed, SSH host keys: {}", root, rep.hostname,
          rep.changed.size(), rep.removed.size(), SshKeygenWayName(rep.ssh_keygen));
  for (const auto& n : rep.notes) LogWarn("{}", n);
  return rep;
}

}  // namespace ka::node
