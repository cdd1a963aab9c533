// The built binary on a loopback port, driven like a client would.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include "core/base64.hpp"
#include "server_process.hpp"

namespace fptest {
namespace json = boost::json;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

std::vector<std::string> Flags(std::vector<std::string> extra) {
  auto f = kFastHash;
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

std::string BasicHeader(const std::string& email, const std::string& password = "password1") {
  return "Basic " + core::Base64Encode(email + ":" + password);
}

// A raw connection: tests that look at connection-level behaviour.
struct Conn {
  boost::asio::io_context ioc;
  tcp::socket sock{ioc};
  explicit Conn(int port) { sock.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port)); }
  // The server may answer and close before it has read everything (e.g. oversized headers):
  // a failed write is part of what is being tested, not an error of the test.
  void Send(const std::string& s) {
    boost::system::error_code ec;
    boost::asio::write(sock, boost::asio::buffer(s), ec);
  }
  // Reads until the peer closes or timeout; returns what arrived.
  std::string ReadUntilClose(int timeout_ms) {
    std::string out;
    sock.non_blocking(true);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      std::size_t n = sock.read_some(boost::asio::buffer(buf), ec);
      if (ec == boost::asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (ec) return out + "<closed>";
      out.append(buf, n);
    }
    return out;
  }
};
}  // namespace

TEST(E2E, AccountFlowOverKeepAlive) {
  ServerProcess s(Flags({}));
  auto token = RegisterAccount(s, "e2e@example.com");
  // Several requests over one keep-alive connection.
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(s.port())));
  beast::flat_buffer buf;
  for (int i = 0; i < 5; ++i) {
    bhttp::request<bhttp::string_body> req(bhttp::verb::get, "/4/account/tokens/" + token, 11);
    req.set("X-Auth-Token", token);
    req.keep_alive(true);
    bhttp::write(stream, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buf, res);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_TRUE(res.keep_alive());
    EXPECT_EQ(res.body(), R"({"token_data":""})");
  }
  auto acct = s.Request("GET", "/4/account", "", {{"Authorization", BasicHeader("e2e@example.com")}});
  EXPECT_EQ(acct.status, 200);
  EXPECT_EQ(acct.headers["access-control-allow-origin"], "*");
  EXPECT_FALSE(acct.headers["luna-request-id"].empty());
}

TEST(E2E, LogsOneJsonLinePerRequestWithoutSecrets) {
  ServerProcess s(Flags({}));
  const std::string password = "Sup3rSecretPw";
  auto token = RegisterAccount(s, "logs@example.com", password);
  s.Request("GET", "/4/account", "", {{"Authorization", BasicHeader("logs@example.com", password)},
                                      {"Luna-Request-Id", "1536751345,8b8b5937-2e9c-4e8b-a7a7-5caf86621b5a"}});
  s.Request("GET", "/4/account/tokens/" + token, "", {{"X-Auth-Token", token}});
  s.Signal(SIGTERM);
  EXPECT_EQ(s.Wait(10000), 0);
  std::string out = s.Output();
  EXPECT_EQ(out.find(password), std::string::npos);
  EXPECT_EQ(out.find(core::Base64Encode("logs@example.com:" + password)), std::string::npos);
  // The token is the secret: it may appear in no log line, although it is also a path
  // segment of the token resources (logged as /4/account/tokens/***).
  int requests = 0;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    auto v = json::parse(line).as_object();  // every line is JSON
    EXPECT_TRUE(v.contains("time"));
    if (v.at("event") == "request") {
      ++requests;
      for (const char* k : {"request_id", "account_id", "method", "path", "status", "latency_ms", "bytes_out"})
        EXPECT_TRUE(v.contains(k)) << k << " in " << line;
      EXPECT_EQ(line.find(token), std::string::npos) << line;
    }
  }
  EXPECT_EQ(requests, 3);
  EXPECT_NE(out.find("/4/account/tokens/***"), std::string::npos);
  EXPECT_NE(out.find("1536751345,8b8b5937-2e9c-4e8b-a7a7-5caf86621b5a"), std::string::npos);
  EXPECT_NE(out.find("\"event\":\"stopped\""), std::string::npos);
}

