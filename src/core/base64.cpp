#include "core/base64.hpp"

#include <array>
#include <cstdint>

namespace core {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kTable = MakeTable();

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
}  // namespace

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (std::size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int n = 0, pad = 0;
  for (char c : in) {
    if (IsSpace(c)) continue;
    if (c == '=') {
      ++pad;
      if (pad > 2) return std::nullopt;
      acc <<= 6;
      ++n;
    } else {
      if (pad) return std::nullopt;  // data after padding
      int8_t v = kTable[static_cast<unsigned char>(c)];
      if (v < 0) return std::nullopt;
      acc = (acc << 6) | uint32_t(v);
      ++n;
    }
    if (n == 4) {
      out.push_back(char(acc >> 16));
      if (pad < 2) out.push_back(char((acc >> 8) & 0xff));
      if (pad < 1) out.push_back(char(acc & 0xff));
      acc = 0;
      n = 0;
    }
  }
  if (n != 0) return std::nullopt;
  return out;
}

}  // namespace core
