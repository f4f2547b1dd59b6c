// The sender's direct branches: nodes fed straight from a rereadable source
// (a file), each from its own stream position through its own ring, producer
// and relay, beside the chain: a late joiner, or a node whose upstream can no
// longer resume it ("branch" data links, docs/protocol.md).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "chain/producer.h"
#include "chain/relay.h"
#include "chain/ring.h"
#include "chain/source.h"
#include "util/fd.h"
#include "util/status.h"

namespace ka::chain {

class BranchFeeder {
 public:
  BranchFeeder(uint64_t session_id, uint32_t chunk) : session_id_(session_id), chunk_(chunk) {}
  ~BranchFeeder() { StopAll(); }

  // Feeds the data link `fd` (its WELCOME sent) from stream position `pos`,
  // reading `source_path` again; the frames are sealed as `crypto` says and
  // tagged as `main` (the session's producer) tagged them. Thread-safe;
  // Closed after StopAll().
  // `listener` hears the node's link beats (Relay::OfferChild).
  Status Start(UniqueFd fd, uint64_t pos, const std::string& name, const std::string& source_path,
               const ProducerCrypto& crypto, const Producer* main,
               std::shared_ptr<Relay::ChildListener> listener = nullptr);

  // Stops every branch and waits for its threads.
  void StopAll();

 private:
  struct Branch {
    std::string node;
    std::unique_ptr<Source> source;
    std::unique_ptr<Ring> ring;
    std::unique_ptr<Producer> producer;
    std::unique_ptr<Relay> relay;
    std::thread producer_thread, relay_thread;
  };

  uint64_t session_id_;
  uint32_t chunk_;
  std::mutex mu_;
  std::list<Branch> branches_;
  bool stopped_ = false;
};

}  // namespace ka::chain