TEST(E2E, BodyLimitAnswers413WithJson) {
  ServerProcess s(Flags({"--body_limit_bytes", "2048"}));
  auto r = s.Request("POST", "/4/accounts", std::string(4096, 'x'), {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json::parse(r.body).at("error_code").as_int64(), 23001);
  EXPECT_FALSE(r.headers["luna-request-id"].empty());
  // The server is still fine afterwards.
  EXPECT_EQ(s.Request("GET", "/version").status, 200);
}

TEST(E2E, ChunkedBodyOverLimitIsRefusedToo) {
  ServerProcess s(Flags({"--body_limit_bytes", "2048"}));
  Conn c(s.port());
  std::string chunk(1500, 'a');
  char hex[16];
  std::snprintf(hex, sizeof hex, "%zx", chunk.size());
  c.Send("POST /4/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
         std::string(hex) + "\r\n" + chunk + "\r\n" + std::string(hex) + "\r\n" + chunk + "\r\n0\r\n\r\n");
  auto out = c.ReadUntilClose(5000);
  EXPECT_NE(out.find("413"), std::string::npos) << out;
  EXPECT_NE(out.find("23001"), std::string::npos);
}

TEST(E2E, IdleConnectionClosedAfterHeaderTimeout) {
  ServerProcess s(Flags({"--header_timeout_s", "1"}));
  Conn c(s.port());
  c.Send("GET /version HTTP/1.1\r\nHost: x\r\n");  // headers never finish
  // Closed well before the 15 s default: the 1 s setting is in force.
  auto out = c.ReadUntilClose(8000);
  EXPECT_NE(out.find("<closed>"), std::string::npos);
  EXPECT_EQ(s.Request("GET", "/version").status, 200);
}

TEST(E2E, MalformedRequestGets400AndServerSurvives) {
  ServerProcess s(Flags({}));
  Conn c(s.port());
  c.Send("GARBAGE\r\n\r\n");
  auto out = c.ReadUntilClose(10000);
  EXPECT_NE(out.find("400"), std::string::npos) << out;
  Conn big(s.port());
  big.Send("GET /version HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
  auto out2 = big.ReadUntilClose(10000);
  EXPECT_NE(out2.find("<closed>"), std::string::npos);
  EXPECT_EQ(s.Request("GET", "/version").status, 200);
}

TEST(E2E, ConnectionLimitIsEnforced) {
  ServerProcess s(Flags({"--max_connections", "2"}));
  Conn a(s.port()), b(s.port());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Conn c(s.port());
  auto out = c.ReadUntilClose(2000);
  EXPECT_NE(out.find("<closed>"), std::string::npos);
  a.sock.close();
  b.sock.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(s.Request("GET", "/version").status, 200);
}

TEST(E2E, SigtermFinishesRequestsInFlight) {
  // A deliberately slow password hash makes registration take a while.
  ServerProcess s({"--pwhash_opslimit", "8", "--pwhash_memlimit", "67108864", "--worker_threads", "2"});
  auto pending = std::async(std::launch::async, [&] {
    return s.Request("POST", "/4/accounts",
                     json::serialize(json::object{{"organization_name", "o"}, {"email", "slow@example.com"},
                                                  {"password", "password1"}}),
                     {{"Content-Type", "application/json"}});
  });
  // Wait until the request is being processed, then ask the server to stop.
  // (Hashing at these settings takes about a second, so 150 ms in the request is mid-hash.)
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  s.Signal(SIGTERM);
  auto r = pending.get();
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(s.Wait(15000), 0);
  // The account it created is durable: a new server on the same data sees it.
  ServerProcess again(Flags({}), s.data_dir());
  EXPECT_EQ(again.Request("GET", "/4/account", "", {{"Authorization", BasicHeader("slow@example.com")}}).status, 200);
}

TEST(E2E, SuspendAndResumeFromTheCommandLine) {
  ServerProcess s(Flags({}));
  auto token = RegisterAccount(s, "Suspend.Me@example.com");
  auto [rc, out] = RunFaceport({"account", "suspend", "suspend.me@EXAMPLE.com", "--data_dir", s.data_dir()});
  EXPECT_EQ(rc, 0) << out;
  auto r = s.Request("GET", "/4/account/tokens/" + token, "", {{"X-Auth-Token", token}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body).at("error_code").as_int64(), 11004);
  std::tie(rc, out) = RunFaceport({"account", "resume", "suspend.me@example.com", "--data_dir", s.data_dir()});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(s.Request("GET", "/4/account/tokens/" + token, "", {{"X-Auth-Token", token}}).status, 200);
  std::tie(rc, out) = RunFaceport({"account", "suspend", "nobody@example.com", "--data_dir", s.data_dir()});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("no account"), std::string::npos);
}

TEST(E2E, CommandLineConfigVersionHelp) {
  auto [rc, out] = RunFaceport({"version"});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out.rfind("faceport ", 0), 0u);
  std::tie(rc, out) = RunFaceport({"serve", "--help"});
  EXPECT_EQ(rc, 0);
  for (const char* s : {"--port <int>", "--body_limit_bytes", "FACEPORT_DATA_DIR", "default: 5000"})
    EXPECT_NE(out.find(s), std::string::npos) << s;
  std::tie(rc, out) = RunFaceport({"config", "--port", "6001"}, "FACEPORT_LOG_LEVEL=warn");
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("port = 6001  # flag"), std::string::npos) << out;
  EXPECT_NE(out.find("log_level = warn  # env"), std::string::npos) << out;
  std::tie(rc, out) = RunFaceport({"config", "--port", "nope"});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("port"), std::string::npos);
  std::tie(rc, out) = RunFaceport({"frobnicate"});
  EXPECT_EQ(rc, 2);
}

