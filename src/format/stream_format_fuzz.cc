// libFuzzer target: the clone stream parser (what every node parses from the chain) fed
// arbitrary bytes, in arbitrary pieces. Never a crash; the records it reports and the error
// it ends with do not depend on how the stream was cut into pieces.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "format/stream_format.h"

namespace {

using ka::Status;
using ka::format::StreamParser;

// Records the parser's callbacks as text; DATA pieces are joined per section.
struct Recorder : StreamParser::Handler {
  std::string events;
  std::string data;
  Status OnBegin(const nlohmann::json& section) override {
    events += "B" + section.dump() + "\n";
    return Status::Ok();
  }
  Status OnData(const void* p, size_t n) override {
    if (n == 0) std::abort();  // the parser never hands out empty pieces
    data.append(static_cast<const char*>(p), n);
    return Status::Ok();
  }
  Status OnEnd(const nlohmann::json& stats) override {
    events += "D" + std::to_string(data.size()) + ":" + data + "\nE" + stats.dump() + "\n";
    data.clear();
    return Status::Ok();
  }
  Status OnFinish(const nlohmann::json& summary) override {
    events += "F" + summary.dump() + "\n";
    return Status::Ok();
  }
};

struct Outcome {
  std::string events, status;
  bool finished = false;
  uint64_t offset = 0;
};

// Feeds `stream` cut at `cuts` (piece lengths, the last piece takes the rest).
Outcome Parse(const std::string& stream, const std::vector<size_t>& cuts) {
  Recorder r;
  StreamParser parser(r);
  Status s;
  size_t pos = 0;
  for (size_t i = 0; s.ok() && pos < stream.size(); ++i) {
    size_t n = i < cuts.size() ? std::min(cuts[i], stream.size() - pos) : stream.size() - pos;
    s = parser.Feed(stream.data() + pos, n);
    pos += n;
  }
  if (s.ok() && !parser.Feed("", 0).ok()) std::abort();  // an empty piece changes nothing
  return {r.events + "D" + r.data, s.ToString(), parser.finished(), parser.offset()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // Piece lengths come from the input's end, the stream is the rest.
  std::vector<size_t> cuts(in.ConsumeIntegralInRange<size_t>(0, 16));
  for (auto& c : cuts) c = in.ConsumeIntegralInRange<size_t>(0, 64);
  const std::string stream = in.ConsumeRemainingBytesAsString();
  Outcome whole = Parse(stream, {});
  Outcome pieces = Parse(stream, cuts);
  Outcome bytes = Parse(stream, std::vector<size_t>(stream.size(), 1));
  for (const Outcome* o : {&pieces, &bytes}) {
    if (o->events != whole.events || o->status != whole.status || o->finished != whole.finished ||
        o->offset != whole.offset) {
      std::fprintf(stderr, "stream_format_fuzz: cutting the stream changed the outcome\n%s\n%s\nvs\n%s\n%s\n",
                   whole.events.c_str(), whole.status.c_str(), o->events.c_str(), o->status.c_str());
      std::abort();
    }
  }
  return 0;
}
