// SqliteStore: store::Store on a pool of SQLite connections (sqlite_conn.hpp).
//
// Concurrency design:
//  - reads take any free pooled connection and run concurrently (WAL lets readers proceed
//    while a writer commits; each sees the last committed state);
//  - writes first take write_mu_, then a connection, then BEGIN IMMEDIATE. SQLite allows one
//    writer at a time anyway; queueing writers on a mutex in-process hands the lock over
//    immediately instead of having them poll the busy handler (which sleeps in steps of up
//    to 100 ms). busy_timeout still covers writers in other processes. The lock order
//    write_mu_ -> connection is fixed: a writer never holds a connection while waiting for
//    write_mu_, so writers cannot starve the pool and deadlock.
//  - ":memory:" uses exactly one connection. Sharing one in-memory database between
//    connections needs shared-cache mode, whose table locks fail with SQLITE_LOCKED, which
//    busy_timeout does not retry; and WAL does not apply to memory databases anyway.
#include "store/sqlite_store.hpp"

#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/sqlite_conn.hpp"
#include "store/sqlite_migrations.hpp"

namespace store {
namespace {

using sqlite::Connection;
using sqlite::Pool;
using sqlite::Stmt;
using sqlite::Tx;

// Runs fn, turning any exception (allocation failure, std::system_error from a mutex) into
// Errc::Internal: the store promises never to throw.
template <class Fn>
auto NoThrow(std::string_view what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return core::InternalError(std::string(what) + ": " + e.what());
  } catch (...) {
    return core::InternalError(std::string(what) + ": unknown exception");
  }
}

// Binds each value to ?index, ?index+1, ... in order (integers as INTEGER, the rest as TEXT).
core::Status BindAt(Stmt&, int) { return {}; }
template <class First, class... Rest>
core::Status BindAt(Stmt& st, int index, const First& first, const Rest&... rest) {
  core::Status s;
  if constexpr (std::is_integral_v<First>)
    s = st.BindInt64(index, static_cast<int64_t>(first));
  else
    s = st.BindText(index, std::string_view(first));
  if (!s) return s;
  return BindAt(st, index + 1, rest...);
}

// Prepares sql on conn and binds args to ?1..?N.
template <class... Args>
core::Result<Stmt> PrepareBound(Connection& conn, std::string_view sql, std::string_view what, const Args&... args) {
  auto st = conn.Prepare(sql, what);
  if (!st) return st;
  if (auto b = BindAt(*st, 1, args...); !b) return std::move(b).error();
  return st;
}

Account ReadAccount(const Stmt& st) {
  Account a;
  a.id = st.ColumnText(0);
  a.organization_name = st.ColumnText(1);
  a.email = st.ColumnText(2);
  a.password_hash = st.ColumnText(3);
  a.suspended = st.ColumnInt64(4) != 0;
  a.create_time_ms = st.ColumnInt64(5);
  return a;
}

Token ReadToken(const Stmt& st) {
  Token t;
  t.id = st.ColumnText(0);
  t.account_id = st.ColumnText(1);
  t.token_data = st.ColumnText(2);
  t.create_time_ms = st.ColumnInt64(3);
  return t;
}

// Runs a SELECT expected to return at most one account.
core::Result<std::optional<Account>> QueryAccount(Connection& conn, std::string_view sql, std::string_view what,
                                                  std::string_view key) {
  auto st = PrepareBound(conn, sql, what, key);
  if (!st) return std::move(st).error();
  auto row = st->Step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Account>();
  return std::optional<Account>(ReadAccount(*st));
}

// UPDATE/DELETE that reports whether any row matched.
template <class... Args>
core::Result<bool> Modify(Connection& conn, std::string_view sql, std::string_view what, const Args&... args) {
  auto st = PrepareBound(conn, sql, what, args...);
  if (!st) return std::move(st).error();
  if (auto run = st->Run(); !run) return std::move(run).error();
  return conn.Changes() > 0;
}

core::Status InsertToken(Connection& conn, const Token& t, std::string_view account_id) {
  auto st = PrepareBound(conn, "INSERT INTO tokens(id, account_id, token_data, create_time_ms) VALUES (?1, ?2, ?3, ?4)",
                         "insert token", t.id, account_id, t.token_data, t.create_time_ms);
  if (!st) return std::move(st).error();
  return st->Run();
}

// OFFSET for a 1-based page. page and page_size are >= 1 here; (page - 1) * page_size can
// exceed int64 for absurd page numbers, in which case the page is certainly past the end.
int64_t PageOffset(int64_t page, int64_t page_size) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (page - 1 > kMax / page_size) return kMax;
  return (page - 1) * page_size;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::vector<std::unique_ptr<Connection>> conns) : pool_(std::move(conns)) {}

  core::Status Ping() override {
    return NoThrow("ping", [&]() -> core::Status {
      auto conn = pool_.Acquire();
      auto st = conn->Prepare("SELECT 1", "ping");
      if (!st) return std::move(st).error();
      return st->Run();
    });
  }

  core::Status CreateAccount(const Account& account, const Token& first_token) override {
    return NoThrow("create account", [&]() -> core::Status {
      if (!first_token.account_id.empty() && first_token.account_id != account.id)
        return core::InternalError("create account: first token belongs to another account");
      return Write([&](Connection& conn) -> core::Status {
        {
          auto st = PrepareBound(conn,
                                 "INSERT INTO accounts(id, organization_name, email, password_hash, suspended, "
                                 "create_time_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                 "insert account", account.id, account.organization_name, account.email,
                                 account.password_hash, int64_t{account.suspended ? 1 : 0}, account.create_time_ms);
          if (!st) return std::move(st).error();
          if (auto run = st->Run(); !run) {
            // Only the email's UNIQUE index means "taken"; an id collision stays Internal.
            if (conn.ExtendedErrcode() == SQLITE_CONSTRAINT_UNIQUE &&
                run.error().log_detail.find("accounts.email") != std::string::npos)
              return core::MakeError(core::Errc::EmailExists);
            return run;
          }
        }
        // Same transaction: if this fails the account insert is rolled back with it.
        return InsertToken(conn, first_token, account.id);
      });
    });
  }

  core::Result<std::optional<Account>> FindAccountByEmail(std::string_view email_lower) override {
    return NoThrow("find account by email", [&]() -> core::Result<std::optional<Account>> {
      auto conn = pool_.Acquire();
      return QueryAccount(*conn,
                          "SELECT id, organization_name, email, password_hash, suspended, create_time_ms "
                          "FROM accounts WHERE email = ?1",
                          "find account by email", email_lower);
    });
  }

  core::Result<std::optional<Account>> FindAccountById(std::string_view account_id) override {
    return NoThrow("find account by id", [&]() -> core::Result<std::optional<Account>> {
      auto conn = pool_.Acquire();
      return QueryAccount(*conn,
                          "SELECT id, organization_name, email, password_hash, suspended, create_time_ms "
                          "FROM accounts WHERE id = ?1",
                          "find account by id", account_id);
    });
  }

  core::Result<bool> SetAccountSuspended(std::string_view email_lower, bool suspended) override {
    return NoThrow("set account suspended", [&]() -> core::Result<bool> {
      return Write([&](Connection& conn) {
        return Modify(conn, "UPDATE accounts SET suspended = ?1 WHERE email = ?2", "set account suspended",
                      int64_t{suspended ? 1 : 0}, email_lower);
      });
    });
  }

  core::Result<std::optional<Account>> FindTokenOwner(std::string_view token_id) override {
    return NoThrow("find token owner", [&]() -> core::Result<std::optional<Account>> {
      auto conn = pool_.Acquire();
      return QueryAccount(*conn,
                          "SELECT a.id, a.organization_name, a.email, a.password_hash, a.suspended, a.create_time_ms "
                          "FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?1",
                          "find token owner", token_id);
    });
  }

  core::Status CreateToken(const Token& token) override {
    return NoThrow("create token", [&]() -> core::Status {
      return Write([&](Connection& conn) { return InsertToken(conn, token, token.account_id); });
    });
  }

  core::Result<PageOf<Token>> ListTokens(std::string_view account_id, PageRequest page) override {
    return NoThrow("list tokens", [&]() -> core::Result<PageOf<Token>> {
      auto conn = pool_.Acquire();
      // One read transaction so the count and the page come from the same snapshot.
      auto tx = Tx::Begin(*conn, Tx::Mode::Deferred);
      if (!tx) return std::move(tx).error();
      PageOf<Token> out;
      {
        auto st = PrepareBound(*conn, "SELECT count(*) FROM tokens WHERE account_id = ?1", "count tokens", account_id);
        if (!st) return std::move(st).error();
        auto row = st->Step();
        if (!row) return std::move(row).error();
        out.count = *row ? st->ColumnInt64(0) : 0;
      }
      // An out-of-range request (page < 1, page_size < 1) selects nothing; note that a
      // negative LIMIT would mean "no limit" to SQLite.
      if (page.page >= 1 && page.page_size >= 1) {
        const int64_t offset = PageOffset(page.page, page.page_size);
        if (offset < out.count) {
          auto st = PrepareBound(*conn,
                                 "SELECT id, account_id, token_data, create_time_ms FROM tokens WHERE account_id = ?1 "
                                 "ORDER BY create_time_ms, rowid LIMIT ?2 OFFSET ?3",
                                 "list tokens", account_id, page.page_size, offset);
          if (!st) return std::move(st).error();
          for (;;) {
            auto row = st->Step();
            if (!row) return std::move(row).error();
            if (!*row) break;
            out.items.push_back(ReadToken(*st));
          }
        }
      }
      if (auto c = tx->Commit(); !c) return std::move(c).error();
      return out;
    });
  }

  core::Result<std::optional<Token>> GetToken(std::string_view account_id, std::string_view token_id) override {
    return NoThrow("get token", [&]() -> core::Result<std::optional<Token>> {
      auto conn = pool_.Acquire();
      auto st = PrepareBound(*conn,
                             "SELECT id, account_id, token_data, create_time_ms FROM tokens "
                             "WHERE account_id = ?1 AND id = ?2",
                             "get token", account_id, token_id);
      if (!st) return std::move(st).error();
      auto row = st->Step();
      if (!row) return std::move(row).error();
      if (!*row) return std::optional<Token>();
      return std::optional<Token>(ReadToken(*st));
    });
  }

  core::Result<bool> UpdateTokenData(std::string_view account_id, std::string_view token_id,
                                     std::string_view token_data) override {
    return NoThrow("update token", [&]() -> core::Result<bool> {
      return Write([&](Connection& conn) {
        return Modify(conn, "UPDATE tokens SET token_data = ?3 WHERE account_id = ?1 AND id = ?2", "update token",
                      account_id, token_id, token_data);
      });
    });
  }

  core::Result<bool> DeleteToken(std::string_view account_id, std::string_view token_id) override {
    return NoThrow("delete token", [&]() -> core::Result<bool> {
      return Write([&](Connection& conn) {
        return Modify(conn, "DELETE FROM tokens WHERE account_id = ?1 AND id = ?2", "delete token", account_id,
                      token_id);
      });
    });
  }

  core::Status DeleteTokens(std::string_view account_id, const std::vector<std::string>& token_ids) override {
    return NoThrow("delete tokens", [&]() -> core::Status {
      if (token_ids.empty()) return {};
      return Write([&](Connection& conn) -> core::Status {
        // One cached statement run per id: a single "IN (?, ?, ...)" would need a new
        // statement text (and cache entry) for every list length.
        for (const auto& id : token_ids) {
          auto deleted = Modify(conn, "DELETE FROM tokens WHERE account_id = ?1 AND id = ?2", "delete tokens",
                                account_id, id);
          if (!deleted) return std::move(deleted).error();
        }
        return {};
      });
    });
  }

 private:
  // Runs fn(conn) in a BEGIN IMMEDIATE transaction and commits if fn succeeded; on any
  // failure the transaction is rolled back (Tx's destructor), so writes are all-or-nothing.
  template <class Fn>
  auto Write(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    std::lock_guard write_lock(write_mu_);  // before the connection: see the file comment
    auto conn = pool_.Acquire();
    auto tx = Tx::Begin(*conn, Tx::Mode::Immediate);
    if (!tx) return std::move(tx).error();
    auto result = fn(*conn);
    if (!result) return result;
    if (auto c = tx->Commit(); !c) return std::move(c).error();
    return result;
  }

  Pool pool_;
  std::mutex write_mu_;
};

