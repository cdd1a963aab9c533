// AVX-512 (F+BW+VL) kernels without VNNI (compiled with -mavx512f -mavx512bw -mavx512vl; called
// only when CPUID reports them). int8: sign-extend 32 bytes to int16 and vpmaddwd (exact).
// Tails use masked loads. No standard-library templates here (see kernels_avx2.cpp).
#include <immintrin.h>

#include "match/kernels.hpp"

namespace match {
namespace detail {
float DotF32Avx512(const float* a, const float* b, size_t dim);
void DotF32StridedAvx512(const float* q, const float* base, size_t stride, size_t n, size_t dim, float* out);
}  // namespace detail

namespace {

constexpr size_t kAhead = 4;  // rows prefetched ahead in the gathered kernel

inline __m512i Widen(const int8_t* p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512i WidenMasked(const int8_t* p, __mmask32 m) { return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, p)); }

inline int32_t Dot1(const int8_t* q, const int8_t* r, size_t dim) {
  __m512i a = _mm512_setzero_si512();
  size_t j = 0;
  for (; j + 32 <= dim; j += 32) a = _mm512_add_epi32(a, _mm512_madd_epi16(Widen(r + j), Widen(q + j)));
  if (j < dim) {
    const __mmask32 m = __mmask32((1ull << (dim - j)) - 1);
    a = _mm512_add_epi32(a, _mm512_madd_epi16(WidenMasked(r + j, m), WidenMasked(q + j, m)));
  }
  return _mm512_reduce_add_epi32(a);
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

}  // namespace

namespace detail {
float DotF32Avx512(const float* a, const float* b, size_t dim) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t j = 0;
  for (; j + 64 <= dim; j += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(b + j + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 32), _mm512_loadu_ps(b + j + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 48), _mm512_loadu_ps(b + j + 48), s3);
  }
  for (; j + 16 <= dim; j += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), s0);
  if (j < dim) {
    const __mmask16 m = __mmask16((1u << (dim - j)) - 1);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + j), _mm512_maskz_loadu_ps(m, b + j), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void DotF32StridedAvx512(const float* q, const float* base, size_t stride, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = DotF32Avx512(q, base + i * stride, dim);
}

const Kernels kAvx512Kernels{"avx512", DotI8Strided, DotI8Rows, DotF32Avx512, DotF32StridedAvx512};
}  // namespace detail
}  // namespace match
