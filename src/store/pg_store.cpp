// PgStore, part 1: accounts, tokens, and opening the database. The class, its concurrency
// design and the helpers shared by its other source files are in pg_store_impl.hpp.
#include "store/pg_store.hpp"

#include <string>
#include <utility>
#include <vector>

#include "store/pg_migrations.hpp"
#include "store/pg_store_impl.hpp"

namespace store {
namespace pg {
namespace {

Account ReadAccount(const PgRows& r, int i) {
  Account a;
  a.id = r.Text(i, 0);
  a.organization_name = r.Text(i, 1);
  a.email = r.Text(i, 2);
  a.password_hash = r.Text(i, 3);
  a.suspended = r.Bool(i, 4);
  a.create_time_ms = r.Int(i, 5);
  return a;
}

Token ReadToken(const PgRows& r, int i) {
  Token t;
  t.id = r.Text(i, 0);
  t.account_id = r.Text(i, 1);
  t.token_data = r.Text(i, 2);
  t.create_time_ms = r.Int(i, 3);
  return t;
}

core::Result<std::optional<Account>> OneAccount(core::Result<PgRows> r) {
  if (!r) return std::move(r).error();
  if (r->rows() == 0) return std::optional<Account>();
  return std::optional<Account>(ReadAccount(*r, 0));
}

core::Status InsertToken(Connection& conn, const Token& t, std::string_view account_id) {
  auto r = Q(conn, "INSERT INTO tokens(id, account_id, token_data, create_time_ms) VALUES ($1, $2, $3, $4)",
             "insert token", t.id, account_id, t.token_data, t.create_time_ms);
  if (!r) return std::move(r).error();
  return {};
}

}  // namespace

std::vector<std::string> SplitIds(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find(' ', start);
    if (end == std::string::npos) end = joined.size();
    if (end > start) out.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

core::Status PgStore::Ping() {
  return NoThrow("ping", [&]() -> core::Status {
    auto conn = pool_.Acquire();
    auto r = conn->Exec("SELECT 1", "ping");
    if (!r) return std::move(r).error();
    return {};
  });
}

core::Status PgStore::CreateAccount(const Account& account, const Token& first_token) {
  return NoThrow("create account", [&]() -> core::Status {
    if (!first_token.account_id.empty() && first_token.account_id != account.id)
      return core::InternalError("create account: first token belongs to another account");
    return Write([&](Connection& conn) -> core::Status {
      auto r = Q(conn,
                 "INSERT INTO accounts(id, organization_name, email, password_hash, suspended, create_time_ms)"
                 " VALUES ($1, $2, $3, $4, $5, $6)",
                 "insert account", account.id, account.organization_name, account.email, account.password_hash,
                 account.suspended, account.create_time_ms);
      if (!r) {
        // Only the email's UNIQUE constraint means "taken"; an id collision stays Internal.
        if (conn.sqlstate() == "23505" && conn.constraint() == "accounts_email_key")
          return core::MakeError(core::Errc::EmailExists);
        return std::move(r).error();
      }
      // Same transaction: if either fails the account insert is rolled back with it.
      if (auto st = InsertToken(conn, first_token, account.id); !st) return st;
      return InsertHandlers(conn, account.id, account.create_time_ms);
    });
  });
}

core::Result<std::optional<Account>> PgStore::FindAccountByEmail(std::string_view email_lower) {
  return NoThrow("find account by email", [&]() -> core::Result<std::optional<Account>> {
    auto conn = pool_.Acquire();
    return OneAccount(Q(*conn,
                        "SELECT id, organization_name, email, password_hash, suspended, create_time_ms"
                        " FROM accounts WHERE email = $1",
                        "find account by email", email_lower));
  });
}

core::Result<std::optional<Account>> PgStore::FindAccountById(std::string_view account_id) {
  return NoThrow("find account by id", [&]() -> core::Result<std::optional<Account>> {
    auto conn = pool_.Acquire();
    return OneAccount(Q(*conn,
                        "SELECT id, organization_name, email, password_hash, suspended, create_time_ms"
                        " FROM accounts WHERE id = $1",
                        "find account by id", account_id));
  });
}

core::Result<bool> PgStore::SetAccountSuspended(std::string_view email_lower, bool suspended) {
  return NoThrow("set account suspended", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) {
      return Modify(conn, "UPDATE accounts SET suspended = $1 WHERE email = $2", "set account suspended", suspended,
                    email_lower);
    });
  });
}

