#include "face/engine.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "face/descriptor_codec.hpp"
#include "face/similarity.hpp"

namespace fs = std::filesystem;

namespace {

face::EngineOptions Options() {
  face::EngineOptions o;
  o.models_dir = FACEPORT_MODELS_DIR;
  return o;
}

TEST(EngineCreate, LoadsManifestAndIsHealthy) {
  auto e = face::Engine::Create(Options());
  ASSERT_TRUE(e.ok()) << e.error().log_detail;
  EXPECT_TRUE((*e)->Health().ok());
  EXPECT_EQ((*e)->descriptor_version(), 1u);
  EXPECT_FALSE((*e)->HasEstimator("ethnicities"));
}

TEST(EngineCreate, MissingModelIsNamed) {
  const fs::path dir = fs::temp_directory_path() / "faceport_face_missing";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(fs::path(FACEPORT_MODELS_DIR) / "manifest.json", dir / "manifest.json");
  auto e = face::Engine::Create({.models_dir = dir.string()});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, core::Errc::Internal);
  ASSERT_FALSE(e.error().args.empty());
  EXPECT_NE(e.error().log_detail.find("missing"), std::string::npos) << e.error().log_detail;
  fs::remove_all(dir);
}

TEST(EngineCreate, CorruptModelIsNamed) {
  const fs::path dir = fs::temp_directory_path() / "faceport_face_corrupt";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (auto& f : fs::directory_iterator(FACEPORT_MODELS_DIR))
    if (f.path().extension() == ".onnx" || f.path().filename() == "manifest.json") fs::copy_file(f.path(), dir / f.path().filename());
  {
    std::fstream f(dir / "fr_pose.onnx", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x5a');
  }
  auto e = face::Engine::Create({.models_dir = dir.string()});
  ASSERT_FALSE(e.ok());
  ASSERT_EQ(e.error().args.size(), 1u);
  EXPECT_EQ(e.error().args[0], "pose");
  EXPECT_NE(e.error().log_detail.find("sha256"), std::string::npos) << e.error().log_detail;
  fs::remove_all(dir);
}

TEST(DescriptorCodec, RoundTrips) {
  face::Descriptor d{7, std::vector<float>(512)};
  for (int i = 0; i < 512; ++i) d.values[i] = 0.001f * i - 0.2f;
  const std::string bytes = face::EncodeDescriptor(d);
  ASSERT_EQ(bytes.size(), 8u + 2048u);
  EXPECT_EQ(bytes.substr(0, 4), std::string("dp\0\0", 4));
  EXPECT_EQ(bytes[4], 7);
  auto back = face::DecodeDescriptor(bytes, 7, 512);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->values, d.values);
  EXPECT_EQ(face::DecodeDescriptor(bytes, 8, 512).error().code, core::Errc::DescriptorVersionMismatch);
  EXPECT_EQ(face::DecodeDescriptor(bytes.substr(1), 7, 512).error().code, core::Errc::DescriptorFormat);
  EXPECT_EQ(face::DecodeDescriptor(bytes.substr(0, 100), 7, 512).error().code, core::Errc::DescriptorFormat);
}

TEST(Similarity, MonotoneAndBounded) {
  EXPECT_NEAR(face::SimilarityFromCosine(-1.f), 0.f, 1e-6);
  EXPECT_NEAR(face::SimilarityFromCosine(1.f), 1.f, 1e-6);
  float prev = -1;
  for (float c = -1; c <= 1; c += 0.01f) {
    const float s = face::SimilarityFromCosine(c);
    EXPECT_GT(s, prev);
    prev = s;
    EXPECT_NEAR(face::CosineFromSimilarity(s), c, 2e-3);
  }
}

}  // namespace
