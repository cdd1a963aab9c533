#pragma once
// INTERNAL to fp_store (includes libpq-fe.h): one PostgreSQL connection with its prepared-
// statement cache, typed parameters, result rows, RAII transactions and the connection pool.
// Nothing outside src/store and tests/store may include this header.
//
// Threading: a Connection is used by one thread at a time; the Pool hands each one out to a
// single holder (Pool::Lease) and takes it back when the lease is destroyed.
//
// Every statement with parameters is a server-side prepared statement (PQprepare once per
// connection and statement text, then PQexecPrepared): SQL text is never assembled from data,
// and the plan is reused. Parameters travel as text (integers, strings) or binary (bytea);
// results come back as text and are converted by PgRows.
#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/result.hpp"

namespace store::pg {

// A value bound as bytea (binary parameter format).
struct Bytes {
  std::string_view bytes;
};

// The parameters of one statement, $1..$N in the order added.
class Params {
 public:
  void Add(std::nullopt_t) { Push(std::nullopt, 0); }
  void Add(const Bytes& b) { Push(std::string(b.bytes), 1); }
  void Add(bool b) { Push(std::string(b ? "t" : "f"), 0); }
  void Add(std::string_view s) { Push(std::string(s), 0); }
  void Add(const std::string& s) { Push(s, 0); }
  void Add(const char* s) { Push(std::string(s), 0); }
  template <class T>
  void Add(const std::optional<T>& v) {
    if (v)
      Add(*v);
    else
      Add(std::nullopt);
  }
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  void Add(T v) {
    Push(std::to_string(static_cast<int64_t>(v)), 0);
  }

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers for PQexecPrepared, valid while this object lives and is not changed.
  const char* const* values();
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void Push(std::optional<std::string> v, int format);
  std::deque<std::optional<std::string>> storage_;  // deque: element addresses stay put
  std::vector<const char*> values_;
  std::vector<int> lengths_, formats_;
};

template <class... Args>
Params MakeParams(const Args&... args) {
  Params p;
  (p.Add(args), ...);
  return p;
}

// The rows of one result (text format). Owns the PGresult.
class PgRows {
 public:
  explicit PgRows(PGresult* r) : r_(r) {}
  PgRows(PgRows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgRows& operator=(PgRows&&) = delete;
  ~PgRows() {
    if (r_) PQclear(r_);
  }
  int rows() const { return PQntuples(r_); }
  // The number of rows an INSERT/UPDATE/DELETE changed.
  int64_t affected() const;
  // Each accessor reads a column in either result format (PQfformat): text, or binary
  // (Connection::Results::Binary: integers big-endian of 2, 4 or 8 bytes, bool one byte, text
  // and bytea their raw bytes), so one row reader serves both.
  bool IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string Text(int row, int col) const;  // NULL reads as ""
  int64_t Int(int row, int col) const;       // NULL reads as 0
  bool Bool(int row, int col) const;         // 't' / 1
  // A bytea column decoded to its bytes (text format: hex output, "\x...").
  std::string Bytea(int row, int col) const;

 private:
  PGresult* r_;
};

class Connection {
 public:
  // Connects with a libpq connection string / URL. Errors name the step; the URL itself is
  // never put into an error (it may hold a password).
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs sql with params as a prepared statement (prepared on first use on this connection).
  // `what` prefixes error messages. Errors are Errc::Internal with the server's message; the
  // SQLSTATE and constraint name of the last failure are kept (sqlstate(), constraint()).
  // Binary: the rows come in binary format (PgRows reads both); for bulk reads of bytea.
  enum class Results { Text, Binary };
  core::Result<PgRows> Exec(std::string_view sql, std::string_view what, Params params = {},
                            Results results = Results::Text);
  // One or more ';'-separated statements without parameters (migrations, BEGIN, COMMIT).
  core::Status ExecScript(const std::string& sql, std::string_view what);

  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& constraint() const { return constraint_; }
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // Reconnects a broken connection (the server restarted, the network dropped): the
  // prepared statements are gone with the old session, so the cache is cleared.
  core::Status Reset();
  PGconn* raw() { return conn_; }

  // Set by the store when the current write transaction appended change-feed rows, so that
  // the commit sends a NOTIFY (cleared at every BEGIN).
  bool fed_changes = false;

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  core::Error Fail(std::string_view what, PGresult* r);
  PGconn* conn_;
  std::map<std::string, std::string, std::less<>> prepared_;  // sql -> statement name
  std::string sqlstate_, constraint_;
};

// BEGIN on construction (Begin), ROLLBACK on destruction unless Commit succeeded, so an
// early return on any error leaves nothing half-written.
class Tx {
 public:
  enum class Mode {
    Write,  // READ COMMITTED; the store serialises writers with an advisory lock
    Read,   // REPEATABLE READ READ ONLY: one snapshot for every statement
  };
  static core::Result<Tx> Begin(Connection& conn, Mode mode);
  Tx(Tx&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Tx& operator=(Tx&&) = delete;
  ~Tx();
  core::Status Commit();

 private:
  explicit Tx(Connection* conn) : conn_(conn) {}
  Connection* conn_;  // null once committed or rolled back
};

// A fixed set of connections. Acquire blocks until one is free and reconnects it first when
// it was broken.
class Pool {
 public:
  class Lease {
   public:
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(o.conn_) { o.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_) pool_->Release(conn_);
    }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_; }

   private:
    friend class Pool;
    Lease(Pool* pool, Connection* conn) : pool_(pool), conn_(conn) {}
    Pool* pool_;
    Connection* conn_;
  };

  explicit Pool(std::vector<std::unique_ptr<Connection>> conns);
  Lease Acquire();

 private:
  void Release(Connection* conn);
  std::vector<std::unique_ptr<Connection>> owned_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection*> free_;
};

}  // namespace store::pg
