// Where a node of `ka join` puts the clone stream: parses the sections (see
// golden/stream_format.h) and extracts each tree section into its mounted
// filesystem (on a thread, through a pipe) or decompresses each raw section
// onto its partition. At the end of a verified stream it runs the finishing
// steps; on any failure, or a stream that stops, the disk is marked not cloned.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "chain/output.h"
#include "format/stream_format.h"
#include "node/target.h"
#include "util/fd.h"

namespace ka::node {

struct SectionSink;

class CloneOutput : public chain::Output, private format::StreamParser::Handler {
 public:
  // `finish` runs after the whole stream was written (individualise,
  // bootloader, unmount); `fail` marks the disk not cloned.
  CloneOutput(std::function<Status()> finish, std::function<void(const Status&)> fail);
  ~CloneOutput() override;

  // Set by the PREPARE step, before any data.
  void SetTarget(Target* t) { target_ = t; }
  // Told when a section starts ("extracting", "partition 6 (xfs /srv)").
  std::function<void(const std::string& state, const std::string& detail)> on_state;

  Status Write(const void* data, size_t n) override;
  Status Close(bool complete) override;
  // The stream verified and the clone was finished, but the session did not
  // confirm this node: the disk is marked not cloned.
  void Discard(const std::string& why) override;
  std::string Describe() const override { return "the clone of the golden onto this node's disk"; }

  uint64_t sections_done() const { return sections_done_; }

 private:
  Status OnBegin(const nlohmann::json& section) override;
  Status OnData(const void* data, size_t n) override;
  Status OnEnd(const nlohmann::json& stats) override;
  Status OnFinish(const nlohmann::json& summary) override;
  Status AbortSection();

  std::function<Status()> finish_;
  std::function<void(const Status&)> fail_;
  Target* target_ = nullptr;
  format::StreamParser parser_;
  std::unique_ptr<SectionSink> section_;
  uint64_t sections_done_ = 0;
  bool closed_ = false;
};

}  // namespace ka::node
