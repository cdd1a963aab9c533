#pragma once
// Similarity kernels: free functions over raw arrays, one translation unit per instruction set
// (kernels_scalar.cpp is the reference; kernels_avx2.cpp, kernels_avx512.cpp and
// kernels_avx512vnni.cpp are compiled with their own -m flags and are only ever called when
// CPUID says the CPU has them). ActiveKernels() picks the best table once, at first use.
//
// Integer kernels compute exact int32 dot products of int8 vectors, so every variant must give
// bit-identical results to the scalar reference (any int8 values, any dim < 131072).
// Float kernels accumulate in a different order per ISA and agree within rounding.
// The kernels know nothing of ids, persons or top-k: they only fill an output array of scores.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace match {

struct Kernels {
  const char* name;
  // out[i] = sum_j q[j] * (base + i*stride)[j], j < dim, for i < n.
  void (*dot_i8_strided)(const int8_t* q, const int8_t* base, size_t stride, size_t n, size_t dim, int32_t* out);
  // out[i] = sum_j q[j] * rows[i][j]: gathered rows (candidate restriction).
  void (*dot_i8_rows)(const int8_t* q, const int8_t* const* rows, size_t n, size_t dim, int32_t* out);
  // sum_j a[j] * b[j] in float.
  float (*dot_f32)(const float* a, const float* b, size_t dim);
  // out[i] = dot_f32(q, base + i*stride, dim), for i < n.
  void (*dot_f32_strided)(const float* q, const float* base, size_t stride, size_t n, size_t dim, float* out);
};

enum class Isa { kScalar, kAvx2, kAvx512, kAvx512Vnni };
inline constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vnni};

// CPUID check (__builtin_cpu_supports): kAvx2 needs avx2+fma, kAvx512 avx512f+bw+vl,
// kAvx512Vnni additionally avx512vnni.
bool IsaSupported(Isa isa);
std::string_view IsaName(Isa isa);
// The table of one ISA; only call its functions when IsaSupported(isa).
const Kernels& KernelsFor(Isa isa);
// The best supported ISA, chosen once (thread-safe static initialisation).
Isa ActiveIsa();
const Kernels& ActiveKernels();

// Per-ISA tables (defined in the per-ISA translation units).
namespace detail {
extern const Kernels kScalarKernels;
extern const Kernels kAvx2Kernels;
extern const Kernels kAvx512Kernels;
extern const Kernels kAvx512VnniKernels;
}  // namespace detail

}  // namespace match
