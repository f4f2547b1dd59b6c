#include "control/web_server.h"

#include <httplib.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "control/dashboard_page.h"
#include "control/metrics.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/units.h"

namespace ka::control {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kLogPage = 1000;     // lines per /api/log answer unless ?max= asks for fewer
constexpr size_t kLogPageMax = 5000;  // most lines one answer may carry
constexpr int kWorkers = 4;           // concurrent requests (a dashboard is a handful of browsers)

void InitSodium() {
  // Idempotent and thread-safe; -1 only when the system has no randomness source at all.
  if (sodium_init() < 0) LogError("libsodium failed to initialise");
}

// JSON text that never throws on invalid UTF-8 (node messages may carry raw tool output).
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string Sha256Base64(std::string_view text) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
  return b64;
}

// The page's Content-Security-Policy: its own inline style and script (by hash), requests to
// this server only, nothing else (no frames, forms, plugins or external assets).
std::string PagePolicy() {
  return "default-src 'none'; script-src 'sha256-" + Sha256Base64(DashboardScript()) + "'; style-src 'sha256-" +
         Sha256Base64(DashboardStyle()) +
         "'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}

bool ParsePort(const std::string& s, int* port) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *port = std::stoi(s);
  return *port <= 65535;
}

bool ParseUint(const std::string& s, uint64_t* v) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *v = std::stoull(s);
  return true;
}

// Logs refused requests, at most one line per address every 10 s (with the count of the others),
// so that a client polling with a stale token does not flood the session's log.
class RefusalLog {
 public:
  void Note(const std::string& addr, const std::string& method, const std::string& path, const char* why) {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = SteadyClock::now();
    if (seen_.size() > 1024) seen_.clear();  // bounded, whatever the clients do
    auto it = seen_.find(addr);
    if (it != seen_.end() && now - it->second.last < std::chrono::seconds(10)) {
      ++it->second.suppressed;
      return;
    }
    uint64_t more = it == seen_.end() ? 0 : it->second.suppressed;
    seen_[addr] = {now, 0};
    std::string shown = EscapeBytes(path.substr(0, 200));
    if (more > 0)
      LogWarn("dashboard: refused {} {} from {}: {} (and {} more refused from there in the last seconds)", method,
              shown, addr, why, more);
    else
      LogWarn("dashboard: refused {} {} from {}: {}", method, shown, addr, why);
  }

 private:
  struct Seen {
    SteadyClock::time_point last;
    uint64_t suppressed = 0;
  };
  std::mutex mu_;
  std::map<std::string, Seen> seen_;
};

const char* Reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404:
      return "Not Found: the ka dashboard has /, /api/session, /api/log, /metrics and /healthz";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    default: return "Error";
  }
}

// Percent-encoding of everything but RFC 3986's unreserved characters (a token from a file may hold any).
std::string EncodeQueryValue(const std::string& v) {
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

void SendJsonError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(Dump(Json{{"error", message}}), "application/json");
}

}  // namespace

std::string NewToken() {
  InitSodium();
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  return ToHex(b, sizeof b);
}

Result<ListenAddress> ParseListenAddress(const std::string& addr_port) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("--web '" + addr_port + "': " + why +
                           " (expected ADDR:PORT, [IPV6]:PORT, :PORT for all addresses, or PORT for 127.0.0.1:PORT)");
  };
  ListenAddress a;
  std::string port;
  if (addr_port.find(':') == std::string::npos) {
    a.host = "127.0.0.1";
    port = addr_port;
  } else if (!addr_port.empty() && addr_port[0] == '[') {
    size_t close = addr_port.find(']');
    if (close == std::string::npos || close + 1 >= addr_port.size() || addr_port[close + 1] != ':')
      return bad("an IPv6 address needs the form [ADDR]:PORT");
    a.host = addr_port.substr(1, close - 1);
    port = addr_port.substr(close + 2);
    if (a.host.empty()) return bad("empty IPv6 address");
  } else {
    size_t colon = addr_port.rfind(':');
    if (addr_port.find(':') != colon) return bad("write an IPv6 address in brackets");
    a.host = colon == 0 ? "0.0.0.0" : addr_port.substr(0, colon);
    port = addr_port.substr(colon + 1);
  }
  if (!ParsePort(port, &a.port)) return bad("the port must be a number from 0 to 65535");
  return a;
}

