#include "store/sqlite_auth_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

namespace store::sqlite {
namespace {
constexpr std::size_t kMapBytes = 4096;

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

AuthCache::AuthCache(const std::string& db_path, int64_t max_age_ms, std::size_t max_entries)
    : shared_(&local_), max_age_ms_(max_age_ms), max_entries_(max_entries) {
  if (db_path.empty() || db_path == ":memory:") return;
  const std::string path = db_path + "-authgen";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  struct stat st {};
  // Several processes may create the file at once: growing it only when it is short keeps a
  // value another process already wrote (ftruncate to the same size changes nothing).
  if (::fstat(fd, &st) == 0 && (st.st_size >= off_t(kMapBytes) || ::ftruncate(fd, kMapBytes) == 0)) {
    void* m = ::mmap(nullptr, kMapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) {
      map_ = m;
      shared_ = static_cast<uint64_t*>(m);
    }
  }
  ::close(fd);  // the mapping stays valid
}

AuthCache::~AuthCache() {
  if (map_) ::munmap(map_, kMapBytes);
}

uint64_t AuthCache::Generation() const {
  return std::atomic_ref<uint64_t>(*shared_).load(std::memory_order_acquire);
}

void AuthCache::Bump() {
  std::atomic_ref<uint64_t>(*shared_).fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard lk(mu_);
  entries_.clear();  // they can never be served again; free them now
}

AuthCache::Entry* AuthCache::Fresh(std::string_view token_id, bool for_token) {
  auto it = entries_.find(std::string(token_id));
  if (it == entries_.end()) return nullptr;
  Entry& e = it->second;
  const int64_t fetched = for_token ? e.token_fetched_ms : e.owner_fetched_ms;
  if (e.generation != Generation() || SteadyMillis() - fetched > max_age_ms_) return nullptr;
  return &e;
}

AuthCache::Entry& AuthCache::Slot(std::string_view token_id, uint64_t generation) {
  if (entries_.size() >= max_entries_) entries_.clear();  // bounded memory under many tokens
  Entry& e = entries_[std::string(token_id)];
  if (e.generation != generation) e = Entry{generation};
  return e;
}

std::optional<Account> AuthCache::FindOwner(std::string_view token_id) {
  std::lock_guard lk(mu_);
  Entry* e = Fresh(token_id, false);
  if (!e) return std::nullopt;
  return e->owner;
}

void AuthCache::PutOwner(std::string_view token_id, uint64_t generation, const Account& owner) {
  std::lock_guard lk(mu_);
  if (generation != Generation()) return;  // a write committed meanwhile: the value may be old
  Entry& e = Slot(token_id, generation);
  e.owner = owner;
  e.owner_fetched_ms = SteadyMillis();
}

std::optional<Token> AuthCache::FindToken(std::string_view account_id, std::string_view token_id) {
  std::lock_guard lk(mu_);
  Entry* e = Fresh(token_id, true);
  if (!e || !e->token || e->token->account_id != account_id) return std::nullopt;
  return e->token;
}

void AuthCache::PutToken(uint64_t generation, const Token& token) {
  std::lock_guard lk(mu_);
  if (generation != Generation()) return;
  Entry& e = Slot(token.id, generation);
  e.token = token;
  e.token_fetched_ms = SteadyMillis();
}

}  // namespace store::sqlite
