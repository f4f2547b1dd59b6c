#include "testing/json_schema.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace ka::testing {
namespace {

using nlohmann::json;

bool HasType(const json& v, const std::string& type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  void Check(const json& schema, const json& v, const std::string& path) {
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) Fail(path, "not allowed here");
      return;
    }
    if (!schema.is_object()) return Fail(path, "the schema is neither an object nor a boolean");
    static const std::set<std::string> kKnown = {"type",  "properties",  "required", "additionalProperties",
                                                 "items", "enum",        "const",    "minimum",
                                                 "$ref",  "$schema",     "$id",      "$defs",
                                                 "title", "description", "$comment", "examples"};
    for (const auto& [key, _] : schema.items())
      if (kKnown.count(key) == 0) Fail(path, "the schema uses '" + key + "', which this validator does not check");
    if (auto ref = schema.find("$ref"); ref != schema.end()) CheckRef(*ref, v, path);
    if (auto type = schema.find("type"); type != schema.end() && !TypeOk(*type, v))
      return Fail(path, "is " + std::string(v.type_name()) + ", wants " + type->dump());
    if (auto e = schema.find("enum");
        e != schema.end() && e->is_array() && std::find(e->begin(), e->end(), v) == e->end())
      Fail(path, v.dump() + " is not one of " + e->dump());
    if (auto c = schema.find("const"); c != schema.end() && *c != v) Fail(path, v.dump() + " is not " + c->dump());
    if (auto m = schema.find("minimum"); m != schema.end() && v.is_number() && v.get<double>() < m->get<double>())
      Fail(path, v.dump() + " is below the minimum " + m->dump());
    if (v.is_object()) CheckObject(schema, v, path);
    if (auto items = schema.find("items"); items != schema.end() && v.is_array())
      for (size_t i = 0; i < v.size(); ++i) Check(*items, v[i], path + "/" + std::to_string(i));
  }

  std::vector<std::string> errors;

 private:
  static bool TypeOk(const json& type, const json& v) {
    if (type.is_string()) return HasType(v, type.get<std::string>());
    if (!type.is_array()) return false;
    for (const auto& t : type)
      if (t.is_string() && HasType(v, t.get<std::string>())) return true;
    return false;
  }

  void CheckRef(const json& ref, const json& v, const std::string& path) {
    const std::string prefix = "#/$defs/";
    if (!ref.is_string() || ref.get<std::string>().rfind(prefix, 0) != 0)
      return Fail(path, "only $ref \"#/$defs/NAME\" is supported, not " + ref.dump());
    std::string name = ref.get<std::string>().substr(prefix.size());
    auto defs = root_.find("$defs");
    if (defs == root_.end() || !defs->contains(name)) return Fail(path, "no $defs/" + name);
    Check((*defs)[name], v, path);
  }

  void CheckObject(const json& schema, const json& v, const std::string& path) {
    const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    if (auto req = schema.find("required"); req != schema.end())
      for (const auto& k : *req)
        if (k.is_string() && !v.contains(k.get<std::string>()))
          Fail(path, "lacks the required \"" + k.get<std::string>() + "\"");
    auto extra = schema.find("additionalProperties");
    for (const auto& [key, value] : v.items()) {
      std::string at = path + "/" + key;
      if (props != nullptr && props->contains(key)) {
        Check((*props)[key], value, at);
      } else if (extra != schema.end()) {
        if (extra->is_boolean() && !extra->get<bool>())
          Fail(at, "is not in the schema (additionalProperties: false)");
        else
          Check(*extra, value, at);
      }
    }
  }

  void Fail(const std::string& path, const std::string& what) { errors.push_back(path + ": " + what); }

  const json& root_;
};

}  // namespace

std::vector<std::string> ValidateJsonSchema(const nlohmann::json& schema, const nlohmann::json& doc) {
  Validator v(schema);
  v.Check(schema, doc, "");
  return v.errors;
}

}  // namespace ka::testing
