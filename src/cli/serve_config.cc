#include "cli/serve_config.h"

#include <algorithm>

#include "util/strings.h"

namespace ka::cli {
namespace {

std::string Unquote(std::string v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  return v;
}

// ["a", "b"] or a single value.
std::vector<std::string> Values(const std::string& raw) {
  std::string v = Trim(raw);
  if (v.size() < 2 || v.front() != '[' || v.back() != ']') return {Unquote(v)};
  std::vector<std::string> out;
  std::string inner = v.substr(1, v.size() - 2), cur;
  char quote = 0;
  for (char c : inner) {
    if (quote) {
      if (c == quote) quote = 0;
      else cur += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == ',') {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!Trim(cur).empty()) out.push_back(Trim(cur));
  return out;
}

}  // namespace

Result<std::vector<ConfigSetting>> ParseServeConfig(const std::string& text, const std::string& file) {
  if (text.size() > kMaxServeConfigBytes)
    return Status::Invalid("--config " + file + ": larger than " + std::to_string(kMaxServeConfigBytes >> 20) +
                           " MiB (not a replication.conf)");
  std::vector<ConfigSetting> out;
  size_t pos = 0;
  int n = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string t = Trim(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
    ++n;
    if (t.empty() || t[0] == '#' || t[0] == ';' || t == "[serve]") continue;
    std::string where = "--config " + file + " line " + std::to_string(n);
    auto eq = t.find('=');
    if (eq == std::string::npos) return Status::Invalid(where + ": expected 'option = value'");
    ConfigSetting s;
    s.line = n;
    s.key = Trim(std::string_view(t).substr(0, eq));
    if (s.key.empty()) return Status::Invalid(where + ": no option name before '='");
    std::replace(s.key.begin(), s.key.end(), '_', '-');
    s.values = Values(t.substr(eq + 1));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ka::cli
