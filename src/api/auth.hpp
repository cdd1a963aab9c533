#pragma once
// Authentication (API.md §3): X-Auth-Token first, then HTTP Basic. Basic-only resources
// refuse tokens. Successful Basic verifications are remembered for a short time, keyed by a
// keyed BLAKE2b hash of the credentials and tied to the stored password hash, so that the
// argon2id cost is paid once, not per request, and a changed account is re-verified.
// Failed attempts are never cached and are limited per account and per client address.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/result.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace api {

struct AuthOptions {
  int cache_ttl_s = 60;            // how long a verified Basic credential is remembered
  int max_failures = 10;           // failed attempts allowed per window, per account and per address
  int failure_window_s = 60;
  uint64_t pwhash_opslimit = 0;    // 0 = libsodium's INTERACTIVE defaults
  uint64_t pwhash_memlimit = 0;
};

struct Principal {
  std::string account_id;
  std::string email;
  bool via_token = false;
};

enum class AuthMode { TokenOrBasic, BasicOnly };

class Authenticator {
 public:
  Authenticator(store::Store& store, AuthOptions options);
  core::Result<Principal> Authenticate(const http::Request& req, AuthMode mode);
  // Seconds a rate-limited client should wait (the failure window).
  int retry_after_s() const { return opt_.failure_window_s; }

  // argon2id via libsodium (crypto_pwhash_str); never logs the password.
  core::Result<std::string> HashPassword(const std::string& password) const;

 private:
  struct CacheEntry {
    std::string account_id;
    std::string password_hash;  // the stored hash the verification was made against
    int64_t expires_ms;
  };
  struct Failures {
    int count = 0;
    int64_t window_start_ms = 0;
  };
  core::Result<Principal> ByToken(const std::string& token);
  core::Result<Principal> ByBasic(const std::string& header, const http::Request& req);
  bool RateLimited(const std::string& key, int64_t now);
  void RecordFailure(const std::string& key, int64_t now);
  std::string CacheKey(const std::string& email, const std::string& password) const;

  store::Store& store_;
  AuthOptions opt_;
  unsigned char cache_key_[32];
  std::mutex mu_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::unordered_map<std::string, Failures> failures_;
};

}  // namespace api
