// Every kernel of every ISA the CPU has against the scalar reference, on random data.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "match/kernels.hpp"
#include "match/quantize.hpp"

namespace match {
namespace {

std::vector<size_t> Dims() {
  std::vector<size_t> d;
  for (size_t i = 1; i <= 17; ++i) d.push_back(i);
  for (size_t i : {31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 511, 512, 513, 1000}) d.push_back(i);
  return d;
}

class KernelTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!IsaSupported(GetParam())) GTEST_SKIP() << IsaName(GetParam()) << " not supported by this CPU";
  }
  const Kernels& k() const { return KernelsFor(GetParam()); }
  const Kernels& ref() const { return KernelsFor(Isa::kScalar); }
  std::mt19937 rng{12345};
};

TEST_P(KernelTest, Int8StridedMatchesScalarExactly) {
  std::uniform_int_distribution<int> byte(-128, 127);
  for (size_t dim : Dims()) {
    for (size_t stride : {dim, dim + 3, (dim + 63) / 64 * 64}) {
      for (size_t n : {size_t(1), size_t(3), size_t(4), size_t(7), size_t(13)}) {
        std::vector<int8_t> q(dim), base(n * stride + 64);
        for (auto& v : q) v = int8_t(byte(rng));
        for (auto& v : base) v = int8_t(byte(rng));
        std::vector<int32_t> want(n), got(n, -1);
        ref().dot_i8_strided(q.data(), base.data(), stride, n, dim, want.data());
        k().dot_i8_strided(q.data(), base.data(), stride, n, dim, got.data());
        ASSERT_EQ(want, got) << "dim " << dim << " stride " << stride << " n " << n;
      }
    }
  }
}

TEST_P(KernelTest, Int8ExtremesAreExact) {
  for (size_t dim : {size_t(1), size_t(17), size_t(512), size_t(1000)}) {
    for (int8_t a : {int8_t(-128), int8_t(127), int8_t(-127)}) {
      for (int8_t b : {int8_t(-128), int8_t(127)}) {
        std::vector<int8_t> q(dim, a), r(dim * 5, b);
        std::vector<int32_t> got(5);
        k().dot_i8_strided(q.data(), r.data(), dim, 5, dim, got.data());
        for (int32_t g : got) ASSERT_EQ(g, int32_t(dim) * a * b) << dim;
      }
    }
  }
}

TEST_P(KernelTest, Int8GatheredRowsMatchScalar) {
  std::uniform_int_distribution<int> byte(-128, 127);
  for (size_t dim : Dims()) {
    const size_t rows_total = 40;
    std::vector<int8_t> q(dim), base(rows_total * dim);
    for (auto& v : q) v = int8_t(byte(rng));
    for (auto& v : base) v = int8_t(byte(rng));
    std::vector<const int8_t*> rows;
    std::uniform_int_distribution<size_t> pick(0, rows_total - 1);
    for (int i = 0; i < 23; ++i) rows.push_back(base.data() + pick(rng) * dim);
    std::vector<int32_t> want(rows.size()), got(rows.size(), -1);
    ref().dot_i8_rows(q.data(), rows.data(), rows.size(), dim, want.data());
    k().dot_i8_rows(q.data(), rows.data(), rows.size(), dim, got.data());
    ASSERT_EQ(want, got) << "dim " << dim;
  }
}

TEST_P(KernelTest, Float32MatchesScalarWithinRounding) {
  std::normal_distribution<float> g;
  for (size_t dim : Dims()) {
    const size_t n = 9;
    std::vector<float> q(dim), base(n * dim);
    for (auto& v : q) v = g(rng);
    for (auto& v : base) v = g(rng);
    std::vector<float> want(n), got(n);
    ref().dot_f32_strided(q.data(), base.data(), dim, n, dim, want.data());
    k().dot_f32_strided(q.data(), base.data(), dim, n, dim, got.data());
    for (size_t i = 0; i < n; ++i) {
      double exact = 0, mag = 0;
      for (size_t j = 0; j < dim; ++j) {
        exact += double(q[j]) * base[i * dim + j];
        mag += std::fabs(double(q[j]) * base[i * dim + j]);
      }
      const double tol = 1e-5 * mag + 1e-6;
      ASSERT_NEAR(got[i], exact, tol) << "dim " << dim;
      ASSERT_NEAR(want[i], exact, tol) << "dim " << dim;
      ASSERT_NEAR(k().dot_f32(q.data(), base.data() + i * dim, dim), exact, tol);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, KernelTest, ::testing::ValuesIn(kAllIsas),
                         [](const auto& info) { return std::string(IsaName(info.param)); });

TEST(Dispatch, ActiveIsaIsTheBestSupported) {
  EXPECT_TRUE(IsaSupported(ActiveIsa()));
  EXPECT_EQ(&ActiveKernels(), &KernelsFor(ActiveIsa()));
  if (IsaSupported(Isa::kAvx512Vnni)) {
    EXPECT_EQ(ActiveIsa(), Isa::kAvx512Vnni);
  }
}

TEST(Quantize, CosineErrorIsSmallForUnitVectors) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g;
  const size_t dim = 512;
  double worst = 0;
  for (int t = 0; t < 200; ++t) {
    std::vector<float> a(dim), b(dim), ua(dim), ub(dim);
    for (size_t j = 0; j < dim; ++j) a[j] = g(rng), b[j] = 0.6f * a[j] + g(rng);
    ASSERT_TRUE(Normalize(a.data(), dim, ua.data()));
    ASSERT_TRUE(Normalize(b.data(), dim, ub.data()));
    std::vector<int8_t> ca(dim), cb(dim);
    const float sa = QuantizeI8(ua.data(), dim, ca.data()), sb = QuantizeI8(ub.data(), dim, cb.data());
    int32_t dot = 0;
    KernelsFor(Isa::kScalar).dot_i8_strided(ca.data(), cb.data(), dim, 1, dim, &dot);
    double exact = 0;
    for (size_t j = 0; j < dim; ++j) exact += double(ua[j]) * ub[j];
    worst = std::max(worst, std::fabs(sa * sb * dot - exact));
  }
  EXPECT_LT(worst, 5e-3);
}

TEST(Quantize, ZeroVector) {
  std::vector<float> z(8, 0.f), out(8);
  std::vector<int8_t> c(8, 1);
  EXPECT_EQ(QuantizeI8(z.data(), 8, c.data()), 0.f);
  for (auto v : c) EXPECT_EQ(v, 0);
  EXPECT_FALSE(Normalize(z.data(), 8, out.data()));
}

}  // namespace
}  // namespace match
