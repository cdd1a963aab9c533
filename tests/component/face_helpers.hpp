#pragma once
// Shared by the component tests that run the real face engine: one engine per test binary
// (loading the models takes seconds), file reading, and the labelled photos of
// ../shared/data/faces (FACEPORT_SHARED_DIR; tests skip when they are absent).
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "face/engine.hpp"

namespace fptest {

inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline face::Engine& TheSharedEngine() {
  static std::unique_ptr<face::Engine> engine = [] {
    face::EngineOptions o;
    o.models_dir = FACEPORT_MODELS_DIR;
    auto e = face::Engine::Create(o);
    if (!e) throw std::runtime_error("engine: " + e.error().log_detail);
    return std::move(*e);
  }();
  return *engine;
}

inline std::string FacesDir(const std::string& sub) { return std::string(FACEPORT_SHARED_DIR) + "/data/faces/" + sub; }
inline bool HaveFacesDir(const std::string& sub) { return std::filesystem::exists(FacesDir(sub)); }

// A grey JPEG without a face.
inline std::string PlainJpegOf(int w, int h) {
  std::vector<uint8_t> px(size_t(w) * h * 3, 128);
  return *TheSharedEngine().EncodeJpeg(face::Image::FromBgr(w, h, px.data()));
}

}  // namespace fptest
