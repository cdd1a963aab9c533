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

inline __m512i Widen(const int8_t* p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512i WidenMasked(const int8_t* p, __mmask32 m) { return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, p)); }

inline void Dot4(const int8_t* q, const int8_t* r0, const int8_t* r1, const int8_t* r2, const int8_t* r3, size_t dim,
                 int32_t* out) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    const __m512i qw = Widen(q + j);
    a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(Widen(r0 + j), qw));
    a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(Widen(r1 + j), qw));
    a2 = _mm512_add_epi32(a2, _mm512_madd_epi16(Widen(r2 + j), qw));
    a3 = _mm512_add_epi32(a3, _mm512_madd_epi16(Widen(r3 + j), qw));
  }
  if (j < dim) {
    const __mmask32 m = __mmask32((1ull << (dim - j)) - 1);
    const __m512i qw = WidenMasked(q + j, m);
    a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(WidenMasked(r0 + j, m), qw));
    a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(WidenMasked(r1 + j, m), qw));
    a2 = _mm512_add_epi32(a2, _mm512_madd_epi16(WidenMasked(r2 + j, m), qw));
    a3 = _mm512_add_epi32(a3, _mm512_madd_epi16(WidenMasked(r3 + j, m), qw));
  }
  out[0] = _mm512_reduce_add_epi32(a0);
  out[1] = _mm512_reduce_add_epi32(a1);
  out[2] = _mm512_reduce_add_epi32(a2);
  out[3] = _mm512_reduce_add_epi32(a3);
}

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

void DotI8Strided(const int8_t* q, const int8_t* base, size_t stride, size_t n, size_t dim, int32_t* out) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int8_t* r = base + i * stride;
    Dot4(q, r, r + stride, r + 2 * stride, r + 3 * stride, dim, out + i);
  }
  for (; i < n; ++i) out[i] = Dot1(q, base + i * stride, dim);
}

void DotI8Rows(const int8_t* q, const int8_t* const* rows, size_t n, size_t dim, int32_t* out) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) Dot4(q, rows[i], rows[i + 1], rows[i + 2], rows[i + 3], dim, out + i);
  for (; i < n; ++i) out[i] = Dot1(q, rows[i], dim);
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