struct WebServer::Impl {
  Impl(const SessionView& v, std::string t) : view(v), token(std::move(t)) {}

  bool Authorized(const httplib::Request& req, const char** why) const {
    std::string given;
    bool have = false;
    if (req.has_header("Authorization")) {
      std::string h = req.get_header_value("Authorization");
      if (Lower(h.substr(0, 7)) == "bearer ") {
        given = h.substr(7);
        have = true;
      }
    }
    if (!have && req.has_param("token")) {
      given = req.get_param_value("token");
      have = true;
    }
    if (!have) {
      *why = "no token";
      return false;
    }
    // Hashing first makes the comparison constant-time whatever the lengths.
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(given.data()), given.size(), nullptr, 0);
    if (sodium_memcmp(h, token_hash, sizeof h) != 0) {
      *why = "wrong token";
      return false;
    }
    return true;
  }

  void Routes() {
    server.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
    // httplib's default also sets SO_REUSEPORT, which lets a second server share the port (and
    // its requests) silently; SO_REUSEADDR alone still allows a restart over TIME_WAIT sockets.
    server.set_socket_options([](socket_t sock) {
      int on = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    });
    // Stop() waits for the connections in progress: an idle keep-alive connection (a browser
    // between two polls, or a pre-connected socket) holds it for the keep-alive timeout, a slow
    // request for the read timeout. Polls come every second, so 1 s of keep-alive suffices.
    server.set_keep_alive_timeout(1);
    server.set_read_timeout(2, 0);
    server.set_write_timeout(5, 0);
    server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                                {"Referrer-Policy", "no-referrer"},  // the page's URL holds the token
                                {"X-Frame-Options", "DENY"},
                                {"Cache-Control", "no-store"}});
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.method != "GET" && req.method != "HEAD") {
        res.status = 405;
        res.set_header("Allow", "GET, HEAD");
        res.set_content("405 Method Not Allowed: the ka dashboard is read-only (GET only)\n", "text/plain");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.path == "/healthz") return httplib::Server::HandlerResponse::Unhandled;
      const char* why = "";
      if (!Authorized(req, &why)) {
        refusals.Note(req.remote_addr, req.method, req.path, why);
        res.status = 401;
        res.set_header("WWW-Authenticate", "Bearer realm=\"ka dashboard\"");
        res.set_content(std::string("401 Unauthorized: ") + why +
                            ". This ka dashboard needs the session's token: add ?token=TOKEN to the address, TOKEN "
                            "being the first line of the token file that ka's log names (--web-token-file).\n",
                        "text/plain");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      res.set_content(std::to_string(res.status) + " " + Reason(res.status) + "\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }));
    server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      LogError("dashboard: {} failed: {}", EscapeBytes(req.path.substr(0, 200)), what);
      SendJsonError(res, 500, "the dashboard could not answer " + req.path + ": " + what);
    });

    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
    server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", policy);
      res.set_content(page, "text/html; charset=utf-8");
    });
    server.Get("/api/session", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(Dump(view.Snapshot()), "application/json");
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(RenderMetrics(view.Snapshot()), kMetricsContentType);
    });
    server.Get("/api/log", [this](const httplib::Request& req, httplib::Response& res) {
      if (!req.has_param("node"))
        return SendJsonError(res, 400, "/api/log needs ?node=NAME (and from=N, the first line wanted)");
      std::string node = req.get_param_value("node");
      uint64_t from = 0, max = kLogPage;
      if (req.has_param("from") && !ParseUint(req.get_param_value("from"), &from))
        return SendJsonError(res, 400, "/api/log: from must be a line index (0, 1, ...)");
      if (req.has_param("max") && (!ParseUint(req.get_param_value("max"), &max) || max == 0 || max > kLogPageMax))
        return SendJsonError(res, 400, "/api/log: max must be from 1 to " + std::to_string(kLogPageMax));
      uint64_t next = from;
      auto lines = view.Log(node, from, static_cast<size_t>(max), &next);
      if (!lines.ok()) {
        bool unknown = lines.status().code() == Status::Code::kInvalid;
        return SendJsonError(res, unknown ? 404 : 500, lines.status().message());
      }
      res.set_content(Dump(Json{{"node", node}, {"lines", *lines}, {"next", next}}), "application/json");
    });
  }

  const SessionView& view;
  std::string token;
  unsigned char token_hash[crypto_generichash_BYTES] = {};
  std::string page = DashboardPage();
  std::string policy = PagePolicy();
  ListenAddress listen;
  RefusalLog refusals;
  httplib::Server server;
  std::thread thread;
  std::mutex stop_mu;
};

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebServer::~WebServer() { Stop(); }

