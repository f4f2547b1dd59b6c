#include "format/stream_format.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ka::format {
namespace {

struct Recorder : StreamParser::Handler {
  std::vector<std::string> events;
  std::string data;
  Status OnBegin(const nlohmann::json& j) override {
    events.push_back("begin " + j.dump());
    return Status::Ok();
  }
  Status OnData(const void* p, size_t n) override {
    data.append(static_cast<const char*>(p), n);
    return Status::Ok();
  }
  Status OnEnd(const nlohmann::json& j) override {
    events.push_back("end " + j.dump() + " data=" + std::to_string(data.size()));
    return Status::Ok();
  }
  Status OnFinish(const nlohmann::json& j) override {
    events.push_back("finish " + j.dump());
    return Status::Ok();
  }
};

std::string Encode(const std::string& payload) {
  std::string out;
  StreamWriter w([&](const void* p, size_t n) {
    out.append(static_cast<const char*>(p), n);
    return Status::Ok();
  });
  EXPECT_TRUE(w.Begin({{"kind", "tree"}, {"partition", 6}}).ok());
  EXPECT_TRUE(w.Data(payload.data(), payload.size()).ok());
  EXPECT_TRUE(w.End({{"entries", 3}}).ok());
  EXPECT_TRUE(w.Begin({{"kind", "raw"}, {"partition", 1}}).ok());
  EXPECT_TRUE(w.End({{"bytes", 0}}).ok());
  EXPECT_TRUE(w.Finish({{"sections", 2}}).ok());
  EXPECT_EQ(w.bytes(), out.size());
  return out;
}

TEST(StreamFormat, RoundTripInPiecesOfAnySize) {
  std::string payload(3 * kMaxRecordData + 12345, '\0');
  std::mt19937 rng(7);
  for (auto& c : payload) c = static_cast<char>(rng());
  std::string wire = Encode(payload);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{8}, size_t{4096}, wire.size()}) {
    Recorder r;
    StreamParser p(r);
    for (size_t i = 0; i < wire.size(); i += piece)
      ASSERT_TRUE(p.Feed(wire.data() + i, std::min(piece, wire.size() - i)).ok()) << piece;
    EXPECT_TRUE(p.finished());
    EXPECT_EQ(r.data, payload);
    ASSERT_EQ(r.events.size(), 5u);
    EXPECT_EQ(r.events[0], R"(begin {"kind":"tree","partition":6})");
    EXPECT_EQ(r.events[4], R"(finish {"sections":2})");
  }
}

TEST(StreamFormat, WriterRejectsOutOfOrderRecords) {
  StreamWriter w([](const void*, size_t) { return Status::Ok(); });
  EXPECT_FALSE(w.Data("x", 1).ok());
  EXPECT_FALSE(w.End({}).ok());
  ASSERT_TRUE(w.Begin({{"kind", "tree"}}).ok());
  EXPECT_FALSE(w.Begin({{"kind", "tree"}}).ok());
  EXPECT_FALSE(w.Finish({}).ok());
}

TEST(StreamFormat, ParserRejectsMalformedInput) {
  std::string wire = Encode("hello");
  auto parse = [](std::string bytes) {
    Recorder r;
    StreamParser p(r);
    return p.Feed(bytes.data(), bytes.size());
  };
  std::string bad = wire;
  bad[0] = 'X';
  EXPECT_EQ(parse(bad).code(), Status::Code::kCorruption);
  bad = wire;
  bad[2] = 9;  // unknown type
  EXPECT_NE(parse(bad).message().find("unknown record type"), std::string::npos);
  bad = wire;
  bad[7] = 0x7f;  // huge length
  EXPECT_NE(parse(bad).message().find("exceeds"), std::string::npos);
  // DATA before any BEGIN.
  std::string data_first = std::string("KS\x02\x00\x01\x00\x00\x00", 8) + "x";
  EXPECT_NE(parse(data_first).message().find("outside a section"), std::string::npos);
  // Anything after FINISH.
  EXPECT_NE(parse(wire + "K").message().find("after the end"), std::string::npos);
  // A JSON record that is not JSON.
  std::string not_json = std::string("KS\x01\x00\x03\x00\x00\x00", 8) + "{{{";
  EXPECT_NE(parse(not_json).message().find("not a JSON object"), std::string::npos);
}

TEST(StreamFormat, HandlerErrorStopsTheParser) {
  struct Failing : Recorder {
    Status OnData(const void*, size_t) override { return Status::Io("disk full"); }
  } h;
  StreamParser p(h);
  std::string wire = Encode("abc");
  Status s = p.Feed(wire.data(), wire.size());
  EXPECT_EQ(s.message(), "disk full");
  EXPECT_FALSE(p.Feed("K", 1).ok());
}

}  // namespace
}  // namespace ka::format
