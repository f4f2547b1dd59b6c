// Test helpers (unit tests only): a whole session in one process, a Sender
// and N Receivers whose every connection is a socketpair made by the harness
// (no TCP, no discovery), with a source that can pause at a byte offset, and
// links that can be held back, tampered with or cut, so that tests of relinks,
// replays and verdicts assert on exact bytes.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chain/receiver.h"
#include "chain/sender.h"
#include "chain/stream_test_util.h"

namespace ka::chain::testing {

constexpr uint64_t kMiB = 1ull << 20;

// Deterministic bytes: the byte at offset i of every test stream.
inline char PatternByte(uint64_t i) { return static_cast<char>((i * 2654435761u) >> 13); }

inline std::string Pattern(uint64_t n) {
  std::string s(n, '\0');
  for (uint64_t i = 0; i < n; ++i) s[i] = PatternByte(i);
  return s;
}

// A stream source (not rereadable) of Pattern(size) that stops at `gate`
// until Open() is called.
class GatedSource : public Source {
 public:
  GatedSource(uint64_t size, uint64_t gate) : size_(size), gate_(gate) {}
  Result<size_t> Read(void* buf, size_t n) override {
    std::unique_lock l(mu_);
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, size_ - pos_));
    if (pos_ + k > gate_) cv_.wait(l, [&] { return open_; });
    for (size_t i = 0; i < k; ++i) static_cast<char*>(buf)[i] = PatternByte(pos_ + i);
    pos_ += k;
    return k;
  }
  Status Finish() override { return Status::Ok(); }
  std::optional<uint64_t> size() const override { return size_; }
  std::string Describe() const override { return "pattern"; }
  void Open() {
    std::lock_guard l(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  uint64_t size_, gate_, pos_ = 0;
  bool open_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
};

// Records what the sender reports.
class RecordingObserver : public SessionObserver {
 public:
  void SessionStarted(const std::string&, const std::string&, std::optional<uint64_t>) override {}
  void PhaseChanged(const std::string& p) override { Add("phase " + p); }
  void ChainChanged(const std::vector<std::string>& names) override {
    std::string s = "chain";
    for (auto& n : names) s += " " + n;
    Add(s);
  }
  void BytesSent(uint64_t) override {}
  void StreamFinished() override { Add("finished"); }
  void NodeJoined(const std::string& name, const std::string&) override { Add("joined " + name); }
  void NodePosition(const std::string&, int) override {}
  void NodeState(const std::string&, const std::string&, const std::string&) override {}
  void NodeBytes(const std::string& name, uint64_t payload) override {
    std::lock_guard l(mu_);
    bytes_[name] = payload;
  }
  void NodeLog(const std::string&, const std::vector<std::string>&) override {}
  void NodeDone(const std::string& name) override { Add("done " + name); }
  void NodeFailed(const std::string& name, const std::string&) override { Add("failed " + name); }

  uint64_t Bytes(const std::string& name) {
    std::lock_guard l(mu_);
    return bytes_[name];
  }
  std::vector<std::string> Events() {
    std::lock_guard l(mu_);
    return events_;
  }
  bool Saw(const std::string& e) {
    for (auto& x : Events())
      if (x == e) return true;
    return false;
  }

 private:
  void Add(std::string e) {
    std::lock_guard l(mu_);
    events_.push_back(std::move(e));
  }
  std::mutex mu_;
  std::map<std::string, uint64_t> bytes_;
  std::vector<std::string> events_;
};

// Copies both directions between two socketpair ends; the way from the
// parent (`up`) to the child can be held after `limit` bytes or have one byte
// flipped at `flip_at`. Cut() ends it: both sides see the connection drop.
class Proxy {
 public:
  Proxy(int child_side, int parent_side, uint64_t limit, uint64_t flip_at, bool mute_up = false)
      : child_(child_side), parent_(parent_side), limit_(limit), flip_at_(flip_at), muted_(mute_up) {
    up_ = std::thread([this] { Copy(child_, parent_, false); });
    down_ = std::thread([this] { Copy(parent_, child_, true); });
  }
  ~Proxy() {
    Cut();
    up_.join();
    down_.join();
    ::close(child_);
    ::close(parent_);
  }
  void Cut() {
    std::lock_guard l(mu_);
    cut_ = true;
    ::shutdown(child_, SHUT_RDWR);
    ::shutdown(parent_, SHUT_RDWR);
    cv_.notify_all();
  }
  uint64_t passed() const { return passed_; }
  // From now on what the child sends its parent (its link beats) is swallowed on the way.
  void MuteUp() { muted_ = true; }

 private:
  void Copy(int from, int to, bool down) {
    char buf[65536];
    for (;;) {
      size_t want = sizeof buf;
      if (down) {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return cut_ || passed_ < limit_; });
        if (cut_) return;
        want = static_cast<size_t>(std::min<uint64_t>(want, limit_ - passed_));
      }
      ssize_t n = ::read(from, buf, want);
      if (n <= 0) break;
      if (!down && muted_ && passed_ > 65536) continue;  // the handshake went through
      if (down && flip_at_ >= passed_ && flip_at_ < passed_ + static_cast<uint64_t>(n))
        buf[flip_at_ - passed_] ^= 0x40;
      if (down) passed_ += static_cast<uint64_t>(n);
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) return;
        off += w;
      }
    }
    ::shutdown(to, SHUT_WR);
  }

  int child_, parent_;
  uint64_t limit_, flip_at_;
  std::atomic<uint64_t> passed_{0};
  std::atomic<bool> muted_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool cut_ = false;
  std::thread up_, down_;
};

