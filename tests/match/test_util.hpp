#pragma once
#include <cstring>
#include <random>
#include <vector>

#include "match/id.hpp"

namespace match::testing {

inline Id MakeId(uint64_t n, uint64_t salt = 0) {
  Id id;
  std::memcpy(id.bytes.data(), &n, 8);
  std::memcpy(id.bytes.data() + 8, &salt, 8);
  id.bytes[15] |= 0x80;  // never nil
  return id;
}

inline std::vector<float> RandomVector(std::mt19937& rng, size_t dim) {
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  for (auto& x : v) x = g(rng);
  return v;
}

// a mixed with noise: cosine with a about 1 / sqrt(1 + noise^2).
inline std::vector<float> Near(std::mt19937& rng, const std::vector<float>& a, float noise) {
  std::normal_distribution<float> g;
  std::vector<float> v(a);
  for (auto& x : v) x += noise * g(rng);
  return v;
}

}  // namespace match::testing
