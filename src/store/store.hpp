#pragma once
// The store interface: everything faceport persists, behind one abstract class so that the
// SQLite (embedded default) and PostgreSQL backends share one contract test suite
// (tests/store/). No backend type (sqlite3*, PGconn*) appears here.
//
// Contract for every method:
//  - thread-safe: may be called concurrently from any worker thread;
//  - a write is durable once the call returns successfully (the transaction is committed
//    with synchronous=FULL / fsync), and is all-or-nothing;
//  - tenancy: every method that takes account_id only sees rows of that account;
//  - failures of the database itself come back as Errc::Internal with a log_detail.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace store {

struct Account {
  std::string id;                 // uuid4
  std::string organization_name;
  std::string email;              // stored lower-cased
  std::string password_hash;      // argon2id encoded string (libsodium crypto_pwhash_str)
  bool suspended = false;
  int64_t create_time_ms = 0;
};

struct Token {
  std::string id;                 // uuid4; also the secret sent in X-Auth-Token
  std::string account_id;
  std::string token_data;         // arbitrary user string <= 128 chars
  int64_t create_time_ms = 0;
};

struct PageRequest {
  int64_t page = 1;               // >= 1
  int64_t page_size = 10;         // 1..1000
};

template <class T>
struct PageOf {
  std::vector<T> items;           // ordered by creation time, oldest first (ties in insertion order)
  int64_t count = 0;              // total matching rows, not the page length
};

class Store {
 public:
  virtual ~Store() = default;

  // Cheap round trip to the database (health check).
  virtual core::Status Ping() = 0;

  // --- accounts -------------------------------------------------------------------------
  // Creates the account and its first token in one transaction. Errc::EmailExists when the
  // (lower-cased) email is taken. first_token.account_id must be account.id (or empty);
  // otherwise Errc::Internal. On any failure neither row is written.
  virtual core::Status CreateAccount(const Account& account, const Token& first_token) = 0;
  virtual core::Result<std::optional<Account>> FindAccountByEmail(std::string_view email_lower) = 0;
  virtual core::Result<std::optional<Account>> FindAccountById(std::string_view account_id) = 0;
  // Returns false when no account has this email.
  virtual core::Result<bool> SetAccountSuspended(std::string_view email_lower, bool suspended) = 0;

  // --- tokens ---------------------------------------------------------------------------
  // The account owning token_id (any account), for X-Auth-Token authentication.
  virtual core::Result<std::optional<Account>> FindTokenOwner(std::string_view token_id) = 0;
  virtual core::Status CreateToken(const Token& token) = 0;
  // One page (ordered as PageOf says) plus the account's total token count. A page past the
  // end, including absurdly large page numbers, has no items but the true count.
  virtual core::Result<PageOf<Token>> ListTokens(std::string_view account_id, PageRequest page) = 0;
  virtual core::Result<std::optional<Token>> GetToken(std::string_view account_id, std::string_view token_id) = 0;
  // false when the account has no such token.
  virtual core::Result<bool> UpdateTokenData(std::string_view account_id, std::string_view token_id,
                                             std::string_view token_data) = 0;
  virtual core::Result<bool> DeleteToken(std::string_view account_id, std::string_view token_id) = 0;
  // Deletes those of token_ids that the account owns, in one transaction; other ids are ignored.
  virtual core::Status DeleteTokens(std::string_view account_id, const std::vector<std::string>& token_ids) = 0;
};

}  // namespace store
