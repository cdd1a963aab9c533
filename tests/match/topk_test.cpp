// Top-k collector against a stable descending sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "match/topk.hpp"

namespace match {
namespace {

TEST(TopK, MatchesStableSortIncludingTies) {
  std::mt19937 rng(3);
  for (size_t n : {0, 1, 2, 5, 17, 100, 1000}) {
    for (size_t k : {0, 1, 3, 5, 10, 2000}) {
      for (int coarse = 0; coarse < 2; ++coarse) {
        std::vector<float> s(n);
        std::uniform_int_distribution<int> few(0, 7);
        std::uniform_real_distribution<float> u(-1, 1);
        for (auto& v : s) v = coarse ? float(few(rng)) / 7 : u(rng);
        TopK<size_t> top(k);
        for (size_t i = 0; i < n; ++i) top.Push(s[i], i);
        std::vector<size_t> idx(n);
        for (size_t i = 0; i < n; ++i) idx[i] = i;
        std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
        idx.resize(std::min(k, n));
        const auto got = top.Take();
        ASSERT_EQ(got.size(), idx.size()) << n << " " << k;
        for (size_t i = 0; i < idx.size(); ++i) {
          EXPECT_EQ(got[i].payload, idx[i]) << "n " << n << " k " << k << " i " << i;
          EXPECT_EQ(got[i].score, s[idx[i]]);
        }
      }
    }
  }
}

TEST(TopK, ThresholdIsTheKthBest) {
  TopK<int> top(3);
  EXPECT_EQ(top.Threshold(), -std::numeric_limits<float>::infinity());
  for (int i = 0; i < 10; ++i) top.Push(float(i), i);
  EXPECT_EQ(top.Threshold(), 7.f);
  TopK<int> none(0);
  none.Push(1.f, 1);
  EXPECT_TRUE(none.Take().empty());
}

}  // namespace
}  // namespace match
