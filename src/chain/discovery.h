// Discovery: a receiver broadcasts DISCOVER {session} on UDP every second; the
// sender serving that session answers HERE {session, port} by unicast. Other
// sessions' datagrams and anything malformed are ignored.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "util/fd.h"
#include "util/net.h"
#include "util/status.h"

namespace ka::chain {

inline constexpr uint16_t kDefaultPort = 30765;
inline constexpr uint16_t kDefaultDiscoveryPort = 30764;

std::string EncodeDiscover(const std::string& session);
// The session name asked for, or an error for anything that is not a DISCOVER.
Result<std::string> ParseDiscover(std::string_view datagram);
std::string EncodeHere(const std::string& session, uint16_t tcp_port);
// The TCP port of a HERE for `session`; an error for other sessions or junk.
Result<uint16_t> ParseHere(std::string_view datagram, const std::string& session);

// Broadcast addresses of every up, broadcast-capable IPv4 interface, plus
// 127.0.0.1 so that a sender on the same host is found too.
std::vector<uint32_t> DiscoveryTargets();

// Receiver side: sends DISCOVER to `targets` (IPv4 addresses in network
// order; empty: DiscoveryTargets()) `tries` times, one second apart.
Result<Endpoint> DiscoverSender(const std::string& session, uint16_t discovery_port, int tries,
                                const std::vector<uint32_t>& targets = {});

// Sender side: answers DISCOVERs for `session` until stopped.
class DiscoveryResponder {
 public:
  ~DiscoveryResponder();
  Status Start(const std::string& session, uint16_t discovery_port, uint16_t tcp_port);
  void Stop();

 private:
  void Loop();
  UniqueFd sock_;
  std::string session_;
  uint16_t tcp_port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ka::chain
