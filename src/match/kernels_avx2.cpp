// AVX2 + FMA kernels (compiled with -mavx2 -mfma; called only when CPUID reports both).
// int8: sign-extend 16 bytes to int16 and vpmaddwd into int32 lanes (exact, no saturation).
// No standard-library templates here: an inline function instantiated in this file could be
// merged by the linker into code that runs on CPUs without AVX2.
#include <immintrin.h>

#include "match/kernels.hpp"

namespace match {
namespace {

constexpr size_t kAhead = 4;  // rows prefetched ahead in the gathered kernel

inline int32_t Hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline __m256i Madd16(const int8_t* a, __m256i qw) {
  const __m256i aw = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)));
  return _mm256_madd_epi16(aw, qw);
}

inline int32_t TailI8(const int8_t* q, const int8_t* r, size_t j, size_t dim) {
  int32_t s = 0;
  for (; j < dim; ++j) s += int32_t(q[j]) * int32_t(r[j]);
  return s;
}

inline int32_t Dot1(const int8_t* q, const int8_t* r, size_t dim) {
  __m256i a = _mm256_setzero_si256(), b = a;
  size_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    a = _mm256_add_epi32(a, Madd16(r + j, _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + j)))));
    b = _mm256_add_epi32(
        b, Madd16(r + j + 16, _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + j + 16)))));
  }
  for (; j + 16 <= dim; j += 16)
    a = _mm256_add_epi32(a, Madd16(r + j, _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + j)))));
  return Hsum(_mm256_add_epi32(a, b)) + TailI8(q, r, j, dim);
}

// One row at a time, in address order: the hardware prefetcher follows a single forward
// stream (see kernels_avx512vnni.cpp).
void DotI8Strided(const int8_t* q, const int8_t* base, size_t stride, size_t n, size_t dim, int32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = Dot1(q, base + i * stride, dim);
}

// Gathered rows: no stream for the hardware to follow, so prefetch a few rows ahead.
void DotI8Rows(const int8_t* q, const int8_t* const* rows, size_t n, size_t dim, int32_t* out) {
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n)
      for (size_t j = 0; j < dim; j += 64) _mm_prefetch(reinterpret_cast<const char*>(rows[i + kAhead] + j), _MM_HINT_T0);
    out[i] = Dot1(q, rows[i], dim);
  }
}

inline float HsumPs(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float DotF32(const float* a, const float* b, size_t dim) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(b + j + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(b + j + 24), s3);
  }
  for (; j + 8 <= dim; j += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
  float s = HsumPs(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; j < dim; ++j) s += a[j] * b[j];
  return s;
}

void DotF32Strided(const float* q, const float* base, size_t stride, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = DotF32(q, base + i * stride, dim);
}

}  // namespace

namespace detail {
const Kernels kAvx2Kernels{"avx2", DotI8Strided, DotI8Rows, DotF32, DotF32Strided};
}
}  // namespace match
