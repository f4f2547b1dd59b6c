#include "golden/generator_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ka::golden {

Result<std::unique_ptr<GeneratorSource>> GeneratorSource::Start(std::string description, Generator gen) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Status::Io(std::string("pipe: ") + std::strerror(errno));
  std::unique_ptr<GeneratorSource> s(new GeneratorSource());
  s->description_ = std::move(description);
  s->read_ = UniqueFd(p[0]);
  ::fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  s->thread_ = std::thread([src = s.get(), w = p[1], gen = std::move(gen)] {
    format::ByteSink sink = [w](const void* data, size_t n) -> Status {
      auto* c = static_cast<const char*>(data);
      while (n > 0) {
        ssize_t k = ::write(w, c, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0)
          return errno == EPIPE ? Status::Closed("the session stopped reading the clone stream")
                                : Status::Io(std::string("writing the clone stream: ") + std::strerror(errno));
        c += k;
        n -= static_cast<size_t>(k);
      }
      return Status::Ok();
    };
    src->status_ = gen(sink);
    ::close(w);
  });
  return s;
}

GeneratorSource::~GeneratorSource() { Stop(); }

void GeneratorSource::Stop() {
  read_.reset();  // a blocked writer gets EPIPE
  if (thread_.joinable()) thread_.join();
}

Result<size_t> GeneratorSource::Read(void* buf, size_t n) {
  size_t got = 0;
  auto* c = static_cast<char*>(buf);
  while (got < n) {
    ssize_t k = ::read(read_.get(), c + got, n - got);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return Status::Io(std::string("reading the clone stream: ") + std::strerror(errno));
    if (k == 0) break;
    got += static_cast<size_t>(k);
  }
  return got;
}

Status GeneratorSource::Finish() {
  Stop();
  return status_;
}

}  // namespace ka::golden
