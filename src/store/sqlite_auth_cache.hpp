#pragma once
// INTERNAL to fp_store: a read-through cache for the two lookups a token-authenticated
// request makes (FindTokenOwner, GetToken), so that the hot path of every API call costs no
// SQLite read transaction (two fcntl lock system calls each, the largest part of a token GET
// after the socket I/O; see docs/BENCHMARKS.md, HTTP).
//
// Correctness rests on one shared generation counter:
//  - every committed write to the accounts or tokens tables bumps it (SqliteStore does this
//    right after the commit and before returning, so before the client can see the answer);
//  - a lookup reads the counter BEFORE reading the database and tags what it caches with that
//    value; an entry is served only while the counter still has that value.
// So a deleted token or a suspended account is refused on the very next request. The counter
// lives in a small file next to the database (`<db>-authgen`, mapped shared), so writes made
// by other processes on the same database (`faceport account suspend`, a second server on the
// same file) invalidate this process's entries too. A process killed between its commit and
// its bump could leave other processes' entries stale; `max_age_ms` bounds that window.
// For ":memory:" databases, or when the file cannot be mapped, the counter is process-local.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/store.hpp"

namespace store::sqlite {

class AuthCache {
 public:
  // db_path: the database file (":memory:" for a process-local counter).
  explicit AuthCache(const std::string& db_path, int64_t max_age_ms = 5000, std::size_t max_entries = 10000);
  ~AuthCache();
  AuthCache(const AuthCache&) = delete;
  AuthCache& operator=(const AuthCache&) = delete;

  uint64_t Generation() const;  // read it before the database read whose result is cached
  void Bump();                  // after every committed write to accounts or tokens

  std::optional<Account> FindOwner(std::string_view token_id);
  void PutOwner(std::string_view token_id, uint64_t generation, const Account& owner);
  std::optional<Token> FindToken(std::string_view account_id, std::string_view token_id);
  void PutToken(uint64_t generation, const Token& token);

 private:
  struct Entry {
    uint64_t generation = 0;
    int64_t owner_fetched_ms = 0, token_fetched_ms = 0;
    std::optional<Account> owner;
    std::optional<Token> token;
  };
  Entry* Fresh(std::string_view token_id, bool for_token);  // caller holds mu_
  Entry& Slot(std::string_view token_id, uint64_t generation);

  uint64_t* shared_ = nullptr;  // mapped counter, or &local_
  uint64_t local_ = 0;
  void* map_ = nullptr;
  const int64_t max_age_ms_;
  const std::size_t max_entries_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace store::sqlite
