#include "node/clone_output.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include "node/tree_extract.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::node {

// One section being written: a tree extracted by a thread reading a pipe, or
// a raw image decompressed onto a partition.
struct SectionSink {
  virtual ~SectionSink() = default;
  virtual Status Data(const void* data, size_t n) = 0;
  virtual Status End() = 0;    // the section is complete: finish and check
  virtual void Abort() = 0;    // stop without finishing
  std::string what;
};

namespace {

class TreeSink : public SectionSink {
 public:
  static Result<std::unique_ptr<TreeSink>> Start(const std::string& dir, std::string what) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Status::Io(std::string("pipe: ") + std::strerror(errno));
    auto s = std::make_unique<TreeSink>();
    s->what = std::move(what);
    s->write_ = UniqueFd(p[1]);
    ::fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    s->thread_ = std::thread([sink = s.get(), r = p[0], dir] {
      sink->result_ = ExtractTree(r, dir);
      ::close(r);
    });
    return s;
  }
  ~TreeSink() override { Abort(); }
  Status Data(const void* data, size_t n) override {
    auto* c = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t k = ::write(write_.get(), c, n);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) {  // the extractor stopped: its error says why
        Join();
        return result_.ok() ? Status::Io(what + ": the extractor stopped reading") : result_.status().Wrap(what);
      }
      c += k;
      n -= static_cast<size_t>(k);
    }
    return Status::Ok();
  }
  Status End() override {
    Join();
    if (!result_.ok()) return result_.status().Wrap(what);
    LogInfo("{}: {} entries, {} extracted", what, result_->entries, FormatBytes(result_->bytes));
    return Status::Ok();
  }
  void Abort() override { Join(); }

 private:
  void Join() {
    write_.reset();
    if (thread_.joinable()) thread_.join();
  }
  UniqueFd write_;
  std::thread thread_;
  Result<ExtractStats> result_{ExtractStats{}};
};

class RawSink : public SectionSink {
 public:
  static Result<std::unique_ptr<RawSink>> Start(const std::string& device, uint64_t expect, std::string what) {
    auto s = std::make_unique<RawSink>();
    s->what = std::move(what);
    s->fd_ = UniqueFd(::open(device.c_str(), O_WRONLY | O_CLOEXEC));
    if (!s->fd_.valid()) return Status::Io("cannot open " + device + " for writing: " + std::strerror(errno));
    s->dctx_ = ZSTD_createDCtx();
    s->expect_ = expect;
    s->out_.resize(ZSTD_DStreamOutSize());
    return s;
  }
  ~RawSink() override {
    if (dctx_) ZSTD_freeDCtx(dctx_);
  }
  Status Data(const void* data, size_t n) override {
    ZSTD_inBuffer in{data, n, 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      last_ = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(last_)) return Status::Corruption(what + ": zstd: " + ZSTD_getErrorName(last_));
      KA_RETURN_IF_ERROR(Put(out_.data(), out.pos));
    }
    return Status::Ok();
  }
  Status End() override {
    if (last_ != 0) return Status::Corruption(what + ": the compressed image is truncated");
    if (written_ != expect_)
      return Status::Corruption(what + ": " + std::to_string(written_) + " bytes written, expected " +
                                std::to_string(expect_));
    if (::fsync(fd_.get()) != 0) return Status::Io(what + ": fsync: " + std::strerror(errno));
    LogInfo("{}: {} written block for block", what, FormatBytes(written_));
    return Status::Ok();
  }
  void Abort() override {}

 private:
  Status Put(const char* p, size_t n) {
    if (written_ + n > expect_) return Status::Corruption(what + ": more data than the partition image holds");
    while (n > 0) {
      ssize_t k = ::pwrite(fd_.get(), p, n, static_cast<off_t>(written_));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return Status::Io(what + ": write: " + std::strerror(errno));
      p += k;
      n -= static_cast<size_t>(k);
      written_ += static_cast<uint64_t>(k);
    }
    return Status::Ok();
  }
  UniqueFd fd_;
  ZSTD_DCtx* dctx_ = nullptr;
  std::vector<char> out_;
  size_t last_ = 0;
  uint64_t expect_ = 0, written_ = 0;
};

}  // namespace

CloneOutput::CloneOutput(std::function<Status()> finish, std::function<void(const Status&)> fail)
    : finish_(std::move(finish)), fail_(std::move(fail)), parser_(*this) {}

CloneOutput::~CloneOutput() { (void)AbortSection(); }

Status CloneOutput::Write(const void* data, size_t n) {
  if (!target_) return Status::Protocol("clone data arrived before this node was prepared");
  return parser_.Feed(data, n);
}

Status CloneOutput::OnBegin(const nlohmann::json& j) {
  std::string kind = j.value("kind", "");
  int number = j.value("partition", 0);
  TargetPartition* tp = target_->Find(number);
  std::string what = "partition " + std::to_string(number) + " (" + j.value("fs", "?") +
                     (j.value("mount", "").empty() ? "" : " " + j.value("mount", "")) + ")";
  if (!tp) return Status::Protocol("the stream has a section for " + what + ", which the manifest does not list");
  if (on_state) on_state(kind == "raw" ? "receiving" : "extracting", what);
  if (kind == "tree") {
    if (tp->dir.empty()) return Status::Protocol(what + " was not prepared to receive files");
    LogInfo("extracting {} into {}", what, tp->device);
    auto s = TreeSink::Start(tp->dir, what);
    if (!s.ok()) return s.status();
    section_ = std::move(s).value();
  } else if (kind == "raw") {
    uint64_t bytes = j.value("bytes", uint64_t{0});
    if (bytes > tp->size) return Status::Protocol(what + ": raw image larger than the partition");
    LogInfo("writing {} block for block onto {}", what, tp->device);
    auto s = RawSink::Start(tp->device, bytes, what);
    if (!s.ok()) return s.status();
    section_ = std::move(s).value();
  } else {
    return Status::Protocol("unknown section kind '" + kind + "' in the clone stream");
  }
  return Status::Ok();
}

Status CloneOutput::OnData(const void* data, size_t n) { return section_->Data(data, n); }

Status CloneOutput::OnEnd(const nlohmann::json&) {
  Status s = section_->End();
  section_.reset();
  if (s.ok()) ++sections_done_;
  return s;
}

Status CloneOutput::OnFinish(const nlohmann::json& summary) {
  uint64_t want = summary.value("sections", uint64_t{0});
  if (want != sections_done_)
    return Status::Corruption("the clone stream ended with " + std::to_string(sections_done_) + " sections, expected " +
                              std::to_string(want));
  return Status::Ok();
}

Status CloneOutput::AbortSection() {
  if (section_) {
    section_->Abort();
    section_.reset();
  }
  return Status::Ok();
}

Status CloneOutput::Close(bool complete) {
  if (closed_) return Status::Ok();
  closed_ = true;
  Status s;
  if (!complete) {
    s = Status::Closed("the stream stopped before the end");
  } else if (!parser_.finished()) {
    s = Status::Corruption("the stream ended without its FINISH record (at offset " + std::to_string(parser_.offset()) + ")");
  } else {
    s = finish_();
  }
  (void)AbortSection();
  if (!s.ok() && target_) fail_(s);
  return s;
}

void CloneOutput::Discard(const std::string& why) {
  if (target_) fail_(Status::Refused("not confirmed by the server: " + why));
}

}  // namespace ka::node
