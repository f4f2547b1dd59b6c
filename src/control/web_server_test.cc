#include "control/web_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <regex>

#include "control/dashboard_page.h"

namespace ka::control {
namespace {

using Json = nlohmann::json;

const char kToken[] = "0123456789abcdef0123456789abcdef";

class FakeView : public SessionView {
 public:
  FakeView() {
    snapshot_ = Json::parse(R"({"session":"lab","session_id":"a1b2c3","source":"clone of /srv/golden.img",
      "phase":"streaming","elapsed":12.5,"total_bytes":123456789,"sent_bytes":1000,"chain":["node1","node2"],
      "exec_enabled":false,
      "nodes":[{"name":"node1","address":"10.0.0.2","position":1,"state":"receiving","detail":"","bytes":1000,
                "rate_bps":1.2e8,"eta_s":3.5,"error":"","last_message":"receiving","updated":12.0},
               {"name":"node2","address":"10.0.0.3","position":2,"state":"joined","detail":"","bytes":0,
                "rate_bps":0,"eta_s":null,"error":"","last_message":"","updated":1.0}],
      "throughput":[{"t":1.0,"bytes_per_s":1.1e8},{"t":2.0,"bytes_per_s":1.2e8}]})");
    for (int i = 0; i < 25; ++i) logs_["node1"].push_back("line " + std::to_string(i));
    logs_["node2"];
  }
  Json Snapshot() const override { return snapshot_; }
  Result<std::vector<std::string>> Log(const std::string& node, uint64_t from, size_t max,
                                       uint64_t* next) const override {
    auto it = logs_.find(node);
    if (it == logs_.end()) return Status::Invalid("no node named '" + node + "'");
    const auto& l = it->second;
    uint64_t start = std::min<uint64_t>(from, l.size()), end = std::min<uint64_t>(l.size(), start + max);
    *next = end;
    return std::vector<std::string>(l.begin() + static_cast<long>(start), l.begin() + static_cast<long>(end));
  }
  Json snapshot_;
  std::map<std::string, std::vector<std::string>> logs_;
};

class ControlWebServer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = WebServer::Start("127.0.0.1:0", kToken, view_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(5);
    client_->set_read_timeout(5);
  }
  httplib::Result Get(const std::string& path, const httplib::Headers& h = {}) { return client_->Get(path, h); }
  static httplib::Headers Bearer(const std::string& t) { return {{"Authorization", "Bearer " + t}}; }

  FakeView view_;
  std::unique_ptr<WebServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ControlWebServer, RefusesWithoutOrWithAWrongToken) {
  for (const char* path : {"/", "/api/session", "/api/log?node=node1", "/metrics", "/nowhere"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_NE(r->body.find("token"), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("lab"), std::string::npos) << "no session data without the token";
  }
  auto wrong_query = Get("/api/session?token=0123456789abcdef0123456789abcdee");
  ASSERT_TRUE(wrong_query);
  EXPECT_EQ(wrong_query->status, 401);
  auto wrong_bearer = Get("/api/session", Bearer("nope"));
  ASSERT_TRUE(wrong_bearer);
  EXPECT_EQ(wrong_bearer->status, 401);
  auto prefix = Get(std::string("/api/session?token=") + std::string(kToken).substr(0, 31));
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->status, 401);
  auto empty = Get("/api/session?token=");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 401);
  // A wrong Bearer header is not rescued by a right query token.
  auto both = Get(std::string("/api/session?token=") + kToken, Bearer("nope"));
  ASSERT_TRUE(both);
  EXPECT_EQ(both->status, 401);
}

TEST_F(ControlWebServer, ServesTheSnapshotWithTheTokenInTheQueryOrAsBearer) {
  for (int how = 0; how < 2; ++how) {
    auto r = how == 0 ? Get(std::string("/api/session?token=") + kToken) : Get("/api/session", Bearer(kToken));
    ASSERT_TRUE(r) << how;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
    EXPECT_EQ(Json::parse(r->body), view_.snapshot_);
  }
}

