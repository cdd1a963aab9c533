// Scalar reference kernels: plain loops, the definition every SIMD variant is tested against.
#include "match/kernels.hpp"

namespace match {
namespace {

int32_t DotI8(const int8_t* a, const int8_t* b, size_t dim) {
  int32_t s = 0;
  for (size_t j = 0; j < dim; ++j) s += int32_t(a[j]) * int32_t(b[j]);
  return s;
}

void DotI8Strided(const int8_t* q, const int8_t* base, size_t stride, size_t n, size_t dim, int32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = DotI8(q, base + i * stride, dim);
}

void DotI8Rows(const int8_t* q, const int8_t* const* rows, size_t n, size_t dim, int32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = DotI8(q, rows[i], dim);
}

float DotF32(const float* a, const float* b, size_t dim) {
  float s = 0;
  for (size_t j = 0; j < dim; ++j) s += a[j] * b[j];
  return s;
}

void DotF32Strided(const float* q, const float* base, size_t stride, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = DotF32(q, base + i * stride, dim);
}

}  // namespace

namespace detail {
const Kernels kScalarKernels{"scalar", DotI8Strided, DotI8Rows, DotF32, DotF32Strided};
}
}  // namespace match
