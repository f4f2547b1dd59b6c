// The read-only web dashboard of a ka session (`--web ADDR:PORT`): a small HTTP server on its
// own thread that serves one page and the JSON it polls, read through a SessionView.
//
// Routes (all GET or HEAD; anything else is 405):
//   /             the dashboard page (HTML, inline CSS and JS, no external assets)
//   /api/session  SessionView::Snapshot() as JSON
//   /api/log      ?node=NAME&from=N[&max=M]: {"node": NAME, "lines": [...], "next": N'}; unknown node 404
//   /metrics      the snapshot in Prometheus' text format (control/metrics.h)
//   /healthz      "ok" (the only route without the token)
// Every other route needs the session's token, as `?token=T` or `Authorization: Bearer T`,
// compared in constant time; a request without it or with a wrong one gets 401 and is logged
// (its address, not what it sent). Nothing served changes the session. See docs/dashboard.md.
#pragma once

#include <memory>
#include <string>

#include "control/session_view.h"
#include "util/status.h"

namespace ka::control {

// A new dashboard token: 32 lower-case hex characters (16 bytes from libsodium's randombytes_buf).
std::string NewToken();

// Where the dashboard listens, from the --web value.
struct ListenAddress {
  std::string host;  // "127.0.0.1", "0.0.0.0" (all IPv4 addresses), "::1", a host name
  int port = 0;      // 0: any free port (the server reports the real one)
};
// "ADDR:PORT", "[IPV6]:PORT", ":PORT" (all addresses, 0.0.0.0) or "PORT" alone (127.0.0.1:PORT).
Result<ListenAddress> ParseListenAddress(const std::string& addr_port);

class WebServer {
 public:
  // Binds `addr_port` (ParseListenAddress) and serves `view` on a thread of its own until Stop().
  // `token` must not be empty. `view` must outlive the server and be safe to read from several
  // threads. A bind failure is an error naming the address.
  static Result<std::unique_ptr<WebServer>> Start(const std::string& addr_port, const std::string& token,
                                                  const SessionView& view);
  ~WebServer();  // stops
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Closes the listening socket, finishes the requests in progress (an idle keep-alive connection
  // holds it up to 1 s, a request still being received up to 2 s) and joins the thread. Idempotent.
  void Stop();
  // "http://ADDR:PORT/?token=TOKEN": the address it listens on (this machine's host name when it
  // listens on all addresses), with the real port.
  // Never log this one: it holds the token. For a terminal or a browser only.
  std::string Url() const;
  // For log lines (server.log, the console log): the URL without the token, and where the
  // token is: "http://ADDR:PORT/ (token in FILE)"; with no file, "http://ADDR:PORT/ (token
  // not logged: ...)". See LoadOrCreateWebToken (control/web_token.h) for the file.
  std::string UrlForLog(const std::string& token_file) const;
  int port() const;
  const std::string& host() const;

 private:
  struct Impl;
  explicit WebServer(std::unique_ptr<Impl> impl);
  std::string BaseUrl() const;  // "http://ADDR:PORT/"
  std::unique_ptr<Impl> impl_;
};

}  // namespace ka::control