core::Result<std::unique_ptr<Store>> Open(const SqliteOptions& options) {
  if (options.path.empty()) return core::InternalError("sqlite open: empty database path");
  if (options.pool_size < 1) return core::InternalError("sqlite open: pool_size must be >= 1");
  if (options.busy_timeout_ms < 0) return core::InternalError("sqlite open: busy_timeout_ms must be >= 0");
  // The pool hands each connection to one thread at a time, which SQLite supports in its
  // multi-thread mode (NOMUTEX) unless the library was built without any thread support.
  if (sqlite3_threadsafe() == 0) return core::InternalError("sqlite open: library built without thread support");

  const bool memory = options.path == ":memory:";
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int pool_size = memory ? 1 : options.pool_size;

  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < pool_size; ++i) {
    auto conn = Connection::Open(options.path, flags, options.busy_timeout_ms);
    if (!conn) return std::move(conn).error();
    if (i == 0) {
      // WAL is recorded in the database file, so setting it once is enough; it must happen
      // before the other connections start reading.
      if (!memory)
        if (auto st = (*conn)->EnableWal(); !st) return std::move(st).error();
      if (auto st = sqlite::ApplyMigrations(**conn); !st) return std::move(st).error();
    }
    conns.push_back(std::move(*conn));
  }
  return std::unique_ptr<Store>(new SqliteStore(std::move(conns)));
}

}  // namespace

core::Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  return NoThrow("sqlite open", [&] { return Open(options); });
}

}  // namespace store