Result<std::unique_ptr<WebServer>> WebServer::Start(const std::string& addr_port, const std::string& token,
                                                    const SessionView& view) {
  auto where = ParseListenAddress(addr_port);
  if (!where.ok()) return where.status();
  if (token.empty()) return Status::Invalid("the web dashboard needs a token (none given)");
  InitSodium();
  auto impl = std::make_unique<Impl>(view, token);
  crypto_generichash(impl->token_hash, sizeof impl->token_hash, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  impl->listen = *where;
  impl->Routes();
  const std::string shown = where->host.find(':') != std::string::npos
                                ? "[" + where->host + "]:" + std::to_string(where->port)
                                : where->host + ":" + std::to_string(where->port);
  // httplib does not report why a bind failed; errno still holds bind()'s (or getaddrinfo's) error.
  auto cannot = [&](int err) {
    std::string why = err != 0 ? std::string(": ") + std::strerror(err)
                               : " (port in use, unknown host name, or not an address of this machine?)";
    return Status::Io("web dashboard: cannot listen on " + shown + why + "; choose another --web address or port");
  };
  errno = 0;
  if (where->port == 0) {
    int port = impl->server.bind_to_any_port(where->host);
    if (port <= 0) return cannot(errno);
    impl->listen.port = port;
  } else if (!impl->server.bind_to_port(where->host, where->port)) {
    return cannot(errno);
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  // stop() is a no-op until the loop runs: wait for it so that Stop() always ends the thread.
  auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (!impl->server.is_running() && SteadyClock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!impl->server.is_running()) {
    // listen_after_bind returned at once (it only does so on errors): nothing to stop.
    impl->thread.join();
    return Status::Io("web dashboard: the server on " + shown + " did not start");
  }
  std::unique_ptr<WebServer> server(new WebServer(std::move(impl)));
  LogInfo("dashboard: serving on {}:{} (read-only, token required)",
          shown.substr(0, shown.rfind(':')), server->port());
  return server;
}

void WebServer::Stop() {
  if (!impl_) return;
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

int WebServer::port() const { return impl_->listen.port; }

const std::string& WebServer::host() const { return impl_->listen.host; }

std::string WebServer::BaseUrl() const {
  std::string host = impl_->listen.host;
  if (host == "0.0.0.0" || host == "::") {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') host = name;
  }
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(impl_->listen.port) + "/";
}

std::string WebServer::Url() const { return BaseUrl() + "?token=" + EncodeQueryValue(impl_->token); }

std::string WebServer::UrlForLog(const std::string& token_file) const {
  if (token_file.empty()) {
    return BaseUrl() + " (token not logged: give --web-token-file FILE to find it in FILE)";
  }
  return BaseUrl() + " (token in " + token_file + ")";
}

}  // namespace ka::control
