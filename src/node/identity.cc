#include "node/identity.h"

#include <cctype>

namespace ka::node {
namespace {

std::string NodeName(const Identity& id) {
  return "node " + std::to_string(id.index) + (id.name.empty() ? "" : " (" + id.name + ")");
}

}  // namespace

Status ValidateHostname(const std::string& h) {
  if (h.empty()) return Status::Invalid("the hostname is empty");
  if (h.size() > 64) {
    return Status::Invalid("'" + h + "' is " + std::to_string(h.size()) + " characters long, at most 64 are allowed");
  }
  size_t start = 0;
  while (true) {
    size_t dot = h.find('.', start);
    std::string label = h.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) return Status::Invalid("'" + h + "' has an empty label (a leading, trailing or double dot)");
    if (label.size() > 63) return Status::Invalid("'" + h + "': the label '" + label + "' is longer than 63 characters");
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return Status::Invalid("'" + h + "' contains '" + std::string(1, c) +
                               "': use only letters, digits, '-' and '.'");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Status::Invalid("'" + h + "': the label '" + label + "' starts or ends with '-'");
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return Status::Ok();
}

Result<std::string> ExpandHostname(const std::string& tmpl, const Identity& id) {
  const std::string where = "hostname template '" + tmpl + "' for " + NodeName(id);
  if (id.index < 0) return Status::Invalid(where + ": negative index");
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c == '}') return Status::Invalid(where + ": '}' without '{'");
    if (c != '{') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      continue;
    }
    size_t close = tmpl.find('}', i);
    if (close == std::string::npos) return Status::Invalid(where + ": '{' without '}'");
    std::string key = tmpl.substr(i + 1, close - i - 1);
    i = close;
    std::string value;
    if (key == "index") {
      value = std::to_string(id.index);
    } else if (key.rfind("index:0", 0) == 0 && key.size() == 8 && key[7] >= '1' && key[7] <= '9') {
      value = std::to_string(id.index);
      size_t width = static_cast<size_t>(key[7] - '0');
      if (value.size() < width) value.insert(0, width - value.size(), '0');
    } else if (key == "mac") {
      for (char m : id.mac) {
        if (m == ':' || m == '-' || m == '.') continue;
        if (!std::isxdigit(static_cast<unsigned char>(m))) {
          return Status::Invalid(where + ": the MAC address '" + id.mac + "' is not hexadecimal");
        }
        value += static_cast<char>(std::tolower(static_cast<unsigned char>(m)));
      }
      if (value.size() != 12) {
        return Status::Invalid(where + " uses {mac} but the node's MAC address '" + id.mac +
                               "' is not 6 bytes");
      }
    } else if (key == "ip") {
      if (id.ip.empty()) return Status::Invalid(where + " uses {ip} but the node's IP address is unknown");
      for (char p : id.ip) value += (p == '.' || p == ':') ? '-' : p;
    } else if (key == "name") {
      if (id.name.empty()) return Status::Invalid(where + " uses {name} but the node has no name");
      value = id.name;
    } else {
      return Status::Invalid(where + ": unknown placeholder {" + key +
                             "}; use {index}, {index:03}, {mac}, {ip} or {name}");
    }
    for (char v : value) out += static_cast<char>(std::tolower(static_cast<unsigned char>(v)));
  }
  Status valid = ValidateHostname(out);
  if (!valid.ok()) return Status::Invalid(where + " gives an invalid hostname: " + valid.message());
  return out;
}

}  // namespace ka::node
