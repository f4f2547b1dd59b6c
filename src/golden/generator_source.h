// A chain Source fed by a function running on its own thread: the function
// writes the stream into a pipe (blocking when the chain is behind), Read()
// takes it out. Finish() returns the function's status. Stopping early (the
// session ended) closes the pipe, so the function's next write fails and it
// returns.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "chain/source.h"
#include "format/stream_format.h"
#include "util/fd.h"

namespace ka::golden {

class GeneratorSource : public chain::Source {
 public:
  using Generator = std::function<Status(const format::ByteSink& sink)>;
  static Result<std::unique_ptr<GeneratorSource>> Start(std::string description, Generator gen);
  ~GeneratorSource() override;

  Result<size_t> Read(void* buf, size_t n) override;
  Status Finish() override;
  std::string Describe() const override { return description_; }

 private:
  GeneratorSource() = default;
  void Stop();
  std::string description_;
  UniqueFd read_;
  std::thread thread_;
  Status status_;
  bool finished_ = false;
};

}  // namespace ka::golden
