#include "chain/branch_feeder.h"

#include "chain/frame.h"
#include "util/log.h"

namespace ka::chain {

namespace {

constexpr uint64_t kBranchRing = 32ull << 20;

}  // namespace

Status BranchFeeder::Start(UniqueFd fd, uint64_t pos, const std::string& name, const std::string& source_path,
                           const ProducerCrypto& crypto, const Producer* main,
                           std::shared_ptr<Relay::ChildListener> listener) {
  auto src = OpenPathSource(source_path);
  if (!src.ok()) return src.status();
  uint64_t frame = kHeaderSize + chunk_;
  uint64_t first_frame = pos / frame;
  std::lock_guard l(mu_);
  if (stopped_) return Status::Closed("the session is ending");
  Branch& b = branches_.emplace_back();
  b.node = name;
  b.source = std::move(src).value();
  b.ring = std::make_unique<Ring>(static_cast<size_t>((kBranchRing + frame - 1) / frame * frame), first_frame * frame);
  b.producer = std::make_unique<Producer>(*b.ring, session_id_, *b.source, chunk_, crypto);
  b.producer->ReplayFrom(first_frame, main);
  b.relay = std::make_unique<Relay>(*b.ring, false);
  b.relay->OfferChild(std::move(fd), pos, name, std::move(listener));
  b.producer_thread = std::thread([p = b.producer.get()] { p->Run(); });
  b.relay_thread = std::thread([r = b.relay.get()] { r->Run(); });
  LogInfo("feeding {} directly from the source, from stream position {}", name, pos);
  return Status::Ok();
}

void BranchFeeder::StopAll() {
  std::list<Branch> branches;
  {
    std::lock_guard l(mu_);
    stopped_ = true;
    branches.swap(branches_);
  }
  for (auto& b : branches) {
    b.relay->Stop();
    b.ring->Close();
    b.relay_thread.join();
    b.producer_thread.join();
  }
}

}  // namespace ka::chain
