#include "control/web_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "control/web_server.h"
#include "crypto/private_file.h"
#include "util/fd.h"
#include "util/strings.h"

namespace ka::control {

namespace {

// Writes `token` into the existing (empty) file at `path`, mode 0600 first.
Status FillEmptyTokenFile(const std::string& path, const std::string& token) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Status::Io(ErrnoMessage("--web-token-file " + path + ": cannot write the new token", errno));
  if (::fchmod(fd.get(), 0600) != 0) return Status::Io(ErrnoMessage("--web-token-file " + path + ": chmod 600", errno));
  const std::string line = token + "\n";
  if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fsync(fd.get()) != 0) {
    return Status::Io(ErrnoMessage("--web-token-file " + path + ": writing the new token", errno));
  }
  return Status::Ok();
}

}  // namespace

Result<WebToken> LoadOrCreateWebToken(const std::string& token_file, const std::string& fallback_dir) {
  WebToken t;
  if (token_file.empty()) {
    t.token = NewToken();
    if (fallback_dir.empty()) return t;
    t.file = fallback_dir + "/web-token";
    Status s = crypto::WriteNewFile(t.file, t.token + "\n", 0600);
    if (!s.ok()) return s.Wrap("the dashboard's token");
    t.created = true;
    return t;
  }
  t.file = token_file;
  struct stat st {};
  if (::lstat(token_file.c_str(), &st) != 0) {
    if (errno != ENOENT) return Status::Io(ErrnoMessage("--web-token-file " + token_file, errno));
    t.token = NewToken();
    Status s = crypto::WriteNewFile(token_file, t.token + "\n", 0600);
    if (!s.ok()) return s.Wrap("--web-token-file");
    t.created = true;
    return t;
  }
  auto f = crypto::ReadPrivateFile(token_file, 4096, "token file");
  if (!f.ok()) return f.status().Wrap("--web-token-file");
  t.token = Trim(f->content.substr(0, f->content.find('\n')));
  if (t.token.empty()) {
    t.token = NewToken();
    KA_RETURN_IF_ERROR(FillEmptyTokenFile(token_file, t.token));
    t.created = true;
    return t;
  }
  if ((f->mode & 077) != 0) {
    t.warning = fmt::format("--web-token-file {} has mode {}: others on this machine may read the dashboard's token "
                            "(chmod 600 {})",
                            token_file, crypto::ModeString(f->mode), token_file);
  }
  return t;
}

}  // namespace ka::control