// A session of `nodes` receivers, node1 first in the chain (ordered by the
// addresses the harness gives them: 10.0.0.1, 10.0.0.2, ...).
class SessionHarness {
 public:
  static constexpr uint16_t kSenderPort = 30999;
  static constexpr uint16_t kDataPortBase = 5001;
  static constexpr uint64_t kNoLimit = UINT64_MAX;

  // The sender streams GatedSource(size, gate).
  SessionHarness(int nodes, uint64_t size, uint64_t gate)
      : nodes_(nodes), shape_(nodes), control_made_(nodes, 0) {
    ::signal(SIGPIPE, SIG_IGN);  // as ka's main(): a peer gone is an error value, not a signal
    auto source = std::make_unique<GatedSource>(size, gate);
    source_ = source.get();
    so.nodes = nodes;
    so.session = "t";
    so.port = kSenderPort;
    so.listen = false;
    so.chunk = 64 * 1024;
    so.buffer = 8ull << 20;
    so.node_timeout = 10;
    auto shared = std::make_shared<std::unique_ptr<Source>>(std::move(source));
    so.open_source = [shared]() -> Result<std::unique_ptr<Source>> { return std::move(*shared); };
    for (int i = 0; i < nodes; ++i) {
      ReceiveOptions o;
      o.session = "t";
      o.server = "127.0.0.1:" + std::to_string(kSenderPort);
      o.name = "node" + std::to_string(i + 1);
      o.mac = "02:00:00:00:00:0" + std::to_string(i + 1);
      o.listen = false;
      o.data_port = static_cast<uint16_t>(kDataPortBase + i);
      o.buffer = 8ull << 20;
      o.splice = false;
      o.sender_timeout = 20;
      o.join_timeout = 10;
      auto* out = new MemoryOutput;
      outputs.push_back(out);
      o.make_output = [out]() -> Result<std::unique_ptr<Output>> { return std::unique_ptr<Output>(out); };
      o.connect = [this, i](const Endpoint& to, Deadline) { return Connect(i, to); };
      ro.push_back(o);
    }
  }

  ~SessionHarness() {
    std::lock_guard l(mu_);
    for (auto& [node, fds] : fds_)
      for (int fd : fds) ::close(fd);
    proxies_.clear();
  }

  // Before Start: the data links into node `child` (0-based) are held after
  // `limit` bytes, and their byte `flip_at` is flipped, until one of them has
  // carried the stream (links refused at the handshake do not count). With
  // `mute_up`, what the child sends back on them after the handshake (its link
  // beats) never arrives.
  void ShapeLink(int child, uint64_t limit, uint64_t flip_at = kNoLimit, bool mute_up = false) {
    shape_[child] = Shape{true, limit, flip_at, mute_up};
  }

