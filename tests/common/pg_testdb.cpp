#include "pg_testdb.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <stdexcept>

namespace fptest {
namespace {

// scheme://authority/dbname?query -> scheme://authority/<db>?query
std::string WithDatabase(const std::string& url, const std::string& db) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const size_t query = url.find('?');
  std::string out = url.substr(0, path == std::string::npos ? (query == std::string::npos ? url.size() : query) : path);
  out += "/" + db;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

}  // namespace

std::optional<std::string> PgServerUrl() {
  const char* v = std::getenv(kPgUrlEnv);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::optional<std::string> FreshPgDatabase() {
  auto server = PgServerUrl();
  if (!server) return std::nullopt;
  static std::atomic<int> counter{0};
  std::random_device rd;
  const std::string db = "fpt_" + std::to_string(rd()) + "_" + std::to_string(counter++);
  PGconn* c = PQconnectdb(server->c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("test database server: " + msg);
  }
  PGresult* r = PQexec(c, ("CREATE DATABASE " + db).c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string msg = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error("CREATE DATABASE " + db + ": " + msg);
  return WithDatabase(*server, db);
}

}  // namespace fptest
