#include "util/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>

namespace ka {

int MillisUntil(Deadline d) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(d - Clock::now()).count();
  if (left < 0) return 0;
  if (left > INT_MAX) return INT_MAX;
  return static_cast<int>(left);
}

Result<uint32_t> ParseIpv4(const std::string& s, const std::string& what) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return Status::Invalid(what + ": '" + s + "' is not an IPv4 address (a.b.c.d)");
  }
  return ntohl(a.s_addr);
}

std::string FormatIpv4(uint32_t host_order) {
  return std::to_string(host_order >> 24) + "." + std::to_string((host_order >> 16) & 255) + "." +
         std::to_string((host_order >> 8) & 255) + "." + std::to_string(host_order & 255);
}

Result<Ipv4Net> ParseIpv4Net(const std::string& s) {
  Ipv4Net n;
  std::string addr = s;
  if (size_t slash = s.find('/'); slash != std::string::npos) {
    addr = s.substr(0, slash);
    const std::string p = s.substr(slash + 1);
    if (p.empty() || p.size() > 2 || !std::isdigit(static_cast<unsigned char>(p[0])) ||
        (p.size() == 2 && !std::isdigit(static_cast<unsigned char>(p[1]))) || std::stoi(p) > 32) {
      return Status::Invalid("network '" + s + "': the prefix length must be 0..32 (e.g. 10.0.0.0/24)");
    }
    n.prefix = std::stoi(p);
  }
  auto a = ParseIpv4(addr, "network '" + s + "'");
  if (!a.ok()) return a.status();
  n.addr = *a;
  return n;
}

std::string Endpoint::Host() const {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof buf);
  return buf;
}
uint16_t Endpoint::Port() const { return ntohs(addr.sin_port); }
std::string Endpoint::ToString() const { return Host() + ":" + std::to_string(Port()); }

Endpoint MakeEndpoint(uint32_t ipv4_net_order, uint16_t port) {
  Endpoint e;
  e.addr.sin_family = AF_INET;
  e.addr.sin_addr.s_addr = ipv4_net_order;
  e.addr.sin_port = htons(port);
  return e;
}

Result<Endpoint> ResolveEndpoint(const std::string& spec, uint16_t default_port) {
  std::string host = spec;
  uint16_t port = default_port;
  auto colon = spec.rfind(':');
  if (colon != std::string::npos) {
    host = spec.substr(0, colon);
    std::string p = spec.substr(colon + 1);
    char* end = nullptr;
    long v = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v <= 0 || v > 65535)
      return Status::Invalid("bad port '" + p + "' in '" + spec + "' (expected 1..65535)");
    port = static_cast<uint16_t>(v);
  }
  if (host.empty()) return Status::Invalid("empty host in '" + spec + "'");
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res)
    return Status::Invalid("cannot resolve host '" + host + "': " + gai_strerror(rc) +
                           " (give an IPv4 address or a resolvable name)");
  Endpoint e;
  std::memcpy(&e.addr, res->ai_addr, sizeof(sockaddr_in));
  e.addr.sin_port = htons(port);
  freeaddrinfo(res);
  return e;
}

Result<UniqueFd> ListenTcp(const std::string& bind_host, uint16_t port, int backlog) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::Io(ErrnoMessage("socket", errno));
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (bind_host.empty() || bind_host == "0.0.0.0") {
    a.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET, bind_host.c_str(), &a.sin_addr) != 1) {
    return Status::Invalid("bad bind address '" + bind_host + "' (expected an IPv4 address)");
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return Status::Io(ErrnoMessage("bind TCP port " + std::to_string(port), errno) +
                      " (is another ka session using it? choose another with --port)");
  if (::listen(fd.get(), backlog) != 0) return Status::Io(ErrnoMessage("listen", errno));
  return fd;
}

Result<UniqueFd> ConnectTcp(const Endpoint& to, Deadline deadline) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Status::Io(ErrnoMessage("socket", errno));
  int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to.addr), sizeof to.addr);
  if (rc != 0 && errno != EINPROGRESS) return Status::Io(ErrnoMessage("connect to " + to.ToString(), errno));
  if (rc != 0) {
    pollfd p{fd.get(), POLLOUT, 0};
    int n = ::poll(&p, 1, MillisUntil(deadline));
    if (n == 0) return Status::Timeout("connect to " + to.ToString() + " timed out");
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Status::Io(ErrnoMessage("connect to " + to.ToString(), err));
  }
  SetNonBlocking(fd.get(), false);
  SetTcpOptions(fd.get());
  return fd;
}

Result<UniqueFd> AcceptTcp(int listen_fd, Deadline deadline, Endpoint* peer) {
  pollfd p{listen_fd, POLLIN, 0};
  int n = ::poll(&p, 1, MillisUntil(deadline));
  if (n <= 0) return Status::Timeout("no connection");
  sockaddr_in a{};
  socklen_t len = sizeof a;
  int c = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&a), &len, SOCK_CLOEXEC);
  if (c < 0) return Status::Io(ErrnoMessage("accept", errno));
  if (peer) peer->addr = a;
  SetTcpOptions(c);
  return UniqueFd(c);
}

static Status WaitFor(int fd, short events, Deadline deadline, const std::string& what) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, MillisUntil(deadline));
    if (n > 0) return Status::Ok();
    if (n == 0) return Status::Timeout(what + " timed out");
    if (errno != EINTR) return Status::Io(ErrnoMessage(what, errno));
  }
}

Status ReadFull(int fd, void* buf, size_t n, Deadline deadline, const std::string& what) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    KA_RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline, what));
    ssize_t r = ::recv(fd, p, n, MSG_DONTWAIT);
    if (r == 0) return Status::Closed(what + ": peer closed the connection");
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Status::Io(ErrnoMessage(what, errno));
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status WriteFull(int fd, const void* buf, size_t n, Deadline deadline, const std::string& what) {
  auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    KA_RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline, what));
    ssize_t r = ::send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == EPIPE || errno == ECONNRESET) return Status::Closed(ErrnoMessage(what, errno));
      return Status::Io(ErrnoMessage(what, errno));
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return Status::Ok();
}

size_t UnreadBytes(int fd) {
  int n = 0;
  if (::ioctl(fd, FIONREAD, &n) != 0 || n < 0) return 0;
  return static_cast<size_t>(n);
}

bool WaitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

void SetNonBlocking(int fd, bool on) {
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
}

void SetTcpOptions(int fd) {
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  int idle = 5, intvl = 2, cnt = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

uint16_t LocalPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

std::string LocalAddress(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return {};
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return buf;
}

std::string InterfaceOfAddress(const std::string& ip) {
  ifaddrs* ifs = nullptr;
  if (::getifaddrs(&ifs) != 0) return {};
  std::string name;
  for (auto* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    if (ip == buf) name = i->ifa_name;
  }
  ::freeifaddrs(ifs);
  return name;
}

std::string MacOfAddress(const std::string& ip) {
  std::string name = InterfaceOfAddress(ip);
  if (name.empty()) return {};
  std::ifstream f("/sys/class/net/" + name + "/address");
  std::string mac;
  f >> mac;
  return mac;
}

uint32_t LinkMbpsOfAddress(const std::string& ip) {
  std::string name = InterfaceOfAddress(ip);
  if (name.empty() || name.find('/') != std::string::npos) return 0;
  std::ifstream f("/sys/class/net/" + name + "/speed");  // EINVAL when the link is down or has no speed
  long long mbps = 0;
  if (!(f >> mbps) || mbps <= 0 || mbps > 10'000'000) return 0;
  return static_cast<uint32_t>(mbps);
}

}  // namespace ka
