// scripts/tfjs_to_onnx.py's faceres.onnx against the reference conversion in ../shared/models:
// the same outputs within 1e-4 on real faces.
#include <gtest/gtest.h>
#include <onnxruntime_cxx_api.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "test_util.hpp"

namespace {

std::vector<std::vector<float>> RunHse(Ort::Env& env, const std::string& path, std::vector<float>& input) {
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(1);
  Ort::Session s(env, path.c_str(), so);
  const int64_t shape[] = {1, 224, 224, 3};
  auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  Ort::Value in = Ort::Value::CreateTensor<float>(mem, input.data(), input.size(), shape, 4);
  const char* in_name = "input_1";
  const char* outs[] = {"global_pooling/Mean", "gender_pred/Sigmoid", "age_pred/Softmax"};
  auto r = s.Run(Ort::RunOptions{nullptr}, &in_name, &in, 1, outs, 3);
  std::vector<std::vector<float>> v;
  for (auto& o : r) {
    const float* p = o.GetTensorData<float>();
    v.emplace_back(p, p + o.GetTensorTypeAndShapeInfo().GetElementCount());
  }
  return v;
}

TEST(HseConverter, MatchesReferenceConversion) {
  const std::string ours = std::string(FACEPORT_MODELS_DIR) + "/faceres.onnx";
  const std::string ref = facetest::SharedDir() + "/models/faceres_hse_from_human-models-3.0.4.onnx";
  if (!std::filesystem::exists(ref)) GTEST_SKIP() << "reference model absent: " << ref;
  ASSERT_TRUE(std::filesystem::exists(ours)) << "run scripts/setup.sh (converts faceres with scripts/tfjs_to_onnx.py)";
  Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "hse_test");
  int checked = 0;
  for (int i : {1, 3, 5}) {
    auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(i)));
    auto faces = facetest::TheEngine().Detect(img);
    ASSERT_TRUE(faces.ok());
    for (const auto& f : *faces) {
      auto w = facetest::TheEngine().Warp(img, f);
      ASSERT_TRUE(w.ok());
      cv::Mat bgr(w->height, w->width, CV_8UC3, const_cast<uint8_t*>(w->pixels->data())), rgb;
      cv::resize(bgr, rgb, cv::Size(224, 224));
      cv::cvtColor(rgb, rgb, cv::COLOR_BGR2RGB);
      std::vector<float> input(rgb.data, rgb.data + 224 * 224 * 3);
      auto a = RunHse(env, ours, input);
      auto b = RunHse(env, ref, input);
      ASSERT_EQ(a.size(), b.size());
      for (size_t k = 0; k < a.size(); ++k) {
        ASSERT_EQ(a[k].size(), b[k].size());
        float maxdiff = 0;
        for (size_t j = 0; j < a[k].size(); ++j) maxdiff = std::max(maxdiff, std::abs(a[k][j] - b[k][j]));
        EXPECT_LE(maxdiff, 1e-4f) << "output " << k << " sample" << i;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 6);
}

}  // namespace
