// descriptor_batch MODEL.onnx: does running several faces through the descriptor model in
// one Run help? Times batch 1 x N against one batch of N (N = 1..8) on one thread, and
// checks both give the same vectors. The shipped fr_feature.onnx has a fixed batch of 1; make
// a dynamic-batch copy first (docs/BENCHMARKS.md has the one-line python).
#include <onnxruntime_cxx_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DYNAMIC_BATCH_fr_feature.onnx\n", argv[0]);
    return 2;
  }
  Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "batch");
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(1);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  so.AddConfigEntry("session.set_denormal_as_zero", "1");
  so.AddConfigEntry("session.intra_op.allow_spinning", "0");
  Ort::Session s(env, argv[1], so);
  auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const char* in = "input";
  const char* out = "output";
  const size_t per = 3 * 112 * 112;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  auto run = [&](std::vector<float>& x, int64_t n) {
    const int64_t shape[] = {n, 3, 112, 112};
    Ort::Value t = Ort::Value::CreateTensor<float>(mem, x.data(), x.size(), shape, 4);
    auto r = s.Run(Ort::RunOptions{nullptr}, &in, &t, 1, &out, 1);
    const float* p = r[0].GetTensorData<float>();
    return std::vector<float>(p, p + r[0].GetTensorTypeAndShapeInfo().GetElementCount());
  };
  for (int n : {1, 2, 4, 8}) {
    std::vector<float> x(per * size_t(n));
    for (auto& v : x) v = u(rng);
    double one = 1e9, batch = 1e9, maxdiff = 0;
    for (int rep = 0; rep < 15; ++rep) {
      auto a = std::chrono::steady_clock::now();
      std::vector<float> singles;
      for (int i = 0; i < n; ++i) {
        std::vector<float> xi(x.begin() + long(per) * i, x.begin() + long(per) * (i + 1));
        auto o = run(xi, 1);
        singles.insert(singles.end(), o.begin(), o.end());
      }
      auto b = std::chrono::steady_clock::now();
      auto ob = run(x, n);
      auto c = std::chrono::steady_clock::now();
      one = std::min(one, std::chrono::duration<double, std::milli>(b - a).count());
      batch = std::min(batch, std::chrono::duration<double, std::milli>(c - b).count());
      for (size_t k = 0; k < ob.size(); ++k) maxdiff = std::max(maxdiff, double(std::abs(ob[k] - singles[k])));
    }
    std::printf("N=%d  %d x batch 1: %.2f ms   batch %d: %.2f ms   (%.2f ms/face vs %.2f)  max |diff| %.2g\n", n, n,
                one, n, batch, batch / n, one / n, maxdiff);
  }
  return 0;
}
