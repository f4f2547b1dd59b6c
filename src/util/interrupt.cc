#include "util/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "util/log.h"

namespace ka {

namespace {
sigset_t Signals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGHUP);
  sigaddset(&s, SIGUSR2);  // internal: wakes the watcher at destruction
  return s;
}
}  // namespace

InterruptCleanup::InterruptCleanup() {
  sigset_t s = Signals();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  watcher_ = std::thread([this, s] {
    int sig = 0;
    while (sigwait(&s, &sig) == 0) {
      if (sig == SIGUSR2 && done_) return;
      if (sig == SIGUSR2) continue;
      LogWarn("interrupted by {}: cleaning up before exiting", strsignal(sig));
      {
        std::lock_guard l(mu_);
        if (cleanup_) cleanup_();
      }
      spdlog::default_logger()->flush();
      _exit(128 + sig);
    }
  });
}

InterruptCleanup::~InterruptCleanup() {
  done_ = true;
  pthread_kill(watcher_.native_handle(), SIGUSR2);
  watcher_.join();
}

void InterruptCleanup::Set(std::function<void()> cleanup) {
  std::lock_guard l(mu_);
  cleanup_ = std::move(cleanup);
}

}  // namespace ka
