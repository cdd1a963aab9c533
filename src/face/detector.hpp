#pragma once
// Detector: UltraFace RFB-320 (fr_detect). Whole-image pass at the model's 320x240, plus a
// second pass on overlapping tiles of large images so that small faces are found.
#include <opencv2/core.hpp>

#include <vector>

#include "core/result.hpp"
#include "face/onnx_model.hpp"

namespace face {

struct DetectorOptions {
  float threshold = 0.65f;
  float nms_iou = 0.4f;
  bool tiles = true;
  int tile_min_side = 1600;  // image's longer side from which the tile pass runs
  float tile_threshold = 0.65f;  // tile-only faces must score this again on a 4x region around them
};

struct Box {
  cv::Rect2f rect;
  float score = 0;
};

// Greedy NMS, best score first.
std::vector<Box> Nms(std::vector<Box> boxes, float iou);
float Iou(const cv::Rect2f& a, const cv::Rect2f& b);

class Detector {
 public:
  Detector(const OnnxModel& model, DetectorOptions options) : model_(model), options_(options) {}
  // Boxes in `bgr` pixel coordinates, best first.
  core::Result<std::vector<Box>> Detect(const cv::Mat& bgr) const;

 private:
  // One pass over a region (letterboxed to 4:3); boxes in image coordinates.
  core::Status RunRegion(const cv::Mat& bgr, const cv::Rect& region, std::vector<Box>& out) const;
  const OnnxModel& model_;
  DetectorOptions options_;
};

}  // namespace face
