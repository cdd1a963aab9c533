#pragma once
// Cosine of two L2-normalised descriptors -> the API's similarity in 0..1.
// Monotone logistic map centred on the cosine of FAR ~1e-3 for fr_feature (0.34), rescaled so
// that cosine -1 -> 0 and +1 -> 1 exactly:
//   s(c) = (L(c) - L(-1)) / (L(1) - L(-1)),  L(c) = 1 / (1 + exp(-kSlope (c - kCentre)))
// Operating points on LFW (docs/MATCHING.md; bench/match/match_bench prints them from the
// unrounded cosines): cosine 0.335 (FAR 1e-3) -> 0.487, 0.411 (1e-4) -> 0.670, 0.475 (1e-5)
// -> 0.796; genuine mean 0.67 -> 0.96; impostor mean 0.01 -> 0.03.
#include <cmath>
#include <cstddef>

namespace face {

inline constexpr float kSimilarityCentre = 0.34f;
inline constexpr float kSimilaritySlope = 10.f;

// Published LFW operating points (docs/FACE_ENGINE.md), as cosines.
inline constexpr float kCosineFar1e3 = 0.335f;
inline constexpr float kCosineFar1e4 = 0.411f;
inline constexpr float kCosineFar1e5 = 0.475f;
// Default verification threshold on the API's 0..1 scale: the similarity of the FAR 1e-4
// operating point, SimilarityFromCosine(kCosineFar1e4) = 0.671, rounded to 0.67.
inline constexpr double kDefaultVerifyThreshold = 0.67;

inline float SimilarityFromCosine(float c) {
  auto l = [](float x) { return 1.f / (1.f + std::exp(-kSimilaritySlope * (x - kSimilarityCentre))); };
  static const float lo = l(-1.f), hi = l(1.f);
  if (c < -1.f) c = -1.f;
  if (c > 1.f) c = 1.f;
  return (l(c) - lo) / (hi - lo);
}

// Inverse of SimilarityFromCosine (thresholds given as similarity -> cosine).
inline float CosineFromSimilarity(float s) {
  auto l = [](float x) { return 1.f / (1.f + std::exp(-kSimilaritySlope * (x - kSimilarityCentre))); };
  static const float lo = l(-1.f), hi = l(1.f);
  if (s <= 0.f) return -1.f;
  if (s >= 1.f) return 1.f;
  const float v = lo + s * (hi - lo);
  return kSimilarityCentre - std::log(1.f / v - 1.f) / kSimilaritySlope;
}

inline float Cosine(const float* a, const float* b, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace face
