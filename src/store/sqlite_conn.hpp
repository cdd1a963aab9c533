#pragma once
// INTERNAL to fp_store (includes sqlite3.h): one SQLite connection with its prepared-
// statement cache, RAII statement and transaction handles, and the connection pool.
// Nothing outside src/store and tests/store may include this header.
//
// Threading: a Connection is used by one thread at a time; the Pool hands each one out to a
// single holder (Pool::Lease) and takes it back when the lease is destroyed.
#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace store::sqlite {

class Connection;

// A cached prepared statement borrowed from its Connection. Bind, step, read columns; on
// destruction it is reset and its bindings cleared so the next borrower starts clean.
// All values go through Bind*: SQL text is never assembled from data.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based, as in sqlite3_bind_*. Text is copied (SQLITE_TRANSIENT).
  core::Status BindText(int index, std::string_view value);
  core::Status BindInt64(int index, int64_t value);
  // Bytes are copied; an empty value binds a zero-length BLOB (never NULL).
  core::Status BindBlob(int index, std::string_view bytes);
  core::Status BindNull(int index);

  // true: a row is available; false: the statement finished (SQLITE_DONE).
  core::Result<bool> Step();
  // Runs a statement that returns no rows (or whose rows are ignored) to completion.
  core::Status Run();

  std::string ColumnText(int col) const;  // 0-based; NULL reads as ""
  int64_t ColumnInt64(int col) const;
  // The column's bytes (valid until the next Step or the Stmt's destruction); NULL reads as "".
  std::string_view ColumnBlob(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  friend class Connection;
  Stmt(Connection* conn, sqlite3_stmt* stmt, bool* leased, std::string_view what)
      : conn_(conn), stmt_(stmt), leased_(leased), what_(what) {}
  core::Error Fail(std::string_view step) const;

  Connection* conn_;
  sqlite3_stmt* stmt_;
  bool* leased_;           // the cache entry's "in use" flag, cleared on destruction
  std::string_view what_;  // the caller's description, for error messages (a literal)
};

class Connection {
 public:
  // Opens path with the given sqlite3_open_v2 flags, then applies the per-connection
  // settings (busy_timeout, foreign_keys=ON, synchronous=FULL). WAL is a property of the
  // database file, so the caller sets it once (EnableWal).
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& path, int flags,
                                                        int busy_timeout_ms);
  ~Connection();  // finalizes cached statements, then closes
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Borrows the cached statement for sql (preparing it on first use). `what` must outlive
  // the Stmt (pass a string literal); it prefixes error messages. Borrowing a statement that
  // is already borrowed fails (Errc::Internal) instead of silently resetting it.
  core::Result<Stmt> Prepare(std::string_view sql, std::string_view what);
  // Runs one or more statements with no parameters (pragmas, migration scripts).
  core::Status Exec(const std::string& sql, std::string_view what);
  // PRAGMA journal_mode=WAL, checking that the database really switched.
  core::Status EnableWal();

  // Error(Internal, {}, "<what>: <sqlite message>") from this connection's last error.
  core::Error Error(std::string_view what) const;
  int ExtendedErrcode() const { return sqlite3_extended_errcode(db_); }
  int64_t Changes() const { return sqlite3_changes(db_); }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool leased = false;
  };
  sqlite3* db_;
  std::map<std::string, Cached, std::less<>> cache_;
};

// BEGIN on construction (Begin), ROLLBACK on destruction unless Commit succeeded, so an
// early return on any error leaves nothing half-written.
class Tx {
 public:
  enum class Mode { Deferred, Immediate };
  static core::Result<Tx> Begin(Connection& conn, Mode mode);
  Tx(Tx&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Tx& operator=(Tx&&) = delete;
  ~Tx();
  core::Status Commit();

 private:
  explicit Tx(Connection* conn) : conn_(conn) {}
  Connection* conn_;  // null once committed or rolled back
};

// A fixed set of connections. Acquire blocks until one is free.
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

}  // namespace store::sqlite