TEST(E2E, DetectAndCompareFromTheCommandLine) {
  const std::string sample = std::string(FACEPORT_TESTDATA_DIR) + "/sample1.jpg";
  auto [rc, out] = RunFaceport({"detect", sample, "--attributes", "--pose", "--log_level", "warn"});
  ASSERT_EQ(rc, 0) << out;
  auto doc = json::parse(out.substr(out.find("{\"faces\"")));
  const auto& faces = doc.at("faces").as_array();
  EXPECT_EQ(faces.size(), 3u);
  EXPECT_TRUE(faces[0].at("attributes").as_object().contains("age"));
  EXPECT_TRUE(faces[0].at("attributes").as_object().contains("head_pose"));
  EXPECT_TRUE(faces[0].as_object().contains("rectISO"));
  std::tie(rc, out) = RunFaceport({"compare", sample, sample, "--log_level", "warn"});
  ASSERT_EQ(rc, 0) << out;
  auto cmp = json::parse(out.substr(out.find('{')));
  EXPECT_GT(cmp.at("similarity").to_number<double>(), 0.99);  // the same image
  std::tie(rc, out) = RunFaceport({"detect", "/nonexistent.jpg"});
  EXPECT_NE(rc, 0);
}

TEST(E2E, ConfigEndpointAndHealth) {
  ServerProcess s(Flags({}));
  auto cfg = s.Request("GET", "/4/config");
  EXPECT_EQ(cfg.status, 200);
  EXPECT_TRUE(json::parse(cfg.body).as_object().contains("port"));
  auto h = s.Request("GET", "/4/healthcheck");
  EXPECT_EQ(h.status, 200) << h.body;  // real models load from the build's models_dir
  auto spec = s.Request("GET", "/4/docs/spec", "", {{"Accept", "application/x-yaml"}});
  EXPECT_EQ(spec.status, 200);
  EXPECT_NE(spec.body.find("openapi:"), std::string::npos);
}

// The manual the real binary serves holds every document of docs/ (the build lists them by
// name, so a new document must be added there) and its in-page links all have a target.
TEST(E2E, DeveloperManualHoldsEveryDocumentAndItsLinksResolve) {
  ServerProcess s(Flags({}));
  auto redirect = s.Request("GET", "/4/docs/dev");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.headers["location"], "/docs/dev/index.html");
  auto page = s.Request("GET", "/docs/dev/index.html");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.headers["content-type"].find("text/html"), std::string::npos);
  std::vector<std::string> docs = {"README.md"};
  for (const auto& e : std::filesystem::directory_iterator(std::string(FACEPORT_SOURCE_DIR) + "/docs"))
    if (e.path().extension() == ".md") docs.push_back(e.path().filename().string());
  ASSERT_GE(docs.size(), 7u);
  for (const auto& d : docs) {
    std::string id = d.substr(0, d.size() - 3);
    for (auto& c : id) c = c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_NE(page.body.find("<section id=\"" + id + "\">"), std::string::npos) << d << " is not in the manual";
  }
  std::set<std::string> ids;
  const std::regex id_re(" id=\"([^\"]+)\""), href_re("href=\"#([^\"]+)\"");
  for (std::sregex_iterator it(page.body.begin(), page.body.end(), id_re), end; it != end; ++it)
    ids.insert((*it)[1].str());
  size_t links = 0;
  for (std::sregex_iterator it(page.body.begin(), page.body.end(), href_re), end; it != end; ++it, ++links)
    EXPECT_TRUE(ids.count((*it)[1].str())) << "no target for #" << (*it)[1].str();
  EXPECT_GE(links, docs.size());  // at least the contents
  EXPECT_EQ(page.body.find("<script"), std::string::npos);
}

TEST(E2E, BrokenModelsDirStartsDegradedAndHealthNamesModels) {
  char tmpl[] = "/tmp/fp_nomodels_XXXXXX";
  std::string empty = mkdtemp(tmpl);
  ServerProcess s(Flags({"--models_dir", empty}));
  auto h = s.Request("GET", "/4/healthcheck");
  EXPECT_EQ(h.status, 502);
  EXPECT_NE(h.body.find("models"), std::string::npos);
  EXPECT_NE(s.Output().find("models_failed"), std::string::npos);
  EXPECT_EQ(s.Request("GET", "/version").status, 200);
  rmdir(empty.c_str());
}

}  // namespace fptest
