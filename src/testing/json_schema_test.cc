#include "testing/json_schema.h"

#include <gtest/gtest.h>

namespace ka::testing {
namespace {

using nlohmann::json;

const json kSchema = json::parse(R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema", "description": "a test",
  "type": "object", "additionalProperties": false, "required": ["n", "s"],
  "properties": {
    "n": {"type": "integer", "minimum": 0},
    "s": {"type": "string", "enum": ["ok", "failed"]},
    "x": {"type": ["string", "null"]},
    "list": {"type": "array", "items": {"$ref": "#/$defs/item"}},
    "map": {"type": "object", "additionalProperties": {"type": "number"}}
  },
  "$defs": {"item": {"type": "object", "required": ["k"], "properties": {"k": {"const": 1}}}}
})");

TEST(TestingJsonSchema, AcceptsWhatTheSchemaSays) {
  EXPECT_EQ(ValidateJsonSchema(kSchema, json::parse(R"({"n": 3, "s": "ok"})")), std::vector<std::string>{});
  EXPECT_EQ(ValidateJsonSchema(kSchema, json::parse(R"({"n": 3.0, "s": "failed", "x": null, "list": [{"k": 1}],
                                                        "map": {"a": 1.5, "b": 2}})")),
            std::vector<std::string>{});
}

TEST(TestingJsonSchema, ReportsEachViolationWithItsPath) {
  auto errors = ValidateJsonSchema(kSchema, json::parse(R"({"n": -1.5, "s": "maybe", "extra": 1, "x": 5,
    "list": [{"k": 2}, {}], "map": {"a": "b"}})"));
  std::vector<std::string> want = {
      "/extra: is not in the schema (additionalProperties: false)",
      "/list/0/k: 2 is not 1",
      "/list/1: lacks the required \"k\"",
      "/map/a: is string, wants \"number\"",
      "/n: is number, wants \"integer\"",
      "/s: \"maybe\" is not one of [\"ok\",\"failed\"]",
      "/x: is number, wants [\"string\",\"null\"]",
  };
  EXPECT_EQ(errors, want);
  EXPECT_EQ(ValidateJsonSchema(kSchema, json::parse(R"({"s": "ok"})")),
            std::vector<std::string>{": lacks the required \"n\""});
  EXPECT_EQ(ValidateJsonSchema(kSchema, json::array()), std::vector<std::string>{": is array, wants \"object\""});
}

TEST(TestingJsonSchema, RefusesKeywordsItDoesNotCheck) {
  auto errors = ValidateJsonSchema(json::parse(R"({"type": "string", "pattern": "^a"})"), json("b"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("'pattern'"), std::string::npos) << errors[0];
  errors = ValidateJsonSchema(json::parse(R"({"$ref": "other.json"})"), json(1));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("$ref"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace ka::testing
