#include "api/auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"

namespace api {
using core::Errc;

namespace {
constexpr std::size_t kMaxCacheEntries = 10000;
constexpr std::size_t kMaxFailureKeys = 100000;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
}  // namespace

Authenticator::Authenticator(store::Store& store, AuthOptions options) : store_(store), opt_(options) {
  if (sodium_init() < 0) std::abort();
  randombytes_buf(cache_key_, sizeof cache_key_);
}

core::Result<std::string> Authenticator::HashPassword(const std::string& password) const {
  char out[crypto_pwhash_STRBYTES];
  uint64_t ops = opt_.pwhash_opslimit ? opt_.pwhash_opslimit : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  uint64_t mem = opt_.pwhash_memlimit ? opt_.pwhash_memlimit : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_str(out, password.data(), password.size(), ops, static_cast<std::size_t>(mem)) != 0)
    return core::InternalError("crypto_pwhash_str failed (out of memory?)");
  return std::string(out);
}

std::string Authenticator::CacheKey(const std::string& email, const std::string& password) const {
  unsigned char h[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, cache_key_, sizeof cache_key_, sizeof h);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(email.data()), email.size());
  const unsigned char sep = 0;
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(password.data()), password.size());
  crypto_generichash_final(&st, h, sizeof h);
  return std::string(reinterpret_cast<char*>(h), sizeof h);
}

bool Authenticator::RateLimited(const std::string& key, int64_t now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return false;
  if (now - it->second.window_start_ms > int64_t(opt_.failure_window_s) * 1000) {
    failures_.erase(it);
    return false;
  }
  return it->second.count >= opt_.max_failures;
}

void Authenticator::RecordFailure(const std::string& key, int64_t now) {
  if (failures_.size() > kMaxFailureKeys) failures_.clear();  // bounded memory under a flood
  auto& f = failures_[key];
  if (now - f.window_start_ms > int64_t(opt_.failure_window_s) * 1000) f = Failures{0, now};
  ++f.count;
}

core::Result<Principal> Authenticator::Authenticate(const http::Request& req, AuthMode mode) {
  const std::string* token = req.Header("X-Auth-Token");
  const std::string* authz = req.Header("Authorization");
  if (mode == AuthMode::BasicOnly) {
    if (!authz) return core::Error(Errc::NoAuthHeaders, {"Authorization"});
    return ByBasic(*authz, req);
  }
  if (token) return ByToken(*token);
  if (authz) return ByBasic(*authz, req);
  return core::Error(Errc::NoAuthHeaders, {"X-Auth-Token or Authorization"});
}

core::Result<Principal> Authenticator::ByToken(const std::string& token) {
  if (!core::IsUuid4(token)) return core::MakeError(Errc::AuthTokenNotUuid);
  auto owner = store_.FindTokenOwner(token);
  if (!owner) return std::move(owner).error();
  if (!owner->has_value()) return core::MakeError(Errc::BadCredentials);
  const store::Account& a = **owner;
  if (a.suspended) return core::MakeError(Errc::AccountSuspended);
  return Principal{a.id, a.email, true};
}

core::Result<Principal> Authenticator::ByBasic(const std::string& header, const http::Request& req) {
  std::string_view h(header);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.size() < 6 || !http::IEquals(h.substr(0, 6), "basic ")) return core::Error(Errc::NoAuthHeaders, {"Authorization"});
  h.remove_prefix(6);
  auto decoded = core::Base64Decode(h);
  if (!decoded) return core::Error(Errc::NoAuthHeaders, {"Authorization"});
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return core::Error(Errc::NoAuthHeaders, {"Authorization"});
  std::string email = Lower(decoded->substr(0, colon));
  std::string password = decoded->substr(colon + 1);
  sodium_memzero(decoded->data(), decoded->size());

  int64_t now = core::NowMillis();
  std::string acct_key = "a:" + email, addr_key = "r:" + req.remote_address;
  std::string ckey = CacheKey(email, password);
  {
    std::lock_guard lk(mu_);
    if (RateLimited(acct_key, now) || RateLimited(addr_key, now)) {
      core::Log(core::LogLevel::Warn, "auth_rate_limited",
                {{"request_id", req.request_id}, {"remote", req.remote_address}});
      return core::MakeError(Errc::TooManyRequests);
    }
  }
  auto acc = store_.FindAccountByEmail(email);
  if (!acc) return std::move(acc).error();
  if (acc->has_value()) {
    const store::Account& a = **acc;
    bool verified = false;
    {
      std::lock_guard lk(mu_);
      auto it = cache_.find(ckey);
      if (it != cache_.end()) {
        if (it->second.expires_ms > now && it->second.account_id == a.id && it->second.password_hash == a.password_hash)
          verified = true;
        else
          cache_.erase(it);
      }
    }
    if (!verified) {
      verified = crypto_pwhash_str_verify(a.password_hash.c_str(), password.data(), password.size()) == 0;
      if (verified) {
        std::lock_guard lk(mu_);
        if (cache_.size() >= kMaxCacheEntries) cache_.clear();
        cache_[ckey] = CacheEntry{a.id, a.password_hash, now + int64_t(opt_.cache_ttl_s) * 1000};
      }
    }
    sodium_memzero(password.data(), password.size());
    if (verified) {
      if (a.suspended) return core::MakeError(Errc::AccountSuspended);
      return Principal{a.id, a.email, false};
    }
  } else {
    // Unknown email: spend comparable time so that response timing does not reveal
    // which emails have accounts.
    static const std::string dummy = HashPassword("timing-equaliser").value();
    (void)crypto_pwhash_str_verify(dummy.c_str(), password.data(), password.size());
    sodium_memzero(password.data(), password.size());
  }
  {
    std::lock_guard lk(mu_);
    RecordFailure(acct_key, now);
    RecordFailure(addr_key, now);
  }
  return core::MakeError(Errc::BadCredentials);
}

}  // namespace api