TEST_F(ControlWebServer, ServesMetricsWithTheTokenInTheQueryOrAsBearer) {
  for (int how = 0; how < 2; ++how) {
    auto r = how == 0 ? Get(std::string("/metrics?token=") + kToken) : Get("/metrics", Bearer(kToken));
    ASSERT_TRUE(r) << how;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r->body.find("ka_node_bytes_total{node=\"node1\",address=\"10.0.0.2\"} 1000\n"), std::string::npos)
        << r->body;
    EXPECT_EQ(r->body.find(kToken), std::string::npos) << "never the token";
  }
}

TEST_F(ControlWebServer, SnapshotWithInvalidUtf8IsStillServed) {
  view_.snapshot_["nodes"][0]["last_message"] = std::string("mkfs said \xff\xfe");
  auto r = Get("/api/session", Bearer(kToken));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["session"], "lab");
}

TEST_F(ControlWebServer, LogIsPagedFromALineIndex) {
  auto page = [&](const std::string& q) {
    auto r = Get("/api/log?" + q, Bearer(kToken));
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 200) << q << ": " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    return Json::parse(r->body);
  };
  Json a = page("node=node1&from=0&max=10");
  EXPECT_EQ(a["node"], "node1");
  ASSERT_EQ(a["lines"].size(), 10u);
  EXPECT_EQ(a["lines"][0], "line 0");
  EXPECT_EQ(a["next"], 10);
  Json b = page("node=node1&from=10");
  ASSERT_EQ(b["lines"].size(), 15u);
  EXPECT_EQ(b["lines"][0], "line 10");
  EXPECT_EQ(b["lines"][14], "line 24");
  EXPECT_EQ(b["next"], 25);
  Json c = page("node=node1&from=25");
  EXPECT_TRUE(c["lines"].empty());
  EXPECT_EQ(c["next"], 25);
  Json d = page("node=node1");  // from defaults to 0
  EXPECT_EQ(d["lines"].size(), 25u);
  Json e = page("node=node2&from=0");
  EXPECT_TRUE(e["lines"].empty());
  EXPECT_EQ(e["next"], 0);
}

TEST_F(ControlWebServer, LogOfAnUnknownNodeIs404AndBadQueriesAre400) {
  auto r = Get("/api/log?node=node9&from=0", Bearer(kToken));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_NE(Json::parse(r->body)["error"].get<std::string>().find("node9"), std::string::npos);
  for (const char* q : {"from=0", "node=node1&from=-1", "node=node1&from=x", "node=node1&max=0", "node=node1&max=99999"}) {
    auto bad = Get(std::string("/api/log?") + q, Bearer(kToken));
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << q;
    EXPECT_TRUE(Json::parse(bad->body).contains("error")) << q;
  }
}

TEST_F(ControlWebServer, EverythingButGetIs405) {
  auto post = client_->Post(std::string("/api/session?token=") + kToken, "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  auto post_no_token = client_->Post("/", "x", "text/plain");
  ASSERT_TRUE(post_no_token);
  EXPECT_EQ(post_no_token->status, 405);
  auto put = client_->Put("/api/session", Bearer(kToken), "{}", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  auto del = client_->Delete("/api/session", Bearer(kToken));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  auto head = client_->Head("/api/session", Bearer(kToken));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
}

TEST_F(ControlWebServer, HealthzNeedsNoToken) {
  auto r = Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
}

TEST_F(ControlWebServer, UnknownRouteWithTheTokenIs404) {
  auto r = Get("/api/nothing", Bearer(kToken));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(r->body.empty());
}

TEST_F(ControlWebServer, ServesThePageWithItsPolicy) {
  auto r = Get(std::string("/?token=") + kToken);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->body, DashboardPage());
  for (const char* id : {"id=\"nodes\"", "id=\"chain\"", "id=\"chart\"", "id=\"log-node\"", "id=\"log\""})
    EXPECT_NE(r->body.find(id), std::string::npos) << id;
  for (const char* external : {"https:", "url(", "src=", "href=", "@import"})
    EXPECT_EQ(r->body.find(external), std::string::npos) << "no external assets: " << external;
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_TRUE(std::regex_search(csp, std::regex("script-src 'sha256-[A-Za-z0-9+/]{43}='"))) << csp;
  EXPECT_TRUE(std::regex_search(csp, std::regex("style-src 'sha256-[A-Za-z0-9+/]{43}='"))) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
}

TEST_F(ControlWebServer, UrlNamesTheRealPortAndTheToken) {
  EXPECT_EQ(server_->Url(), "http://127.0.0.1:" + std::to_string(server_->port()) + "/?token=" + kToken);
  EXPECT_EQ(server_->host(), "127.0.0.1");
}

TEST_F(ControlWebServer, UrlForLogNeverHoldsTheToken) {
  const std::string base = "http://127.0.0.1:" + std::to_string(server_->port()) + "/";
  EXPECT_EQ(server_->UrlForLog("/etc/ka/web-token"), base + " (token in /etc/ka/web-token)");
  const std::string none = server_->UrlForLog("");
  EXPECT_EQ(none.rfind(base + " (token not logged", 0), 0u) << none;
  for (const auto& u : {server_->UrlForLog("/etc/ka/web-token"), none}) {
    EXPECT_EQ(u.find(kToken), std::string::npos) << u;
    EXPECT_EQ(u.find("token="), std::string::npos) << u;
  }
}

TEST_F(ControlWebServer, BindFailureNamesTheAddress) {
  const std::string where = "127.0.0.1:" + std::to_string(server_->port());
  FakeView other;
  auto s = WebServer::Start(where, kToken, other);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(where), std::string::npos) << s.status().message();
  auto foreign = WebServer::Start("192.0.2.1:0", kToken, other);  // TEST-NET-1: not an address of this machine
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("192.0.2.1:0"), std::string::npos) << foreign.status().message();
}

