#pragma once
// Runs the built faceport binary as a child process on a free loopback port and talks to it
// over real sockets (end-to-end tests).
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace fptest {

// FACEPORT_TEST_BACKEND=postgresql: every ServerProcess (and RunFaceport on its data
// directory) uses a fresh PostgreSQL database on the server named by FACEPORT_TEST_PG_URL
// instead of SQLite, so that the same end-to-end tests run on both backends.
inline constexpr const char* kBackendEnv = "FACEPORT_TEST_BACKEND";
bool PgBackendRequested();
// The flags that select the backend for a server on data_dir ({} for SQLite).
std::vector<std::string> BackendFlags(const std::string& data_dir);

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class ServerProcess {
 public:
  // Starts `faceport serve --port 0 --listen_address 127.0.0.1 --data_dir <tmp> <extra...>`
  // and waits for its "started" log line.
  explicit ServerProcess(std::vector<std::string> extra_flags = {}, std::string data_dir = "");
  ~ServerProcess();
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // Sends a signal; Wait returns the exit status (or -1 on timeout).
  void Signal(int sig);
  int Wait(int timeout_ms);
  std::string Output() const;  // everything the process wrote to stdout/stderr so far

  HttpReply Request(const std::string& method, const std::string& target, const std::string& body = "",
                    std::map<std::string, std::string> headers = {});

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string data_dir_, log_path_;
  bool own_dir_ = false;
};

// One HTTP/1.1 request on a new connection to 127.0.0.1:port (any server, e.g. a proxy).
// Throws on connection and protocol errors.
HttpReply HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body = "",
                      std::map<std::string, std::string> headers = {});

// Password hashing at its cheapest: the tests register many accounts and the hash is not what
// they are about.
inline const std::vector<std::string> kFastHash = {"--pwhash_opslimit", "1", "--pwhash_memlimit", "8192"};

// The whole file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

// POST /4/accounts; expects 201 and returns the account's first token ("" when it failed).
std::string RegisterAccount(ServerProcess& s, const std::string& email, const std::string& password = "password1");

// Runs the binary with arguments and returns (exit code, output).
std::pair<int, std::string> RunFaceport(const std::vector<std::string>& args, const std::string& env = "");

}  // namespace fptest
