// The session report (chain::SessionReport::ToJson with a clone's `clone` object, golden/clone_report.h)
// against its documented schema, docs/report.schema.json: a writer that adds, renames or retypes a
// field without the schema following fails here, and so does a schema field no writer produces.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "chain/report.h"
#include "golden/clone_report.h"
#include "testing/json_schema.h"

namespace ka::golden {
namespace {

using nlohmann::json;

json Schema() {
  std::ifstream in(std::string(KA_SOURCE_DIR) + "/docs/report.schema.json");
  EXPECT_TRUE(in) << "cannot read docs/report.schema.json";
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

// A report with every field a writer may write: an OK and a failed node, a session error, a
// signature, the payload's digest, a prepare phase and a clone.
json FullReport() {
  chain::SessionReport r;
  r.session = "lab";
  r.session_id = "0123456789abcdef";
  r.source = "clone of /srv/golden.img";
  r.bytes = 3 << 20;
  r.seconds = 2.5;
  r.session_seconds = 4;
  r.digest = "ab12";
  r.digest_mode = "sha256";
  r.payload_sha256 = "cd34";
  r.cipher = "aes256gcm";
  r.signed_by = "SHA256:xyz";
  r.error = "source failed: read error";
  chain::NodeReport ok;
  ok.id = 7;
  ok.name = "node1";
  ok.address = "10.0.0.2";
  ok.mac = "52:54:00:12:34:56";
  ok.position = 1;
  ok.ok = true;
  ok.bytes = r.bytes;
  ok.digest = "ab12";
  ok.seconds = 3;
  ok.phases = {{"stream", 2.5}, {"bootloader", 0.5}};
  ok.max_heartbeat_gap = 0.25;
  chain::NodeReport ko = ok;
  ko.id = 8;
  ko.name = "node2";
  ko.chain = 2;
  ko.ok = false;
  ko.bytes = 1 << 20;
  ko.error = "disk full";
  ko.phases.clear();
  r.nodes = {ok, ko};
  r.extra["prepare_seconds"] = 1.5;

  format::Manifest m;
  m.source = "/srv/golden.img";
  m.golden_disk = 8ull << 30;
  m.bootloader = "grub";
  StreamStats stats;
  SectionStats section;
  section.partition = 2;
  section.kind = "tree";
  section.entries = 100;
  section.data_bytes = 5 << 20;
  section.wire_bytes = 3 << 20;
  section.seconds = 2;
  section.changed_count = 1;
  section.changed = {{"/var/log/syslog", "modified while read"}};
  stats.sections = {section};
  ZstdChoice zstd;
  zstd.why = "level 3, 1 thread";
  r.extra["clone"] = CloneReport(m, true, stats, zstd, r.bytes, 1 << 20, 48);
  return r.ToJson();
}

std::string Errors(const std::vector<std::string>& errors) {
  std::string s;
  for (const auto& e : errors) s += "  " + e + "\n";
  return s;
}

// Names of the schema's properties (their paths, "/nodes/[]/bytes") that `doc` never has.
void Unused(const json& root, const json& schema, const json& doc, const std::string& path,
            std::set<std::string>* out) {
  const json* s = &schema;
  if (s->contains("$ref")) s = &root["$defs"][(*s)["$ref"].get<std::string>().substr(8)];
  if (s->contains("items")) {
    for (const auto& item : doc) Unused(root, (*s)["items"], item, path + "/[]", out);
    if (doc.empty()) out->insert(path + "/[]");
  }
  if (!s->contains("properties")) return;
  for (const auto& [key, sub] : (*s)["properties"].items()) {
    if (!doc.is_object() || !doc.contains(key)) {
      out->insert(path + "/" + key);
      continue;
    }
    Unused(root, sub, doc[key], path + "/" + key, out);
  }
}

TEST(ReportSchema, AFullReportIsValid) {
  auto errors = testing::ValidateJsonSchema(Schema(), FullReport());
  EXPECT_TRUE(errors.empty()) << "docs/report.schema.json and the report disagree:\n" << Errors(errors);
}

TEST(ReportSchema, EveryFieldOfTheSchemaIsWritten) {
  json schema = Schema();
  std::set<std::string> unused;
  Unused(schema, schema, FullReport(), "", &unused);
  EXPECT_EQ(unused, std::set<std::string>{}) << "fields in docs/report.schema.json no writer produced";
}

TEST(ReportSchema, AReportWithNoNodesAndNoOptionalFieldIsValid) {
  chain::SessionReport r;
  r.digest_mode = "tags";  // the sender always sets it (SenderImpl::BuildReport)
  auto errors = testing::ValidateJsonSchema(Schema(), r.ToJson());
  EXPECT_TRUE(errors.empty()) << Errors(errors);
}

TEST(ReportSchema, ARenamedOrRetypedFieldIsCaught) {
  json schema = Schema();
  json r = FullReport();
  r["nodes"][0]["received"] = r["nodes"][0]["bytes"];
  r["nodes"][0].erase("bytes");
  EXPECT_EQ(testing::ValidateJsonSchema(schema, r).size(), 2u) << "bytes missing, received unknown";
  r = FullReport();
  r["clone"]["zstd"]["level"] = "3";
  EXPECT_EQ(testing::ValidateJsonSchema(schema, r).size(), 1u);
  r = FullReport();
  r["new_field"] = 1;
  EXPECT_EQ(testing::ValidateJsonSchema(schema, r).size(), 1u);
  r = FullReport();
  r["nodes"][1]["status"] = "ko";
  EXPECT_EQ(testing::ValidateJsonSchema(schema, r).size(), 1u);
}

}  // namespace
}  // namespace ka::golden
