// AVX-512 VNNI kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; called only
// when CPUID reports them). vpdpbusd multiplies unsigned by signed bytes, so each stored row is
// biased to unsigned on the fly (r ^ 0x80 == r + 128) and the bias is removed exactly once per
// row: sum (r + 128) q = sum r q + 128 sum q. One instruction does 64 multiply-adds, so the
// scan is bound by memory, not arithmetic. Float kernels are shared with kernels_avx512.cpp.
#include <immintrin.h>

#include "match/kernels.hpp"

namespace match {
namespace detail {
float DotF32Avx512(const float* a, const float* b, size_t dim);
void DotF32StridedAvx512(const float* q, const float* base, size_t stride, size_t n, size_t dim, float* out);
}  // namespace detail

namespace {

inline int32_t QuerySum(const int8_t* q, size_t dim) {
  int32_t s = 0;
  for (size_t j = 0; j < dim; ++j) s += q[j];
  return s;
}

inline __m512i Biased(const int8_t* p) {
  return _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_set1_epi8(char(0x80)));
}
inline __m512i BiasedMasked(const int8_t* p, __mmask64 m) {
  return _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, p), _mm512_set1_epi8(char(0x80)));
}

inline void Dot4(const int8_t* q, const int8_t* r0, const int8_t* r1, const int8_t* r2, const int8_t* r3, size_t dim,
                 int32_t bias, int32_t* out) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t j = 0;
  for (; j + 64 <= dim; j += 64) {
    const __m512i qv = _mm512_loadu_si512(q + j);
    a0 = _mm512_dpbusd_epi32(a0, Biased(r0 + j), qv);
    a1 = _mm512_dpbusd_epi32(a1, Biased(r1 + j), qv);
    a2 = _mm512_dpbusd_epi32(a2, Biased(r2 + j), qv);
    a3 = _mm512_dpbusd_epi32(a3, Biased(r3 + j), qv);
  }
  if (j < dim) {  // masked-off bytes: row byte becomes 128, query byte 0, product 0
    const __mmask64 m = __mmask64((1ull << (dim - j)) - 1);
    const __m512i qv = _mm512_maskz_loadu_epi8(m, q + j);
    a0 = _mm512_dpbusd_epi32(a0, BiasedMasked(r0 + j, m), qv);
    a1 = _mm512_dpbusd_epi32(a1, BiasedMasked(r1 + j, m), qv);
    a2 = _mm512_dpbusd_epi32(a2, BiasedMasked(r2 + j, m), qv);
    a3 = _mm512_dpbusd_epi32(a3, BiasedMasked(r3 + j, m), qv);
  }
  out[0] = _mm512_reduce_add_epi32(a0) - bias;
  out[1] = _mm512_reduce_add_epi32(a1) - bias;
  out[2] = _mm512_reduce_add_epi32(a2) - bias;
  out[3] = _mm512_reduce_add_epi32(a3) - bias;
}

inline int32_t Dot1(const int8_t* q, const int8_t* r, size_t dim, int32_t bias) {
  __m512i a = _mm512_setzero_si512(), b = a;
  size_t j = 0;
  for (; j + 128 <= dim; j += 128) {
    a = _mm512_dpbusd_epi32(a, Biased(r + j), _mm512_loadu_si512(q + j));
    b = _mm512_dpbusd_epi32(b, Biased(r + j + 64), _mm512_loadu_si512(q + j + 64));
  }
  for (; j + 64 <= dim; j += 64) a = _mm512_dpbusd_epi32(a, Biased(r + j), _mm512_loadu_si512(q + j));
  if (j < dim) {
    const __mmask64 m = __mmask64((1ull << (dim - j)) - 1);
    b = _mm512_dpbusd_epi32(b, BiasedMasked(r + j, m), _mm512_maskz_loadu_epi8(m, q + j));
  }
  return _mm512_reduce_add_epi32(_mm512_add_epi32(a, b)) - bias;
}

void DotI8Strided(const int8_t* q, const int8_t* base, size_t stride, size_t n, size_t dim, int32_t* out) {
  const int32_t bias = 128 * QuerySum(q, dim);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int8_t* r = base + i * stride;
    Dot4(q, r, r + stride, r + 2 * stride, r + 3 * stride, dim, bias, out + i);
  }
  for (; i < n; ++i) out[i] = Dot1(q, base + i * stride, dim, bias);
}

void DotI8Rows(const int8_t* q, const int8_t* const* rows, size_t n, size_t dim, int32_t* out) {
  const int32_t bias = 128 * QuerySum(q, dim);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) Dot4(q, rows[i], rows[i + 1], rows[i + 2], rows[i + 3], dim, bias, out + i);
  for (; i < n; ++i) out[i] = Dot1(q, rows[i], dim, bias);
}

}  // namespace

namespace detail {
const Kernels kAvx512VnniKernels{"avx512vnni", DotI8Strided, DotI8Rows, DotF32Avx512, DotF32StridedAvx512};
}
}  // namespace match
