#include "golden/generator_source.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace ka::golden {
namespace {

TEST(GeneratorSource, StreamsWhatTheFunctionWrites) {
  auto s = GeneratorSource::Start("test", [](const format::ByteSink& sink) {
    std::string block(100000, 'x');
    for (int i = 0; i < 50; ++i) KA_RETURN_IF_ERROR(sink(block.data(), block.size()));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok());
  std::string buf(65536, '\0');
  size_t total = 0;
  for (;;) {
    auto r = (*s)->Read(buf.data(), buf.size());
    ASSERT_TRUE(r.ok());
    total += r.value();
    if (r.value() < buf.size()) break;
  }
  EXPECT_EQ(total, 5000000u);
  EXPECT_TRUE((*s)->Finish().ok());
}

TEST(GeneratorSource, ReportsTheFunctionsError) {
  auto s = GeneratorSource::Start("test", [](const format::ByteSink&) { return Status::Io("golden disk unreadable"); });
  ASSERT_TRUE(s.ok());
  char c;
  EXPECT_EQ((*s)->Read(&c, 1).value(), 0u);
  EXPECT_EQ((*s)->Finish().message(), "golden disk unreadable");
}

TEST(GeneratorSource, StoppingEarlyEndsAnEndlessGenerator) {
  signal(SIGPIPE, SIG_IGN);
  auto s = GeneratorSource::Start("test", [](const format::ByteSink& sink) {
    std::string block(65536, 'y');
    for (;;) KA_RETURN_IF_ERROR(sink(block.data(), block.size()));
  });
  ASSERT_TRUE(s.ok());
  char buf[100];
  ASSERT_TRUE((*s)->Read(buf, sizeof buf).ok());
  Status st = (*s)->Finish();  // must return, not hang
  EXPECT_EQ(st.code(), Status::Code::kClosed);
}

}  // namespace
}  // namespace ka::golden
