#include "chain/discovery.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>

#include "chain/frame.h"
#include "chain/message.h"
#include "chain/messages.h"
#include "util/log.h"

namespace ka::chain {

std::string EncodeDiscover(const std::string& session) {
  return EncodePlainMessage(FrameType::kDiscover, Discover{kProtocolVersion, session}.ToJson());
}

Result<std::string> ParseDiscover(std::string_view datagram) {
  auto m = ParsePlainMessage(datagram);
  if (!m.ok()) return m.status();
  if (m->type != FrameType::kDiscover) return Status::Protocol("not a DISCOVER datagram");
  auto d = Discover::Decode(m->body);
  if (!d.ok()) return d.status();
  if (d->version != kProtocolVersion)
    return Status::Protocol("DISCOVER of protocol version " + std::to_string(d->version));
  return d->session;
}

std::string EncodeHere(const std::string& session, uint16_t tcp_port) {
  return EncodePlainMessage(FrameType::kHere, Here{kProtocolVersion, session, tcp_port}.ToJson());
}

Result<uint16_t> ParseHere(std::string_view datagram, const std::string& session) {
  auto m = ParsePlainMessage(datagram);
  if (!m.ok()) return m.status();
  if (m->type != FrameType::kHere) return Status::Protocol("not a HERE datagram");
  auto h = Here::Decode(m->body);
  if (!h.ok()) return h.status();
  if (h->version != kProtocolVersion) return Status::Protocol("HERE of protocol version " + std::to_string(h->version));
  if (h->session != session) return Status::Refused("HERE for another session '" + h->session + "'");
  return h->port;
}

std::vector<uint32_t> DiscoveryTargets() {
  std::vector<uint32_t> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
      if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_BROADCAST) || !i->ifa_broadaddr) continue;
      uint32_t b = reinterpret_cast<sockaddr_in*>(i->ifa_broadaddr)->sin_addr.s_addr;
      bool dup = false;
      for (uint32_t o : out) dup |= (o == b);
      if (!dup && b != 0) out.push_back(b);
    }
    freeifaddrs(list);
  }
  out.push_back(htonl(INADDR_LOOPBACK));
  return out;
}

Result<Endpoint> DiscoverSender(const std::string& session, uint16_t discovery_port, int tries,
                                const std::vector<uint32_t>& targets) {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return Status::Io(ErrnoMessage("UDP socket", errno));
  int one = 1;
  setsockopt(s.get(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  std::string probe = EncodeDiscover(session);
  for (int attempt = 1; attempt <= tries; ++attempt) {
    for (uint32_t target : targets.empty() ? DiscoveryTargets() : targets) {
      Endpoint e = MakeEndpoint(target, discovery_port);
      ::sendto(s.get(), probe.data(), probe.size(), 0, reinterpret_cast<const sockaddr*>(&e.addr), sizeof e.addr);
    }
    Deadline until = DeadlineIn(1.0);
    while (Clock::now() < until) {
      if (!WaitReadable(s.get(), MillisUntil(until))) break;
      char buf[2048];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(s.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      auto port = ParseHere(std::string_view(buf, static_cast<size_t>(n)), session);
      if (!port.ok()) {
        LogDebug("ignoring discovery reply from {}: {}", Endpoint{from}.Host(), port.status().ToString());
        continue;
      }
      Endpoint found = MakeEndpoint(from.sin_addr.s_addr, port.value());
      LogInfo("found the sender of session '{}' at {}", session, found.ToString());
      return found;
    }
    if (attempt < tries)
      LogInfo("no sender for session '{}' yet (try {}/{}), asking again", session, attempt, tries);
  }
  return Status::Timeout("no sender for session '" + session + "' answered on UDP port " +
                         std::to_string(discovery_port) + " after " + std::to_string(tries) +
                         " tries (is `ka send --session " + session + "` running on this network? or use --server HOST)");
}

DiscoveryResponder::~DiscoveryResponder() { Stop(); }

Status DiscoveryResponder::Start(const std::string& session, uint16_t discovery_port, uint16_t tcp_port) {
  session_ = session;
  tcp_port_ = tcp_port;
  sock_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock_.valid()) return Status::Io(ErrnoMessage("UDP socket", errno));
  int one = 1;
  setsockopt(sock_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(sock_.get(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(discovery_port);
  if (::bind(sock_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return Status::Io(ErrnoMessage("bind UDP discovery port " + std::to_string(discovery_port), errno));
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void DiscoveryResponder::Stop() {
  stop_ = true;
  if (sock_.valid()) ::shutdown(sock_.get(), SHUT_RDWR);  // wakes the loop's poll at once
  if (thread_.joinable()) thread_.join();
}

void DiscoveryResponder::Loop() {
  std::string reply = EncodeHere(session_, tcp_port_);
  while (!stop_) {
    if (!WaitReadable(sock_.get(), 1000)) continue;
    char buf[2048];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(sock_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    auto asked = ParseDiscover(std::string_view(buf, static_cast<size_t>(n)));
    if (!asked.ok()) {
      LogDebug("ignoring datagram from {}: {}", Endpoint{from}.Host(), asked.status().ToString());
      continue;
    }
    if (asked.value() != session_) {
      LogDebug("ignoring discovery from {} for session '{}'", Endpoint{from}.Host(), asked.value());
      continue;
    }
    ::sendto(sock_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  }
}

}  // namespace ka::chain
