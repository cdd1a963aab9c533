#pragma once
// 16-byte binary form of the uuid ids the index keys on (descriptors, persons, lists, accounts).
// Binary ids keep the per-descriptor bookkeeping small (docs: <= 700 bytes per descriptor).
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace match {

struct Id {
  std::array<uint8_t, 16> bytes{};
  bool IsNil() const {
    for (uint8_t b : bytes)
      if (b) return false;
    return true;
  }
  auto operator<=>(const Id&) const = default;
  bool operator==(const Id&) const = default;
};

// Canonical 36-character uuid text (8-4-4-4-12 hex, either case) -> Id; nullopt otherwise.
inline std::optional<Id> ParseId(std::string_view s) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return std::nullopt;
  Id id;
  size_t k = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 36;) {
    if (s[i] == '-') {
      ++i;
      continue;
    }
    const int hi = hex(s[i]), lo = hex(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes[k++] = uint8_t(hi << 4 | lo);
    i += 2;
  }
  return id;
}

// Lowercase canonical text.
inline std::string FormatId(const Id& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[id.bytes[i] >> 4]);
    s.push_back(kHex[id.bytes[i] & 15]);
  }
  return s;
}

struct IdHash {
  size_t operator()(const Id& id) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, id.bytes.data(), 8);
    std::memcpy(&b, id.bytes.data() + 8, 8);
    return size_t((a ^ (b * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull >> 7);
  }
};

}  // namespace match
