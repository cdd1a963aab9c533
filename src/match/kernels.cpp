// Kernel dispatch: CPUID once, at first use. Compiled without ISA flags.
#include "match/kernels.hpp"

namespace match {

bool IsaSupported(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
    case Isa::kAvx512Vnni:
      return IsaSupported(Isa::kAvx512) && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

std::string_view IsaName(Isa isa) { return KernelsFor(isa).name; }

const Kernels& KernelsFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
      return detail::kAvx2Kernels;
    case Isa::kAvx512:
      return detail::kAvx512Kernels;
    case Isa::kAvx512Vnni:
      return detail::kAvx512VnniKernels;
    case Isa::kScalar:
      break;
  }
  return detail::kScalarKernels;
}

Isa ActiveIsa() {
  static const Isa best = [] {
    for (Isa isa : {Isa::kAvx512Vnni, Isa::kAvx512, Isa::kAvx2})
      if (IsaSupported(isa)) return isa;
    return Isa::kScalar;
  }();
  return best;
}

const Kernels& ActiveKernels() { return KernelsFor(ActiveIsa()); }

}  // namespace match