TEST_F(ControlWebServer, StopIsIdempotentAndClosesThePort) {
  const int port = server_->port();
  server_->Stop();
  server_->Stop();
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2);
  EXPECT_FALSE(c.Get("/healthz"));
  server_.reset();
}

TEST_F(ControlWebServer, StopDoesNotWaitLongForIdleConnections) {
  // A browser's pre-connected socket that never speaks, and a keep-alive connection between polls.
  int idle = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(idle, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server_->port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  client_->set_keep_alive(true);
  auto r = Get("/api/session", Bearer(kToken));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  close(idle);
}

TEST(ControlWebStart, RefusesAnEmptyTokenAndABadAddress) {
  FakeView view;
  auto no_token = WebServer::Start("127.0.0.1:0", "", view);
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.status().code(), Status::Code::kInvalid);
  auto bad = WebServer::Start("127.0.0.1:http", kToken, view);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalid);
  EXPECT_NE(bad.status().message().find("127.0.0.1:http"), std::string::npos);
}

TEST(ControlWebAddress, ParsesTheForms) {
  struct Form {
    const char* text;
    const char* host;
    int port;
  };
  for (const Form& f :
       {Form{"8080", "127.0.0.1", 8080}, Form{":8080", "0.0.0.0", 8080}, Form{"10.0.0.1:0", "10.0.0.1", 0},
        Form{"[::1]:9000", "::1", 9000}, Form{"localhost:80", "localhost", 80}}) {
    SCOPED_TRACE(f.text);
    auto a = ParseListenAddress(f.text);
    ASSERT_TRUE(a.ok()) << a.status().message();
    EXPECT_EQ(a->host, f.host);
    EXPECT_EQ(a->port, f.port);
  }
  for (const char* bad : {"", ":", "x", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "::1:80", "[::1]80", "[]:80",
                          "host:8080x", "123456"}) {
    auto r = ParseListenAddress(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "'";
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("ADDR:PORT"), std::string::npos);
    }
  }
}

TEST(ControlWebToken, NewTokenIs32RandomHexChars) {
  std::string a = NewToken(), b = NewToken();
  EXPECT_TRUE(std::regex_match(a, std::regex("[0-9a-f]{32}"))) << a;
  EXPECT_TRUE(std::regex_match(b, std::regex("[0-9a-f]{32}"))) << b;
  EXPECT_NE(a, b);
}

TEST(ControlWebPage, InlinesItsStyleAndScript) {
  const std::string page = DashboardPage();
  EXPECT_NE(page.find("<style>" + std::string(DashboardStyle()) + "</style>"), std::string::npos);
  EXPECT_NE(page.find("<script>" + std::string(DashboardScript()) + "</script>"), std::string::npos);
}

}  // namespace
}  // namespace ka::control
