// Thin, blocking-with-deadline wrappers over IPv4 TCP sockets. Every function
// returns a Status naming the peer and the operation that failed.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "util/fd.h"
#include "util/status.h"

namespace ka {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline Deadline DeadlineIn(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}
// Milliseconds left until the deadline, clamped to [0, INT_MAX]; for poll().
int MillisUntil(Deadline d);

struct Endpoint {
  sockaddr_in addr{};
  std::string ToString() const;  // "10.0.0.1:30765"
  std::string Host() const;      // "10.0.0.1"
  uint16_t Port() const;
};

// An IPv4 address and prefix, host byte order.
struct Ipv4Net {
  uint32_t addr = 0;
  int prefix = 24;
  uint32_t Mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t Network() const { return addr & Mask(); }
  bool Contains(uint32_t a) const { return (a & Mask()) == Network(); }
};

// "a.b.c.d" -> the address in host byte order; Status::Invalid starting with WHAT otherwise.
Result<uint32_t> ParseIpv4(const std::string& s, const std::string& what);
std::string FormatIpv4(uint32_t host_order);  // "a.b.c.d"
// "10.0.0.0/24" or "10.0.0.0" (/24 assumed).
Result<Ipv4Net> ParseIpv4Net(const std::string& s);

// "host", "host:port" or "1.2.3.4:port"; the host may be a name (resolved, IPv4).
Result<Endpoint> ResolveEndpoint(const std::string& spec, uint16_t default_port);
Endpoint MakeEndpoint(uint32_t ipv4_net_order, uint16_t port);

Result<UniqueFd> ListenTcp(const std::string& bind_host, uint16_t port, int backlog = 64);
Result<UniqueFd> ConnectTcp(const Endpoint& to, Deadline deadline);
// Accepts one connection; returns Status::Timeout when the deadline passes first.
Result<UniqueFd> AcceptTcp(int listen_fd, Deadline deadline, Endpoint* peer);

Status ReadFull(int fd, void* buf, size_t n, Deadline deadline, const std::string& what);
Status WriteFull(int fd, const void* buf, size_t n, Deadline deadline, const std::string& what);
// Waits until fd is readable (POLLIN) or the deadline passes. True if readable.
bool WaitReadable(int fd, int timeout_ms);
// Bytes received on socket `fd` and not read yet (FIONREAD); 0 on error.
size_t UnreadBytes(int fd);

void SetNonBlocking(int fd, bool on);
void SetTcpOptions(int fd);  // TCP_NODELAY off for data, keepalive on, large buffers
uint16_t LocalPort(int fd);
// The local IPv4 address of a connected socket ("10.0.0.5"); empty on error.
std::string LocalAddress(int fd);
// The name of the interface holding IPv4 address `ip` ("eth0"); empty if none.
std::string InterfaceOfAddress(const std::string& ip);
// The MAC (aa:bb:cc:dd:ee:ff) of the interface holding IPv4 address `ip`; empty if none.
std::string MacOfAddress(const std::string& ip);
// The speed the kernel reports for the link of the interface holding `ip` (/sys/class/net/IF/speed,
// Mbit/s); 0 when unknown (loopback, a link that is down, a driver that does not say). It is the
// NIC's negotiated speed, not a measurement: a shaped or congested path is slower.
uint32_t LinkMbpsOfAddress(const std::string& ip);

}  // namespace ka
