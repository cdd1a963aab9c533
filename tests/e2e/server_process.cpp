#include "server_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include <gtest/gtest.h>

#include "pg_testdb.hpp"
#include <thread>

namespace fptest {
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {
// With FACEPORT_TEST_BACKEND=postgresql but no server to use, every test SKIPs, saying why.
class PgBackendEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (PgBackendRequested() && !PgServerUrl()) GTEST_SKIP() << kPgSkipReason;
  }
};
[[maybe_unused]] ::testing::Environment* const kPgBackendEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgBackendEnvironment);
}  // namespace

bool PgBackendRequested() {
  const char* b = std::getenv(kBackendEnv);
  return b != nullptr && std::string_view(b) == "postgresql";
}

std::vector<std::string> BackendFlags(const std::string& data_dir) {
  if (!PgBackendRequested()) return {};
  // One database per data directory, remembered in it, so that a restart on the same
  // directory (crash safety) finds its data again.
  const std::string marker = data_dir + "/.pg_url";
  std::string url;
  {
    std::ifstream in(marker);
    std::getline(in, url);
  }
  if (url.empty()) {
    auto fresh = FreshPgDatabase();
    if (!fresh) throw std::runtime_error(kPgSkipReason);
    url = *fresh;
    std::ofstream(marker) << url << "\n";
  }
  // One node per test here: nothing else writes portraits, so start-up orphan removal need
  // not wait for files to age (the multi-node tests run their own nodes).
  return {"--database_url", url, "--portrait_orphan_age_s", "0"};
}

ServerProcess::ServerProcess(std::vector<std::string> extra, std::string data_dir) : data_dir_(std::move(data_dir)) {
  if (data_dir_.empty()) {
    char tmpl[] = "/tmp/fp_e2e_XXXXXX";
    data_dir_ = mkdtemp(tmpl);
    own_dir_ = true;
  }
  {
    auto backend = BackendFlags(data_dir_);
    extra.insert(extra.begin(), backend.begin(), backend.end());
  }
  log_path_ = data_dir_ + "/server-" + std::to_string(::time(nullptr)) + "-" + std::to_string(rand()) + ".log";
  std::vector<std::string> args = {FACEPORT_BINARY, "serve", "--port", "0", "--listen_address", "127.0.0.1",
                                   "--data_dir", data_dir_};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = fork();
  if (pid_ == 0) {
    FILE* f = std::fopen(log_path_.c_str(), "w");
    dup2(fileno(f), 1);
    dup2(fileno(f), 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = Output();
    auto p = out.find("\"event\":\"started\"");
    if (p != std::string::npos) {
      auto q = out.find("\"port\":", p);
      port_ = std::stoi(out.substr(q + 7));
      return;
    }
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("faceport exited at start-up:\n" + out);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("faceport did not start:\n" + Output());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (own_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int ServerProcess::Wait(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ServerProcess::Output() const { return ReadFile(log_path_); }

std::string RegisterAccount(ServerProcess& s, const std::string& email, const std::string& password) {
  auto r = s.Request("POST", "/4/accounts",
                     boost::json::serialize(boost::json::object{
                         {"organization_name", "o"}, {"email", email}, {"password", password}}),
                     {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  return std::string(boost::json::parse(r.body).at("token").as_string());
}

HttpReply ServerProcess::Request(const std::string& method, const std::string& target, const std::string& body,
                                 std::map<std::string, std::string> headers) {
  return HttpRequest(port_, method, target, body, std::move(headers));
}

HttpReply HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body,
                      std::map<std::string, std::string> headers) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
  req.set(bhttp::field::host, "127.0.0.1");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bhttp::read(stream, buf, parser);
  auto res = parser.release();
  HttpReply out;
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

std::pair<int, std::string> RunFaceport(const std::vector<std::string>& args, const std::string& env) {
  std::string cmd = env + " '" + std::string(FACEPORT_BINARY) + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  // A command on a server's data directory (gc, suspend) uses that server's database.
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--data_dir" && PgBackendRequested() && std::filesystem::exists(args[i + 1] + "/.pg_url"))
      for (const auto& f : BackendFlags(args[i + 1])) cmd += " '" + f + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace fptest
