#include "util/status.h"

#include <cstring>

namespace ka {

std::string Status::ToString() const {
  const char* prefix = "";
  switch (code_) {
    case Code::kOk: return "ok";
    case Code::kInvalid: prefix = "invalid: "; break;
    case Code::kIo: prefix = "I/O error: "; break;
    case Code::kAuth: prefix = "authentication failed: "; break;
    case Code::kProtocol: prefix = "protocol error: "; break;
    case Code::kCorruption: prefix = "corruption: "; break;
    case Code::kTimeout: prefix = "timeout: "; break;
    case Code::kClosed: prefix = "connection closed: "; break;
    case Code::kRefused: prefix = "refused: "; break;
  }
  return prefix + message_;
}

Status Status::Wrap(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

std::string ErrnoMessage(const std::string& what, int err) { return what + ": " + std::strerror(err); }

}  // namespace ka
