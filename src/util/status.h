// Status and Result: errors as values, each carrying a message that names what
// failed and, where it helps, what to do about it (LevelDB's Status, reduced).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ka {

class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kInvalid, kIo, kAuth, kProtocol, kCorruption, kTimeout, kClosed, kRefused };

  Status() = default;
  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
  static Status Io(std::string m) { return {Code::kIo, std::move(m)}; }
  static Status Auth(std::string m) { return {Code::kAuth, std::move(m)}; }
  static Status Protocol(std::string m) { return {Code::kProtocol, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status Closed(std::string m) { return {Code::kClosed, std::move(m)}; }
  static Status Refused(std::string m) { return {Code::kRefused, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "authentication failed: ..." style text for logs and reports.
  std::string ToString() const;
  // Prefixes context: Status::Io("x").Wrap("reading source") -> "reading source: x".
  Status Wrap(const std::string& context) const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}     // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() { return std::get<T>(v_); }
  T value_or(T fallback) const { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

// Errno text as "operation: strerror".
std::string ErrnoMessage(const std::string& what, int err);

}  // namespace ka

#define KA_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::ka::Status ka_status_ = (expr);         \
    if (!ka_status_.ok()) return ka_status_;  \
  } while (0)
