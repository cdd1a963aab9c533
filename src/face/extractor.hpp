#pragma once
// Extractor: the descriptor model (fr_feature) on 112x112 aligned faces; L2-normalised output.
#include <opencv2/core.hpp>

#include <vector>

#include "core/result.hpp"
#include "face/onnx_model.hpp"

namespace face {

class Extractor {
 public:
  Extractor(const OnnxModel& model, bool flip_augment) : model_(model), flip_(flip_augment) {}
  // One descriptor per aligned face (each entry.width() x entry.height() BGR).
  core::Result<std::vector<std::vector<float>>> Extract(const std::vector<cv::Mat>& aligned) const;

 private:
  const OnnxModel& model_;
  bool flip_;
};

void L2Normalize(std::vector<float>& v);

}  // namespace face
