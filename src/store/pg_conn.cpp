#include "store/pg_conn.hpp"

#include <cstdlib>
#include <utility>

namespace store::pg {
namespace {

// libpq's messages end with a newline; logs are one line per event.
std::string Trim(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void Params::Push(std::optional<std::string> v, int format) {
  storage_.push_back(std::move(v));
  const auto& stored = storage_.back();
  values_.push_back(stored ? stored->data() : nullptr);
  lengths_.push_back(stored ? static_cast<int>(stored->size()) : 0);
  formats_.push_back(format);
}

const char* const* Params::values() { return values_.data(); }

int64_t PgRows::affected() const {
  const char* n = PQcmdTuples(r_);
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

std::string PgRows::Text(int row, int col) const {
  if (PQgetisnull(r_, row, col)) return {};
  return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}

int64_t PgRows::Int(int row, int col) const {
  if (PQgetisnull(r_, row, col)) return 0;
  const char* v = PQgetvalue(r_, row, col);
  if (PQfformat(r_, col) == 1) {  // big-endian int2 / int4 / int8
    const int len = PQgetlength(r_, row, col);
    uint64_t u = 0;
    for (int i = 0; i < len && i < 8; ++i) u = u << 8 | static_cast<uint8_t>(v[i]);
    if (len == 2) return static_cast<int16_t>(u);
    if (len == 4) return static_cast<int32_t>(u);
    return static_cast<int64_t>(u);
  }
  return std::strtoll(v, nullptr, 10);
}

bool PgRows::Bool(int row, int col) const {
  if (PQgetisnull(r_, row, col)) return false;
  const char v = PQgetvalue(r_, row, col)[0];
  return PQfformat(r_, col) == 1 ? v != 0 : v == 't';
}

std::string PgRows::Bytea(int row, int col) const {
  if (PQgetisnull(r_, row, col)) return {};
  const char* v = PQgetvalue(r_, row, col);
  const size_t len = static_cast<size_t>(PQgetlength(r_, row, col));
  if (PQfformat(r_, col) == 1) return std::string(v, len);
  // bytea_output = hex (the default since 9.0, and set per connection in Open): "\x" + 2 hex
  // digits per byte.
  if (len < 2 || v[0] != '\\' || v[1] != 'x') return {};
  std::string out((len - 2) / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>((HexValue(v[2 + 2 * i]) << 4) | HexValue(v[3 + 2 * i]));
  return out;
}

core::Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (c == nullptr) return core::InternalError("postgresql connect: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    // PQerrorMessage names host and port but not the password.
    std::string msg = Trim(PQerrorMessage(c));
    PQfinish(c);
    return core::InternalError("postgresql connect: " + msg);
  }
  std::unique_ptr<Connection> conn(new Connection(c));
  // UTC and hex bytea whatever the server's defaults; quiet NOTICEs (IF NOT EXISTS ...).
  if (auto st = conn->ExecScript("SET bytea_output = 'hex'; SET client_min_messages = warning; SET TIME ZONE 'UTC'",
                                 "session settings");
      !st)
    return std::move(st).error();
  return conn;
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

core::Error Connection::Fail(std::string_view what, PGresult* r) {
  sqlstate_.clear();
  constraint_.clear();
  std::string msg;
  if (r) {
    if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) sqlstate_ = s;
    if (const char* c = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME)) constraint_ = c;
    msg = Trim(PQresultErrorMessage(r));
  }
  if (msg.empty()) msg = Trim(PQerrorMessage(conn_));
  return core::InternalError(std::string(what) + ": " + msg + (sqlstate_.empty() ? "" : " [" + sqlstate_ + "]"));
}

core::Result<PgRows> Connection::Exec(std::string_view sql, std::string_view what, Params params, Results results) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    // Parameter types are left to the server to infer (nullptr types); the statements cast
    // where the context does not say.
    PGresult* prep = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr);
    if (!prep || PQresultStatus(prep) != PGRES_COMMAND_OK) {
      auto err = Fail(what, prep);
      if (prep) PQclear(prep);
      return err;
    }
    PQclear(prep);
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  PGresult* r = PQexecPrepared(conn_, it->second.c_str(), params.size(), params.values(), params.lengths(),
                               params.formats(), results == Results::Binary ? 1 : 0);
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    auto err = Fail(what, r);
    if (r) PQclear(r);
    return err;
  }
  return PgRows(r);
}

core::Status Connection::ExecScript(const std::string& sql, std::string_view what) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    auto err = Fail(what, r);
    if (r) PQclear(r);
    return err;
  }
  PQclear(r);
  return {};
}

core::Status Connection::Reset() {
  PQreset(conn_);
  prepared_.clear();
  if (PQstatus(conn_) != CONNECTION_OK) return core::InternalError("postgresql reconnect: " + Trim(PQerrorMessage(conn_)));
  return ExecScript("SET bytea_output = 'hex'; SET client_min_messages = warning; SET TIME ZONE 'UTC'",
                    "session settings");
}

core::Result<Tx> Tx::Begin(Connection& conn, Mode mode) {
  conn.fed_changes = false;
  const char* sql = mode == Mode::Write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  if (auto st = conn.ExecScript(sql, "begin"); !st) return std::move(st).error();
  return Tx(&conn);
}

Tx::~Tx() {
  if (conn_) (void)conn_->ExecScript("ROLLBACK", "rollback");
}

core::Status Tx::Commit() {
  Connection* c = conn_;
  conn_ = nullptr;
  // A failed COMMIT has ended the transaction (rolled back) on the server.
  return c->ExecScript("COMMIT", "commit");
}

Pool::Pool(std::vector<std::unique_ptr<Connection>> conns) : owned_(std::move(conns)) {
  for (auto& c : owned_) free_.push_back(c.get());
}

Pool::Lease Pool::Acquire() {
  Connection* c = nullptr;
  {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return !free_.empty(); });
    c = free_.back();
    free_.pop_back();
  }
  // A connection the server dropped is reconnected here; when that fails the statements
  // fail with libpq's message, and the next Acquire tries again.
  if (c->broken()) (void)c->Reset();
  return Lease(this, c);
}

void Pool::Release(Connection* conn) {
  {
    std::lock_guard lk(mu_);
    free_.push_back(conn);
  }
  cv_.notify_one();
}

}  // namespace store::pg
