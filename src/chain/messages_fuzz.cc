// libFuzzer target: every control message decoder (chain/messages) on arbitrary
// JSON text, as an authenticated but hostile peer could send it. Never a crash
// or an exception; whatever a decoder accepts, its own encoding decodes again
// to the same encoding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "chain/frame.h"
#include "chain/messages.h"

namespace {
void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "messages_fuzz: %s\n", what);
  std::abort();
}

template <typename T>
void RoundTrip(const ka::chain::Json& j, const char* name) {
  auto m = T::Decode(j);
  if (!m.ok()) {
    Check(!m.status().message().empty(), name);
    return;
  }
  auto again = T::Decode(m->ToJson());
  Check(again.ok(), name);
  Check(again->ToJson() == m->ToJson(), name);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::chain;
  Json j = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  RoundTrip<Discover>(j, "DISCOVER");
  RoundTrip<Here>(j, "HERE");
  RoundTrip<Challenge>(j, "CHALLENGE");
  RoundTrip<Auth>(j, "AUTH");
  RoundTrip<Refuse>(j, "REFUSE");
  RoundTrip<ControlWelcome>(j, "WELCOME (control)");
  RoundTrip<DataWelcome>(j, "WELCOME (data)");
  RoundTrip<StatusWelcome>(j, "WELCOME (status)");
  RoundTrip<ChainMsg>(j, "CHAIN");
  RoundTrip<NodeProgress>(j, "PROGRESS (node)");
  RoundTrip<SenderProgress>(j, "PROGRESS (sender)");
  RoundTrip<LinkBeat>(j, "PROGRESS (link)");
  RoundTrip<Suspect>(j, "SUSPECT");
  RoundTrip<Done>(j, "DONE");
  RoundTrip<Bye>(j, "BYE");
  RoundTrip<Abort>(j, "ABORT");
  RoundTrip<Prepare>(j, "PREPARE");
  RoundTrip<Ready>(j, "READY");
  RoundTrip<StatusMsg>(j, "STATUS");
  RoundTrip<LogMsg>(j, "LOG");
  RoundTrip<Exec>(j, "EXEC");
  RoundTrip<ExecResult>(j, "EXEC_RESULT");
  RoundTrip<Request>(j, "REQUEST");
  auto h = Hello::Decode(j);  // another version decodes only far enough to be refused
  if (h.ok() && h->version == kProtocolVersion) RoundTrip<Hello>(j, "HELLO");
  return 0;
}
