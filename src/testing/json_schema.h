// A JSON Schema (draft 2020-12) validator for the subset ka's own schemas use, so that unit tests
// hold a writer to its documented schema (docs/report.schema.json) without a new dependency.
// Supported: type (a name or a list), properties, required, additionalProperties (false or a
// schema), items, enum, const, minimum, $ref to "#/$defs/NAME", and the annotations $schema, $id,
// $defs, title, description, $comment, examples. Any other keyword is reported as an error, so
// a schema cannot silently rely on something this validator does not check.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ka::testing {

// Every violation of `schema` by `doc`, each as "PATH: what" (PATH a JSON pointer, "" the root);
// empty when `doc` is valid.
std::vector<std::string> ValidateJsonSchema(const nlohmann::json& schema, const nlohmann::json& doc);

}  // namespace ka::testing
