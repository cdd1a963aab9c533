#include "core/uuid.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace core {

void SecureRandom(void* buf, std::size_t n) {
  auto* p = static_cast<unsigned char*>(buf);
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      std::abort();  // no entropy source: refusing to make guessable tokens
    }
    p += r;
    n -= static_cast<std::size_t>(r);
  }
}

namespace {
std::string FormatUuid4(uint8_t (&b)[16]) {
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}
}  // namespace

std::string NewUuid4() {
  uint8_t b[16];
  SecureRandom(b, sizeof b);
  return FormatUuid4(b);
}

std::string NewRequestUuid4() {
  struct Pool {
    uint8_t bytes[4096];
    std::size_t used = sizeof bytes;
  };
  thread_local Pool pool;
  if (pool.used + 16 > sizeof pool.bytes) {
    SecureRandom(pool.bytes, sizeof pool.bytes);
    pool.used = 0;
  }
  uint8_t b[16];
  std::memcpy(b, pool.bytes + pool.used, sizeof b);
  pool.used += sizeof b;
  return FormatUuid4(b);
}

bool IsUuid4(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

}  // namespace core
