#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "face/engine.hpp"

namespace facetest {

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string Sample(int i) { return std::string(FACEPORT_TESTDATA_DIR) + "/sample" + std::to_string(i) + ".jpg"; }
inline std::string SharedDir() { return FACEPORT_SHARED_DIR; }
inline bool HaveShared() { return std::filesystem::exists(SharedDir() + "/data/faces"); }

// One engine per test process (Create costs ~0.5 s).
inline const face::Engine& TheEngine() {
  static std::unique_ptr<face::Engine> engine = [] {
    face::EngineOptions o;
    o.models_dir = FACEPORT_MODELS_DIR;
    auto e = face::Engine::Create(o);
    if (!e) {
      ADD_FAILURE() << "engine: " << e.error().log_detail;
      std::abort();
    }
    return std::move(*e);
  }();
  return *engine;
}

inline face::Image DecodeOk(const std::string& bytes) {
  auto r = TheEngine().Decode(bytes, std::nullopt);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().log_detail);
  return r.ok() ? *r : face::Image{};
}

}  // namespace facetest