  // Runs the sender and the receivers; returns once Wait() is called.
  void Start() {
    sender = std::make_unique<Sender>(so, &observer);
    sender_thread_ = std::thread([this] { report = sender->Run(); });
    for (int i = 0; i < nodes_; ++i) receivers_.push_back(std::make_unique<Receiver>(ro[i]));
    rc.assign(nodes_, -1);
    for (int i = 0; i < nodes_; ++i) threads_.emplace_back([this, i] { rc[i] = receivers_[i]->Run(); });
  }
  // Until the sender and every receiver returned. A session still running
  // after `seconds` fails the test and is ended by cutting every node off.
  void Wait(double seconds = 60) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::thread watchdog([&] {
      std::unique_lock l(m);
      if (cv.wait_for(l, std::chrono::duration<double>(seconds), [&] { return done; })) return;
      ADD_FAILURE() << "the session did not end within " << seconds << " s";
      for (int i = 0; i < nodes_; ++i) Kill(i);
      source_->Open();
    });
    sender_thread_.join();
    for (auto& t : threads_) t.join();
    {
      std::lock_guard l(m);
      done = true;
    }
    cv.notify_all();
    watchdog.join();
  }

  // Cuts every connection of node `i` (0-based): as if it had crashed.
  void Kill(int i) {
    std::lock_guard l(mu_);
    for (int fd : fds_[i]) ::shutdown(fd, SHUT_RDWR);
    for (auto& [nodes, p] : proxies_)
      if (nodes.first == i || nodes.second == i) p->Cut();
  }

  // Swallows what node `i` (0-based) sends on its shaped data links from now on (ShapeLink).
  void MuteUplinks(int i) {
    std::lock_guard l(mu_);
    for (auto& [nodes, p] : proxies_)
      if (nodes.first == i) p->MuteUp();
  }

  // True once `pred` holds, polling for up to `seconds`.
  template <class F>
  static bool Eventually(F pred, double seconds = 20) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
  }

  const NodeReport* Node(const std::string& name) const {
    if (!report.ok()) return nullptr;
    for (auto& n : report->nodes)
      if (n.name == name) return &n;
    return nullptr;
  }

  GatedSource& source() { return *source_; }

  SendOptions so;
  std::vector<ReceiveOptions> ro;
  std::vector<MemoryOutput*> outputs;  // owned by the receivers
  RecordingObserver observer;
  std::unique_ptr<Sender> sender;
  Result<SessionReport> report = Status::Closed("not run");
  std::vector<int> rc;  // each receiver's exit status

 private:
  static Endpoint Address(int node) {
    return MakeEndpoint(htonl(0x0A000001u + static_cast<uint32_t>(node)), static_cast<uint16_t>(40000 + node));
  }

  // True when a shaped link into node `child` has carried more than a handshake.
  bool CarriedData(int child) {
    std::lock_guard l(mu_);
    for (auto& [nodes, p] : proxies_)
      if (nodes.first == child && p->passed() > 65536) return true;
    return false;
  }

  // Node `from` connects to `to`: the sender or another node's data port.
  Result<UniqueFd> Connect(int from, const Endpoint& to) {
    int target = to.Port() == kSenderPort ? -1 : to.Port() - kDataPortBase;
    if (target != -1 && (target < 0 || target >= nodes_)) return Status::Io("no such test node");
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return Status::Io("socketpair");
    int mine = sv[0], theirs = sv[1];
    Shape shape = shape_[from];
    bool data = target != -1 || control_made_[from];
    if (data && shape.on && !CarriedData(from)) {  // this node's upstream goes through a proxy
      int sv2[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2) != 0) return Status::Io("socketpair");
      std::lock_guard l(mu_);
      proxies_.emplace_back(std::make_pair(from, target),
                            std::make_unique<Proxy>(sv[1], sv2[0], shape.limit, shape.flip_at, shape.mute_up));
      theirs = sv2[1];
    }
    {
      std::lock_guard l(mu_);
      fds_[from].push_back(::dup(mine));
      if (target >= 0) fds_[target].push_back(::dup(theirs));
    }
    control_made_[from] = 1;  // a node's first connection is its control channel
    if (target == -1) sender->Accept(UniqueFd(theirs), Address(from));
    else receivers_[target]->Accept(UniqueFd(theirs), Address(from));
    return UniqueFd(mine);
  }

  int nodes_;
  GatedSource* source_;  // owned by the sender
  struct Shape {
    bool on = false;  // set before Start, then only read
    uint64_t limit = kNoLimit, flip_at = kNoLimit;
    bool mute_up = false;
  };
  std::vector<Shape> shape_;  // per node
  std::vector<char> control_made_;  // per node; written only by that node's threads, one after the other
  std::mutex mu_;
  std::map<int, std::vector<int>> fds_;  // dups of each node's connection ends (for Kill)
  std::list<std::pair<std::pair<int, int>, std::unique_ptr<Proxy>>> proxies_;
  std::thread sender_thread_;
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::vector<std::thread> threads_;
};

}  // namespace ka::chain::testing