core::Result<std::optional<Account>> PgStore::FindTokenOwner(std::string_view token_id) {
  return NoThrow("find token owner", [&]() -> core::Result<std::optional<Account>> {
    auto conn = pool_.Acquire();
    return OneAccount(Q(*conn,
                        "SELECT a.id, a.organization_name, a.email, a.password_hash, a.suspended, a.create_time_ms"
                        " FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = $1",
                        "find token owner", token_id));
  });
}

core::Status PgStore::CreateToken(const Token& token) {
  return NoThrow("create token", [&]() -> core::Status {
    return Write([&](Connection& conn) { return InsertToken(conn, token, token.account_id); });
  });
}

core::Result<PageOf<Token>> PgStore::ListTokens(std::string_view account_id, PageRequest page) {
  return NoThrow("list tokens", [&]() -> core::Result<PageOf<Token>> {
    return Read([&](Connection& conn) {
      return QueryPage<Token>(conn, "SELECT count(*) FROM tokens WHERE account_id = $1",
                              "SELECT id, account_id, token_data, create_time_ms FROM tokens WHERE account_id = $1"
                              " ORDER BY create_time_ms, ord LIMIT $2 OFFSET $3",
                              "list tokens", page, ReadToken, account_id);
    });
  });
}

core::Result<std::optional<Token>> PgStore::GetToken(std::string_view account_id, std::string_view token_id) {
  return NoThrow("get token", [&]() -> core::Result<std::optional<Token>> {
    auto conn = pool_.Acquire();
    auto r = Q(*conn,
               "SELECT id, account_id, token_data, create_time_ms FROM tokens WHERE account_id = $1 AND id = $2",
               "get token", account_id, token_id);
    if (!r) return std::move(r).error();
    if (r->rows() == 0) return std::optional<Token>();
    return std::optional<Token>(ReadToken(*r, 0));
  });
}

core::Result<bool> PgStore::UpdateTokenData(std::string_view account_id, std::string_view token_id,
                                            std::string_view token_data) {
  return NoThrow("update token", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) {
      return Modify(conn, "UPDATE tokens SET token_data = $3 WHERE account_id = $1 AND id = $2", "update token",
                    account_id, token_id, token_data);
    });
  });
}

core::Result<bool> PgStore::DeleteToken(std::string_view account_id, std::string_view token_id) {
  return NoThrow("delete token", [&]() -> core::Result<bool> {
    return Write([&](Connection& conn) {
      return Modify(conn, "DELETE FROM tokens WHERE account_id = $1 AND id = $2", "delete token", account_id,
                    token_id);
    });
  });
}

core::Status PgStore::DeleteTokens(std::string_view account_id, const std::vector<std::string>& token_ids) {
  return NoThrow("delete tokens", [&]() -> core::Status {
    if (token_ids.empty()) return {};
    return Write([&](Connection& conn) -> core::Status {
      for (const auto& id : token_ids) {
        auto deleted = Modify(conn, "DELETE FROM tokens WHERE account_id = $1 AND id = $2", "delete tokens",
                              account_id, id);
        if (!deleted) return std::move(deleted).error();
      }
      return {};
    });
  });
}

namespace {

core::Result<std::unique_ptr<Store>> Open(const PgOptions& options) {
  if (!IsPgUrl(options.url)) return core::InternalError("postgresql open: the URL must start with postgresql://");
  if (options.pool_size < 1) return core::InternalError("postgresql open: pool_size must be >= 1");
  // libpq is thread-safe per connection (each PGconn used by one thread at a time).
  if (PQisthreadsafe() == 0) return core::InternalError("postgresql open: libpq built without thread safety");
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < options.pool_size; ++i) {
    auto conn = Connection::Open(options.url);
    if (!conn) return std::move(conn).error();
    if (i == 0)
      if (auto st = ApplyMigrations(**conn); !st) return std::move(st).error();
    conns.push_back(std::move(*conn));
  }
  return std::unique_ptr<Store>(new PgStore(std::move(conns), options.url));
}

}  // namespace
}  // namespace pg

bool IsPgUrl(std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); }

std::string RedactUrlPassword(std::string_view url) {
  // scheme://user:password@host... : the password is between the first ':' after "://" and
  // the last '@' before the path.
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t auth_start = scheme + 3;
  const size_t path = url.find('/', auth_start);
  const std::string_view authority = url.substr(auth_start, path == std::string_view::npos ? url.npos : path - auth_start);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const size_t colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  std::string out(url.substr(0, auth_start + colon + 1));
  out += "***";
  out += url.substr(auth_start + at);
  return out;
}

core::Result<std::unique_ptr<Store>> OpenPgStore(const PgOptions& options) {
  return NoThrow("postgresql open", [&] { return pg::Open(options); });
}

}  // namespace store
