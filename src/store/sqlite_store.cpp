// SqliteStore, part 1: accounts, tokens, and opening the database. The class, its
// concurrency design and the helpers shared by its other source files (one per resource
// family) are in sqlite_store_impl.hpp.
#include "store/sqlite_store.hpp"

#include <string>
#include <utility>
#include <vector>

#include "store/sqlite_migrations.hpp"
#include "store/sqlite_store_impl.hpp"

namespace store {
namespace sqlite {
namespace {

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

core::Status InsertToken(Connection& conn, const Token& t, std::string_view account_id) {
  auto st = PrepareBound(conn, "INSERT INTO tokens(id, account_id, token_data, create_time_ms) VALUES (?1, ?2, ?3, ?4)",
                         "insert token", t.id, account_id, t.token_data, t.create_time_ms);
  if (!st) return std::move(st).error();
  return st->Run();
}

}  // namespace

core::Status SqliteStore::Ping() {
  return NoThrow("ping", [&]() -> core::Status {
    auto conn = pool_.Acquire();
    auto st = conn->Prepare("SELECT 1", "ping");
    if (!st) return std::move(st).error();
    return st->Run();
  });
}

core::Status SqliteStore::CreateAccount(const Account& account, const Token& first_token) {
  return NoThrow("create account", [&]() -> core::Status {
    if (!first_token.account_id.empty() && first_token.account_id != account.id)
      return core::InternalError("create account: first token belongs to another account");
    return AuthWrite([&](Connection& conn) -> core::Status {
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
      // Same transaction: if either fails the account insert is rolled back with it.
      if (auto st = InsertToken(conn, first_token, account.id); !st) return st;
      return InsertHandlers(conn, account.id, account.create_time_ms);
    });
  });
}

core::Result<std::optional<Account>> SqliteStore::FindAccountByEmail(std::string_view email_lower) {
  return NoThrow("find account by email", [&]() -> core::Result<std::optional<Account>> {
    auto conn = pool_.Acquire();
    return QueryAccount(*conn,
                        "SELECT id, organization_name, email, password_hash, suspended, create_time_ms "
                        "FROM accounts WHERE email = ?1",
                        "find account by email", email_lower);
  });
}

core::Result<std::optional<Account>> SqliteStore::FindAccountById(std::string_view account_id) {
  return NoThrow("find account by id", [&]() -> core::Result<std::optional<Account>> {
    auto conn = pool_.Acquire();
    return QueryAccount(*conn,
                        "SELECT id, organization_name, email, password_hash, suspended, create_time_ms "
                        "FROM accounts WHERE id = ?1",
                        "find account by id", account_id);
  });
}

core::Result<bool> SqliteStore::SetAccountSuspended(std::string_view email_lower, bool suspended) {
  return NoThrow("set account suspended", [&]() -> core::Result<bool> {
    return AuthWrite([&](Connection& conn) {
      return Modify(conn, "UPDATE accounts SET suspended = ?1 WHERE email = ?2", "set account suspended",
                    int64_t{suspended ? 1 : 0}, email_lower);
    });
  });
}

core::Result<std::optional<Account>> SqliteStore::FindTokenOwner(std::string_view token_id) {
  return NoThrow("find token owner", [&]() -> core::Result<std::optional<Account>> {
    if (auto hit = auth_cache_.FindOwner(token_id)) return hit;
    const uint64_t generation = auth_cache_.Generation();  // before the read: see AuthCache
    auto conn = pool_.Acquire();
    auto owner = QueryAccount(*conn,
                              "SELECT a.id, a.organization_name, a.email, a.password_hash, a.suspended, "
                              "a.create_time_ms FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?1",
                              "find token owner", token_id);
    if (owner && owner->has_value()) auth_cache_.PutOwner(token_id, generation, **owner);
    return owner;
  });
}

core::Status SqliteStore::CreateToken(const Token& token) {
  return NoThrow("create token", [&]() -> core::Status {
    return AuthWrite([&](Connection& conn) { return InsertToken(conn, token, token.account_id); });
  });
}

core::Result<PageOf<Token>> SqliteStore::ListTokens(std::string_view account_id, PageRequest page) {
  return NoThrow("list tokens", [&]() -> core::Result<PageOf<Token>> {
    return Read([&](Connection& conn) {
      return QueryPage<Token>(conn, "SELECT count(*) FROM tokens WHERE account_id = ?1",
                              "SELECT id, account_id, token_data, create_time_ms FROM tokens WHERE account_id = ?1 "
                              "ORDER BY create_time_ms, rowid LIMIT ?2 OFFSET ?3",
                              "list tokens", page, ReadToken, account_id);
    });
  });
}

core::Result<std::optional<Token>> SqliteStore::GetToken(std::string_view account_id, std::string_view token_id) {
  return NoThrow("get token", [&]() -> core::Result<std::optional<Token>> {
    if (auto hit = auth_cache_.FindToken(account_id, token_id)) return hit;
    const uint64_t generation = auth_cache_.Generation();  // before the read: see AuthCache
    auto conn = pool_.Acquire();
    auto st = PrepareBound(*conn,
                           "SELECT id, account_id, token_data, create_time_ms FROM tokens "
                           "WHERE account_id = ?1 AND id = ?2",
                           "get token", account_id, token_id);
    if (!st) return std::move(st).error();
    auto row = st->Step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<Token>();
    Token token = ReadToken(*st);
    auth_cache_.PutToken(generation, token);
    return std::optional<Token>(std::move(token));
  });
}

core::Result<bool> SqliteStore::UpdateTokenData(std::string_view account_id, std::string_view token_id,
                                                std::string_view token_data) {
  return NoThrow("update token", [&]() -> core::Result<bool> {
    return AuthWrite([&](Connection& conn) {
      return Modify(conn, "UPDATE tokens SET token_data = ?3 WHERE account_id = ?1 AND id = ?2", "update token",
                    account_id, token_id, token_data);
    });
  });
}

core::Result<bool> SqliteStore::DeleteToken(std::string_view account_id, std::string_view token_id) {
  return NoThrow("delete token", [&]() -> core::Result<bool> {
    return AuthWrite([&](Connection& conn) {
      return Modify(conn, "DELETE FROM tokens WHERE account_id = ?1 AND id = ?2", "delete token", account_id,
                    token_id);
    });
  });
}

core::Status SqliteStore::DeleteTokens(std::string_view account_id, const std::vector<std::string>& token_ids) {
  return NoThrow("delete tokens", [&]() -> core::Status {
    if (token_ids.empty()) return {};
    return AuthWrite([&](Connection& conn) -> core::Status {
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

namespace {

core::Result<std::unique_ptr<Store>> Open(const SqliteOptions& options) {
  if (options.path.empty()) return core::InternalError("sqlite open: empty database path");
  if (options.pool_size < 1) return core::InternalError("sqlite open: pool_size must be >= 1");
  if (options.busy_timeout_ms < 0) return core::InternalError("sqlite open: busy_timeout_ms must be >= 0");
  // The pool hands each connection to one thread at a time, which SQLite supports in its
  // multi-thread mode (NOMUTEX) unless the library was built without any thread support.
  if (sqlite3_threadsafe() == 0) return core::InternalError("sqlite open: library built without thread support");
  // DELETE ... RETURNING (the descriptor collector) needs 3.35.
  if (sqlite3_libversion_number() < 3035000)
    return core::InternalError(std::string("sqlite open: SQLite 3.35 or newer required, found ") + sqlite3_libversion());

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
  return std::unique_ptr<Store>(new SqliteStore(std::move(conns), options.path));
}

}  // namespace
}  // namespace sqlite

core::Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  return sqlite::NoThrow("sqlite open", [&] { return sqlite::Open(options); });
}

}  // namespace store
