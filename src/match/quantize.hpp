#pragma once
// Storage format of the index (chosen by measurement, docs/BENCHMARKS.md "Matching"):
// symmetric int8 with one float scale per vector: code = round(127 x / max|x|), in [-127, 127],
// and scale = 1 / |code|, so that scale * code is itself a unit vector (x ~= scale * code).
// Renormalising the decoded vector removes the error component along x, which is most of the
// error of high cosines (the ones that decide top-k order): on LFW it keeps the fp32 top-5
// order for more queries than max|x|/127 does (docs/BENCHMARKS.md). 512-d descriptors take
// 512 + 4 bytes; the cosine of two unit vectors is scale_a * scale_b * dot_int(code_a, code_b).
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace match {

// Writes dim codes; returns the scale (0 for an all-zero vector).
inline float QuantizeI8(const float* x, size_t dim, int8_t* out) {
  float m = 0;
  for (size_t j = 0; j < dim; ++j) {
    // A plain compare, not std::fmax: that is a libm call per element (a tenth of the start-up
    // load of a million descriptors); same result for the finite inputs Normalize lets through.
    const float a = std::fabs(x[j]);
    m = a > m ? a : m;
  }
  if (!(m > 0)) {
    for (size_t j = 0; j < dim; ++j) out[j] = 0;
    return 0.f;
  }
  const float inv = 127.f / m;
  int64_t norm2 = 0;
  for (size_t j = 0; j < dim; ++j) {
    float v = x[j] * inv;  // |v| <= 127 by construction; round half away from zero
    v = v + (v < 0 ? -0.5f : 0.5f);
    out[j] = int8_t(v > 127.f ? 127 : v < -127.f ? -127 : int(v));
    norm2 += int64_t(out[j]) * out[j];
  }
  return float(1.0 / std::sqrt(double(norm2)));
}

// Float query . int8 code, summed in index order (the index's exact re-scoring; index.cpp).
float DotFloatInt8(const float* q, const int8_t* code, size_t dim);

// Writes x / |x|; returns false when |x| is 0 or not finite.
inline bool Normalize(const float* x, size_t dim, float* out) {
  double s = 0;
  for (size_t j = 0; j < dim; ++j) s += double(x[j]) * x[j];
  if (!(s > 0) || !std::isfinite(s)) return false;
  const float inv = float(1.0 / std::sqrt(s));
  for (size_t j = 0; j < dim; ++j) out[j] = x[j] * inv;
  return true;
}

}  // namespace match
