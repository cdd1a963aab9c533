#pragma once
// Engine internals shared by engine*.cpp (not part of the public API).
#include <onnxruntime_cxx_api.h>

#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "face/detector.hpp"
#include "face/engine.hpp"
#include "face/estimators/estimators.hpp"
#include "face/extractor.hpp"
#include "face/landmarker.hpp"
#include "face/manifest.hpp"
#include "face/onnx_model.hpp"

namespace face {

struct Engine::Impl {
  EngineOptions options;
  Manifest manifest;
  std::unique_ptr<Ort::Env> env;
  std::map<std::string, std::unique_ptr<OnnxModel>> models;  // loaded, by manifest name
  std::string unhealthy;  // comma-separated models that failed after start-up ("" = healthy)

  std::unique_ptr<Detector> detector;
  std::unique_ptr<Landmarker> landmarker;
  std::unique_ptr<Extractor> extractor;
  Estimators estimators;

  const OnnxModel* Model(const std::string& name) const {
    auto it = models.find(name);
    return it == models.end() ? nullptr : it->second.get();
  }
};

// The pixels of an Image as a cv::Mat header (no copy; read-only by convention).
inline cv::Mat MatOf(const Image& im) {
  return cv::Mat(im.height, im.width, CV_8UC3, const_cast<uint8_t*>(im.pixels->data()));
}

}  // namespace face
